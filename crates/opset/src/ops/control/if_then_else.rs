//! `If`.

use std::sync::Arc;

use crate::graph::{Attr, Graph, Node};
use crate::ops::kernel::slice;
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, DataType, Result, Tensor, TypedGraph};

use super::while_loop::numbered;

/// A conditional: TensorFlow's `If` and `StatelessIf` (`tf.cond`), and TF1's
/// `Switch`/`Merge` pairs. Runs the branch `cond` picks, `then` when it
/// holds, `else` otherwise, on the `n >= 0` arguments, and yields that
/// branch's out `output`. The other branch never runs: it may fail on these
/// arguments (an index out of range, a shape that does not fit) without the
/// node failing.
///
/// Inputs: `cond` (a bool scalar, shape `[]` or `[1]`), then the `n` branch
/// arguments (any dtypes).
///
/// Attributes:
/// - `then` and `else` (graphs): each with Placeholder nodes named `arg_0`
///   .. `arg_{n-1}` (the same `n` in both; `arg_i` declaring the same dtype
///   and compatible shapes in both, which argument `i` must fit) and nodes
///   named `out_0` .. `out_{m-1}` computing the branch's results (the same
///   `m >= 1` in both, `out_k` of the same dtype and rank in both). A branch
///   reads nothing else: no other Placeholder, no Variable (a weight it uses
///   is an argument, or a constant).
/// - `output` (int in `0..m`): the out the node yields.
///
/// The output's type is the two branches' `out_output` unified: their dtype,
/// each dim known where both branches know it and agree (a dim the branches
/// compute of different sizes is unknown).
///
/// Gradient: none (conditionals are not differentiated).
#[derive(Debug, Clone, PartialEq)]
pub struct If {
    /// The two branches.
    pub branches: Arc<Branches>,
    /// The out of the branch taken that the node yields.
    pub output: usize,
}

/// The branches of an [`If`]: the `then` and `else` graphs as written, each
/// typed once, with their args and outs resolved and checked against each
/// other.
#[derive(Debug, Clone)]
pub struct Branches {
    then: Branch,
    otherwise: Branch,
}

/// Two pairs of branches are equal when their graphs, as written, are.
impl PartialEq for Branches {
    fn eq(&self, other: &Branches) -> bool {
        self.then.graph == other.then.graph && self.otherwise.graph == other.otherwise.graph
    }
}

/// One branch of an [`If`]: its graph as written, typed, with the nodes of
/// its arguments (`arg_i`) and results (`out_k`) resolved.
#[derive(Debug, Clone)]
pub struct Branch {
    graph: Graph,
    typed: TypedGraph,
    args: Vec<usize>,
    outs: Vec<usize>,
}

impl OpDef for If {
    const NAME: &'static str = "If";
    const SINCE: u32 = 5;
    const INPUTS: Arity = Arity::AtLeast(1);
    const SHAPE_FROM_VALUES: bool = true;

    fn parse(node: &Node, assets: &Assets) -> Result<If> {
        let then = node.attr_graph("then")?.clone();
        let otherwise = node.attr_graph("else")?.clone();
        let branches = Branches::new(then, otherwise, assets).map_err(|e| node.op_error(e))?;
        let m = branches.out_count();
        let output = node.attr_int("output")?;
        let output = usize::try_from(output)
            .ok()
            .filter(|&o| o < m)
            .ok_or_else(|| node.error(format!("output {output}: the branches have {m} out(s)")))?;
        let n = branches.arg_count();
        if node.inputs.len() != n + 1 {
            return Err(node.error(format!(
                "{} input(s) for branches of {n} argument(s): expected the condition and {n}",
                node.inputs.len()
            )));
        }
        Ok(If { branches: Arc::new(branches), output })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![
            ("then", Attr::Graph(self.branches.then.graph.clone())),
            ("else", Attr::Graph(self.branches.otherwise.graph.clone())),
            ("output", Attr::Int(i64::try_from(self.output).unwrap_or(i64::MAX))),
        ]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        let branches = &*self.branches;
        let n = branches.arg_count();
        if inputs.len() != n + 1 {
            return Err(OpError::Arity { expected: Arity::Exactly(n + 1), got: inputs.len() });
        }
        let cond = &inputs[0];
        if cond.dtype != DataType::Bool || !matches!(cond.dims(), [] | [Some(1)] | [None]) {
            return Err(OpError::Invalid {
                what: "cond",
                reason: format!("input 0 is {} {}, expected a bool scalar ([] or [1])", cond.dtype, cond.shape),
            });
        }
        for (i, input) in inputs[1..].iter().enumerate() {
            for (name, branch) in branches.both() {
                let arg = branch.arg_ty(i);
                if input.dtype != arg.dtype || !input.shape.compatible(&arg.shape) {
                    return Err(OpError::Invalid {
                        what: "argument",
                        reason: format!(
                            "input {} is {} {}, the {name} branch's arg_{i} declares {} {}",
                            i + 1,
                            input.dtype,
                            input.shape,
                            arg.dtype,
                            arg.shape
                        ),
                    });
                }
            }
        }
        let m = branches.out_count();
        if self.output >= m {
            return Err(OpError::Invalid { what: "output", reason: format!("out {} of {m}", self.output) });
        }
        Ok(branches.out_ty(self.output))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        *out = self.branches.run(inputs, self.output)?;
        Ok(())
    }

