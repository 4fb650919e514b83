//! Every differentiable op's gradient against central finite differences.

use estimator::{GraphBuilder, Initializer, Output, Result, Sliding, gradients};
use opset::{DataType, Tensor, TypedGraph};

/// Builds `loss = sum(f(vars) * probe)` where `probe` is a fixed random
/// tensor (so that every output element matters differently), and checks
/// d loss / d var against central differences.
fn check(shapes: &[&[usize]], f: impl Fn(&mut GraphBuilder, &[Output]) -> Result<Output>) {
    let uniform = || Initializer::Uniform { min: -1.0, max: 1.0 };
    check_from(&shapes.iter().map(|&s| (s, uniform())).collect::<Vec<_>>(), f);
}

/// [`check`] with the variables' initial values given.
fn check_from(vars: &[(&[usize], Initializer)], f: impl Fn(&mut GraphBuilder, &[Output]) -> Result<Output>) {
    let mut g = GraphBuilder::new();
    let vars: Vec<Output> =
        vars.iter().enumerate().map(|(i, (s, init))| g.variable(&format!("v{i}"), s, init.clone()).unwrap()).collect();
    let y = f(&mut g, &vars).unwrap();
    // The variables the layers under test declared too.
    let vars: Vec<Output> = g.variables().iter().map(|d| d.output).collect();
    let y_len = match g.ty(y).shape.as_known() {
        Some(dims) => dims,
        None => panic!("test graphs have known shapes"),
    };
    let probe = Initializer::Uniform { min: 0.5, max: 1.5 }.value("probe", DataType::F32, &y_len, 7);
    let probe = g.constant(probe).unwrap();
    let weighted = g.mul(y, probe).unwrap();
    let loss = g.reduce_sum(weighted, &[], false).unwrap();

    let graph = TypedGraph::new(&g.graph(), g.assets()).unwrap();
    let init: Vec<Tensor> = g.variables().iter().map(|d| d.initializer.value(&d.name, d.dtype, &d.shape, 3)).collect();
    let eval = |vals: &[Tensor]| -> (f32, Vec<Option<Tensor>>) {
        let mut values = vec![None; graph.nodes().len()];
        for (v, t) in vars.iter().zip(vals) {
            values[v.index()] = Some(t.clone());
        }
        graph.evaluate(&[loss.index()], &mut values).unwrap();
        (values[loss.index()].as_ref().unwrap().as_slice::<f32>().unwrap()[0], values)
    };
    let (_, values) = eval(&init);
    let wrt: Vec<usize> = vars.iter().map(|v| v.index()).collect();
    let grads = gradients(&graph, &values, loss.index(), &wrt).unwrap();
    let eps = 1e-2f32;
    for (k, grad) in grads.iter().enumerate() {
        assert_eq!(grad.shape(), init[k].shape(), "gradient shape of v{k}");
        for i in 0..init[k].len() {
            let bump = |delta: f32| {
                let mut vals = init.clone();
                vals[k].as_slice_mut::<f32>().unwrap()[i] += delta;
                eval(&vals).0
            };
            let numeric = (bump(eps) - bump(-eps)) / (2.0 * eps);
            let analytic = grad.as_slice::<f32>().unwrap()[i];
            assert!(
                (numeric - analytic).abs() <= 2e-2 * (1.0 + numeric.abs()),
                "v{k}[{i}]: analytic {analytic}, numeric {numeric}"
            );
        }
    }
}

#[test]
fn matmul_all_transposes() {
    check(&[&[2, 3], &[3, 4]], |g, v| g.matmul(v[0], v[1]));
    for (ta, tb, a, b) in [(true, false, [3, 2], [3, 4]), (false, true, [2, 3], [4, 3]), (true, true, [3, 2], [4, 3])] {
        check(&[&a, &b], |g, v| g.op(opset::ops::math::MatMul { transpose_a: ta, transpose_b: tb }, &[v[0], v[1]]));
    }
}

#[test]
fn select_sends_each_gradient_where_its_element_went() {
    let mask = |shape: Vec<usize>, bits: &[bool]| Tensor::from_vec(shape, bits.to_vec()).unwrap();
    check(&[&[2, 3], &[2, 3]], |g, v| {
        let cond = g.constant(mask(vec![2, 3], &[true, false, true, false, false, true]))?;
        g.select(cond, v[0], v[1])
    });
    // Broadcasting: a row of conditions, a column of `a`, a scalar `b`.
    check(&[&[2, 1], &[]], |g, v| {
        let cond = g.constant(mask(vec![3], &[false, true, true]))?;
        g.select(cond, v[0], v[1])
    });
}

