//! `GraphBuilder`: what a `model_fn` uses to build its graph. Each op is
//! checked as it is added (dtypes and shapes inferred), so a mistake is
//! reported at the line that makes it, naming the node.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use opset::ops::array::{
    Cast, Concat, Const, ExpandDims, Gather, Identity, Pad, Placeholder, Reshape, Select, ShapeOf, SliceSpec, Squeeze,
    StridedSlice, Tile, Transpose, Variable,
};
use opset::ops::math::{
    Abs, Add, ArgMax, BiasAdd, Div, Einsum, Elu, Equal, Equation, Erf, Exp, Greater, GreaterEqual, Less, LessEqual,
    Log, LogicalAnd, LogicalNot, LogicalOr, MatMul, Maximum, Minimum, Mul, Neg, NotEqual, ReduceMax, ReduceMean,
    ReduceMin, ReduceSum, Relu, Rsqrt, Selu, Sigmoid, Softmax, Softplus, Sqrt, Square, Sub, Tanh,
};
use opset::ops::nn::{AvgPool, Conv2D, DepthwiseConv2D, L2Loss, MaxPool, Sliding, SoftmaxCrossEntropy};
use opset::ops::text::{HashBucket, IndexToString, VocabLookup};
use opset::{Assets, DataType, Graph, Node, Op, Shape, Tensor, TensorType};

use crate::init::Initializer;
use crate::{Error, Result};

mod while_loop;
pub use while_loop::{Loop, LoopStep};

/// A handle to the output of a node under construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Output(usize);

impl Output {
    /// The node's position in the graph.
    pub fn index(self) -> usize {
        self.0
    }
}

/// A variable declared by the model: its node, initial value and whether
/// the optimizer trains it.
#[derive(Debug, Clone)]
pub struct VariableDef {
    /// The variable's name: its node's name and its key in checkpoints.
    pub name: String,
    /// Its node in the graph.
    pub output: Output,
    /// Its element type.
    pub dtype: DataType,
    /// Its shape.
    pub shape: Vec<usize>,
    /// How to compute its first value.
    pub initializer: Initializer,
    /// Whether the optimizer updates it.
    pub trainable: bool,
}

/// Builds a graph of the op set ([`opset`]), the way a TensorFlow `model_fn`
/// builds its graph.
///
/// ```
/// use estimator::{GraphBuilder, layers};
/// use opset::{DataType, Shape};
///
/// let mut g = GraphBuilder::new();
/// let x = g.placeholder("x", DataType::F32, Shape(vec![None, Some(2)]))?;
/// let y = layers::dense(&mut g, x, 1)?;
/// assert_eq!(g.ty(y).shape, Shape(vec![None, Some(1)]));
/// assert_eq!(g.variables().len(), 2); // dense/kernel, dense/bias
/// # Ok::<(), estimator::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct GraphBuilder {
    nodes: Vec<Node>,
    types: Vec<TensorType>,
    by_name: HashMap<String, usize>,
    scopes: HashSet<String>,
    variables: Vec<VariableDef>,
    assets: Assets,
    scope: Vec<String>,
    summaries: Vec<SummaryDef>,
}

/// A value the `model_fn` asked TensorBoard to show (`tf.summary.scalar`,
/// `tf.summary.histogram`), written every `save_summary_steps` of training.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryDef {
    /// The tag TensorBoard shows.
    pub tag: String,
    /// The f32 tensor summarized.
    pub output: Output,
    /// A scalar (one value) or a histogram of all its values.
    pub histogram: bool,
}

impl GraphBuilder {
    /// An empty graph.
    pub fn new() -> GraphBuilder {
        GraphBuilder::default()
    }

    /// The dtype and shape of `x`.
    pub fn ty(&self, x: Output) -> &TensorType {
        &self.types[x.0]
    }

    /// How many nodes the graph has so far.
    pub fn graph_len(&self) -> usize {
        self.nodes.len()
    }

    /// The name of `x`'s node.
    pub fn name(&self, x: Output) -> &str {
        &self.nodes[x.0].name
    }

