//! What each TensorFlow op becomes in our op set.

use opset::{Attr, Tensor};

use super::lookup_tables::TableSource;
use super::{AttrV, Importer, node_error};
use crate::Result;
use crate::pb;

impl<'a> Importer<'a> {
    /// Translates one TensorFlow node (output `index`).
    pub(super) fn translate(&mut self, scope: usize, node: &'a pb::NodeDef, index: usize) -> Result<String> {
        let op = node.op.as_str();
        let multi_output = matches!(op, "StatefulPartitionedCall" | "PartitionedCall" | "IdentityN");
        if index != 0 && !multi_output {
            return Err(node_error(node, format!("output {index} of a single-output op")));
        }
        let unary = |this: &mut Self, ours: &str| -> Result<String> {
            let x = this.input(scope, node, 0)?;
            Ok(this.emit(scope, node, ours, &[x], vec![]))
        };
        let unary_with = |this: &mut Self, ours: &str, attrs| -> Result<String> {
            let x = this.input(scope, node, 0)?;
            Ok(this.emit(scope, node, ours, &[x], attrs))
        };
        let binary = |this: &mut Self, ours: &str| -> Result<String> {
            let (a, b) = (this.input(scope, node, 0)?, this.input(scope, node, 1)?);
            Ok(this.emit(scope, node, ours, &[a, b], vec![]))
        };
        Ok(match op {
            "Placeholder" => return Err(node_error(node, "a placeholder that is not a signature input")),
            "PlaceholderWithDefault" | "Identity" | "Snapshot" | "StopGradient" => unary(self, "Identity")?,
            "IdentityN" => {
                let x = self.input(scope, node, index)?;
                self.emit(scope, node, "Identity", &[x], vec![])
            }
            "Const" => {
                let value = self.constant_node(node)?;
                self.emit(scope, node, "Const", &[], vec![("value", Attr::Tensor(value))])
            }
            "ReadVariableOp" => {
                let reference =
                    Self::data_inputs(node).first().copied().ok_or_else(|| node_error(node, "no resource input"))?;
                self.variable(scope, reference)?
            }
            "VariableV2" | "Variable" => self.variable(scope, &node.name)?,
            "MatMul" => {
                let (a, b) = (self.input(scope, node, 0)?, self.input(scope, node, 1)?);
                let attrs = vec![
                    ("transpose_a", Attr::Bool(Self::flag(node, "transpose_a"))),
                    ("transpose_b", Attr::Bool(Self::flag(node, "transpose_b"))),
                ];
                self.emit(scope, node, "MatMul", &[a, b], attrs)
            }
            "BiasAdd" => {
                if let Some(AttrV::S(f)) = node.attr.get("data_format").and_then(|a| a.value.as_ref())
                    && f.as_slice() != b"NHWC"
                {
                    return Err(node_error(node, "only the NHWC data format is supported"));
                }
                binary(self, "BiasAdd")?
            }
            "Add" | "AddV2" => binary(self, "Add")?,
            "ZerosLike" | "OnesLike" => {
                // A constant broadcast to x's shape by a select that takes
                // it either way (Equal(x, x) is false for NaN).
                let x = self.input(scope, node, 0)?;
                let one = op == "OnesLike";
                let value = match self.dtype_attr(node, "T")? {
                    opset::DataType::F32 => Tensor::scalar(if one { 1.0f32 } else { 0.0 }),
                    opset::DataType::I64 => Tensor::scalar(i64::from(one)),
                    opset::DataType::I32 => Tensor::scalar(i32::from(one)),
                    opset::DataType::Bool => Tensor::scalar(one),
                    other => return Err(node_error(node, format!("{op} of {other} is not supported"))),
                };
                let base = format!("{}{}", self.scopes[scope].prefix, node.name);
                let c = self.emit_named(format!("{base}/value"), "Const", &[], vec![("value", Attr::Tensor(value))]);
                let all = self.emit_named(format!("{base}/everywhere"), "Equal", &[x.clone(), x], vec![]);
                self.emit(scope, node, "Select", &[all, c.clone(), c], vec![])
            }
            "AddN" => {
                let n = Self::data_inputs(node).len();
                let mut sum = self.input(scope, node, 0)?;
                for i in 1..n {
                    let x = self.input(scope, node, i)?;
                    let name = format!("{}{}/add_{i}", self.scopes[scope].prefix, node.name);
                    sum = if i + 1 == n {
                        self.emit(scope, node, "Add", &[sum, x], vec![])
                    } else {
                        self.emit_named(name, "Add", &[sum, x], vec![])
                    };
                }
                if n == 1 { self.emit(scope, node, "Identity", &[sum], vec![]) } else { sum }
            }
            "Sub" => binary(self, "Sub")?,
            "Mul" => binary(self, "Mul")?,
            "RealDiv" | "Div" => binary(self, "Div")?,
            "Equal" | "NotEqual" | "Maximum" | "Minimum" | "Less" | "LessEqual" | "Greater" | "GreaterEqual"
            | "LogicalAnd" | "LogicalOr" => binary(self, op)?,
            "LogicalNot" => unary(self, op)?,
            "SquaredDifference" => {
                let d = binary(self, "Sub")?;
                let base = format!("{d}/square");
                self.emit_named(base, "Square", &[d], vec![])
            }
            "LeakyRelu" => {
                let alpha = match node.attr.get("alpha").and_then(|a| a.value.as_ref()) {
                    Some(AttrV::F(a)) => *a,
                    _ => 0.2,
                };
                let x = self.input(scope, node, 0)?;
                let base = format!("{}{}", self.scopes[scope].prefix, node.name);
                let a = self.emit_named(
                    format!("{base}/alpha"),
                    "Const",
                    &[],
                    vec![("value", Attr::Tensor(Tensor::scalar(alpha)))],
                );
                let ax = self.emit_named(format!("{base}/scaled"), "Mul", &[x.clone(), a], vec![]);
                self.emit(scope, node, "Maximum", &[x, ax], vec![])
            }
            "Relu6" => {
                let r = unary(self, "Relu")?;
                let six = self.emit_named(
                    format!("{r}/six"),
                    "Const",
                    &[],
                    vec![("value", Attr::Tensor(Tensor::scalar(6.0f32)))],
                );
                self.emit_named(format!("{r}/min"), "Minimum", &[r, six], vec![])
            }
            "Transpose" => {
                let x = self.input(scope, node, 0)?;
                let perm = self.ints(scope, node, 1)?;
                self.emit(scope, node, "Transpose", &[x], vec![("perm", Attr::Ints(perm))])
            }
            "BatchMatMulV2" | "BatchMatMulV3" | "BatchMatMul" => {
                // Our MatMul batches too (equal batch dims: no broadcasting).
                let (a, b) = (self.input(scope, node, 0)?, self.input(scope, node, 1)?);
                let attrs = vec![
                    ("transpose_a", Attr::Bool(Self::flag(node, "adj_x"))),
                    ("transpose_b", Attr::Bool(Self::flag(node, "adj_y"))),
                ];
                self.emit(scope, node, "MatMul", &[a, b], attrs)
            }
            "FusedBatchNorm" | "FusedBatchNormV2" | "FusedBatchNormV3" => self.batch_norm(scope, node)?,
            "Relu" | "Tanh" | "Sigmoid" | "Softmax" | "Square" | "Neg" | "Abs" | "Exp" | "Log" | "Sqrt" | "Rsqrt"
            | "Softplus" | "Elu" | "Selu" | "Erf" => unary(self, op)?,
            "Tile" => {
                let x = self.input(scope, node, 0)?;
                match self.ints(scope, node, 1) {
                    Ok(multiples) => self.emit(scope, node, "Tile", &[x], vec![("multiples", Attr::Ints(multiples))]),
                    // Multiples known only at run time (a batch size).
                    Err(_) => {
                        let multiples = self.input(scope, node, 1)?;
                        self.emit(scope, node, "TileBy", &[x, multiples], vec![])
                    }
                }
            }
            "Pad" | "PadV2" => {
                let x = self.input(scope, node, 0)?;
                let paddings = self.ints(scope, node, 1)?;
                let mut attrs = vec![("paddings", Attr::Ints(paddings))];
                if op == "PadV2" {
                    let reference = Self::data_inputs(node).get(2).copied().unwrap_or_default();
                    let (at, reference) = self.outer(scope, reference);
                    attrs.push(("value", Attr::Tensor(self.constant_node(self.node(at, reference)?)?)));
                }
                self.emit(scope, node, "Pad", &[x], attrs)
            }
            "Fill" => {
                // The value reshaped to rank r with dims of 1, tiled by the dims
                // (fixed multiples when the dims fold, run-time ones otherwise).
                let rank = self.dims(scope, node, 0)?.len();
                let value = self.input(scope, node, 1)?;
                let base = format!("{}{}", self.scopes[scope].prefix, node.name);
                let ones = vec![("shape", Attr::Ints(vec![1; rank]))];
                let cell = self.emit_named(format!("{base}/cell"), "Reshape", &[value], ones);
                match self.ints(scope, node, 0) {
                    Ok(dims) => self.emit(scope, node, "Tile", &[cell], vec![("multiples", Attr::Ints(dims))]),
                    Err(_) => {
                        let dims = self.input(scope, node, 0)?;
                        self.emit(scope, node, "TileBy", &[cell, dims], vec![])
                    }
                }
            }
            "Shape" => {
                // Reached only when a shape is needed at run time (folded otherwise).
                let x = self.input(scope, node, 0)?;
                let shape = self.emit(scope, node, "Shape", &[x], vec![]);
                match self.dtype_attr(node, "out_type").unwrap_or(opset::DataType::I32) {
                    opset::DataType::I64 => shape,
                    to => self.emit_named(format!("{shape}/cast"), "Cast", &[shape], vec![("to", Attr::Type(to))]),
                }
            }
            "Range" => {
                // Bounds fixed in the graph (a class count): a constant.
                let [start, limit, delta] = [0, 1, 2].map(|i| self.int(scope, node, i));
                let (start, limit, delta) = (start?, limit?, delta?);
                // Checked: hostile bounds must not overflow.
                let span = limit.checked_sub(start);
                let backwards = span.is_some_and(|d| d.signum() * delta.signum() < 0);
                if backwards || span.and_then(|d| d.checked_div(delta)).is_none_or(|n| n > 1 << 24) {
                    return Err(node_error(
                        node,
                        format!("range({start}, {limit}, {delta}) is empty, endless or too long"),
                    ));
                }
                let values: Vec<i64> = (0..)
                    .map(|i| start + i * delta)
                    .take_while(|&v| if delta > 0 { v < limit } else { v > limit })
                    .collect();
                let value = match self.dtype_attr(node, "Tidx").unwrap_or(opset::DataType::I32) {
                    opset::DataType::I64 => Tensor::from_vec(vec![values.len()], values)?,
                    opset::DataType::I32 => {
                        let values: Vec<i32> = values.iter().map(|&v| v as i32).collect();
                        Tensor::from_vec(vec![values.len()], values)?
                    }
                    other => return Err(node_error(node, format!("a range of {other} is not supported"))),
                };
                self.emit(scope, node, "Const", &[], vec![("value", Attr::Tensor(value))])
            }
            "AsString" => {
                let int = |key: &str, default: i64| match node.attr.get(key).and_then(|a| a.value.as_ref()) {
                    Some(AttrV::I(v)) => *v,
                    _ => default,
                };
                let fill =
                    matches!(node.attr.get("fill").and_then(|a| a.value.as_ref()), Some(AttrV::S(f)) if !f.is_empty());
                if int("precision", -1) != -1
                    || int("width", -1) != -1
                    || fill
                    || Self::flag(node, "scientific")
                    || Self::flag(node, "shortest")
                {
                    return Err(node_error(node, "only AsString's default formatting is supported"));
                }
                unary(self, "AsString")?
            }
            "Reshape" => {
                let x = self.input(scope, node, 0)?;
                // One size known only at run time (the batch) becomes -1.
                let dims = self.dims(scope, node, 1)?;
                if dims.iter().filter(|d| d.is_none()).count() > 1 {
                    return Err(node_error(node, format!("more than one size of {dims:?} is known only at run time")));
                }
                let shape = dims.iter().map(|d| d.unwrap_or(-1)).collect();
                self.emit(scope, node, "Reshape", &[x], vec![("shape", Attr::Ints(shape))])
            }
            "ExpandDims" => {
                let x = self.input(scope, node, 0)?;
                let axis = self.int(scope, node, 1)?;
                self.emit(scope, node, "ExpandDims", &[x], vec![("axis", Attr::Int(axis))])
            }
            "Squeeze" => {
                let x = self.input(scope, node, 0)?;
                let axes = match node.attr.get("squeeze_dims").and_then(|a| a.value.as_ref()) {
                    Some(AttrV::List(l)) => l.i.clone(),
                    _ => Vec::new(),
                };
                self.emit(scope, node, "Squeeze", &[x], vec![("axes", Attr::Ints(axes))])
            }
            "ConcatV2" => {
                let inputs = Self::data_inputs(node);
                let n = inputs.len().saturating_sub(1);
                let axis = self.int(scope, node, n)?;
                let xs = (0..n).map(|i| self.input(scope, node, i)).collect::<Result<Vec<_>>>()?;
                self.emit(scope, node, "ConcatV2", &xs, vec![("axis", Attr::Int(axis))])
            }
            "Pack" => {
                let axis = match node.attr.get("axis").and_then(|a| a.value.as_ref()) {
                    Some(AttrV::I(a)) => *a,
                    _ => 0,
                };
                let n = Self::data_inputs(node).len();
                let mut parts = Vec::with_capacity(n);
                for i in 0..n {
                    let x = self.input(scope, node, i)?;
                    let base = format!("{}{}/expand_{i}", self.scopes[scope].prefix, node.name);
                    parts.push(self.emit_named(base, "ExpandDims", &[x], vec![("axis", Attr::Int(axis))]));
                }
                self.emit(scope, node, "ConcatV2", &parts, vec![("axis", Attr::Int(axis))])
            }
            "StridedSlice" => {
                let x = self.input(scope, node, 0)?;
                let spec = self.slice_spec(scope, node)?;
                let attrs = vec![
                    ("begin", Attr::Ints(spec.begin)),
                    ("end", Attr::Ints(spec.end)),
                    ("strides", Attr::Ints(spec.strides)),
                    ("begin_mask", Attr::Int(spec.begin_mask)),
                    ("end_mask", Attr::Int(spec.end_mask)),
                    ("shrink_axis_mask", Attr::Int(spec.shrink_axis_mask)),
                ];
                self.emit(scope, node, "StridedSlice", &[x], attrs)
            }
            "Cast" => {
                let to = self.dtype_attr(node, "DstT")?;
                let x = self.input(scope, node, 0)?;
                self.emit(scope, node, "Cast", &[x], vec![("to", Attr::Type(to))])
            }
            "ArgMax" => {
                let x = self.input(scope, node, 0)?;
                let axis = self.int(scope, node, 1)?;
                let out = self.dtype_attr(node, "output_type").unwrap_or(opset::DataType::I64);
                let arg = self.emit(scope, node, "ArgMax", &[x], vec![("axis", Attr::Int(axis))]);
                if out == opset::DataType::I64 {
                    arg
                } else {
                    let base = format!("{arg}/cast");
                    self.emit_named(base, "Cast", &[arg], vec![("to", Attr::Type(out))])
                }
            }
            "Sum" | "Mean" | "Max" | "Min" => {
                let x = self.input(scope, node, 0)?;
                let axes = self.ints(scope, node, 1)?;
                if axes.is_empty() {
                    // TensorFlow reduces nothing over an empty axis list; ours would reduce all.
                    self.emit(scope, node, "Identity", &[x], vec![])
                } else {
                    let ours = match op {
                        "Sum" => "ReduceSum",
                        "Mean" => "ReduceMean",
                        "Max" => "ReduceMax",
                        _ => "ReduceMin",
                    };
                    let keep = Self::flag(node, "keep_dims");
                    self.emit(
                        scope,
                        node,
                        ours,
                        &[x],
                        vec![("axes", Attr::Ints(axes)), ("keep_dims", Attr::Bool(keep))],
                    )
                }
            }
            "GatherV2" | "ResourceGather" => {
                if matches!(node.attr.get("batch_dims").and_then(|a| a.value.as_ref()), Some(AttrV::I(b)) if *b != 0) {
                    return Err(node_error(node, "batch_dims other than 0 is not supported"));
                }
                let params = if op == "ResourceGather" {
                    let reference = Self::data_inputs(node)
                        .first()
                        .copied()
                        .ok_or_else(|| node_error(node, "no resource input"))?;
                    self.variable(scope, reference)?
                } else {
                    self.input(scope, node, 0)?
                };
                let indices = self.input(scope, node, 1)?;
                let axis = if op == "GatherV2" { self.int(scope, node, 2)? } else { 0 };
                self.emit(scope, node, "Gather", &[params, indices], vec![("axis", Attr::Int(axis))])
            }
            "StatefulPartitionedCall" | "PartitionedCall" => self.call(scope, node, index)?,
            "LookupTableFindV2" | "LookupTableFind" => self.vocabulary_lookup(scope, node)?,
            "LookupTableSizeV2" | "LookupTableSize" => {
                // Fixed once the table is initialised: the vocabulary's size.
                let size = match self.table_source(scope, node)? {
                    TableSource::File(asset) => {
                        let path = self.assets_dir.join(&asset);
                        opset::Vocabulary::from_file(&path).map_err(|e| node_error(node, e.to_string()))?.len()
                    }
                    TableSource::Inline { keys, .. } => keys.len(),
                };
                let value = Tensor::scalar(i64::try_from(size).unwrap_or(i64::MAX));
                self.emit(scope, node, "Const", &[], vec![("value", Attr::Tensor(value))])
            }
            "StringToHashBucketFast" => {
                let n = match node.attr.get("num_buckets").and_then(|a| a.value.as_ref()) {
                    Some(AttrV::I(n)) => *n,
                    _ => return Err(node_error(node, "no num_buckets")),
                };
                let x = self.input(scope, node, 0)?;
                self.emit(scope, node, "HashBucket", &[x], vec![("num_buckets", Attr::Int(n))])
            }
            "Conv2D" | "DepthwiseConv2dNative" => {
                let mut attrs = Self::window_attrs(node, &["strides", "dilations"])?;
                attrs.push(("padding", Attr::Str(Self::padding(node)?)));
                let (x, filter) = (self.input(scope, node, 0)?, self.input(scope, node, 1)?);
                let ours = if op == "Conv2D" { "Conv2D" } else { "DepthwiseConv2D" };
                self.emit(scope, node, ours, &[x, filter], attrs)
            }
            "MaxPool" | "AvgPool" => {
                let mut attrs = Self::window_attrs(node, &["ksize", "strides"])?;
                attrs.push(("padding", Attr::Str(Self::padding(node)?)));
                unary_with(self, op, attrs)?
            }
            "Einsum" => {
                let equation = match node.attr.get("equation").and_then(|a| a.value.as_ref()) {
                    Some(AttrV::S(e)) => String::from_utf8_lossy(e).into_owned(),
                    _ => return Err(node_error(node, "no equation")),
                };
                if Self::data_inputs(node).len() != 2 {
                    return Err(node_error(node, "only two-operand einsums are supported"));
                }
                let (a, b) = (self.input(scope, node, 0)?, self.input(scope, node, 1)?);
                self.emit(scope, node, "Einsum", &[a, b], vec![("equation", Attr::Str(equation))])
            }
            "SelectV2" => {
                let [c, a, b] = [0, 1, 2].map(|i| self.input(scope, node, i));
                let (c, a, b) = (c?, a?, b?);
                self.emit(scope, node, "Select", &[c, a, b], vec![])
            }
            other => return Err(node_error(node, format!("TensorFlow op {other:?} is not supported by the importer"))),
        })
    }