    #[cfg(feature = "grad")]
    fn grad(&self, _: &[&Tensor], _: &Tensor, _: &Tensor) -> crate::ops::grad::Grads {
        Err(OpError::NoGradient("conditionals (If) are not differentiated".into()))
    }
}

impl Branches {
    /// The branches held by graphs `then` and `otherwise` (the `else`
    /// attribute), typed with `assets` (the files their ops read at load),
    /// their `arg_i` and `out_k` nodes resolved: how a producer (an
    /// importer) builds an [`If`] without a node.
    ///
    /// # Errors
    /// [`OpError::Invalid`] saying which branch is wrong and what is wrong
    /// or missing: a graph that does not validate (naming its node), a gap
    /// in the args (`the then branch has no node "arg_1"`) or an arg that is
    /// not a Placeholder, no `out_0` or a gap in the outs, another source (a
    /// Placeholder that is no arg, a Variable); branches whose args differ
    /// in count, dtype or shape, or whose outs differ in count, dtype or
    /// rank.
    pub fn new(then: Graph, otherwise: Graph, assets: &Assets) -> Result<Branches, OpError> {
        let then = Branch::new(then, assets, "then")?;
        let otherwise = Branch::new(otherwise, assets, "else")?;
        let (n, m) = (then.args.len(), then.outs.len());
        if otherwise.args.len() != n {
            return Err(invalid(format!(
                "the then branch takes {n} argument(s), the else branch {}",
                otherwise.args.len()
            )));
        }
        if otherwise.outs.len() != m {
            return Err(invalid(format!("the then branch has {m} out(s), the else branch {}", otherwise.outs.len())));
        }
        for i in 0..n {
            let (a, b) = (then.arg_ty(i), otherwise.arg_ty(i));
            if a.dtype != b.dtype || !a.shape.compatible(&b.shape) {
                return Err(invalid(format!(
                    "arg_{i} is {} {} in the then branch, {} {} in the else branch",
                    a.dtype, a.shape, b.dtype, b.shape
                )));
            }
        }
        for k in 0..m {
            let (a, b) = (then.out_ty(k), otherwise.out_ty(k));
            if a.dtype != b.dtype || a.dims().len() != b.dims().len() {
                return Err(invalid(format!(
                    "out_{k} is {} {} in the then branch, {} {} in the else branch: the branches must agree on \
                     its dtype and rank",
                    a.dtype, a.shape, b.dtype, b.shape
                )));
            }
        }
        Ok(Branches { then, otherwise })
    }

    /// The branch run when the condition holds.
    pub fn then(&self) -> &Branch {
        &self.then
    }

    /// The branch run when it does not (the `else` attribute).
    pub fn otherwise(&self) -> &Branch {
        &self.otherwise
    }

    /// The branch `cond` picks.
    pub fn pick(&self, cond: bool) -> &Branch {
        if cond { &self.then } else { &self.otherwise }
    }

    /// How many arguments the branches take (`n`).
    pub fn arg_count(&self) -> usize {
        self.then.args.len()
    }

