//! Control flow: TensorFlow 2's `While` (and `StatelessWhile`), whose
//! condition and body are functions of the library, becomes our `While`
//! with its body as a subgraph; its `If` (and `StatelessIf`), whose
//! branches are functions, our `If` with the branches as subgraphs; and the
//! tensor lists its loops fill (`TensorListReserve`, `TensorListSetItem`...),
//! which are dense tensors in our op set (`[length, ...element dims]`).

use std::sync::Arc;

use opset::ops::array::{Cast, Gather, Identity, ListReserve, ListSetItem, Placeholder, ShapeOf, StridedSlice};
use opset::ops::control::{Branches, If, LoopBody, While};
use opset::{DataType, Graph, Shape, TensorType};

use super::{Translate, as_dtype, same_op};
use crate::Result;
use crate::import::{AttrV, Importer, attr, node_error};
use crate::pb;

/// The TensorFlow ops of this family, by name.
pub(super) const OPS: &[(&str, Translate)] = &[
    ("While", while_loop),
    ("StatelessWhile", while_loop),
    ("If", if_then_else),
    ("StatelessIf", if_then_else),
    ("TensorListReserve", list_reserve),
    ("TensorListSetItem", list_set_item),
    ("TensorListGetItem", list_get_item),
    ("TensorListStack", same_op::<Identity, 1>),
    ("TensorListFromTensor", same_op::<Identity, 1>),
    ("TensorListLength", list_length),
];

/// Output `index` of a `While`: the loop variable `index` when the loop
/// ends. The condition and the body are translated once per `While` node
/// into one subgraph (placeholders `arg_i`, the condition `cond`, the next
/// values `out_i`); each output used becomes one of our `While` nodes over
/// that shared body.
fn while_loop<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, index: usize) -> Result<String> {
    let n = Importer::data_inputs(node).len();
    if index >= n {
        return Err(node_error(node, format!("output {index} of a loop over {n} variables")));
    }
    let inputs = im.loop_inputs(scope, node)?;
    let body = match im.loop_bodies.get(&(scope, node.name.as_str())) {
        Some(body) => body.clone(),
        None => {
            let body = Arc::new(im.loop_body(scope, node, &inputs)?);
            im.loop_bodies.insert((scope, node.name.as_str()), body.clone());
            body
        }
    };
    let base = format!("{}/output_{index}", im.base(scope, node));
    let op = While { body, output: index, max_iterations: None };
    im.emit_named(node, base, op, &inputs)
}

/// Output `index` of an `If` (or `StatelessIf`): output `index` of the
/// branch the condition (input 0) picks, run on the other inputs. The
/// `then_branch` and `else_branch` functions are translated once per `If`
/// node into two subgraphs (placeholders `arg_i`, results `out_k`); each
/// output used becomes one of our `If` nodes over those shared branches.
fn if_then_else<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, index: usize) -> Result<String> {
    let m = match attr::get(node, "Tout") {
        Some(AttrV::List(l)) => l.r#type.len(),
        _ => return Err(node_error(node, "no list of output types Tout")),
    };
    if index >= m {
        return Err(node_error(node, format!("output {index} of a conditional with {m} output(s)")));
    }
    let n = Importer::data_inputs(node).len();
    if n == 0 {
        return Err(node_error(node, "an If without a condition (input 0)"));
    }
    let types = match attr::get(node, "Tin") {
        Some(AttrV::List(l)) if l.r#type.len() == n - 1 => l.r#type.clone(),
        _ => return Err(node_error(node, "no list of argument types Tin, one per input after the condition")),
    };
    let base = im.base(scope, node);
    let cond = im.input(scope, node, 0)?;
    let ty = im.type_of(node, &cond)?;
    let cond = match ty.dtype {
        DataType::Bool => cond,
        // TensorFlow takes a number as `!= 0` (a string, a tensor: refused by our If).
        DataType::String => return Err(node_error(node, "a string condition is not supported")),
        _ => im.emit_named(node, format!("{base}/cond"), Cast { to: DataType::Bool }, &[cond])?,
    };
    let args = im.value_inputs(scope, node, 1, &types)?;
    let branches = match im.cond_branches.get(&(scope, node.name.as_str())) {
        Some(branches) => branches.clone(),
        None => {
            let branches = Arc::new(im.if_branches(scope, node, &args, m)?);
            im.cond_branches.insert((scope, node.name.as_str()), branches.clone());
            branches
        }
    };
    let op = If { branches, output: index };
    let inputs: Vec<String> = std::iter::once(cond).chain(args).collect();
    im.emit_named(node, format!("{base}/output_{index}"), op, &inputs)
}

impl<'a> Importer<'a> {
    /// Our tensors for the initial values of a loop's variables: a resource
    /// (a variable the body reads) becomes the variable's value.
    fn loop_inputs(&mut self, scope: usize, node: &'a pb::NodeDef) -> Result<Vec<String>> {
        let types = loop_types(node)?;
        self.value_inputs(scope, node, 0, &types)
    }

