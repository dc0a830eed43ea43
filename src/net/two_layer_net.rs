//! The book's two-layer network.