    /// The node named `name`, if any.
    pub fn find(&self, name: &str) -> Option<Output> {
        self.by_name.get(name).map(|&i| Output(i))
    }

    /// The variables declared so far, in order.
    pub fn variables(&self) -> &[VariableDef] {
        &self.variables
    }

    /// The summaries asked for so far.
    pub fn summaries(&self) -> &[SummaryDef] {
        &self.summaries
    }

    /// Shows `x` (an f32 tensor of one value) in TensorBoard under `tag`,
    /// as `tf.summary.scalar` in a `model_fn` does.
    ///
    /// # Errors
    /// [`Error::Build`] for a tensor that is not f32 or holds more than one value.
    pub fn summary_scalar(&mut self, tag: &str, x: Output) -> Result<()> {
        let ty = self.ty(x);
        if ty.dtype != DataType::F32 || ty.dims().iter().any(|d| *d != Some(1)) {
            return Err(Error::Build {
                node: tag.to_owned(),
                reason: format!("a scalar summary needs one f32 value, got {} {}", ty.dtype, ty.shape),
            });
        }
        self.summaries.push(SummaryDef { tag: tag.to_owned(), output: x, histogram: false });
        Ok(())
    }

    /// Shows the distribution of `x`'s values (any f32 tensor) in
    /// TensorBoard under `tag`, as `tf.summary.histogram` does.
    ///
    /// # Errors
    /// [`Error::Build`] for a tensor that is not f32.
    pub fn summary_histogram(&mut self, tag: &str, x: Output) -> Result<()> {
        let ty = self.ty(x);
        if ty.dtype != DataType::F32 {
            return Err(Error::Build {
                node: tag.to_owned(),
                reason: format!("a histogram summary needs f32 values, got {}", ty.dtype),
            });
        }
        self.summaries.push(SummaryDef { tag: tag.to_owned(), output: x, histogram: true });
        Ok(())
    }

    /// The assets registered so far.
    pub fn assets(&self) -> &Assets {
        &self.assets
    }

    /// The graph built so far.
    pub fn graph(&self) -> Graph {
        Graph { nodes: self.nodes.clone() }
    }

    /// Runs `f` with names prefixed by `scope/` (made unique: `dense`,
    /// `dense_1`...), as TensorFlow's variable scopes do.
    ///
    /// # Errors
    /// Whatever `f` returns.
    pub fn scoped<R>(&mut self, scope: &str, f: impl FnOnce(&mut GraphBuilder) -> Result<R>) -> Result<R> {
        let unique = self.unique_name(scope);
        let last = unique.rsplit('/').next().unwrap_or(&unique).to_owned();
        // Reserve the scope's name so a second scope of the same name differs.
        self.scopes.insert(unique);
        self.scope.push(last);
        let result = f(self);
        self.scope.pop();
        result
    }

    fn unique_name(&self, base: &str) -> String {
        let mut prefix = self.scope.join("/");
        if !prefix.is_empty() {
            prefix.push('/');
        }
        let name = format!("{prefix}{base}");
        let taken = |n: &String| self.by_name.contains_key(n) || self.scopes.contains(n);
        if !taken(&name) {
            return name;
        }
        (1..).map(|i| format!("{name}_{i}")).find(|n| !taken(n)).unwrap_or(name)
    }

    /// Adds a node of `op` named exactly `name` (within the current scope),
    /// its output typed by the op's own rule.
    fn add_named(&mut self, name: String, op: Op, inputs: &[Output]) -> Result<Output> {
        if self.by_name.contains_key(&name) {
            return Err(Error::Build { node: name, reason: "a node of this name already exists".into() });
        }
        let input_types: Vec<TensorType> = inputs.iter().map(|i| self.types[i.0].clone()).collect();
        let ty = op.infer(&input_types).map_err(|e| Error::Build { node: name.clone(), reason: e.to_string() })?;
        let node = op.to_node(name.clone(), inputs.iter().map(|i| self.nodes[i.0].name.clone()).collect());
        self.by_name.insert(name, self.nodes.len());
        self.nodes.push(node);
        self.types.push(ty);
        Ok(Output(self.nodes.len() - 1))
    }

