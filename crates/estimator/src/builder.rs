//! `GraphBuilder`: what a `model_fn` uses to build its graph. Each op is
//! checked as it is added (dtypes and shapes inferred), so a mistake is
//! reported at the line that makes it, naming the node.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use opset::ops::Sliding;
use opset::{Assets, Attr, DataType, Graph, Node, Op, Shape, Tensor, TensorType};

use crate::init::Initializer;
use crate::{Error, Result};

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

    /// Adds a node named exactly `name` (within the current scope).
    fn add_named(&mut self, name: String, op: &str, inputs: &[Output], attrs: Vec<(&str, Attr)>) -> Result<Output> {
        if self.by_name.contains_key(&name) {
            return Err(Error::Build { node: name, reason: "a node of this name already exists".into() });
        }
        let node = Node {
            name: name.clone(),
            op: op.to_owned(),
            inputs: inputs.iter().map(|i| self.nodes[i.0].name.clone()).collect(),
            attrs: attrs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        };
        let parsed =
            Op::parse(&node, &self.assets).map_err(|e| Error::Build { node: name.clone(), reason: e.to_string() })?;
        let input_types: Vec<TensorType> = inputs.iter().map(|i| self.types[i.0].clone()).collect();
        let ty = parsed.infer(&input_types).map_err(|reason| Error::Build { node: name.clone(), reason })?;
        self.by_name.insert(name, self.nodes.len());
        self.nodes.push(node);
        self.types.push(ty);
        Ok(Output(self.nodes.len() - 1))
    }

    /// Adds an op of [`opset::ops`] with an automatic unique name.
    ///
    /// # Errors
    /// [`Error::Build`] naming the node if the op is unknown, an attribute is
    /// wrong, or the inputs' dtypes or shapes do not fit the op.
    pub fn op(&mut self, op: &str, inputs: &[Output], attrs: Vec<(&str, Attr)>) -> Result<Output> {
        let name = self.unique_name(op);
        self.add_named(name, op, inputs, attrs)
    }

    /// A placeholder fed at run time; `None` dims (the batch) vary per call.
    ///
    /// # Errors
    /// [`Error::Build`] if the name is taken.
    pub fn placeholder(&mut self, name: &str, dtype: DataType, shape: Shape) -> Result<Output> {
        let name = self.unique_name_exact(name);
        self.add_named(name, "Placeholder", &[], vec![("dtype", Attr::Type(dtype)), ("shape", Attr::Shape(shape))])
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
        self.op("Const", &[], vec![("value", Attr::Tensor(value))])
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
        let output = self.add_named(
            full.clone(),
            "Variable",
            &[],
            vec![("dtype", Attr::Type(dtype)), ("shape", Attr::Shape(Shape::known(shape)))],
        )?;
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
        self.add_named(name, "Identity", &[x], vec![])
    }
}