    /// How many results each branch computes (`m`).
    pub fn out_count(&self) -> usize {
        self.then.outs.len()
    }

    /// The type of out `k` whichever branch runs: the branches' dtype, each
    /// dim known where both know it and agree.
    ///
    /// # Panics
    /// If `k` is not below [`Branches::out_count`].
    pub fn out_ty(&self, k: usize) -> TensorType {
        let (a, b) = (self.then.out_ty(k), self.otherwise.out_ty(k));
        let dims = a.dims().iter().zip(b.dims()).map(|(&x, &y)| if x == y { x } else { None });
        TensorType::new(a.dtype, dims.collect())
    }

    /// The reference conditional: from `inputs` (the condition, then the
    /// `n` arguments), runs the branch the condition picks and returns its
    /// out `output`.
    ///
    /// # Errors
    /// [`OpError`] for a condition that is not one bool, arguments that do
    /// not fit the branch's args, an `output` out of range, or a branch that
    /// fails (naming the branch and the node).
    pub fn run(&self, inputs: &[&Tensor], output: usize) -> Result<Tensor, OpError> {
        let n = self.arg_count();
        if inputs.len() != n + 1 {
            return Err(OpError::Arity { expected: Arity::Exactly(n + 1), got: inputs.len() });
        }
        if output >= self.out_count() {
            return Err(OpError::Invalid { what: "output", reason: format!("out {output} of {}", self.out_count()) });
        }
        let cond = match slice::<bool>(inputs[0]) {
            Ok([b]) => *b,
            Ok(many) => {
                return Err(OpError::Invalid {
                    what: "cond",
                    reason: format!("{} values, expected one bool", many.len()),
                });
            }
            Err(_) => return Err(OpError::Dtype { input: 0, expected: "bool", got: inputs[0].dtype() }),
        };
        let (name, branch) = if cond { ("then", &self.then) } else { ("else", &self.otherwise) };
        let mut values: Vec<Option<Tensor>> = vec![None; branch.typed.nodes().len()];
        for (i, (&a, v)) in branch.args.iter().zip(&inputs[1..]).enumerate() {
            let arg = branch.arg_ty(i);
            if v.dtype() != arg.dtype || !arg.shape.accepts(v.shape()) {
                return Err(OpError::Invalid {
                    what: "argument",
                    reason: format!(
                        "input {} is {} {:?}, but the {name} branch's arg_{i} declares {} {}",
                        i + 1,
                        v.dtype(),
                        v.shape(),
                        arg.dtype,
                        arg.shape
                    ),
                });
            }
            values[a] = Some((*v).clone());
        }
        let target = branch.outs[output];
        let failed = |e: crate::Error| OpError::Invalid { what: "branch", reason: format!("the {name} branch: {e}") };
        branch.typed.evaluate(&[target], &mut values).map_err(failed)?;
        values[target].take().ok_or_else(|| {
            failed(crate::Error::Node {
                node: format!("out_{output}"),
                op: branch.typed.nodes()[target].op.name().to_owned(),
                reason: "no value".into(),
            })
        })
    }

    /// The two branches with their names.
    fn both(&self) -> [(&'static str, &Branch); 2] {
        [("then", &self.then), ("else", &self.otherwise)]
    }
}

impl Branch {
    /// The branch held by `graph`, named `name` (`then`, `else`) in errors.
    fn new(graph: Graph, assets: &Assets, name: &str) -> Result<Branch, OpError> {
        let typed = TypedGraph::new(&graph, assets).map_err(|e| invalid(format!("the {name} branch: {e}")))?;
        let nodes = typed.nodes();
        let find = |node: String| match typed.resolve(&node) {
            Ok(i) => Ok(i),
            Err(_) => Err(invalid(format!("the {name} branch has no node {node:?}"))),
        };
        // One past the highest `arg_k` (`out_k`): a gap below it is reported missing.
        let count = |prefix: &str| {
            nodes.iter().filter_map(|node| numbered(&node.name, prefix)).max().map_or(0, |k| k.saturating_add(1))
        };
        let what = format!("{name} branch");
        let args = super::subgraph_args(
            &typed,
            count("arg_"),
            &what,
            "a branch reads only its arguments (arg_i) and constants",
        )
        .map_err(invalid)?;
        let m = count("out_");
        if m == 0 {
            return Err(invalid(format!("the {name} branch has no node \"out_0\" (a branch has at least one out)")));
        }
        let outs = (0..m).map(|k| find(format!("out_{k}"))).collect::<Result<Vec<usize>, OpError>>()?;
        Ok(Branch { graph, typed, args, outs })
    }