    /// Adds `op` (any op of [`opset::ops`], with its typed attributes)
    /// reading `inputs`, named after the op and unique in the current scope
    /// (`MatMul`, `MatMul_1`...). The methods below are shorthands for it.
    ///
    /// ```
    /// use estimator::GraphBuilder;
    /// use opset::ops::math::MatMul;
    /// use opset::{DataType, Shape};
    ///
    /// let mut g = GraphBuilder::new();
    /// let x = g.placeholder("x", DataType::F32, Shape(vec![None, Some(3)]))?;
    /// let w = g.placeholder("w", DataType::F32, Shape(vec![Some(2), Some(3)]))?;
    /// let y = g.op(MatMul { transpose_a: false, transpose_b: true }, &[x, w])?;
    /// assert_eq!(g.ty(y).shape, Shape(vec![None, Some(2)]));
    /// # Ok::<(), estimator::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Build`] naming the node if the inputs' count, dtypes or
    /// shapes do not fit the op.
    pub fn op(&mut self, op: impl Into<Op>, inputs: &[Output]) -> Result<Output> {
        let op = op.into();
        let name = self.unique_name(op.name());
        self.add_named(name, op, inputs)
    }

    /// A placeholder fed at run time; `None` dims (the batch) vary per call.
    ///
    /// # Errors
    /// [`Error::Build`] if the name is taken.
    pub fn placeholder(&mut self, name: &str, dtype: DataType, shape: Shape) -> Result<Output> {
        let name = self.unique_name_exact(name);
        self.add_named(name, Placeholder { dtype, shape }.into(), &[])
    }

    fn unique_name_exact(&self, name: &str) -> String {
        let mut full = self.scope.join("/");
        if !full.is_empty() {
            full.push('/');
        }
        full.push_str(name);
        full
    }

    /// A constant.
    ///
    /// # Errors
    /// Never in practice; kept for uniformity.
    pub fn constant(&mut self, value: Tensor) -> Result<Output> {
        self.op(Const { value }, &[])
    }

    /// An f32 scalar constant.
    ///
    /// # Errors
    /// Never in practice; kept for uniformity.
    pub fn scalar(&mut self, value: f32) -> Result<Output> {
        self.constant(Tensor::scalar(value))
    }

    /// A trainable f32 variable named `name` (within the current scope).
    ///
    /// # Errors
    /// [`Error::Build`] if the name is taken.
    pub fn variable(&mut self, name: &str, shape: &[usize], initializer: Initializer) -> Result<Output> {
        self.variable_with(name, DataType::F32, shape, initializer, true)
    }

    /// A variable of any dtype, trainable or not.
    ///
    /// # Errors
    /// [`Error::Build`] if the name is taken or a non-f32 variable is trainable.
    pub fn variable_with(
        &mut self,
        name: &str,
        dtype: DataType,
        shape: &[usize],
        initializer: Initializer,
        trainable: bool,
    ) -> Result<Output> {
        let full = self.unique_name_exact(name);
        if trainable && dtype != DataType::F32 {
            return Err(Error::Build { node: full, reason: format!("only f32 variables are trainable, got {dtype}") });
        }
        let output = self.add_named(full.clone(), Variable { dtype, shape: shape.to_vec() }.into(), &[])?;
        self.variables.push(VariableDef { name: full, output, dtype, shape: shape.to_vec(), initializer, trainable });
        Ok(output)
    }

    /// Registers an asset file the graph reads (a vocabulary...), returning
    /// the name the graph refers to it by: its file name. The file travels
    /// into the export's `assets/`.
    ///
    /// # Errors
    /// [`Error::Build`] if the path has no plain file name.
    pub fn asset(&mut self, path: impl AsRef<Path>) -> Result<String> {
        let path = path.as_ref();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        self.assets
            .insert(&name, path)
            .map_err(|e| Error::Build { node: path.display().to_string(), reason: e.to_string() })?;
        Ok(name)
    }

