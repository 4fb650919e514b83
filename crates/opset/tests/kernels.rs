//! Each op's reference kernel against hand-computed values, broadcasting and
//! edge shapes included.

#![allow(clippy::cloned_ref_to_slice_refs)] // inputs are built inline for readability

use std::collections::BTreeMap;

use ndarray::{ArrayD, IxDyn, array};
use opset::{Assets, Attr, DataType, Node, Op, Shape, Tensor};

fn op(name: &str, n_inputs: usize, attrs: &[(&str, Attr)]) -> Op {
    let inputs: Vec<String> = (0..n_inputs).map(|i| format!("in{i}")).collect();
    let node = Node {
        name: "n".into(),
        op: name.into(),
        inputs,
        attrs: attrs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect::<BTreeMap<_, _>>(),
    };
    Op::parse(&node, &Assets::new()).unwrap()
}

fn run(op: &Op, inputs: &[Tensor]) -> Result<Tensor, String> {
    let refs: Vec<&Tensor> = inputs.iter().collect();
    let mut out = Tensor::empty(DataType::F32);
    op.eval(&refs, &mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

fn f32s(shape: &[usize], v: &[f32]) -> Tensor {
    Tensor::from_vec(shape.to_vec(), v.to_vec()).unwrap()
}

fn ints(v: &[i64]) -> Attr {
    Attr::Ints(v.to_vec())
}

#[test]
fn shape_ops() {
    let x = Tensor::from(array![[1.0f32], [2.0]]);
    assert_eq!(
        run(&op("Tile", 1, &[("multiples", ints(&[1, 2]))]), &[x.clone()]).unwrap(),
        f32s(&[2, 2], &[1., 1., 2., 2.])
    );
    assert_eq!(
        run(&op("Tile", 1, &[("multiples", ints(&[2, 1]))]), &[x.clone()]).unwrap(),
        f32s(&[4, 1], &[1., 2., 1., 2.])
    );
    assert_eq!(run(&op("Tile", 1, &[("multiples", ints(&[0, 3]))]), &[x.clone()]).unwrap(), f32s(&[0, 3], &[]));
    assert_eq!(run(&op("Identity", 1, &[]), &[x.clone()]).unwrap(), x);
    assert_eq!(run(&op("Reshape", 1, &[("shape", ints(&[-1]))]), &[x.clone()]).unwrap(), f32s(&[2], &[1., 2.]));
    assert!(run(&op("Reshape", 1, &[("shape", ints(&[3, -1]))]), &[x.clone()]).is_err());
    assert_eq!(run(&op("ExpandDims", 1, &[("axis", Attr::Int(-1))]), &[x.clone()]).unwrap().shape(), &[2, 1, 1]);
    assert_eq!(run(&op("Squeeze", 1, &[("axes", ints(&[]))]), &[x.clone()]).unwrap(), f32s(&[2], &[1., 2.]));
    assert!(run(&op("Squeeze", 1, &[("axes", ints(&[0]))]), &[x.clone()]).is_err());
    let y = Tensor::from(array![[3.0f32, 4.0], [5.0, 6.0]]);
    let cat = op("ConcatV2", 2, &[("axis", Attr::Int(1))]);
    assert_eq!(run(&cat, &[x.clone(), y.clone()]).unwrap(), f32s(&[2, 3], &[1., 3., 4., 2., 5., 6.]));
    let cat0 = op("ConcatV2", 2, &[("axis", Attr::Int(0))]);
    assert!(run(&cat0, &[x, y]).is_err(), "dims other than the axis must agree");
}

#[test]
fn strings_tile_and_concat() {
    let s = Tensor::strings(vec![1, 2], vec!["a".to_owned(), "b".to_owned()]).unwrap();
    let tiled = run(&op("Tile", 1, &[("multiples", ints(&[2, 1]))]), &[s]).unwrap();
    assert_eq!(tiled.as_slice::<opset::Bytes>().unwrap(), ["a", "b", "a", "b"]);
}

#[test]
fn matmul_and_bias() {
    let a = Tensor::from(array![[1.0f32, 2.0], [3.0, 4.0]]);
    let b = Tensor::from(array![[5.0f32], [6.0]]);
    assert_eq!(run(&op("MatMul", 2, &[]), &[a.clone(), b.clone()]).unwrap(), f32s(&[2, 1], &[17., 39.]));
    let ta = op("MatMul", 2, &[("transpose_a", Attr::Bool(true))]);
    assert_eq!(run(&ta, &[a.clone(), b.clone()]).unwrap(), f32s(&[2, 1], &[23., 34.]));
    assert!(run(&op("MatMul", 2, &[]), &[b.clone(), b.clone()]).is_err());
    let bias = f32s(&[2], &[10., 20.]);
    assert_eq!(run(&op("BiasAdd", 2, &[]), &[a.clone(), bias]).unwrap(), f32s(&[2, 2], &[11., 22., 13., 24.]));
    assert!(run(&op("BiasAdd", 2, &[]), &[a, f32s(&[3], &[0.; 3])]).is_err());
}

#[test]
fn binary_broadcasting() {
    let a = Tensor::from(array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    let row = f32s(&[3], &[10., 20., 30.]);
    let col = f32s(&[2, 1], &[100., 200.]);
    let scalar = Tensor::scalar(2.0f32);
    assert_eq!(run(&op("Add", 2, &[]), &[a.clone(), row]).unwrap(), f32s(&[2, 3], &[11., 22., 33., 14., 25., 36.]));
    assert_eq!(
        run(&op("Sub", 2, &[]), &[col.clone(), a.clone()]).unwrap(),
        f32s(&[2, 3], &[99., 98., 97., 196., 195., 194.])
    );
    assert_eq!(
        run(&op("Mul", 2, &[]), &[scalar.clone(), a.clone()]).unwrap(),
        f32s(&[2, 3], &[2., 4., 6., 8., 10., 12.])
    );
    assert_eq!(run(&op("Div", 2, &[]), &[a.clone(), scalar]).unwrap(), f32s(&[2, 3], &[0.5, 1., 1.5, 2., 2.5, 3.]));
    // [2,1] + [1,3] -> [2,3]
    let r = f32s(&[1, 3], &[1., 2., 3.]);
    assert_eq!(run(&op("Add", 2, &[]), &[col, r]).unwrap(), f32s(&[2, 3], &[101., 102., 103., 201., 202., 203.]));
    assert!(run(&op("Add", 2, &[]), &[a, f32s(&[2], &[1., 2.])]).is_err());
    let i = Tensor::from(array![7i64, -7]);
    assert_eq!(run(&op("Div", 2, &[]), &[i.clone(), Tensor::scalar(2i64)]).unwrap(), Tensor::from(array![3i64, -3]));
    assert!(run(&op("Div", 2, &[]), &[i, Tensor::scalar(0i64)]).unwrap_err().contains("division by zero"));
}

#[test]
fn activations() {
    let x = f32s(&[4], &[-1., 0., 1., 2.]);
    assert_eq!(run(&op("Relu", 1, &[]), &[x.clone()]).unwrap(), f32s(&[4], &[0., 0., 1., 2.]));
    assert_eq!(run(&op("Square", 1, &[]), &[x.clone()]).unwrap(), f32s(&[4], &[1., 0., 1., 4.]));
    assert_eq!(run(&op("Neg", 1, &[]), &[x.clone()]).unwrap(), f32s(&[4], &[1., -0., -1., -2.]));
    let s = run(&op("Sigmoid", 1, &[]), &[x.clone()]).unwrap();
    assert!((s.as_slice::<f32>().unwrap()[0] - 0.268_941_43).abs() < 1e-6);
    let t = run(&op("Tanh", 1, &[]), &[x]).unwrap();
    assert!((t.as_slice::<f32>().unwrap()[3] - 0.964_027_6).abs() < 1e-6);
    let logits = f32s(&[2, 3], &[1., 2., 3., 1000., 1000., 1000.]);
    let p = run(&op("Softmax", 1, &[]), &[logits]).unwrap();
    let p = p.as_slice::<f32>().unwrap();
    let expected = [0.090_030_57, 0.244_728_47, 0.665_240_94, 1. / 3., 1. / 3., 1. / 3.];
    for (a, b) in p.iter().zip(expected) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
}

#[test]
fn reductions_argmax_cast() {
    let x = Tensor::from(array![[1.0f32, 5.0, 3.0], [4.0, 2.0, 6.0]]);
    let sum = |axes: &[i64], keep| op("ReduceSum", 1, &[("axes", ints(axes)), ("keep_dims", Attr::Bool(keep))]);
    assert_eq!(run(&sum(&[], false), &[x.clone()]).unwrap(), Tensor::scalar(21.0f32));
    assert_eq!(run(&sum(&[0], false), &[x.clone()]).unwrap(), f32s(&[3], &[5., 7., 9.]));
    assert_eq!(run(&sum(&[-1], true), &[x.clone()]).unwrap(), f32s(&[2, 1], &[9., 12.]));
    let mean = op("ReduceMean", 1, &[("axes", ints(&[1]))]);
    assert_eq!(run(&mean, &[x.clone()]).unwrap(), f32s(&[2], &[3., 4.]));
    let am = op("ArgMax", 1, &[("axis", Attr::Int(1))]);
    assert_eq!(run(&am, &[x.clone()]).unwrap(), Tensor::from(array![1i64, 2]));
    let ties = f32s(&[3], &[2., 2., 1.]);
    assert_eq!(run(&op("ArgMax", 1, &[("axis", Attr::Int(0))]), &[ties]).unwrap(), Tensor::scalar(0i64));
    let to_i32 = op("Cast", 1, &[("to", Attr::Type(DataType::I32))]);
    assert_eq!(run(&to_i32, &[f32s(&[3], &[-1.7, 0.2, 2.9])]).unwrap(), Tensor::from(array![-1i32, 0, 2]));
    let to_bool = op("Cast", 1, &[("to", Attr::Type(DataType::Bool))]);
    assert_eq!(run(&to_bool, &[f32s(&[2], &[0., 3.])]).unwrap(), Tensor::from(array![false, true]));
    let to_f32 = op("Cast", 1, &[("to", Attr::Type(DataType::F32))]);
    assert_eq!(run(&to_f32, &[Tensor::from(array![true, false])]).unwrap(), f32s(&[2], &[1., 0.]));
}

#[test]
fn losses() {
    let x = f32s(&[2], &[3., 4.]);
    assert_eq!(run(&op("L2Loss", 1, &[]), &[x]).unwrap(), Tensor::scalar(12.5f32));
    let logits = f32s(&[1, 2], &[0., 0.]);
    let labels = f32s(&[1, 2], &[1., 0.]);
    let ce = run(&op("SoftmaxCrossEntropy", 2, &[]), &[logits, labels]).unwrap();
    assert!((ce.as_slice::<f32>().unwrap()[0] - std::f32::consts::LN_2).abs() < 1e-6);
}

#[test]
fn gather() {
    let table = Tensor::from(array![[0.0f32, 0.5], [1.0, 1.5], [2.0, 2.5]]);
    let ids = Tensor::from(array![[2i64, 0], [1, 1]]);
    let out = run(&op("Gather", 2, &[]), &[table.clone(), ids]).unwrap();
    assert_eq!(out.shape(), &[2, 2, 2]);
    assert_eq!(out.as_slice::<f32>().unwrap(), [2., 2.5, 0., 0.5, 1., 1.5, 1., 1.5]);
    let axis1 = op("Gather", 2, &[("axis", Attr::Int(1))]);
    assert_eq!(run(&axis1, &[table.clone(), Tensor::from(array![1i32])]).unwrap(), f32s(&[3, 1], &[0.5, 1.5, 2.5]));
    let err = run(&op("Gather", 2, &[]), &[table, Tensor::from(array![3i64])]).unwrap_err();
    assert!(err.contains("index 3 is out of range"), "{err}");
}

#[test]
fn vocab_lookup_with_oov_buckets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("vocab.txt"), "good\nbad\nmovie\n").unwrap();
    let mut assets = Assets::new();
    assets.insert("vocab.txt", dir.path().join("vocab.txt")).unwrap();
    let node = |buckets| {
        Node::new("lookup", "VocabLookup", &["words"])
            .with("asset", Attr::Str("vocab.txt".into()))
            .with("num_oov_buckets", Attr::Int(buckets))
            .with("default_value", Attr::Int(-1))
    };
    let words = Tensor::from(
        ArrayD::from_shape_vec(IxDyn(&[1, 3]), vec!["movie".to_owned(), "good".into(), "zzz".into()]).unwrap(),
    );
    let with_buckets = Op::parse(&node(4), &assets).unwrap();
    let mut out = Tensor::empty(DataType::I64);
    with_buckets.eval(&[&words], &mut out).unwrap();
    let ids = out.as_slice::<i64>().unwrap().to_vec();
    // "zzz" hashes to bucket 0 of 4 in TensorFlow 2.15
    // (`tf.strings.to_hash_bucket_fast(["zzz"], 4)`).
    assert_eq!(ids, [2, 0, 3]);
    let no_buckets = Op::parse(&node(0), &assets).unwrap();
    no_buckets.eval(&[&words], &mut out).unwrap();
    assert_eq!(out.as_slice::<i64>().unwrap(), [2, 0, -1]);
}

#[test]
fn hash_buckets_are_tensorflows() {
    // What TensorFlow 2.15 answers for `tf.strings.to_hash_bucket_fast(words, n)`.
    let words = ["zzz", "", "hello", "héllo wörld", "news", "sport", "weather report, long tag"];
    let x = Tensor::from(ArrayD::from_shape_vec(IxDyn(&[7]), words.map(str::to_owned).to_vec()).unwrap());
    let four = run(&op("HashBucket", 1, &[("num_buckets", Attr::Int(4))]), &[x.clone()]).unwrap();
    assert_eq!(four.as_slice::<i64>().unwrap(), [0, 3, 0, 3, 1, 1, 2]);
    let wide = run(&op("HashBucket", 1, &[("num_buckets", Attr::Int(1 << 62))]), &[x]).unwrap();
    assert_eq!(
        &wide.as_slice::<i64>().unwrap()[..4],
        [4187299889015133476, 1936946117179621455, 3786372426573024488, 4390285103997208723]
    );
    for bad in [0, -3] {
        let node = Node::new("h", "HashBucket", &["w"]).with("num_buckets", Attr::Int(bad));
        let err = Op::parse(&node, &Assets::new()).unwrap_err();
        assert!(err.to_string().contains(">= 1"), "{err}");
    }
}

#[test]
fn select_broadcasts_all_three() {
    let cond = Tensor::from(array![true, false, true]);
    let a = f32s(&[2, 1], &[1., 2.]);
    let b = Tensor::scalar(-1.0f32);
    let out = run(&op("Select", 3, &[]), &[cond.clone(), a, b]).unwrap();
    assert_eq!(out, f32s(&[2, 3], &[1., -1., 1., 2., -1., 2.]));
    let words = |w: &[&str]| {
        Tensor::from(ArrayD::from_shape_vec(IxDyn(&[3]), w.iter().map(|s| s.to_string()).collect()).unwrap())
    };
    let picked = run(&op("Select", 3, &[]), &[cond.clone(), words(&["a", "b", "c"]), words(&["x", "y", "z"])]).unwrap();
    assert_eq!(picked, words(&["a", "y", "c"]));
    let err = run(&op("Select", 3, &[]), &[cond, f32s(&[2], &[1., 2.]), Tensor::scalar(0.0f32)]).unwrap_err();
    assert!(err.contains("broadcast"), "{err}");
}

#[test]
fn convolutions_and_pools_by_hand() {
    let window = |op_name: &str, n: usize, padding: &str, extra: &[(&str, Attr)]| {
        let mut attrs = vec![("strides", ints(&[1, 1])), ("padding", Attr::Str(padding.into()))];
        attrs.extend(extra.iter().cloned());
        op(op_name, n, &attrs)
    };
    // A 3x3 image, one channel: 1..9.
    let x = f32s(&[1, 3, 3, 1], &[1., 2., 3., 4., 5., 6., 7., 8., 9.]);
    // A 2x2 filter summing its window, two output channels (x1, x10).
    let f = f32s(&[2, 2, 1, 2], &[1., 10., 1., 10., 1., 10., 1., 10.]);
    let valid = run(&window("Conv2D", 2, "VALID", &[]), &[x.clone(), f.clone()]).unwrap();
    assert_eq!(valid, f32s(&[1, 2, 2, 2], &[12., 120., 16., 160., 24., 240., 28., 280.]));
    // SAME with an even filter pads after: the last row and column see zeros.
    let same = run(&window("Conv2D", 2, "SAME", &[]), &[x.clone(), f]).unwrap();
    assert_eq!(same.shape(), &[1, 3, 3, 2]);
    let firsts: Vec<f32> = same.as_slice::<f32>().unwrap().iter().step_by(2).copied().collect();
    assert_eq!(firsts, [12., 16., 9., 24., 28., 15., 15., 17., 9.]);
    // SAME pools: a 2x2 max, and a 3x3 mean over what each window covers.
    let max = run(&window("MaxPool", 1, "SAME", &[("ksize", ints(&[2, 2]))]), &[x.clone()]).unwrap();
    assert_eq!(max, f32s(&[1, 3, 3, 1], &[5., 6., 6., 8., 9., 9., 8., 9., 9.]));
    // A hostile window (65536 x 65536 over 3 x 3) costs what it covers.
    let huge = run(&window("MaxPool", 1, "SAME", &[("ksize", ints(&[65536, 65536]))]), &[x.clone()]).unwrap();
    assert_eq!(huge, f32s(&[1, 3, 3, 1], &[9.; 9]));
    let avg = run(&window("AvgPool", 1, "SAME", &[("ksize", ints(&[3, 3]))]), &[x]).unwrap();
    assert_eq!(avg.as_slice::<f32>().unwrap()[..2], [3., 3.5]);
    // Refused attributes, naming what was expected.
    for (key, value, says) in [
        ("padding", Attr::Str("EXPLICIT".into()), "SAME"),
        ("strides", ints(&[0, 1]), "expected 2 ints"),
        ("strides", ints(&[1, 1, 1, 1]), "expected 2 ints"),
    ] {
        let mut node = Node::new("c", "Conv2D", &["x", "f"])
            .with("strides", ints(&[1, 1]))
            .with("padding", Attr::Str("VALID".into()));
        node.attrs.insert(key.into(), value);
        let err = Op::parse(&node, &Assets::new()).unwrap_err().to_string();
        assert!(err.contains(says), "{err}");
    }
}

#[test]
fn einsum_as_numpy_does() {
    let einsum = |eq: &str, a: Tensor, b: Tensor| run(&op("Einsum", 2, &[("equation", Attr::Str(eq.into()))]), &[a, b]);
    let a = f32s(&[2, 3], &[1., 2., 3., 4., 5., 6.]);
    let b = f32s(&[3, 2], &[1., 0., 0., 1., 1., 1.]);
    // A matrix product, its transpose, and sums of labels one input has alone.
    assert_eq!(einsum("ij,jk->ik", a.clone(), b.clone()).unwrap(), f32s(&[2, 2], &[4., 5., 10., 11.]));
    assert_eq!(einsum("ij,jk->ki", a.clone(), b.clone()).unwrap(), f32s(&[2, 2], &[4., 10., 5., 11.]));
    assert_eq!(einsum("ij,kl->i", a.clone(), b.clone()).unwrap(), f32s(&[2], &[24., 60.]));
    // A batch label shared by all three: row-wise dot products.
    assert_eq!(einsum("bi,bi->b", a.clone(), a.clone()).unwrap(), f32s(&[2], &[14., 77.]));
    let err = einsum("ij,jk->ik", a.clone(), a.clone()).unwrap_err();
    assert!(err.contains("label 'j' is 3") && err.contains("and 2"), "{err}");
    for (eq, says) in
        [("...ij,jk->ik", "\"...\""), ("ii,jk->ik", "repeated"), ("ij,jk->iz", "no input"), ("ij->i", "two operands")]
    {
        let node = Node::new("e", "Einsum", &["a", "b"]).with("equation", Attr::Str(eq.into()));
        let err = Op::parse(&node, &Assets::new()).unwrap_err().to_string();
        assert!(err.contains(says), "{eq}: {err}");
    }
}

#[test]
fn batched_matmul() {
    // Two batches: the identity, then twice it; the second input transposed.
    let a = f32s(&[2, 2, 2], &[1., 0., 0., 1., 2., 0., 0., 2.]);
    let b = f32s(&[2, 3, 2], &[1., 2., 3., 4., 5., 6., 1., 1., 1., 1., 1., 1.]);
    let mm = op("MatMul", 2, &[("transpose_b", Attr::Bool(true))]);
    let out = run(&mm, &[a, b]).unwrap();
    assert_eq!(out, f32s(&[2, 2, 3], &[1., 3., 5., 2., 4., 6., 2., 2., 2., 2., 2., 2.]));
    let err = run(&op("MatMul", 2, &[]), &[f32s(&[2, 2, 2], &[0.; 8]), f32s(&[3, 2, 2], &[0.; 12])]).unwrap_err();
    assert!(err.contains("label 'A'"), "{err}");
}

#[test]
fn pad() {
    let x = f32s(&[2, 2], &[1., 2., 3., 4.]);
    let padded = run(&op("Pad", 1, &[("paddings", ints(&[1, 0, 0, 2]))]), &[x.clone()]).unwrap();
    assert_eq!(padded, f32s(&[3, 4], &[0., 0., 0., 0., 1., 2., 0., 0., 3., 4., 0., 0.]));
    let with = op("Pad", 1, &[("paddings", ints(&[0, 1, 1, 0])), ("value", Attr::Tensor(Tensor::scalar(-1.0f32)))]);
    assert_eq!(run(&with, &[x]).unwrap(), f32s(&[3, 3], &[-1., 1., 2., -1., 3., 4., -1., -1., -1.]));
    for bad in [&[1i64, 2, 3][..], &[-1, 0]] {
        let node = Node::new("p", "Pad", &["x"]).with("paddings", ints(bad));
        assert!(Op::parse(&node, &Assets::new()).unwrap_err().to_string().contains("pairs of sizes"));
    }
}

#[test]
fn comparisons_and_logic() {
    let a = f32s(&[2, 2], &[1., 2., f32::NAN, 4.]);
    let b = Tensor::scalar(2.0f32);
    let bools = |t: Tensor| t.as_slice::<bool>().unwrap().to_vec();
    let cmp = |name: &str| bools(run(&op(name, 2, &[]), &[a.clone(), b.clone()]).unwrap());
    assert_eq!(cmp("Less"), [true, false, false, false]);
    assert_eq!(cmp("LessEqual"), [true, true, false, false]);
    assert_eq!(cmp("Greater"), [false, false, false, true]);
    assert_eq!(cmp("GreaterEqual"), [false, true, false, true]);
    let p = Tensor::from(array![[true, false], [true, true]]);
    let q = Tensor::from(array![true, false]);
    assert_eq!(bools(run(&op("LogicalAnd", 2, &[]), &[p.clone(), q.clone()]).unwrap()), [true, false, true, false]);
    assert_eq!(bools(run(&op("LogicalOr", 2, &[]), &[p.clone(), q]).unwrap()), [true, false, true, true]);
    assert_eq!(bools(run(&op("LogicalNot", 1, &[]), &[p]).unwrap()), [false, true, false, false]);
    let err = run(&op("Less", 2, &[]), &[Tensor::from(array![true]), Tensor::from(array![false])]).unwrap_err();
    assert!(err.contains("numeric"), "{err}");
}

#[test]
fn run_time_shapes_tiles_and_strings() {
    let x = Tensor::from(array![[1i64, -2, 3]]);
    let shape = run(&op("Shape", 1, &[]), &[x.clone()]).unwrap();
    assert_eq!(shape, Tensor::from(array![1i64, 3]));
    let tiled = run(&op("TileBy", 2, &[]), &[x.clone(), Tensor::from(array![2i32, 1])]).unwrap();
    assert_eq!(tiled, Tensor::from(array![[1i64, -2, 3], [1, -2, 3]]));
    let err = run(&op("TileBy", 2, &[]), &[x.clone(), Tensor::from(array![-1i64, 1])]).unwrap_err();
    assert!(err.contains(">= 0"), "{err}");
    // As TensorFlow's tf.strings.as_string writes them.
    let text = |t: Tensor| run(&op("AsString", 1, &[]), &[t]).unwrap().as_slice::<opset::Bytes>().unwrap().to_vec();
    assert_eq!(text(x), ["1", "-2", "3"]);
    assert_eq!(
        text(f32s(&[5], &[1.5, -0.25, 1e10, f32::NAN, f32::INFINITY])),
        ["1.500000", "-0.250000", "10000000000.000000", "nan", "inf"]
    );
    assert_eq!(text(Tensor::from(array![true, false])), ["true", "false"]);
}

#[test]
fn key_value_tables() {
    let strings = |w: &[&str]| {
        Tensor::from(ArrayD::from_shape_vec(IxDyn(&[w.len()]), w.iter().map(|s| s.to_string()).collect()).unwrap())
    };
    let table = |keys: &[&str], values: Vec<i64>| {
        Node::new("t", "TableLookup", &["w"])
            .with("keys", Attr::Tensor(strings(keys)))
            .with("values", Attr::Tensor(Tensor::from_vec(vec![values.len()], values).unwrap()))
            .with("default_value", Attr::Int(0))
    };
    let lookup = Op::parse(&table(&["the", "cat"], vec![1, 2]), &Assets::new()).unwrap();
    let ids = run(&lookup, &[strings(&["cat", "dog", "the"])]).unwrap();
    assert_eq!(ids.as_slice::<i64>().unwrap(), [2, 0, 1]);
    // Integer keys (Keras's IntegerLookup).
    let ints = Node::new("t", "TableLookup", &["w"])
        .with("keys", Attr::Tensor(Tensor::from(array![10i64, 20])))
        .with("values", Attr::Tensor(Tensor::from(array![1i64, 2])))
        .with("default_value", Attr::Int(0));
    let ids = run(&Op::parse(&ints, &Assets::new()).unwrap(), &[Tensor::from(array![20i64, 99])]).unwrap();
    assert_eq!(ids.as_slice::<i64>().unwrap(), [2, 0]);
    let err = Op::parse(&table(&["a", "a"], vec![1, 2]), &Assets::new()).unwrap_err().to_string();
    assert!(err.contains("\"a\" appears twice"), "{err}");
    let err = Op::parse(&table(&["a"], vec![1, 2]), &Assets::new()).unwrap_err().to_string();
    assert!(err.contains("1 keys but 2 values"), "{err}");
}

#[test]
fn bad_vocabularies_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::new("lookup", "VocabLookup", &["w"])
        .with("asset", Attr::Str("v.txt".into()))
        .with("num_oov_buckets", Attr::Int(1))
        .with("default_value", Attr::Int(-1));
    let mut assets = Assets::new();
    assets.insert("v.txt", dir.path().join("v.txt")).unwrap();
    let err = Op::parse(&node, &assets).unwrap_err().to_string();
    assert!(err.contains("lookup") && err.contains("v.txt"), "missing file: {err}");
    std::fs::write(dir.path().join("v.txt"), "").unwrap();
    assert!(Op::parse(&node, &assets).unwrap_err().to_string().contains("empty"));
    std::fs::write(dir.path().join("v.txt"), "a\nb\na\n").unwrap();
    assert!(Op::parse(&node, &assets).unwrap_err().to_string().contains("line 1 and again on line 3"));
    assert!(assets.insert("../etc/passwd", "/etc/passwd").is_err());
}