#[test]
fn batched_matmul_all_transposes() {
    for (ta, tb, a, b) in [
        (false, false, [2, 3, 4], [2, 4, 5]),
        (false, true, [2, 3, 4], [2, 5, 4]),
        (true, false, [2, 4, 3], [2, 4, 5]),
        (true, true, [2, 4, 3], [2, 5, 4]),
    ] {
        check(&[&a, &b], |g, v| g.op(opset::ops::math::MatMul { transpose_a: ta, transpose_b: tb }, &[v[0], v[1]]));
    }
}

#[test]
fn einsums_of_multi_head_attention() {
    // Keras MultiHeadAttention's four equations, and one with a label summed alone.
    check(&[&[2, 3, 4], &[4, 2, 3]], |g, v| g.einsum("abc,cde->abde", v[0], v[1]));
    check(&[&[2, 5, 2, 3], &[2, 4, 2, 3]], |g, v| g.einsum("aecd,abcd->acbe", v[0], v[1]));
    check(&[&[2, 2, 4, 5], &[2, 5, 2, 3]], |g, v| g.einsum("acbe,aecd->abcd", v[0], v[1]));
    check(&[&[2, 3, 2, 3], &[2, 3, 4]], |g, v| g.einsum("abcd,cde->abe", v[0], v[1]));
    check(&[&[3, 4], &[4, 2]], |g, v| g.einsum("ij,jk->ki", v[0], v[1]));
}

#[test]
fn convolutions_and_pools() {
    let slide = |strides, dilations, same| Sliding { strides, dilations, same };
    // SAME, stride 1, two channels in, three out.
    check(&[&[1, 4, 5, 2], &[3, 3, 2, 3]], |g, v| g.conv2d(v[0], v[1], slide([1, 1], [1, 1], true)));
    // VALID, strides 2 x 1, dilated rows, a batch of two.
    check(&[&[2, 6, 4, 1], &[2, 2, 1, 2]], |g, v| g.conv2d(v[0], v[1], slide([2, 1], [2, 1], false)));
    // Edge windows of SAME pools cover fewer elements. Max pooling's inputs
    // are 0.1 apart, so that no nudge of a finite difference changes a max.
    let spread = Initializer::Values((0..50).map(|i| ((i * 37) % 50) as f32 * 0.1 - 2.5).collect());
    check_from(&[(&[1, 5, 5, 2], spread)], |g, v| g.max_pool(v[0], [2, 2], slide([2, 2], [1, 1], true)));
    check(&[&[1, 5, 5, 2]], |g, v| g.avg_pool(v[0], [3, 3], slide([2, 2], [1, 1], true)));
    check(&[&[2, 4, 4, 1]], |g, v| g.avg_pool(v[0], [2, 2], slide([1, 1], [1, 1], false)));
    check(&[&[1, 3, 2, 2]], |g, v| g.pad(v[0], &[[0, 0], [1, 2], [2, 0], [0, 0]], Some(opset::Tensor::scalar(0.5f32))));
    // Depthwise: two channels, three filters each, strided SAME.
    check(&[&[1, 5, 4, 2], &[3, 3, 2, 3]], |g, v| g.depthwise_conv2d(v[0], v[1], slide([2, 1], [1, 1], true)));
}

#[test]
fn bias_add_and_broadcasting_arithmetic() {
    check(&[&[3, 2], &[2]], |g, v| g.bias_add(v[0], v[1]));
    check(&[&[2, 3], &[3]], |g, v| g.add(v[0], v[1]));
    check(&[&[2, 1], &[1, 3]], |g, v| g.sub(v[0], v[1]));
    check(&[&[2, 3], &[2, 1]], |g, v| g.mul(v[0], v[1]));
    check(&[&[2, 3], &[]], |g, v| {
        // Keep the divisor away from zero.
        let two = g.scalar(2.0)?;
        let d = g.add(v[1], two)?;
        g.div(v[0], d)
    });
    check(&[&[3], &[2, 3]], |g, v| g.div(v[1], v[0]).and_then(|q| g.tanh(q)));
}

