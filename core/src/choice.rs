//! Closed sets of named values — an optimizer, an activation, a sampling rule — as settings
//! files and the command line write them. Depends on std only.

use std::fmt;

/// A value picked by name from a fixed list.
pub trait Choice: Copy + PartialEq + 'static {
    /// Every value, in the order they are listed.
    const ALL: &'static [Self];

    /// The name it is written as (on the command line and in settings files).
    fn name(self) -> &'static str;

    /// One line saying what it is.
    fn help(self) -> &'static str;
}

/// The value of `T` named `s`.
pub fn parse<T: Choice>(s: &str) -> Result<T, UnknownChoice> {
    T::ALL
        .iter()
        .copied()
        .find(|choice| choice.name() == s)
        .ok_or_else(|| UnknownChoice {
            value: s.to_owned(),
            names: T::ALL.iter().map(|choice| choice.name()).collect(),
        })
}

/// A name that is none of a [`Choice`]'s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownChoice {
    /// The name given.
    pub value: String,
    /// The names accepted.
    pub names: Vec<&'static str>,
}

impl fmt::Display for UnknownChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown '{}': expected one of {}",
            self.value,
            self.names.join(", ")
        )
    }
}

impl std::error::Error for UnknownChoice {}

/// `Display` (the name) and `FromStr` ([`parse`]) for a [`Choice`].
#[macro_export]
macro_rules! display_and_parse {
    ($choice:ty) => {
        impl std::fmt::Display for $choice {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($crate::choice::Choice::name(*self))
            }
        }

        impl std::str::FromStr for $choice {
            type Err = $crate::choice::UnknownChoice;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $crate::choice::parse(s)
            }
        }
    };
}
pub use crate::display_and_parse;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Coin {
        Heads,
        Tails,
    }

    impl Choice for Coin {
        const ALL: &'static [Self] = &[Coin::Heads, Coin::Tails];

        fn name(self) -> &'static str {
            match self {
                Coin::Heads => "heads",
                Coin::Tails => "tails",
            }
        }

        fn help(self) -> &'static str {
            "a side"
        }
    }

    display_and_parse!(Coin);

    #[test]
    fn a_name_parses_back_to_its_value() {
        for &coin in Coin::ALL {
            assert_eq!(coin.to_string().parse::<Coin>(), Ok(coin));
        }
    }

    #[test]
    fn an_unknown_name_lists_the_known_ones() {
        let err = "edge".parse::<Coin>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown 'edge': expected one of heads, tails"
        );
    }
}
