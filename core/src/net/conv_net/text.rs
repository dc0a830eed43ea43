//! The items of a ConvNet's layer list ([`ConvLayer`]) and their short text form: items separated by commas, ReLU after each conv
//! and fc implied, the final affine to the classes implied at the end.
//!
//! ```text
//! layers  = item ("," item)*
//! item    = "conv:" FN "x" F ["s" stride] ["p" pad]    FN filters F×F (stride 1, pad 0), ReLU
//!         | "pool:" P ["s" stride]                      max pooling P×P (stride P)
//!         | "fc:" N                                     affine to N neurons, ReLU
//!         | "dropout:" ratio                            Dropout (0 ≤ ratio < 1)
//!         | "out"                                       the affine to the classes, written only
//!                                                       to put dropout after it
//! ```
//!
//! SimpleConvNet is `conv:30x5,pool:2,fc:100`; DeepConvNet is
//! `conv:16x3p1,conv:16x3p1,pool:2,conv:32x3p1,conv:32x3p2,pool:2,conv:64x3p1,conv:64x3p1,pool:2,fc:50,dropout:0.5,out,dropout:0.5`.

use crate::{Error, Result};
use std::fmt;
use std::str::FromStr;

/// One item of a ConvNet's layer list (its text form in brackets).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ConvLayer {
    /// `conv:<FN>x<F>[s<stride>][p<pad>]`: FN filters of F × F (over every input channel),
    /// then ReLU.
    Conv {
        /// FN, the number of filters (output channels).
        filters: usize,
        /// FH = FW.
        size: usize,
        /// Step between output positions (1).
        stride: usize,
        /// Zeros added on each side (0).
        pad: usize,
    },
    /// `pool:<P>[s<stride>]`: max pooling over P × P windows, stride P unless given.
    Pool {
        /// pool_h = pool_w.
        size: usize,
        /// Step between windows.
        stride: usize,
    },
    /// `fc:<N>`: an Affine layer to N neurons (flattening (C, H, W) first), then ReLU.
    Affine {
        /// Neurons.
        size: usize,
    },
    /// `dropout:<ratio>`: Dropout of that ratio (training only; evaluation scales).
    Dropout {
        /// The book's `dropout_ratio`, in [0, 1).
        ratio: f64,
    },
    /// `out`: the Affine layer to the classes, no ReLU. Implied at the end of a list that
    /// does not name it; written to put layers after it (the book's DeepConvNet: a Dropout).
    Output,
}

/// What a valid item looks like, for error messages.
const EXPECTED: &str = "items conv:<filters>x<size>[s<stride>][p<pad>], pool:<size>[s<stride>], \
fc:<neurons>, dropout:<ratio> or out, separated by commas, such as conv:30x5,pool:2,fc:100";

impl fmt::Display for ConvLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ConvLayer::Conv {
                filters,
                size,
                stride,
                pad,
            } => {
                write!(f, "conv:{filters}x{size}")?;
                if stride != 1 {
                    write!(f, "s{stride}")?;
                }
                if pad != 0 {
                    write!(f, "p{pad}")?;
                }
                Ok(())
            }
            ConvLayer::Pool { size, stride } if stride == size => write!(f, "pool:{size}"),
            ConvLayer::Pool { size, stride } => write!(f, "pool:{size}s{stride}"),
            ConvLayer::Affine { size } => write!(f, "fc:{size}"),
            ConvLayer::Dropout { ratio } => write!(f, "dropout:{ratio}"),
            ConvLayer::Output => f.write_str("out"),
        }
    }
}

impl FromStr for ConvLayer {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let text = s.trim().to_ascii_lowercase();
        parse_item(&text)
            .ok_or_else(|| Error::invalid("conv net layer", format!("'{}'", s.trim()), EXPECTED))
    }
}

/// `conv:16x3s2p1` and friends, or None when malformed.
fn parse_item(text: &str) -> Option<ConvLayer> {
    if text == "out" {
        return Some(ConvLayer::Output);
    }
    let (kind, rest) = text.split_once(':')?;
    match kind {
        "conv" => {
            let (filters, rest) = rest.split_once('x')?;
            let (size, options) = number_prefix(rest)?;
            let (stride, pad) = options_of(options, 1)?;
            Some(ConvLayer::Conv {
                filters: filters.parse().ok()?,
                size,
                stride,
                pad,
            })
        }
        "pool" => {
            let (size, options) = number_prefix(rest)?;
            let (stride, pad) = options_of(options, size)?;
            (pad == 0).then_some(ConvLayer::Pool { size, stride })
        }
        "fc" => Some(ConvLayer::Affine {
            size: rest.parse().ok()?,
        }),
        "dropout" => Some(ConvLayer::Dropout {
            ratio: rest.parse().ok().filter(|r: &f64| r.is_finite())?,
        }),
        _ => None,
    }
}

/// The leading decimal number of `text` and what follows it.
fn number_prefix(text: &str) -> Option<(usize, &str)> {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    Some((text[..end].parse().ok()?, &text[end..]))
}

/// `s<stride>` and `p<pad>` (each at most once, stride first) → (stride, pad).
fn options_of(mut text: &str, default_stride: usize) -> Option<(usize, usize)> {
    let (mut stride, mut pad) = (default_stride, 0);
    if let Some(rest) = text.strip_prefix('s') {
        (stride, text) = number_prefix(rest)?;
    }
    if let Some(rest) = text.strip_prefix('p') {
        (pad, text) = number_prefix(rest)?;
    }
    text.is_empty().then_some((stride, pad))
}

/// Items separated by commas (`conv:30x5,pool:2,fc:100`), each error naming its item.
pub fn parse_layers(text: &str) -> Result<Vec<ConvLayer>> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .enumerate()
        .map(|(i, item)| {
            item.parse().map_err(|_| {
                Error::invalid(
                    "conv net layer",
                    format!("'{}' (item {} of '{}')", item.trim(), i + 1, text.trim()),
                    EXPECTED,
                )
            })
        })
        .collect()
}

/// The layers' text: items joined by commas.
pub fn layers_text(layers: &[ConvLayer]) -> String {
    layers
        .iter()
        .map(ConvLayer::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The layer list in JSON as its text form.
pub mod serde_layers {
    use super::*;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the layers as one string.
    pub fn serialize<S: Serializer>(layers: &[ConvLayer], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&layers_text(layers))
    }

    /// Reads the layers from one string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ConvLayer>, D::Error> {
        let text = String::deserialize(d)?;
        parse_layers(&text).map_err(serde::de::Error::custom)
    }
}