    /// Our tensors for data inputs `first..` of `node`, whose TensorFlow
    /// dtypes are `types`: a resource (a variable that a loop body or a
    /// branch reads) becomes the variable's value.
    fn value_inputs(
        &mut self,
        scope: usize,
        node: &'a pb::NodeDef,
        first: usize,
        types: &[i32],
    ) -> Result<Vec<String>> {
        let references = Importer::data_inputs(node);
        references
            .iter()
            .skip(first)
            .zip(types)
            .enumerate()
            .map(|(i, (&reference, &dtype))| {
                if dtype == pb::DataType::DtResource as i32 {
                    self.variable(scope, reference)
                } else {
                    self.input(scope, node, first + i)
                }
            })
            .collect()
    }

    /// The branches of an `If` over our tensors `args`, each of its `m`
    /// outputs an out: the `then_branch` and `else_branch` functions
    /// translated into graphs of their own.
    fn if_branches(&mut self, scope: usize, node: &'a pb::NodeDef, args: &[String], m: usize) -> Result<Branches> {
        let types = args.iter().map(|x| self.type_of(node, x).cloned()).collect::<Result<Vec<TensorType>>>()?;
        let base = self.base(scope, node);
        let then = self.branch_graph(scope, node, "then_branch", &format!("{base}/then/"), &types, m)?;
        let otherwise = self.branch_graph(scope, node, "else_branch", &format!("{base}/else/"), &types, m)?;
        Branches::new(then, otherwise, &self.asset_paths()?).map_err(|e| node_error(node, e.to_string()))
    }

    /// Branch `key` of an `If` in a graph of its own: its placeholders
    /// `arg_i` typed as `types`, its `m` results as `out_k`.
    fn branch_graph(
        &mut self,
        scope: usize,
        node: &'a pb::NodeDef,
        key: &str,
        prefix: &str,
        types: &[TensorType],
        m: usize,
    ) -> Result<Graph> {
        let outer = self.enter_subgraph();
        let built = self.translate_branch(scope, node, key, prefix, types, m);
        let graph = Graph { nodes: self.leave_subgraph(outer) };
        built.map(|()| graph)
    }

    /// Emits branch `key` of an `If` into the current (fresh) graph.
    fn translate_branch(
        &mut self,
        scope: usize,
        node: &'a pb::NodeDef,
        key: &str,
        prefix: &str,
        types: &[TensorType],
        m: usize,
    ) -> Result<()> {
        let mut args = Vec::with_capacity(types.len());
        for (i, ty) in types.iter().enumerate() {
            let placeholder = Placeholder { dtype: ty.dtype, shape: ty.shape.clone() };
            args.push(self.emit_named(node, format!("arg_{i}"), placeholder, &[])?);
        }
        let branch = self.function_scope(scope, node, key, prefix, &args)?;
        for k in 0..m {
            let result = self.returned(node, branch, k)?;
            self.emit_named(node, format!("out_{k}"), Identity, &[result])?;
        }
        Ok(())
    }

    /// The subgraph of a loop: placeholders `arg_i` typed as the loop
    /// variables (their shapes as TensorFlow's shape invariants say, else
    /// the initial values'), the condition as `cond` and the body's results
    /// as `out_i`, translated from the `cond` and `body` functions in a
    /// graph of their own.
    fn loop_body(&mut self, scope: usize, node: &'a pb::NodeDef, inputs: &[String]) -> Result<LoopBody> {
        let invariants = match attr::get(node, "output_shapes") {
            Some(AttrV::List(l)) => l.shape.iter().collect(),
            _ => Vec::new(),
        };
        let types = inputs
            .iter()
            .enumerate()
            .map(|(i, x)| {
                let ty = self.type_of(node, x)?.clone();
                Ok(loop_type(ty, invariants.get(i).copied()))
            })
            .collect::<Result<Vec<TensorType>>>()?;
        let base = self.base(scope, node);
        let outer = self.enter_subgraph();
        let built = self.translate_loop(scope, node, &base, &types);
        let graph = Graph { nodes: self.leave_subgraph(outer) };
        built?;
        LoopBody::new(graph, &self.asset_paths()?).map_err(|e| node_error(node, e.to_string()))
    }

    /// Emits the loop's subgraph into the current (fresh) graph.
    fn translate_loop(&mut self, scope: usize, node: &'a pb::NodeDef, base: &str, types: &[TensorType]) -> Result<()> {
        let mut args = Vec::with_capacity(types.len());
        for (i, ty) in types.iter().enumerate() {
            let placeholder = Placeholder { dtype: ty.dtype, shape: ty.shape.clone() };
            args.push(self.emit_named(node, format!("arg_{i}"), placeholder, &[])?);
        }
        let cond = self.function_scope(scope, node, "cond", &format!("{base}/cond/"), &args)?;
        let result = self.returned(node, cond, 0)?;
        self.emit_named(node, "cond".into(), Identity, &[result])?;
        let body = self.function_scope(scope, node, "body", &format!("{base}/body/"), &args)?;
        for i in 0..types.len() {
            let result = self.returned(node, body, i)?;
            self.emit_named(node, format!("out_{i}"), Identity, &[result])?;
        }
        Ok(())
    }

