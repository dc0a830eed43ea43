//! The element type of every array: `f32` for training, `f64` for the book's exact figures.

use ndarray::{LinalgScalar, ScalarOperand};
use std::fmt::{Debug, Display, LowerExp};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

/// A floating-point element type (`f32` or `f64`) with everything the maths here needs.
pub trait Float:
    num_traits::Float
    + LinalgScalar
    + ScalarOperand
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
    + Debug
    + Display
    + LowerExp
    + Send
    + Sync
    + 'static
{
    /// Converts an `f64` constant (the book's `1e-7`, `0.5`, …) into this type.
    fn of(x: f64) -> Self;
    /// Widens to `f64` for printing, CSV and comparisons.
    fn to_f64(self) -> f64;
    /// The type's name as safetensors and reports write it (`"F32"`, `"F64"`).
    const NAME: &'static str;
}

impl Float for f32 {
    fn of(x: f64) -> Self {
        x as f32
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
    const NAME: &'static str = "F32";
}

impl Float for f64 {
    fn of(x: f64) -> Self {
        x
    }
    fn to_f64(self) -> f64 {
        self
    }
    const NAME: &'static str = "F64";
}
