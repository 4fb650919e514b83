//! Images (convolutions, pooling), training losses, and sequence decoding (CRF).

mod window;
pub use window::{MAX_STEP, Sliding};

mod conv2d;
pub use conv2d::Conv2D;
mod depthwise_conv2d;
pub use depthwise_conv2d::DepthwiseConv2D;
mod max_pool;
pub use max_pool::MaxPool;
mod avg_pool;
pub use avg_pool::AvgPool;
mod l2_loss;
pub use l2_loss::L2Loss;
mod softmax_cross_entropy;
pub use softmax_cross_entropy::SoftmaxCrossEntropy;
mod crf_decode;
pub use crf_decode::{CrfDecode, CrfOutput};
