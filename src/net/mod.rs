//! Networks: `SimpleNet` (the book's 2×3 example) and `TwoLayerNet` (784-50-10), and the
//! [`Network`] trait the trainer drives.

pub mod network;
pub mod simple_net;
pub mod two_layer_net;

pub use network::{
    accuracy, accuracy_input, numerical_gradient, numerical_gradient_by_definition,
    parameter_count, predict_labels, predict_labels_input, Network, Param,
};
pub use two_layer_net::TwoLayerNet;

pub use simple_net::SimpleNet;
