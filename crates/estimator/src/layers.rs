//! Layers: `dense`, `conv2d` and the activations, as `tf.layers` builds
//! them; recurrent layers (`Lstm`, `Gru`, `Bidirectional`) as TensorFlow 1's
//! `tf.nn.dynamic_rnn` and `bidirectional_dynamic_rnn` build them; `dropout`.

mod bidirectional;
mod dropout;
mod gru;
mod lstm;
pub mod recurrent;

pub use bidirectional::{Bidirectional, BidirectionalOutput};
pub use dropout::dropout;
pub use gru::Gru;
pub use lstm::Lstm;
pub use recurrent::{RecurrentCell, RnnOutput, dynamic_rnn};

use opset::ops::nn::Sliding;

use crate::builder::{GraphBuilder, Output};
use crate::init::Initializer;
use crate::{Error, Result};

/// The activation applied after a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Activation {
    /// None: the layer is linear.
    #[default]
    Linear,
    /// `max(x, 0)`.
    Relu,
    /// `tanh(x)`.
    Tanh,
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// Softmax along the last axis.
    Softmax,
}

impl Activation {
    /// Applies the activation to `x`.
    ///
    /// # Errors
    /// [`Error::Build`] if `x` is not f32.
    pub fn apply(self, g: &mut GraphBuilder, x: Output) -> Result<Output> {
        match self {
            Activation::Linear => Ok(x),
            Activation::Relu => g.relu(x),
            Activation::Tanh => g.tanh(x),
            Activation::Sigmoid => g.sigmoid(x),
            Activation::Softmax => g.softmax(x),
        }
    }
}

/// A fully connected layer: `activation(x @ kernel + bias)`, as
/// `tf.layers.dense(inputs, units, activation, use_bias)`, with TensorFlow's
/// default initializers (Glorot-uniform kernel, zero bias).
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    /// Output size.
    pub units: usize,
    /// Activation after the affine map.
    pub activation: Activation,
    /// Whether to add a bias.
    pub use_bias: bool,
    /// Kernel initializer.
    pub kernel_initializer: Initializer,
    /// Bias initializer.
    pub bias_initializer: Initializer,
}

impl Dense {
    /// A linear layer of `units` outputs with a bias.
    pub fn new(units: usize) -> Dense {
        Dense {
            units,
            activation: Activation::Linear,
            use_bias: true,
            kernel_initializer: Initializer::GlorotUniform,
            bias_initializer: Initializer::Zeros,
        }
    }

    /// Sets the activation.
    pub fn activation(mut self, activation: Activation) -> Dense {
        self.activation = activation;
        self
    }

    /// Sets whether to add a bias.
    pub fn use_bias(mut self, use_bias: bool) -> Dense {
        self.use_bias = use_bias;
        self
    }

    /// Builds the layer on `x` (`[batch, in]`) in a scope `dense` (`dense_1`...):
    /// variables `dense/kernel` `[in, units]` and `dense/bias` `[units]`.
    ///
    /// # Errors
    /// [`Error::Build`] if `x` is not an f32 matrix with a known last dim.
    pub fn apply(&self, g: &mut GraphBuilder, x: Output) -> Result<Output> {
        let ty = g.ty(x).clone();
        let fan_in = match ty.shape.0.as_slice() {
            [_, Some(n)] => *n,
            _ => {
                return Err(Error::Build {
                    node: g.name(x).to_owned(),
                    reason: format!("dense needs a [batch, features] input with known features, got {}", ty.shape),
                });
            }
        };
        g.scoped("dense", |g| {
            let kernel = g.variable("kernel", &[fan_in, self.units], self.kernel_initializer.clone())?;
            let mut y = g.matmul(x, kernel)?;
            if self.use_bias {
                let bias = g.variable("bias", &[self.units], self.bias_initializer.clone())?;
                y = g.bias_add(y, bias)?;
            }
            self.activation.apply(g, y)
        })
    }
}

/// `tf.layers.dense(x, units)`: a linear layer with a bias.
///
/// # Errors
/// As [`Dense::apply`].
pub fn dense(g: &mut GraphBuilder, x: Output, units: usize) -> Result<Output> {
    Dense::new(units).apply(g, x)
}

/// A 2-D convolution over NHWC images: `activation(conv2d(x, kernel) +
/// bias)`, as `tf.layers.conv2d(inputs, filters, kernel_size, strides,
/// padding)`, with TensorFlow's default initializers (Glorot-uniform kernel
/// over the receptive field, zero bias).
#[derive(Debug, Clone, PartialEq)]
pub struct Conv2D {
    /// Output channels.
    pub filters: usize,
    /// Window height and width.
    pub kernel_size: [usize; 2],
    /// Strides, dilations and padding.
    pub sliding: Sliding,
    /// Activation after the convolution.
    pub activation: Activation,
    /// Whether to add a bias.
    pub use_bias: bool,
    /// Kernel initializer.
    pub kernel_initializer: Initializer,
    /// Bias initializer.
    pub bias_initializer: Initializer,
}

impl Conv2D {
    /// `filters` outputs from `kernel_size` windows, stride 1, `SAME`
    /// padding (the output as large as the input), with a bias.
    pub fn new(filters: usize, kernel_size: [usize; 2]) -> Conv2D {
        Conv2D {
            filters,
            kernel_size,
            sliding: Sliding { strides: [1, 1], dilations: [1, 1], same: true },
            activation: Activation::Linear,
            use_bias: true,
            kernel_initializer: Initializer::GlorotUniform,
            bias_initializer: Initializer::Zeros,
        }
    }

    /// Sets the activation.
    pub fn activation(mut self, activation: Activation) -> Conv2D {
        self.activation = activation;
        self
    }

    /// Sets the strides, dilations and padding.
    pub fn sliding(mut self, sliding: Sliding) -> Conv2D {
        self.sliding = sliding;
        self
    }

    /// Builds the layer on `x` (`[batch, h, w, c]`) in a scope `conv2d`
    /// (`conv2d_1`...): variables `conv2d/kernel` `[kh, kw, c, filters]` and
    /// `conv2d/bias` `[filters]`.
    ///
    /// # Errors
    /// [`Error::Build`] if `x` is not an f32 image with known channels.
    pub fn apply(&self, g: &mut GraphBuilder, x: Output) -> Result<Output> {
        let ty = g.ty(x).clone();
        let channels = match ty.shape.0.as_slice() {
            [_, _, _, Some(c)] => *c,
            _ => {
                return Err(Error::Build {
                    node: g.name(x).to_owned(),
                    reason: format!(
                        "conv2d needs a [batch, h, w, channels] input with known channels, got {}",
                        ty.shape
                    ),
                });
            }
        };
        let [kh, kw] = self.kernel_size;
        g.scoped("conv2d", |g| {
            let kernel = g.variable("kernel", &[kh, kw, channels, self.filters], self.kernel_initializer.clone())?;
            let mut y = g.conv2d(x, kernel, self.sliding)?;
            if self.use_bias {
                let bias = g.variable("bias", &[self.filters], self.bias_initializer.clone())?;
                y = g.bias_add(y, bias)?;
            }
            self.activation.apply(g, y)
        })
    }
}