    /// The (height, width) entries of the NHWC window attributes `keys`
    /// (`[1, h, w, 1]`), as our ops' attributes; `dilations` may be absent.
    fn window_attrs(node: &pb::NodeDef, keys: &[&'static str]) -> Result<Vec<(&'static str, Attr)>> {
        if let Some(AttrV::S(f)) = node.attr.get("data_format").and_then(|a| a.value.as_ref())
            && f.as_slice() != b"NHWC"
        {
            return Err(node_error(node, "only the NHWC data format is supported"));
        }
        let mut attrs = Vec::new();
        for &key in keys {
            let values = match node.attr.get(key).and_then(|a| a.value.as_ref()) {
                Some(AttrV::List(l)) => l.i.clone(),
                None if key == "dilations" => vec![1, 1, 1, 1],
                _ => return Err(node_error(node, format!("no {key} list"))),
            };
            match values.as_slice() {
                &[1, h, w, 1] => attrs.push((key, Attr::Ints(vec![h, w]))),
                other => {
                    return Err(node_error(node, format!("{key} {other:?}: expected [1, height, width, 1]")));
                }
            }
        }
        Ok(attrs)
    }

    /// `SAME` or `VALID` (explicit paddings are not supported).
    fn padding(node: &pb::NodeDef) -> Result<String> {
        match node.attr.get("padding").and_then(|a| a.value.as_ref()) {
            Some(AttrV::S(p)) if matches!(p.as_slice(), b"SAME" | b"VALID") => Ok(String::from_utf8_lossy(p).into()),
            Some(AttrV::S(p)) => {
                Err(node_error(node, format!("padding {:?} is not supported", String::from_utf8_lossy(p))))
            }
            _ => Err(node_error(node, "no padding")),
        }
    }

    /// Batch normalisation of a 4-D input, `x * inv + (offset - mean * inv)`
    /// with `inv = scale / sqrt(variance + epsilon)` per channel (the last
    /// dim in NHWC, dim 1 in NCHW). In inference the statistics are inputs
    /// and everything but the two ops on `x` folds at load; in training mode
    /// (`is_training`, TensorFlow's default) they are the batch's own, over
    /// every other dim: that is how Keras's `LayerNormalization` runs, with
    /// scale and offset filled with ones and zeros.
    pub(super) fn batch_norm(&mut self, scope: usize, node: &'a pb::NodeDef) -> Result<String> {
        let training = !matches!(node.attr.get("is_training").and_then(|a| a.value.as_ref()), Some(AttrV::B(false)));
        let nchw = match node.attr.get("data_format").and_then(|a| a.value.as_ref()) {
            Some(AttrV::S(f)) if f.as_slice() == b"NCHW" => true,
            Some(AttrV::S(f)) if f.as_slice() != b"NHWC" => {
                return Err(node_error(node, "only the NHWC and NCHW data formats are supported"));
            }
            _ => false,
        };
        let epsilon = match node.attr.get("epsilon").and_then(|a| a.value.as_ref()) {
            Some(AttrV::F(e)) => *e,
            _ => 1e-4,
        };
        let base = format!("{}{}", self.scopes[scope].prefix, node.name);
        let x = self.input(scope, node, 0)?;
        // A per-channel vector, laid along the channel dim.
        let channels = |this: &mut Self, i: usize, name: &str| -> Result<String> {
            let t = this.input(scope, node, i)?;
            Ok(if nchw {
                let shape = vec![("shape", Attr::Ints(vec![1, -1, 1, 1]))];
                this.emit_named(format!("{base}/{name}_nchw"), "Reshape", &[t], shape)
            } else {
                t
            })
        };
        let (mean, variance) = if training {
            let over_all_but_channels = || {
                let axes = if nchw { vec![0, 2, 3] } else { vec![0, 1, 2] };
                vec![("axes", Attr::Ints(axes)), ("keep_dims", Attr::Bool(true))]
            };
            let mean = self.emit_named(
                format!("{base}/mean"),
                "ReduceMean",
                std::slice::from_ref(&x),
                over_all_but_channels(),
            );
            let centered = self.emit_named(format!("{base}/centered"), "Sub", &[x.clone(), mean.clone()], vec![]);
            let squares = self.emit_named(format!("{base}/squares"), "Square", &[centered], vec![]);
            let variance =
                self.emit_named(format!("{base}/variance"), "ReduceMean", &[squares], over_all_but_channels());
            (mean, variance)
        } else {
            (channels(self, 3, "mean")?, channels(self, 4, "variance")?)
        };
        // Keras fills scale and offset to the channel count at run time:
        // their one value broadcasts the same.
        let scale = match self.filled_value(scope, node, 1)? {
            Some(v) => v,
            None => channels(self, 1, "scale")?,
        };
        let offset = match self.filled_value(scope, node, 2)? {
            Some(v) => v,
            None => channels(self, 2, "offset")?,
        };
        let eps = self.emit_named(
            format!("{base}/epsilon"),
            "Const",
            &[],
            vec![("value", Attr::Tensor(Tensor::scalar(epsilon)))],
        );
        let var_eps = self.emit_named(format!("{base}/variance_epsilon"), "Add", &[variance, eps], vec![]);
        let rsqrt = self.emit_named(format!("{base}/rsqrt"), "Rsqrt", &[var_eps], vec![]);
        let inv = self.emit_named(format!("{base}/inv"), "Mul", &[rsqrt, scale], vec![]);
        let shift = self.emit_named(format!("{base}/mean_inv"), "Mul", &[mean, inv.clone()], vec![]);
        let bias = self.emit_named(format!("{base}/bias"), "Sub", &[offset, shift], vec![]);
        let scaled = self.emit_named(format!("{base}/scaled"), "Mul", &[x, inv], vec![]);
        Ok(self.emit(scope, node, "Add", &[scaled, bias], vec![]))
    }

    /// If input `i` of `node` is a `Fill`, the value it fills with (translated).
    fn filled_value(&mut self, scope: usize, node: &'a pb::NodeDef, i: usize) -> Result<Option<String>> {
        let reference =
            Self::data_inputs(node).get(i).copied().ok_or_else(|| node_error(node, format!("no input {i}")))?;
        let (at, reference) = self.outer(scope, reference);
        let producer = self.node(at, reference)?;
        if producer.op != "Fill" {
            return Ok(None);
        }
        Ok(Some(self.input(at, producer, 1)?))
    }

    pub(super) fn constant_node(&self, node: &pb::NodeDef) -> Result<Tensor> {
        let Some(AttrV::Tensor(t)) = node.attr.get("value").and_then(|a| a.value.as_ref()) else {
            return Err(node_error(node, "a Const without a value"));
        };
        crate::tensor_proto::tensor(t).map_err(|e| node_error(node, e))
    }
}