    /// The branch's graph as written (what its attribute holds).
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The branch's graph, validated and typed.
    pub fn typed(&self) -> &TypedGraph {
        &self.typed
    }

    /// The nodes of [`Branch::typed`] holding the arguments: `arg_0` ..
    /// `arg_{n-1}`, Placeholders, in order.
    pub fn args(&self) -> &[usize] {
        &self.args
    }

    /// The nodes of [`Branch::typed`] computing the results: `out_0` ..
    /// `out_{m-1}`, in order.
    pub fn outs(&self) -> &[usize] {
        &self.outs
    }

    /// The declared dtype and shape of argument `i` (its arg's).
    ///
    /// # Panics
    /// If `i` is not below the branch's argument count.
    pub fn arg_ty(&self, i: usize) -> &TensorType {
        &self.typed.nodes()[self.args[i]].ty
    }

    /// The inferred dtype and shape of out `k` in this branch.
    ///
    /// # Panics
    /// If `k` is not below the branch's out count.
    pub fn out_ty(&self, k: usize) -> &TensorType {
        &self.typed.nodes()[self.outs[k]].ty
    }
}

/// What is wrong with the `then` or `else` attribute.
fn invalid(reason: String) -> OpError {
    OpError::Invalid { what: "branches", reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Shape;
    use crate::ops::Op;
    use crate::ops::array::{Gather, Identity, Placeholder, Variable};
    use crate::ops::math::{Add, Mul, Neg, ReduceSum};

    use crate::ops::control::test_graphs::{arg, constant, node};

    /// `then`: (x + x, x[idx]); `else`: (-x, x * 10): args x f32 [?], idx i64 [].
    fn then_gathers() -> Graph {
        Graph {
            nodes: vec![
                arg(0, DataType::F32, vec![None]),
                arg(1, DataType::I64, vec![]),
                node("out_0", Add, &["arg_0", "arg_0"]),
                node("out_1", Gather::default(), &["arg_0", "arg_1"]),
            ],
        }
    }

    fn else_scales() -> Graph {
        Graph {
            nodes: vec![
                arg(0, DataType::F32, vec![None]),
                arg(1, DataType::I64, vec![]),
                constant("ten", Tensor::scalar(10.0f32)),
                node("out_0", Neg, &["arg_0"]),
                node("scaled", Mul, &["arg_0", "ten"]),
                node("sum", ReduceSum { axes: vec![0], keep_dims: false }, &["scaled"]),
                node("out_1", Identity, &["sum"]),
            ],
        }
    }

    fn branches(then: Graph, otherwise: Graph) -> Arc<Branches> {
        Arc::new(Branches::new(then, otherwise, &Assets::new()).unwrap())
    }

    fn cond(output: usize) -> If {
        If { branches: branches(then_gathers(), else_scales()), output }
    }

    fn run(op: &If, c: bool, x: &[f32], idx: i64) -> Result<Tensor, OpError> {
        let x = Tensor::from(ndarray::Array1::from(x.to_vec()));
        op.run(&[&Tensor::scalar(c), &x, &Tensor::scalar(idx)])
    }

    #[test]
    fn runs_the_branch_the_condition_picks() {
        let x = [1.0, 2.0, 3.0];
        assert_eq!(run(&cond(0), true, &x, 2).unwrap(), Tensor::from(ndarray::array![2.0f32, 4.0, 6.0]));
        assert_eq!(run(&cond(0), false, &x, 2).unwrap(), Tensor::from(ndarray::array![-1.0f32, -2.0, -3.0]));
        assert_eq!(run(&cond(1), true, &x, 2).unwrap(), Tensor::scalar(3.0f32));
        assert_eq!(run(&cond(1), false, &x, 2).unwrap(), Tensor::scalar(60.0f32));
        // A condition of shape [1].
        let c = Tensor::from(ndarray::array![false]);
        let x = Tensor::from(ndarray::array![1.0f32]);
        assert_eq!(cond(0).run(&[&c, &x, &Tensor::scalar(0i64)]).unwrap(), Tensor::from(ndarray::array![-1.0f32]));
    }

    #[test]
    fn the_branch_not_taken_never_runs() {
        // Index 7 is out of range for the then branch's gather: taken, it fails.
        let x = [1.0, 2.0, 3.0];
        assert_eq!(run(&cond(1), false, &x, 7).unwrap(), Tensor::scalar(60.0f32));
        let err = run(&cond(1), true, &x, 7).unwrap_err().to_string();
        assert!(err.contains("the then branch") && err.contains("out_1") && err.contains("out of range"), "{err}");
    }

    #[test]
    fn conditions_and_arguments_that_do_not_fit_are_refused() {
        let x = Tensor::from(ndarray::array![1.0f32]);
        let two = Tensor::from(ndarray::array![true, false]);
        let err = cond(0).run(&[&two, &x, &Tensor::scalar(0i64)]).unwrap_err().to_string();
        assert!(err.contains("2 values, expected one bool"), "{err}");
        let err = cond(0).run(&[&Tensor::scalar(1i64), &x, &Tensor::scalar(0i64)]).unwrap_err().to_string();
        assert!(err.contains("expected bool"), "{err}");
        let err = cond(0).run(&[&Tensor::scalar(true), &x, &Tensor::scalar(0.5f32)]).unwrap_err().to_string();
        assert!(err.contains("input 2 is f32 [], but the then branch's arg_1 declares i64 []"), "{err}");
        let err = cond(0).run(&[&Tensor::scalar(true), &x]).unwrap_err();
        assert_eq!(err, OpError::Arity { expected: Arity::Exactly(3), got: 2 });
    }

    #[test]
    fn the_output_type_unifies_the_branches() {
        let ty = |dtype, dims: &[Option<usize>]| TensorType::new(dtype, dims.to_vec());
        let inputs = [ty(DataType::Bool, &[]), ty(DataType::F32, &[Some(3)]), ty(DataType::I64, &[])];
        assert_eq!(cond(0).infer(&inputs).unwrap(), ty(DataType::F32, &[None]));
        assert_eq!(cond(1).infer(&inputs).unwrap(), ty(DataType::F32, &[]));
        // Branches of [2, 3] and [4, 3]: [?, 3]; [2] and [2]: [2].
        let shaped = |rows: usize| Graph {
            nodes: vec![
                constant("c", Tensor::from(ndarray::Array2::<f32>::zeros((rows, 3)))),
                node("out_0", Identity, &["c"]),
                constant("out_1", Tensor::from(ndarray::array![1i64, 2])),
            ],
        };
        let op = |output| If { branches: branches(shaped(2), shaped(4)), output };
        let bool_scalar = [ty(DataType::Bool, &[Some(1)])];
        assert_eq!(op(0).infer(&bool_scalar).unwrap(), ty(DataType::F32, &[None, Some(3)]));
        assert_eq!(op(1).infer(&bool_scalar).unwrap(), ty(DataType::I64, &[Some(2)]));
        assert_eq!(op(0).run(&[&Tensor::scalar(false)]).unwrap().shape(), &[4, 3]);
        // The condition and the arguments are checked.
        let mut bad = inputs.clone();
        bad[0] = ty(DataType::F32, &[]);
        let err = cond(0).infer(&bad).unwrap_err().to_string();
        assert!(err.contains("input 0 is f32 [], expected a bool scalar"), "{err}");
        bad[0] = ty(DataType::Bool, &[Some(2)]);
        assert!(cond(0).infer(&bad).is_err());
        let mut bad = inputs.clone();
        bad[1] = ty(DataType::F32, &[Some(3), Some(1)]);
        let err = cond(0).infer(&bad).unwrap_err().to_string();
        assert!(err.contains("input 1 is f32 [3, 1], the then branch's arg_0 declares f32 [?]"), "{err}");
        let err = cond(0).infer(&inputs[..2]).unwrap_err();
        assert_eq!(err, OpError::Arity { expected: Arity::Exactly(3), got: 2 });
    }

    #[test]
    fn malformed_branches_are_refused_naming_what_is_wrong() {
        let refused = |then: Graph, otherwise: Graph| Branches::new(then, otherwise, &Assets::new()).unwrap_err();
        let without = |mut graph: Graph, name: &str| {
            graph.nodes.retain(|n| n.name != name);
            graph
        };
        let err = refused(without(then_gathers(), "out_0"), else_scales()).to_string();
        assert!(err.contains("the then branch has no node \"out_0\""), "{err}");
        let err = refused(then_gathers(), without(else_scales(), "out_1")).to_string();
        assert!(err.contains("the then branch has 2 out(s), the else branch 1"), "{err}");
        let mut gap = else_scales();
        gap.nodes.retain(|n| n.name != "out_0");
        gap.nodes.push(node("out_2", Identity, &["arg_0"]));
        let err = refused(then_gathers(), gap).to_string();
        assert!(err.contains("the else branch has no node \"out_0\""), "{err}");
        let err = refused(then_gathers(), without(without(else_scales(), "arg_1"), "arg_0")).to_string();
        assert!(err.contains("the else branch: ") && err.contains("arg_0"), "{err}");

        let mut extra = else_scales();
        extra.nodes.push(arg(2, DataType::F32, vec![]));
        let err = refused(then_gathers(), extra).to_string();
        assert!(err.contains("the then branch takes 2 argument(s), the else branch 3"), "{err}");
        let mut retyped = else_scales();
        retyped.nodes[1] = arg(1, DataType::I32, vec![]);
        let err = refused(then_gathers(), retyped).to_string();
        assert!(err.contains("arg_1 is i64 [] in the then branch, i32 [] in the else branch"), "{err}");
        let mut not_placeholder = then_gathers();
        not_placeholder.nodes[1] = constant("arg_1", Tensor::scalar(1i64));
        let err = refused(not_placeholder, else_scales()).to_string();
        assert!(err.contains("the then branch's node \"arg_1\" is a Const, not a Placeholder"), "{err}");
        let mut variable = else_scales();
        variable.nodes.push(node("w", Variable { dtype: DataType::F32, shape: vec![] }, &[]));
        let err = refused(then_gathers(), variable).to_string();
        assert!(err.contains("the else branch's node \"w\" is a Variable"), "{err}");
        let mut stray = then_gathers();
        stray.nodes.push(node("x", Placeholder { dtype: DataType::F32, shape: Shape(vec![]) }, &[]));
        let err = refused(stray, else_scales()).to_string();
        assert!(err.contains("the then branch's node \"x\" is a Placeholder"), "{err}");

        // Outs that disagree on their dtype or rank.
        let mut cast = else_scales();
        cast.nodes[6] = constant("out_1", Tensor::scalar(1i64));
        let err = refused(then_gathers(), cast).to_string();
        assert!(err.contains("out_1 is f32 [] in the then branch, i64 [] in the else branch"), "{err}");
        let mut ranked = else_scales();
        ranked.nodes[6] = node("out_1", Identity, &["scaled"]);
        let err = refused(then_gathers(), ranked).to_string();
        assert!(err.contains("out_1 is f32 [] in the then branch, f32 [?] in the else branch"), "{err}");
        // A branch graph that does not validate names its node.
        let mut broken = then_gathers();
        broken.nodes[2] = node("out_0", Add, &["arg_0", "nowhere"]);
        let err = refused(broken, else_scales()).to_string();
        assert!(err.contains("the then branch: ") && err.contains("nowhere"), "{err}");
    }

    #[test]
    fn attributes_round_trip() {
        let inputs = || vec!["c".to_owned(), "x".into(), "i".into()];
        for op in [cond(0), cond(1)] {
            let node = Op::from(op.clone()).to_node("if", inputs());
            assert_eq!(If::parse(&node, &Assets::new()).unwrap(), op);
        }
        let node = Op::from(cond(0)).to_node("if", vec!["c".into(), "x".into()]);
        let err = If::parse(&node, &Assets::new()).unwrap_err().to_string();
        assert!(err.contains("2 input(s) for branches of 2 argument(s)"), "{err}");
        let node = Op::from(cond(0)).to_node("if", inputs());
        let err = If::parse(&node.clone().with("output", Attr::Int(2)), &Assets::new()).unwrap_err().to_string();
        assert!(err.contains("output 2: the branches have 2 out(s)"), "{err}");
        let mut missing = node.clone();
        missing.attrs.remove("else");
        let err = If::parse(&missing, &Assets::new()).unwrap_err().to_string();
        assert!(err.contains("missing attribute \"else\""), "{err}");
        let err = If::parse(&node.with("then", Attr::Int(1)), &Assets::new()).unwrap_err().to_string();
        assert!(err.contains("attribute \"then\": expected a graph"), "{err}");
    }

    #[test]
    fn a_conditional_without_arguments_and_nested_conditionals_run_in_a_graph() {
        // y = if c { if d { x + 1 } else { 0 } } else { -x }, as nodes of a graph.
        let inner = If {
            branches: branches(
                Graph {
                    nodes: vec![
                        arg(0, DataType::F32, vec![]),
                        constant("one", Tensor::scalar(1.0f32)),
                        node("out_0", Add, &["arg_0", "one"]),
                    ],
                },
                Graph { nodes: vec![arg(0, DataType::F32, vec![]), constant("out_0", Tensor::scalar(0.0f32))] },
            ),
            output: 0,
        };
        let outer = If {
            branches: branches(
                Graph {
                    nodes: vec![
                        arg(0, DataType::F32, vec![]),
                        arg(1, DataType::Bool, vec![]),
                        node("out_0", inner, &["arg_1", "arg_0"]),
                    ],
                },
                Graph {
                    nodes: vec![
                        arg(0, DataType::F32, vec![]),
                        arg(1, DataType::Bool, vec![]),
                        node("out_0", Neg, &["arg_0"]),
                    ],
                },
            ),
            output: 0,
        };
        let constant_branches = If {
            branches: branches(
                Graph { nodes: vec![constant("out_0", Tensor::scalar(1.0f32))] },
                Graph { nodes: vec![constant("out_0", Tensor::scalar(-1.0f32))] },
            ),
            output: 0,
        };
        let scalar = |dtype| Placeholder { dtype, shape: Shape::scalar() };
        let graph = Graph {
            nodes: vec![
                node("x", scalar(DataType::F32), &[]),
                node("c", scalar(DataType::Bool), &[]),
                node("d", scalar(DataType::Bool), &[]),
                node("y", outer, &["c", "x", "d"]),
                node("sign", constant_branches, &["c"]),
            ],
        };
        let typed = TypedGraph::new(&graph, &Assets::new()).unwrap();
        let (y, sign) = (typed.resolve("y").unwrap(), typed.resolve("sign").unwrap());
        assert_eq!(typed.nodes()[y].ty, TensorType::new(DataType::F32, vec![]));
        for (c, d, want, want_sign) in [(true, true, 3.0, 1.0), (true, false, 0.0, 1.0), (false, true, -2.0, -1.0)] {
            let mut values = vec![None; typed.nodes().len()];
            values[typed.resolve("x").unwrap()] = Some(Tensor::scalar(2.0f32));
            values[typed.resolve("c").unwrap()] = Some(Tensor::scalar(c));
            values[typed.resolve("d").unwrap()] = Some(Tensor::scalar(d));
            typed.evaluate(&[y, sign], &mut values).unwrap();
            assert_eq!(values[y], Some(Tensor::scalar(want)), "{c} {d}");
            assert_eq!(values[sign], Some(Tensor::scalar(want_sign)), "{c}");
        }
    }

    #[cfg(feature = "grad")]
    #[test]
    fn conditionals_have_no_gradient() {
        let op = cond(0);
        let (c, x, i) = (Tensor::scalar(true), Tensor::from(ndarray::array![1.0f32]), Tensor::scalar(0i64));
        let y = op.run(&[&c, &x, &i]).unwrap();
        let err = op.grad(&[&c, &x, &i], &y, &y).unwrap_err();
        assert!(matches!(err, OpError::NoGradient(_)), "{err}");
    }
}