    /// A scope for function attribute `key` of `node` (a loop's `cond` or
    /// `body`, a conditional's branch) whose arguments are our tensors `args`.
    fn function_scope(
        &mut self,
        scope: usize,
        node: &'a pb::NodeDef,
        key: &str,
        prefix: &str,
        args: &[String],
    ) -> Result<usize> {
        let Some(AttrV::Func(f)) = attr::get(node, key) else {
            return Err(node_error(node, format!("no {key} function")));
        };
        let f = *self
            .functions
            .get(f.name.as_str())
            .ok_or_else(|| node_error(node, format!("function {:?} is not in the library", f.name)))?;
        let sig = f.signature.as_ref().ok_or_else(|| node_error(node, "a function without a signature"))?;
        if sig.input_arg.len() != args.len() {
            return Err(node_error(
                node,
                format!("{key} {:?} takes {} arguments, the node passes {}", sig.name, sig.input_arg.len(), args.len()),
            ));
        }
        let depth = self.scopes[scope].depth + 1;
        if depth > 32 {
            return Err(node_error(node, "functions nest more than 32 deep (recursive?)"));
        }
        let bound = sig.input_arg.iter().zip(args).map(|(a, x)| (a.name.as_str(), x.clone())).collect();
        Ok(self.push_scope(f, prefix.to_owned(), depth, bound))
    }

    /// Our tensor for return value `i` of the function of `scope`.
    fn returned(&mut self, node: &'a pb::NodeDef, scope: usize, i: usize) -> Result<String> {
        let f = self.scope_function(scope).ok_or_else(|| node_error(node, "a scope without a function"))?;
        let sig = f.signature.as_ref().ok_or_else(|| node_error(node, "a function without a signature"))?;
        let out = sig.output_arg.get(i).ok_or_else(|| node_error(node, format!("the function has no output {i}")))?;
        let ret =
            f.ret.get(&out.name).ok_or_else(|| node_error(node, format!("output {:?} is not returned", out.name)))?;
        self.tensor(scope, ret)
    }
}

/// The TensorFlow dtypes of a loop's variables (`T`).
fn loop_types(node: &pb::NodeDef) -> Result<Vec<i32>> {
    match attr::get(node, "T") {
        Some(AttrV::List(l)) if l.r#type.len() == Importer::data_inputs(node).len() => Ok(l.r#type.clone()),
        _ => Err(node_error(node, "no list of loop variable types T, one per input")),
    }
}

/// A loop variable's type across iterations: the initial value's dtype,
/// with the dims TensorFlow's shape invariant (`output_shapes`) leaves
/// unknown made unknown (a tensor list keeps the initial value's type: its
/// invariant is the scalar handle's).
pub(super) fn loop_type(initial: TensorType, invariant: Option<&pb::TensorShapeProto>) -> TensorType {
    let Some(invariant) = invariant.filter(|s| !s.unknown_rank && s.dim.len() == initial.dims().len()) else {
        return initial;
    };
    let dims = invariant.dim.iter().zip(initial.dims()).map(|(d, &i)| usize::try_from(d.size).ok().and(i)).collect();
    TensorType::new(initial.dtype, dims)
}

/// `TensorListReserve(element_shape, num_elements)`: a list of
/// `num_elements` items of `element_dtype` and `element_shape` (unknown
/// dims as -1), not yet set.
fn list_reserve<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let element_dtype = attr::dtype(node, "element_dtype")?;
    let dims = im.dims(scope, node, 0)?;
    if dims.len() == 1 && dims[0] == Some(-1) && matches!(im.int(scope, node, 0), Ok(-1)) {
        return Err(node_error(node, "a tensor list of unknown element rank is not supported"));
    }
    let element_shape = Shape(dims.iter().map(|d| d.and_then(|d| usize::try_from(d).ok())).collect());
    let length = im.input(scope, node, 1)?;
    im.emit(scope, node, ListReserve { element_dtype, element_shape }, &[length])
}

/// `TensorListSetItem(list, index, item)`.
fn list_set_item<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let inputs = im.inputs(scope, node, 0..3)?;
    im.emit(scope, node, ListSetItem, &inputs)
}

/// `TensorListGetItem(list, index, element_shape)`: row `index`.
fn list_get_item<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let inputs = im.inputs(scope, node, 0..2)?;
    im.emit(scope, node, Gather { axis: 0 }, &inputs)
}

/// `TensorListLength(list)`: the list's first dim, as i32.
fn list_length<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let list = im.input(scope, node, 0)?;
    let base = im.base(scope, node);
    let shape = im.emit_named(node, format!("{base}/shape"), ShapeOf, &[list])?;
    let spec = opset::ops::array::SliceSpec {
        begin: vec![0],
        end: vec![1],
        strides: vec![1],
        shrink_axis_mask: 1,
        ..Default::default()
    };
    let length = im.emit_named(node, format!("{base}/length"), StridedSlice { spec }, &[shape])?;
    as_dtype(im, node, length, DataType::I32)
}