macro_rules! unary_ops {
    ($($(#[$doc:meta])* $method:ident => $op:literal),* $(,)?) => {
        impl GraphBuilder {
            $(
                $(#[$doc])*
                ///
                /// # Errors
                /// [`Error::Build`] if the input's dtype or shape does not fit.
                pub fn $method(&mut self, x: Output) -> Result<Output> {
                    self.op($op, &[x], vec![])
                }
            )*
        }
    };
}

macro_rules! binary_ops {
    ($($(#[$doc:meta])* $method:ident => $op:literal),* $(,)?) => {
        impl GraphBuilder {
            $(
                $(#[$doc])*
                ///
                /// # Errors
                /// [`Error::Build`] if the inputs' dtypes or shapes do not fit.
                pub fn $method(&mut self, a: Output, b: Output) -> Result<Output> {
                    self.op($op, &[a, b], vec![])
                }
            )*
        }
    };
}

unary_ops! {
    /// `max(x, 0)`.
    relu => "Relu",
    /// `tanh(x)`.
    tanh => "Tanh",
    /// `1 / (1 + e^-x)`.
    sigmoid => "Sigmoid",
    /// Softmax along the last axis.
    softmax => "Softmax",
    /// `x * x`.
    square => "Square",
    /// `-x`.
    neg => "Neg",
    /// `|x|`.
    abs => "Abs",
    /// `e^x`.
    exp => "Exp",
    /// `ln x`.
    log => "Log",
    /// `sqrt x`.
    sqrt => "Sqrt",
    /// `1 / sqrt x`.
    rsqrt => "Rsqrt",
    /// `ln(1 + e^x)`.
    softplus => "Softplus",
    /// `!x` for bools.
    logical_not => "LogicalNot",
    /// `x > 0 ? x : e^x - 1`.
    elu => "Elu",
    /// TensorFlow's scaled ELU.
    selu => "Selu",
    /// The error function (GELU is `x / 2 * (1 + erf(x / sqrt 2))`).
    erf => "Erf",
    /// `sum(x^2) / 2`, a scalar.
    l2_loss => "L2Loss",
}

binary_ops! {
    /// `a @ b` for matrices.
    matmul => "MatMul",
    /// `x + bias` along the last axis.
    bias_add => "BiasAdd",
    /// `a + b`, broadcasting.
    add => "Add",
    /// `a - b`, broadcasting.
    sub => "Sub",
    /// `a * b`, broadcasting.
    mul => "Mul",
    /// `a / b`, broadcasting.
    div => "Div",
    /// `max(a, b)`, broadcasting.
    maximum => "Maximum",
    /// `min(a, b)`, broadcasting.
    minimum => "Minimum",
    /// Rows of `params` picked by integer `indices` (an embedding lookup).
    gather => "Gather",
    /// `a == b` elementwise, as bools (any dtype, strings included).
    equal => "Equal",
    /// `a != b` elementwise, as bools (e.g. the mask of non-padding words).
    not_equal => "NotEqual",
    /// `a < b` elementwise, as bools.
    less => "Less",
    /// `a <= b` elementwise, as bools.
    less_equal => "LessEqual",
    /// `a > b` elementwise, as bools (e.g. a decision threshold).
    greater => "Greater",
    /// `a >= b` elementwise, as bools.
    greater_equal => "GreaterEqual",
    /// `a && b` elementwise, for bools.
    logical_and => "LogicalAnd",
    /// `a || b` elementwise, for bools.
    logical_or => "LogicalOr",
    /// Per-row `-sum(labels * log_softmax(logits))`, arguments (logits, labels).
    softmax_cross_entropy_with_logits => "SoftmaxCrossEntropy",
}

impl GraphBuilder {
    /// Sum over `axes` (empty: all).
    ///
    /// # Errors
    /// [`Error::Build`] for an axis out of range or a non-numeric input.
    pub fn reduce_sum(&mut self, x: Output, axes: &[i64], keep_dims: bool) -> Result<Output> {
        self.op("ReduceSum", &[x], vec![("axes", Attr::Ints(axes.to_vec())), ("keep_dims", Attr::Bool(keep_dims))])
    }

    /// Mean over `axes` (empty: all).
    ///
    /// # Errors
    /// [`Error::Build`] for an axis out of range or a non-numeric input.
    pub fn reduce_mean(&mut self, x: Output, axes: &[i64], keep_dims: bool) -> Result<Output> {
        self.op("ReduceMean", &[x], vec![("axes", Attr::Ints(axes.to_vec())), ("keep_dims", Attr::Bool(keep_dims))])
    }

    /// Largest element over `axes` (empty: all).
    ///
    /// # Errors
    /// [`Error::Build`] for an axis out of range or a non-numeric input.
    pub fn reduce_max(&mut self, x: Output, axes: &[i64], keep_dims: bool) -> Result<Output> {
        self.op("ReduceMax", &[x], vec![("axes", Attr::Ints(axes.to_vec())), ("keep_dims", Attr::Bool(keep_dims))])
    }

    /// Smallest element over `axes` (empty: all).
    ///
    /// # Errors
    /// [`Error::Build`] for an axis out of range or a non-numeric input.
    pub fn reduce_min(&mut self, x: Output, axes: &[i64], keep_dims: bool) -> Result<Output> {
        self.op("ReduceMin", &[x], vec![("axes", Attr::Ints(axes.to_vec())), ("keep_dims", Attr::Bool(keep_dims))])
    }

    /// `x` with its dims permuted: output dim `i` is input dim `perm[i]`.
    ///
    /// # Errors
    /// [`Error::Build`] if `perm` is not a permutation of the dims.
    pub fn transpose(&mut self, x: Output, perm: &[i64]) -> Result<Output> {
        self.op("Transpose", &[x], vec![("perm", Attr::Ints(perm.to_vec()))])
    }

    /// Index of the largest element along `axis`, as i64.
    ///
    /// # Errors
    /// [`Error::Build`] for an axis out of range.
    pub fn argmax(&mut self, x: Output, axis: i64) -> Result<Output> {
        self.op("ArgMax", &[x], vec![("axis", Attr::Int(axis))])
    }

    /// `x` converted to `to`.
    ///
    /// # Errors
    /// [`Error::Build`] for string casts.
    pub fn cast(&mut self, x: Output, to: DataType) -> Result<Output> {
        self.op("Cast", &[x], vec![("to", Attr::Type(to))])
    }

    /// `x` in another shape (one `-1` is inferred).
    ///
    /// # Errors
    /// [`Error::Build`] if the element counts cannot agree.
    pub fn reshape(&mut self, x: Output, shape: &[i64]) -> Result<Output> {
        self.op("Reshape", &[x], vec![("shape", Attr::Ints(shape.to_vec()))])
    }

    /// `x` repeated `multiples[i]` times along dim `i`.
    ///
    /// # Errors
    /// [`Error::Build`] if there is not one multiple per dim.
    pub fn tile(&mut self, x: Output, multiples: &[i64]) -> Result<Output> {
        self.op("Tile", &[x], vec![("multiples", Attr::Ints(multiples.to_vec()))])
    }

    /// The inputs joined along `axis`.
    ///
    /// # Errors
    /// [`Error::Build`] if the other dims differ.
    pub fn concat(&mut self, xs: &[Output], axis: i64) -> Result<Output> {
        self.op("ConcatV2", xs, vec![("axis", Attr::Int(axis))])
    }

    /// `x` with a dim of size 1 inserted at `axis`.
    ///
    /// # Errors
    /// [`Error::Build`] for an axis out of range.
    pub fn expand_dims(&mut self, x: Output, axis: i64) -> Result<Output> {
        self.op("ExpandDims", &[x], vec![("axis", Attr::Int(axis))])
    }

    /// `x` without the size-1 dims `axes` (empty: all of them).
    ///
    /// # Errors
    /// [`Error::Build`] if a dim is not 1.
    pub fn squeeze(&mut self, x: Output, axes: &[i64]) -> Result<Output> {
        self.op("Squeeze", &[x], vec![("axes", Attr::Ints(axes.to_vec()))])
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
        let asset = self.asset(path)?;
        self.op(
            "VocabLookup",
            &[x],
            vec![
                ("asset", Attr::Str(asset)),
                ("num_oov_buckets", Attr::Int(i64::try_from(num_oov_buckets).unwrap_or(i64::MAX))),
                ("default_value", Attr::Int(default_value)),
            ],
        )
    }

    /// The bucket of each string of `x` among `num_buckets`, as TensorFlow's
    /// `tf.strings.to_hash_bucket_fast` (FarmHash `Fingerprint64` modulo
    /// `num_buckets`): a categorical feature without a vocabulary.
    ///
    /// # Errors
    /// [`Error::Build`] if `num_buckets` is 0 or `x` is not a string tensor.
    pub fn hash_bucket(&mut self, x: Output, num_buckets: u64) -> Result<Output> {
        let n = i64::try_from(num_buckets).unwrap_or(i64::MAX);
        self.op("HashBucket", &[x], vec![("num_buckets", Attr::Int(n))])
    }

    /// The 2-D convolution of the NHWC image `x` by the `[kh, kw, c, f]`
    /// `filter` (`tf.nn.conv2d`), windows placed by `sliding`.
    ///
    /// # Errors
    /// [`Error::Build`] if the shapes are not an image and a filter of its
    /// channels, or a stride or dilation is 0.
    pub fn conv2d(&mut self, x: Output, filter: Output, sliding: Sliding) -> Result<Output> {
        self.op("Conv2D", &[x, filter], window_attrs(&sliding, true))
    }

    /// Each channel of the NHWC image `x` convolved alone by its `m` filters
    /// of the `[kh, kw, c, m]` `filter` (`tf.nn.depthwise_conv2d`).
    ///
    /// # Errors
    /// As [`GraphBuilder::conv2d`].
    pub fn depthwise_conv2d(&mut self, x: Output, filter: Output, sliding: Sliding) -> Result<Output> {
        self.op("DepthwiseConv2D", &[x, filter], window_attrs(&sliding, true))
    }

    /// The largest element of each `ksize` window of the NHWC image `x`, per
    /// channel (`tf.nn.max_pool2d`).
    ///
    /// # Errors
    /// [`Error::Build`] if `x` is not an f32 image or a size or stride is 0.
    pub fn max_pool(&mut self, x: Output, ksize: [usize; 2], sliding: Sliding) -> Result<Output> {
        self.pool("MaxPool", x, ksize, sliding)
    }

    /// The mean of each `ksize` window of the NHWC image `x`, per channel,
    /// over the elements it covers (`tf.nn.avg_pool2d`).
    ///
    /// # Errors
    /// As [`GraphBuilder::max_pool`].
    pub fn avg_pool(&mut self, x: Output, ksize: [usize; 2], sliding: Sliding) -> Result<Output> {
        self.pool("AvgPool", x, ksize, sliding)
    }

    fn pool(&mut self, op: &str, x: Output, ksize: [usize; 2], sliding: Sliding) -> Result<Output> {
        let mut attrs = window_attrs(&sliding, false);
        attrs.push(("ksize", Attr::Ints(ksize.iter().map(|&k| k as i64).collect())));
        self.op(op, &[x], attrs)
    }

    /// `tf.einsum(equation, a, b)` for two operands, e.g. `"abc,cde->abde"`
    /// (the projections and attention products of multi-head attention).
    ///
    /// # Errors
    /// [`Error::Build`] for an equation that is malformed or uses `...`, or
    /// shapes that disagree with it.
    pub fn einsum(&mut self, equation: &str, a: Output, b: Output) -> Result<Output> {
        self.op("Einsum", &[a, b], vec![("equation", Attr::Str(equation.into()))])
    }

    /// `x` padded with zeros: `paddings[i]` elements before and after it
    /// along dim `i` (`tf.pad`).
    ///
    /// # Errors
    /// [`Error::Build`] if there is not one pair per dim.
    pub fn pad(&mut self, x: Output, paddings: &[[usize; 2]]) -> Result<Output> {
        let ints = paddings.iter().flatten().map(|&p| i64::try_from(p).unwrap_or(i64::MAX)).collect();
        self.op("Pad", &[x], vec![("paddings", Attr::Ints(ints))])
    }

    /// `cond ? a : b` elementwise, the three broadcasting together (`tf.where`).
    ///
    /// # Errors
    /// [`Error::Build`] if `cond` is not bool, `a` and `b` differ in dtype,
    /// or the shapes do not broadcast.
    pub fn select(&mut self, cond: Output, a: Output, b: Output) -> Result<Output> {
        self.op("Select", &[cond, a, b], Vec::new())
    }
}

/// The attributes of a window op placed by `sliding`.
fn window_attrs(sliding: &Sliding, dilated: bool) -> Vec<(&'static str, Attr)> {
    let ints = |v: [usize; 2]| Attr::Ints(v.iter().map(|&k| i64::try_from(k).unwrap_or(i64::MAX)).collect());
    let padding = if sliding.same { "SAME" } else { "VALID" };
    let mut attrs = vec![("strides", ints(sliding.strides)), ("padding", Attr::Str(padding.into()))];
    if dilated {
        attrs.push(("dilations", ints(sliding.dilations)));
    }
    attrs
}