#[test]
fn activations() {
    check(&[&[2, 3]], |g, v| g.relu(v[0]));
    check(&[&[2, 3]], |g, v| g.tanh(v[0]));
    check(&[&[2, 3]], |g, v| g.sigmoid(v[0]));
    check(&[&[2, 3]], |g, v| g.square(v[0]));
    check(&[&[2, 3]], |g, v| g.neg(v[0]));
    check(&[&[2, 3]], |g, v| g.softmax(v[0]));
    check(&[&[2, 3]], |g, v| g.abs(v[0]));
    check(&[&[2, 3]], |g, v| g.softplus(v[0]));
    check(&[&[2, 3]], |g, v| g.elu(v[0]));
    check(&[&[2, 3]], |g, v| g.selu(v[0]));
    check(&[&[2, 3]], |g, v| g.erf(v[0]));
    check(&[&[2, 3], &[3]], |g, v| g.maximum(v[0], v[1]));
    check(&[&[2, 1], &[2, 3]], |g, v| g.minimum(v[0], v[1]));
    check(&[&[2, 3]], |g, v| g.exp(v[0]));
    check(&[&[2, 3]], |g, v| {
        // Positive inputs for the logarithm and the square root.
        let sq = g.square(v[0])?;
        let one = g.scalar(1.0)?;
        let pos = g.add(sq, one)?;
        let l = g.log(pos)?;
        let r = g.sqrt(pos)?;
        let q = g.rsqrt(pos)?;
        let lr = g.add(l, r)?;
        g.add(lr, q)
    });
}

#[test]
fn reductions_and_losses() {
    check(&[&[2, 3, 2]], |g, v| g.reduce_sum(v[0], &[1], false));
    check(&[&[2, 3, 2]], |g, v| g.reduce_mean(v[0], &[0, 2], true));
    check(&[&[2, 3]], |g, v| g.reduce_mean(v[0], &[], false));
    check(&[&[2, 3, 2]], |g, v| g.reduce_max(v[0], &[1], false));
    check(&[&[2, 3]], |g, v| g.reduce_min(v[0], &[], true));
    check(&[&[2, 3]], |g, v| g.l2_loss(v[0]));
    check(&[&[3, 4]], |g, v| {
        let labels =
            g.constant(Tensor::from(ndarray::array![[1.0f32, 0., 0., 0.], [0., 0., 1., 0.], [0., 0.5, 0.5, 0.]]))?;
        g.softmax_cross_entropy_with_logits(v[0], labels)
    });
    check(&[&[3, 2]], |g, v| {
        let labels = g.constant(Tensor::from(ndarray::array![[1.0f32], [2.0], [3.0]]))?;
        estimator::losses::mean_squared_error(g, labels, v[0])
    });
}

#[test]
fn shape_ops_and_gather() {
    check(&[&[2, 3]], |g, v| g.reshape(v[0], &[3, -1]));
    check(&[&[2, 3]], |g, v| g.expand_dims(v[0], 1));
    check(&[&[2, 1, 3]], |g, v| g.squeeze(v[0], &[1]));
    check(&[&[2, 3]], |g, v| g.identity(v[0], "same"));
    check(&[&[2, 3, 4]], |g, v| g.transpose(v[0], &[2, 0, 1]));
    check(&[&[2, 1]], |g, v| g.tile(v[0], &[2, 3]));
    check(&[&[4, 5]], |g, v| {
        use opset::ops::array::{SliceSpec, StridedSlice};
        let spec = SliceSpec { begin: vec![3, 1], end: vec![0, 5], strides: vec![-1, 2], ..SliceSpec::default() };
        g.op(StridedSlice { spec }, &[v[0]])
    });
    check(&[&[2, 2], &[2, 3]], |g, v| g.concat(&[v[0], v[1]], 1));
    check(&[&[4, 3]], |g, v| {
        let ids = g.constant(Tensor::from(ndarray::array![[3i64, 0], [3, 1]]))?;
        g.gather(v[0], ids)
    });
}

#[test]
fn a_variable_the_loss_ignores_gets_zeros() {
    let mut g = GraphBuilder::new();
    let a = g.variable("a", &[2], Initializer::Constant(1.0)).unwrap();
    let b = g.variable("b", &[3], Initializer::Constant(1.0)).unwrap();
    let loss = g.l2_loss(a).unwrap();
    let graph = TypedGraph::new(&g.graph(), g.assets()).unwrap();
    let mut values = vec![None; graph.nodes().len()];
    values[a.index()] = Some(Tensor::from(ndarray::array![1.0f32, 2.0]));
    values[b.index()] = Some(Tensor::from(ndarray::array![1.0f32, 2.0, 3.0]));
    graph.evaluate(&[loss.index()], &mut values).unwrap();
    let grads = gradients(&graph, &values, loss.index(), &[a.index(), b.index()]).unwrap();
    assert_eq!(grads[0].as_slice::<f32>().unwrap(), [1.0, 2.0]);
    assert_eq!(grads[1].as_slice::<f32>().unwrap(), [0.0; 3]);
}