#[test]
fn kernels_reuse_the_output_allocation() {
    let add = op("Add", 2, &[]);
    let a = f32s(&[3], &[1., 2., 3.]);
    let mut out = Tensor::empty(DataType::F32);
    add.eval(&[&a, &a], &mut out).unwrap();
    let ptr = out.as_slice::<f32>().unwrap().as_ptr();
    add.eval(&[&a, &a], &mut out).unwrap();
    assert_eq!(out.as_slice::<f32>().unwrap().as_ptr(), ptr);
    assert_eq!(out, f32s(&[3], &[2., 4., 6.]));
}

#[test]
fn placeholder_shape_attr() {
    let p = op(
        "Placeholder",
        0,
        &[("dtype", Attr::Type(DataType::F32)), ("shape", Attr::Shape(Shape(vec![None, Some(1)])))],
    );
    assert!(matches!(p, Op::Placeholder(_)));
}

#[test]
fn strided_slice_follows_python_and_tensorflow_masks() {
    let x = Tensor::from(ndarray::Array2::from_shape_fn((3, 4), |(i, j)| (i * 10 + j) as f32));
    let slice = |begin: &[i64], end: &[i64], strides: &[i64], masks: [i64; 3]| {
        op(
            "StridedSlice",
            1,
            &[
                ("begin", ints(begin)),
                ("end", ints(end)),
                ("strides", ints(strides)),
                ("begin_mask", Attr::Int(masks[0])),
                ("end_mask", Attr::Int(masks[1])),
                ("shrink_axis_mask", Attr::Int(masks[2])),
            ],
        )
    };
    // x[:, :1]
    assert_eq!(
        run(&slice(&[0, 0], &[0, 1], &[1, 1], [3, 1, 0]), &[x.clone()]).unwrap(),
        f32s(&[3, 1], &[0., 10., 20.])
    );
    // x[1] (shrink)
    assert_eq!(run(&slice(&[1], &[2], &[1], [0, 0, 1]), &[x.clone()]).unwrap(), f32s(&[4], &[10., 11., 12., 13.]));
    // x[::-1, -1]
    assert_eq!(run(&slice(&[0, -1], &[0, 0], &[-1, 1], [1, 1, 2]), &[x.clone()]).unwrap(), f32s(&[3], &[23., 13., 3.]));
    // x[0:3:2, 1:100:2] (clamped)
    assert_eq!(
        run(&slice(&[0, 1], &[3, 100], &[2, 2], [0, 0, 0]), &[x.clone()]).unwrap(),
        f32s(&[2, 2], &[1., 3., 21., 23.])
    );
    assert!(run(&slice(&[5], &[6], &[1], [0, 0, 1]), &[x.clone()]).unwrap_err().contains("out of range"));
    assert!(run(&slice(&[0], &[1], &[0], [0, 0, 0]), &[x]).unwrap_err().contains("stride 0"));
}