    /// `x` under another name (e.g. to name an output `output`).
    ///
    /// # Errors
    /// [`Error::Build`] if the name is taken.
    pub fn identity(&mut self, x: Output, name: &str) -> Result<Output> {
        let name = self.unique_name_exact(name);
        self.add_named(name, Identity.into(), &[x])
    }
}

/// Shorthands for ops without attributes: `$method(inputs...)` adds `$op`.
macro_rules! shorthands {
    ($($(#[$doc:meta])* $method:ident($($x:ident),+) => $op:expr),* $(,)?) => {
        impl GraphBuilder {
            $(
                $(#[$doc])*
                ///
                /// # Errors
                /// [`Error::Build`] if the inputs' dtypes or shapes do not fit.
                pub fn $method(&mut self, $($x: Output),+) -> Result<Output> {
                    self.op($op, &[$($x),+])
                }
            )*
        }
    };
}

shorthands! {
    /// `max(x, 0)`.
    relu(x) => Relu,
    /// `tanh(x)`.
    tanh(x) => Tanh,
    /// `1 / (1 + e^-x)`.
    sigmoid(x) => Sigmoid,
    /// Softmax along the last axis.
    softmax(x) => Softmax,
    /// `x * x`.
    square(x) => Square,
    /// `-x`.
    neg(x) => Neg,
    /// `|x|`.
    abs(x) => Abs,
    /// `e^x`.
    exp(x) => Exp,
    /// `ln x`.
    log(x) => Log,
    /// `sqrt x`.
    sqrt(x) => Sqrt,
    /// `1 / sqrt x`.
    rsqrt(x) => Rsqrt,
    /// `ln(1 + e^x)`.
    softplus(x) => Softplus,
    /// `!x` for bools.
    logical_not(x) => LogicalNot,
    /// `x > 0 ? x : e^x - 1`.
    elu(x) => Elu,
    /// TensorFlow's scaled ELU.
    selu(x) => Selu,
    /// The error function (GELU is `x / 2 * (1 + erf(x / sqrt 2))`).
    erf(x) => Erf,
    /// `sum(x^2) / 2`, a scalar.
    l2_loss(x) => L2Loss,
    /// `a @ b` for matrices.
    matmul(a, b) => MatMul::default(),
    /// `x + bias` along the last axis.
    bias_add(x, bias) => BiasAdd,
    /// `a + b`, broadcasting.
    add(a, b) => Add,
    /// `a - b`, broadcasting.
    sub(a, b) => Sub,
    /// `a * b`, broadcasting.
    mul(a, b) => Mul,
    /// `a / b`, broadcasting.
    div(a, b) => Div,
    /// `max(a, b)`, broadcasting.
    maximum(a, b) => Maximum,
    /// `min(a, b)`, broadcasting.
    minimum(a, b) => Minimum,
    /// Rows of `params` picked by integer `indices` (an embedding lookup).
    gather(params, indices) => Gather::default(),
    /// `a == b` elementwise, as bools (any dtype, strings included).
    equal(a, b) => Equal,
    /// `a != b` elementwise, as bools (e.g. the mask of non-padding words).
    not_equal(a, b) => NotEqual,
    /// `a < b` elementwise, as bools.
    less(a, b) => Less,
    /// `a <= b` elementwise, as bools.
    less_equal(a, b) => LessEqual,
    /// `a > b` elementwise, as bools (e.g. a decision threshold).
    greater(a, b) => Greater,
    /// `a >= b` elementwise, as bools.
    greater_equal(a, b) => GreaterEqual,
    /// `a && b` elementwise, for bools.
    logical_and(a, b) => LogicalAnd,
    /// `a || b` elementwise, for bools.
    logical_or(a, b) => LogicalOr,
    /// Per-row `-sum(labels * log_softmax(logits))`, arguments (logits, labels).
    softmax_cross_entropy_with_logits(logits, labels) => SoftmaxCrossEntropy,
    /// `cond ? a : b` elementwise, the three broadcasting together (`tf.where`).
    select(cond, a, b) => Select,
}

impl GraphBuilder {
    /// Sum over `axes` (empty: all).
    ///
    /// # Errors
    /// [`Error::Build`] for an axis out of range or a non-numeric input.
    pub fn reduce_sum(&mut self, x: Output, axes: &[i64], keep_dims: bool) -> Result<Output> {
        self.op(ReduceSum { axes: axes.to_vec(), keep_dims }, &[x])
    }

    /// Mean over `axes` (empty: all).
    ///
    /// # Errors
    /// [`Error::Build`] for an axis out of range or a non-numeric input.
    pub fn reduce_mean(&mut self, x: Output, axes: &[i64], keep_dims: bool) -> Result<Output> {
        self.op(ReduceMean { axes: axes.to_vec(), keep_dims }, &[x])
    }

    /// Largest element over `axes` (empty: all).
    ///
    /// # Errors
    /// [`Error::Build`] for an axis out of range or a non-numeric input.
    pub fn reduce_max(&mut self, x: Output, axes: &[i64], keep_dims: bool) -> Result<Output> {
        self.op(ReduceMax { axes: axes.to_vec(), keep_dims }, &[x])
    }

    /// Smallest element over `axes` (empty: all).
    ///
    /// # Errors
    /// [`Error::Build`] for an axis out of range or a non-numeric input.
    pub fn reduce_min(&mut self, x: Output, axes: &[i64], keep_dims: bool) -> Result<Output> {
        self.op(ReduceMin { axes: axes.to_vec(), keep_dims }, &[x])
    }

    /// `log(sum(exp(x)))` over `axis`, computed from the largest element so
    /// that it neither overflows nor underflows, as `tf.reduce_logsumexp`;
    /// its gradient is the softmax of `x` along `axis`.
    ///
    /// # Errors
    /// [`Error::Build`] for an axis out of range or an input that is not f32.
    pub fn reduce_logsumexp(&mut self, x: Output, axis: i64) -> Result<Output> {
        let largest = self.reduce_max(x, &[axis], true)?;
        let shifted = self.sub(x, largest)?;
        let exp = self.exp(shifted)?;
        let sum = self.reduce_sum(exp, &[axis], false)?;
        let log = self.log(sum)?;
        let largest = self.squeeze(largest, &[axis])?;
        self.add(log, largest)
    }

    /// `tf.shape(x)[begin:end]`: some of `x`'s dims as they are at run
    /// time, an i64 vector.
    ///
    /// # Errors
    /// [`Error::Build`] if the range is not within `x`'s rank.
    pub fn shape_slice(&mut self, x: Output, begin: i64, end: i64) -> Result<Output> {
        self.shape_part(x, begin, end, false)
    }

    /// `tf.shape(x)[d]`: one of `x`'s dims as it is at run time, an i64 scalar.
    ///
    /// # Errors
    /// [`Error::Build`] if `d` is not within `x`'s rank.
    pub fn shape_dim(&mut self, x: Output, d: i64) -> Result<Output> {
        self.shape_part(x, d, d + 1, true)
    }

    fn shape_part(&mut self, x: Output, begin: i64, end: i64, shrink: bool) -> Result<Output> {
        let shape = self.op(ShapeOf, &[x])?;
        let spec = SliceSpec {
            begin: vec![begin],
            end: vec![end],
            strides: vec![1],
            shrink_axis_mask: i64::from(shrink),
            ..SliceSpec::default()
        };
        self.op(StridedSlice { spec }, &[shape])
    }

    /// A tensor of `dims` (an integer vector computed at run time, its
    /// length known) filled with `value` (a scalar): `tf.fill`.
    ///
    /// # Errors
    /// [`Error::Build`] if `dims` is not an integer vector of known length.
    pub fn fill(&mut self, dims: Output, value: Tensor) -> Result<Output> {
        let rank = match (self.ty(dims).dtype, self.ty(dims).dims()) {
            (DataType::I32 | DataType::I64, [Some(rank)]) => *rank,
            _ => {
                return Err(Error::Build {
                    node: self.name(dims).to_owned(),
                    reason: format!(
                        "fill needs dims as an integer vector of known length, got {} {}",
                        self.ty(dims).dtype,
                        self.ty(dims).shape
                    ),
                });
            }
        };
        let cell = self.constant(value.reshape(&vec![1; rank])?)?;
        self.op(opset::ops::array::TileBy, &[cell, dims])
    }

    /// `x` with its dims permuted: output dim `i` is input dim `perm[i]`.
    ///
    /// # Errors
    /// [`Error::Build`] if `perm` is not a permutation of the dims.
    pub fn transpose(&mut self, x: Output, perm: &[usize]) -> Result<Output> {
        self.op(Transpose { perm: perm.to_vec() }, &[x])
    }

    /// Index of the largest element along `axis`, as i64.
    ///
    /// # Errors
    /// [`Error::Build`] for an axis out of range.
    pub fn argmax(&mut self, x: Output, axis: i64) -> Result<Output> {
        self.op(ArgMax { axis }, &[x])
    }

    /// `x` converted to `to`.
    ///
    /// # Errors
    /// [`Error::Build`] for string casts.
    pub fn cast(&mut self, x: Output, to: DataType) -> Result<Output> {
        self.op(Cast { to }, &[x])
    }

    /// `x` in another shape (one `-1` is inferred).
    ///
    /// # Errors
    /// [`Error::Build`] if the element counts cannot agree.
    pub fn reshape(&mut self, x: Output, shape: &[i64]) -> Result<Output> {
        self.op(Reshape { shape: shape.to_vec() }, &[x])
    }

    /// `x` repeated `multiples[i]` times along dim `i`.
    ///
    /// # Errors
    /// [`Error::Build`] if there is not one multiple per dim.
    pub fn tile(&mut self, x: Output, multiples: &[usize]) -> Result<Output> {
        self.op(Tile { multiples: multiples.to_vec() }, &[x])
    }

    /// The inputs joined along `axis`.
    ///
    /// # Errors
    /// [`Error::Build`] if the other dims differ.
    pub fn concat(&mut self, xs: &[Output], axis: i64) -> Result<Output> {
        self.op(Concat { axis }, xs)
    }

    /// `x` with a dim of size 1 inserted at `axis`.
    ///
    /// # Errors
    /// [`Error::Build`] for an axis out of range.
    pub fn expand_dims(&mut self, x: Output, axis: i64) -> Result<Output> {
        self.op(ExpandDims { axis }, &[x])
    }

    /// `x` without the size-1 dims `axes` (empty: all of them).
    ///
    /// # Errors
    /// [`Error::Build`] if a dim is not 1.
    pub fn squeeze(&mut self, x: Output, axes: &[i64]) -> Result<Output> {
        self.op(Squeeze { axes: axes.to_vec() }, &[x])
    }

    /// The id of each string of `x` in the vocabulary file at `path` (one
    /// token per line); unknown tokens hash into `num_oov_buckets` extra ids,
    /// or get `default_value` when there are none. The file becomes an asset.
    ///
    /// # Errors
    /// [`Error::Build`] if the file is missing, empty or repeats a token, or
    /// `x` is not a string tensor.
    pub fn vocab_lookup(
        &mut self,
        x: Output,
        path: impl AsRef<Path>,
        num_oov_buckets: u64,
        default_value: i64,
    ) -> Result<Output> {
        let path = path.as_ref();
        let asset = self.asset(path)?;
        let lookup = VocabLookup::from_file(asset, path, num_oov_buckets, default_value)
            .map_err(|e| Error::Build { node: path.display().to_string(), reason: e.to_string() })?;
        self.op(lookup, &[x])
    }

    /// The token on line `id` of the vocabulary file at `path` for each id
    /// of `x` (i32 or i64), `default_value` for an id that is no line: as
    /// `index_to_string_table_from_file(path, default_value)`. The file
    /// becomes an asset.
    ///
    /// # Errors
    /// [`Error::Build`] if the file is missing, empty or repeats a token, or
    /// `x` is not an integer tensor.
    pub fn index_to_string(&mut self, x: Output, path: impl AsRef<Path>, default_value: &str) -> Result<Output> {
        let path = path.as_ref();
        let asset = self.asset(path)?;
        let lookup = IndexToString::from_file(asset, path, default_value)
            .map_err(|e| Error::Build { node: path.display().to_string(), reason: e.to_string() })?;
        self.op(lookup, &[x])
    }

    /// The bucket of each string of `x` among `num_buckets`, as TensorFlow's
    /// `tf.strings.to_hash_bucket_fast` (FarmHash `Fingerprint64` modulo
    /// `num_buckets`): a categorical feature without a vocabulary.
    ///
    /// # Errors
    /// [`Error::Build`] if `num_buckets` is 0 or `x` is not a string tensor.
    pub fn hash_bucket(&mut self, x: Output, num_buckets: u64) -> Result<Output> {
        self.op(HashBucket { num_buckets }, &[x])
    }

    /// The 2-D convolution of the NHWC image `x` by the `[kh, kw, c, f]`
    /// `filter` (`tf.nn.conv2d`), windows placed by `sliding`.
    ///
    /// # Errors
    /// [`Error::Build`] if the shapes are not an image and a filter of its
    /// channels, or a stride or dilation is 0.
    pub fn conv2d(&mut self, x: Output, filter: Output, sliding: Sliding) -> Result<Output> {
        self.op(Conv2D { sliding }, &[x, filter])
    }

    /// Each channel of the NHWC image `x` convolved alone by its `m` filters
    /// of the `[kh, kw, c, m]` `filter` (`tf.nn.depthwise_conv2d`).
    ///
    /// # Errors
    /// As [`GraphBuilder::conv2d`].
    pub fn depthwise_conv2d(&mut self, x: Output, filter: Output, sliding: Sliding) -> Result<Output> {
        self.op(DepthwiseConv2D { sliding }, &[x, filter])
    }

    /// The largest element of each `ksize` window of the NHWC image `x`, per
    /// channel (`tf.nn.max_pool2d`).
    ///
    /// # Errors
    /// [`Error::Build`] if `x` is not an f32 image or a size or stride is 0.
    pub fn max_pool(&mut self, x: Output, ksize: [usize; 2], sliding: Sliding) -> Result<Output> {
        self.op(MaxPool { ksize, sliding }, &[x])
    }

    /// The mean of each `ksize` window of the NHWC image `x`, per channel,
    /// over the elements it covers (`tf.nn.avg_pool2d`).
    ///
    /// # Errors
    /// As [`GraphBuilder::max_pool`].
    pub fn avg_pool(&mut self, x: Output, ksize: [usize; 2], sliding: Sliding) -> Result<Output> {
        self.op(AvgPool { ksize, sliding }, &[x])
    }

    /// `tf.einsum(equation, a, b)` for two operands, e.g. `"abc,cde->abde"`
    /// (the projections and attention products of multi-head attention).
    ///
    /// # Errors
    /// [`Error::Build`] for an equation that is malformed or uses `...`, or
    /// shapes that disagree with it.
    pub fn einsum(&mut self, equation: &str, a: Output, b: Output) -> Result<Output> {
        let equation = Equation::parse(equation)
            .map_err(|e| Error::Build { node: format!("einsum {equation:?}"), reason: e.to_string() })?;
        self.op(Einsum { equation: std::sync::Arc::new(equation) }, &[a, b])
    }

    /// `x` padded with `value` (zero, `""` or false when `None`):
    /// `paddings[i]` elements before and after it along dim `i` (`tf.pad`).
    ///
    /// # Errors
    /// [`Error::Build`] if there is not one pair per dim, or `value` is not a
    /// scalar of `x`'s dtype.
    pub fn pad(&mut self, x: Output, paddings: &[[usize; 2]], value: Option<Tensor>) -> Result<Output> {
        self.op(Pad { paddings: paddings.to_vec(), value }, &[x])
    }
}