/// Sequences of lengths 3, 1 and 0 in a batch padded to 3 steps; the
/// output reshaped to its known shape.
fn recurrent(
    g: &mut GraphBuilder,
    x: Output,
    layer: impl Fn(&mut GraphBuilder, Output, Output) -> Result<Vec<Output>>,
) -> Result<Output> {
    let lengths = g.constant(Tensor::from_vec(vec![3], vec![3i32, 1, 0]).unwrap())?;
    let parts = layer(g, x, lengths)?;
    // Known sizes: steps' outputs 3 * 3 * units, states 3 * units.
    let flat: Vec<Output> = parts
        .into_iter()
        .map(|p| {
            let units = g.ty(p).dims().last().copied().flatten().unwrap() as i64;
            let rows = if g.ty(p).dims().len() == 3 { 9 } else { 3 };
            g.reshape(p, &[rows * units])
        })
        .collect::<Result<_>>()?;
    g.concat(&flat, 0)
}

#[test]
fn lstm_gradients_flow_through_time() {
    use estimator::layers::Lstm;
    check(&[&[3, 3, 2]], |g, v| {
        recurrent(g, v[0], |g, x, lengths| {
            let rnn = Lstm::new(3).apply(g, x, lengths)?;
            Ok([vec![rnn.outputs], rnn.state].concat())
        })
    });
}

#[test]
fn gru_gradients_flow_through_time() {
    use estimator::layers::Gru;
    check(&[&[3, 3, 2]], |g, v| {
        recurrent(g, v[0], |g, x, lengths| {
            let rnn = Gru::new(2).apply(g, x, lengths)?;
            Ok([vec![rnn.outputs], rnn.state].concat())
        })
    });
}

#[test]
fn bidirectional_gradients_flow_both_ways() {
    use estimator::layers::{Bidirectional, Lstm};
    check(&[&[3, 3, 2]], |g, v| {
        recurrent(g, v[0], |g, x, lengths| {
            let birnn = Bidirectional::new(Lstm::new(2)).apply(g, x, lengths)?;
            Ok(vec![birnn.outputs, birnn.backward.last().unwrap()])
        })
    });
}

#[test]
fn dropout_zeroes_its_rate_scales_the_rest_and_passes_the_gradient_through_its_mask() {
    use estimator::{Mode, layers};
    let mut g = GraphBuilder::new();
    let x = g.variable("x", &[200, 50], Initializer::Constant(2.0)).unwrap();
    let y = layers::dropout(&mut g, x, 0.25, Mode::Train).unwrap();
    let loss = g.reduce_sum(y, &[], false).unwrap();
    let graph = TypedGraph::new(&g.graph(), g.assets()).unwrap();
    let mut values = vec![None; graph.nodes().len()];
    values[x.index()] = Some(Tensor::from_vec(vec![200, 50], vec![2.0f32; 10_000]).unwrap());
    graph.evaluate(&[loss.index()], &mut values).unwrap();
    let ys = values[y.index()].as_ref().unwrap().as_slice::<f32>().unwrap().to_vec();
    assert!(ys.iter().all(|&v| v == 0.0 || (v - 2.0 / 0.75).abs() < 1e-6));
    let dropped = ys.iter().filter(|&&v| v == 0.0).count() as f32 / ys.len() as f32;
    assert!((dropped - 0.25).abs() < 0.02, "dropped {dropped}");
    let dx = &gradients(&graph, &values, loss.index(), &[x.index()]).unwrap()[0];
    let expected: Vec<f32> = ys.iter().map(|&v| v / 2.0).collect();
    assert_eq!(dx.as_slice::<f32>().unwrap(), expected.as_slice());
    // Evaluation and prediction see x itself.
    assert_eq!(layers::dropout(&mut g, x, 0.25, Mode::Eval).unwrap(), x);
    assert!(layers::dropout(&mut g, x, 1.0, Mode::Train).is_err());
}
