//! Networks: `SimpleNet` (the book's 2×3 example), `TwoLayerNet` (784-50-10), `MultiLayerNet`
//! (any depth and width, chapter 6's options), `ConvNet` (chapters 7–8: SimpleConvNet,
//! DeepConvNet and any other conv stack), and the [`Network`] trait the trainer drives.

pub mod conv_net;
pub mod layer_output;
pub mod multi_layer_net;
pub mod network;
pub mod simple_net;
pub mod spec;
pub mod two_layer_net;

pub use conv_net::{ConvLayer, ConvNet, ConvNetConfig};
pub use layer_output::LayerOutput;
pub use multi_layer_net::{MultiLayerNet, MultiLayerNetConfig};
pub use network::{numerical_gradient_by_definition, Network, Param, ParamView};
pub use spec::NetworkSpec;
pub use two_layer_net::{TwoLayerNet, TwoLayerNetConfig};

pub use simple_net::SimpleNet;
