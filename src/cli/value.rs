//! Clap value parsers for the library's own value types.

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use scratchnet_core::choice::{self, Choice};

/// Parses a [`Choice`] by name; `--help` lists every name with its help, and a wrong value gets
/// clap's error with the possible values.
pub(super) fn choice<T: Choice + Send + Sync>() -> impl TypedValueParser<Value = T> {
    let values = T::ALL
        .iter()
        .map(|&value| PossibleValue::new(value.name()).help(value.help()));
    PossibleValuesParser::new(values)
        .map(|name| choice::parse::<T>(&name).expect("clap passes only the possible values"))
}
