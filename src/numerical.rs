//! Numerical differentiation (placeholder until the chapter-4 issue lands).

/// The book's `h = 1e-4` for central differences.
pub const H: f64 = 1e-4;