#[test]
fn comparisons_broadcast_over_any_dtype() {
    let words = Tensor::strings(vec![2, 3], ["good", "movie", "", "bad", "", ""].map(String::from).to_vec()).unwrap();
    let pad = Tensor::scalar(opset::Bytes::new());
    let mask = run(&op("NotEqual", 2, &[]), &[words.clone(), pad.clone()]).unwrap();
    assert_eq!(mask, Tensor::from(ndarray::array![[true, true, false], [true, false, false]]));
    let eq = run(&op("Equal", 2, &[]), &[words, pad]).unwrap();
    assert_eq!(eq.as_slice::<bool>().unwrap(), [false, false, true, false, true, true]);
    let nan = run(&op("Equal", 2, &[]), &[f32s(&[2], &[f32::NAN, 1.0]), f32s(&[1], &[1.0])]).unwrap();
    assert_eq!(nan.as_slice::<bool>().unwrap(), [false, true]);
}

#[test]
fn maximum_minimum_transpose_and_extreme_reductions() {
    let a = f32s(&[3], &[1., f32::NAN, -2.]);
    let b = Tensor::scalar(0.0f32);
    let max = run(&op("Maximum", 2, &[]), &[a.clone(), b.clone()]).unwrap();
    let max = max.as_slice::<f32>().unwrap();
    assert_eq!((max[0], max[2]), (1., 0.));
    assert!(max[1].is_nan(), "NaN propagates");
    assert_eq!(run(&op("Minimum", 2, &[]), &[f32s(&[2], &[1., -2.]), b]).unwrap(), f32s(&[2], &[0., -2.]));
    let x = Tensor::from(ndarray::Array3::from_shape_fn((2, 3, 4), |(i, j, k)| (i * 100 + j * 10 + k) as f32));
    let t = run(&op("Transpose", 1, &[("perm", ints(&[2, 0, 1]))]), &[x.clone()]).unwrap();
    assert_eq!(t.shape(), &[4, 2, 3]);
    assert_eq!(t.as_f32().unwrap()[[3, 1, 2]], 123.);
    assert!(Op::parse(&Node::new("t", "Transpose", &["x"]).with("perm", ints(&[0, 0, 1])), &Assets::new()).is_err());
    let m = run(&op("ReduceMax", 1, &[("axes", ints(&[1, 2]))]), &[x.clone()]).unwrap();
    assert_eq!(m, f32s(&[2], &[23., 123.]));
    let m = run(&op("ReduceMin", 1, &[("axes", ints(&[0]))]), &[Tensor::from(ndarray::array![[3i64, -1], [2, 5]])])
        .unwrap();
    assert_eq!(m, Tensor::from(ndarray::array![2i64, -1]));
    let sp = run(&op("Softplus", 1, &[]), &[f32s(&[3], &[0., 100., -100.])]).unwrap();
    let sp = sp.as_slice::<f32>().unwrap();
    assert!(
        (sp[0] - std::f32::consts::LN_2).abs() < 1e-6 && (sp[1] - 100.).abs() < 1e-4 && sp[2] >= 0. && sp[2] < 1e-30
    ); // What TensorFlow 2.15 answers for tf.nn.elu, tf.nn.selu and tf.math.erf.
    let x = f32s(&[5], &[-2.0, -0.5, 0.0, 0.7, 3.0]);
    for (name, want) in [
        ("Elu", [-0.86466473, -0.39346933, 0.0, 0.7, 3.0]),
        ("Selu", [-1.5201665, -0.69175816, 0.0, 0.7354907, 3.152103]),
        ("Erf", [-0.9953222, -0.5204999, 0.0, 0.67780113, 0.99997777]),
    ] {
        let got = run(&op(name, 1, &[]), &[x.clone()]).unwrap();
        for (a, b) in got.as_slice::<f32>().unwrap().iter().zip(want) {
            assert!((a - b).abs() <= 1e-6, "{name}: {a}, TensorFlow {b}");
        }
    }
}
