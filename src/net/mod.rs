//! Networks: `SimpleNet` (the book's 2×3 example) and `TwoLayerNet` (784-50-10).

pub mod simple_net;
pub mod two_layer_net;

pub use simple_net::SimpleNet;
