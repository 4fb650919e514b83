//! The predictor's compiled plan (folding, fused dense layers, matrix-vector
//! and matrix-matrix paths) against `opset`'s reference kernels.

use std::path::Path;

use estimator_rs::mlp::{mlp, mlp_input, write_mlp};
use estimator_rs::reference::reference_outputs;
use export::TensorInfo;
use opset::{Assets, Attr, DataType, Node, Shape, Tensor};
use predictor::Predictor;

fn assert_close(version: &Path, inputs: &[(&str, Tensor)], tolerance: f32) {
    let predict_fn = Predictor::from_saved_model(version).unwrap();
    let got = predict_fn.predict(inputs).unwrap();
    let want = reference_outputs(version, "serving_default", inputs).unwrap();
    for (key, want) in &want {
        let got = &got[key.as_str()];
        assert_eq!(got.shape(), want.shape(), "{key}");
        for (i, (a, b)) in got.as_slice::<f32>().unwrap().iter().zip(want.as_slice::<f32>().unwrap()).enumerate() {
            assert!((a - b).abs() <= tolerance * b.abs().max(1.0), "{key}[{i}]: plan {a}, reference {b}");
        }
    }
}

#[test]
fn mlp_matches_the_reference_at_batch_1_7_and_256() {
    let base = tempfile::tempdir().unwrap();
    let version = write_mlp(base.path(), &[784, 512, 512, 10], 1).unwrap();
    // 1, 7 and 256 as asked; 2, 3 and 39 for every block of rows the
    // streamed kernel has; 40, the first packed product.
    for batch in [1, 2, 3, 7, 39, 40, 256] {
        assert_close(&version, &[("x", mlp_input(batch, 784))], 1e-5);
    }
    let p = Predictor::from_saved_model(&version).unwrap();
    // Three fused dense layers (the last without activation) and the softmax.
    assert_eq!(p.plan_len(), 4);
    // Layers split between threads (in two, or unevenly in three: the sum
    // over k for a few rows, the columns for many) give the answers of one
    // thread, up to the order of the additions.
    let load = |threads| Predictor::load(&version, &predictor::LoadOptions { threads, ..Default::default() }).unwrap();
    let (alone, split) = (load(1), [load(2), load(3)]);
    for batch in [1, 7, 39, 256] {
        let x = [("x", mlp_input(batch, 784))];
        let want = alone.predict(&x).unwrap();
        for p in &split {
            let got = p.predict(&x).unwrap();
            let (got, want) = (got["probs"].as_slice::<f32>().unwrap(), want["probs"].as_slice::<f32>().unwrap());
            assert_eq!(got.len(), want.len());
            for (a, b) in got.iter().zip(want) {
                assert!((a - b).abs() <= 1e-6, "batch {batch}: split {a}, one thread {b}");
            }
        }
    }
}

/// Rewrites the MLP's graph with `edit`, writes it, and returns the version.
fn variant(base: &Path, edit: impl FnOnce(&mut Vec<Node>, &mut export::Signature)) -> std::path::PathBuf {
    let (mut model, weights) = mlp(&[6, 5, 3], 9);
    let meta = &mut model.meta_graphs[0];
    let mut signature = meta.signatures["serving_default"].clone();
    edit(&mut meta.graph.nodes, &mut signature);
    meta.signatures.insert("serving_default".into(), signature);
    let refs: Vec<(&str, &Tensor)> = weights.iter().map(|(n, t)| (n.as_str(), t)).collect();
    export::write_artifact(base, &model, &refs, &Assets::new()).unwrap()
}

#[test]
fn fusion_variants_match_the_reference() {
    let base = tempfile::tempdir().unwrap();
    let input = [("x", mlp_input(3, 6))];
    // Bias through Add instead of BiasAdd.
    let v = variant(base.path(), |nodes, _| {
        for n in nodes.iter_mut().filter(|n| n.op == "BiasAdd") {
            n.op = "Add".into();
        }
    });
    assert_close(&v, &input, 1e-6);
    // An intermediate value that is also an output: it must not be fused away.
    let v = variant(base.path(), |_, sig| {
        let info =
            TensorInfo { name: "dense_0/MatMul:0".into(), dtype: DataType::F32, shape: Shape(vec![None, Some(5)]) };
        sig.outputs.insert("hidden".into(), info);
    });
    assert_close(&v, &input, 1e-6);
    // Weights used transposed (`transpose_b`): laid out once at load.
    let v = variant(base.path(), |nodes, _| {
        let w = Tensor::from(ndarray::Array2::from_shape_fn((5, 6), |(i, j)| (i as f32 - j as f32) / 10.0));
        for n in nodes.iter_mut() {
            if n.name == "dense_0/kernel" {
                *n = Node::new("dense_0/kernel", "Const", &[]).with("value", Attr::Tensor(w.clone()));
            }
            if n.name == "dense_0/MatMul" {
                n.attrs.insert("transpose_b".into(), Attr::Bool(true));
            }
        }
    });
    assert_close(&v, &input, 1e-6);
}

#[test]
fn constants_are_folded_at_load() {
    let base = tempfile::tempdir().unwrap();
    // A weight computed from constants: w = reshape(c) * 2.
    let v = variant(base.path(), |nodes, _| {
        let c = Tensor::from_vec(vec![30], (0..30).map(|i| i as f32 / 30.0).collect()).unwrap();
        for n in nodes.iter_mut() {
            if n.name == "dense_0/kernel" {
                *n = Node::new("dense_0/kernel", "Mul", &["w_flat_shaped", "two"]);
            }
        }
        nodes.push(Node::new("w_flat", "Const", &[]).with("value", Attr::Tensor(c)));
        nodes.push(Node::new("w_flat_shaped", "Reshape", &["w_flat"]).with("shape", Attr::Ints(vec![6, 5])));
        nodes.push(Node::new("two", "Const", &[]).with("value", Attr::Tensor(Tensor::scalar(2.0f32))));
    });
    assert_close(&v, &[("x", mlp_input(2, 6))], 1e-6);
    let p = Predictor::from_saved_model(&v).unwrap();
    assert_eq!(p.plan_len(), 3, "the weight's Reshape and Mul are folded, not run per call");
}

#[test]
fn a_placeholder_the_signature_does_not_feed_is_refused_at_load() {
    let base = tempfile::tempdir().unwrap();
    let v = variant(base.path(), |nodes, _| {
        nodes.push(
            Node::new("other", "Placeholder", &[])
                .with("dtype", Attr::Type(DataType::F32))
                .with("shape", Attr::Shape(Shape::known(&[1]))),
        );
        for n in nodes.iter_mut().filter(|n| n.name == "dense_0/BiasAdd") {
            n.op = "Add".into();
            n.inputs[1] = "other".into();
        }
    });
    let err = Predictor::from_saved_model(&v).unwrap_err().to_string();
    assert!(err.contains("\"other\"") && err.contains("does not feed"), "{err}");
}

#[test]
fn outputs_of_another_model_are_refused() {
    let base = tempfile::tempdir().unwrap();
    let a = Predictor::from_saved_model(write_mlp(base.path(), &[4, 2], 1).unwrap()).unwrap();
    let b = Predictor::from_saved_model(variant(base.path(), |_, sig| {
        sig.outputs = [("y".to_owned(), sig.outputs["probs"].clone())].into();
    }))
    .unwrap();
    let mut foreign = b.new_outputs();
    let err = a.predict_into(&[("x", mlp_input(1, 4))], &mut foreign).unwrap_err();
    assert!(matches!(err, predictor::Error::OutputsMismatch { .. }), "{err}");
}

#[test]
fn a_tile_feeding_a_matmul_is_folded_into_its_weights() {
    let base = tempfile::tempdir().unwrap();
    // x: [?, 2] tiled to [?, 6], times a [6, 5] kernel: becomes x @ W' with W' [2, 5].
    let (mut model, weights) = mlp(&[6, 5, 3], 4);
    let meta = &mut model.meta_graphs[0];
    for n in meta.graph.nodes.iter_mut() {
        if n.name == "x" {
            n.attrs.insert("shape".into(), Attr::Shape(Shape(vec![None, Some(2)])));
        }
        if n.name == "dense_0/MatMul" {
            n.inputs[0] = "tiled".into();
        }
    }
    meta.graph.nodes.push(Node::new("tiled", "Tile", &["x"]).with("multiples", Attr::Ints(vec![1, 3])));
    let sig = meta.signatures.get_mut("serving_default").unwrap();
    sig.inputs.get_mut("x").unwrap().shape = Shape(vec![None, Some(2)]);
    let refs: Vec<(&str, &Tensor)> = weights.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let v = export::write_artifact(base.path(), &model, &refs, &Assets::new()).unwrap();
    for batch in [1, 5, 40] {
        assert_close(&v, &[("x", mlp_input(batch, 2))], 1e-5);
    }
    assert_eq!(Predictor::from_saved_model(&v).unwrap().plan_len(), 3, "dense, dense, softmax: no tile step");
}

#[test]
fn outputs_that_are_inputs_or_constants_come_back_from_every_call_path() {
    let base = tempfile::tempdir().unwrap();
    let v = variant(base.path(), |nodes, sig| {
        nodes.push(Node::new("answer", "Const", &[]).with("value", Attr::Tensor(Tensor::scalar(42.0f32))));
        let info = |name: &str, shape| TensorInfo { name: name.into(), dtype: DataType::F32, shape };
        sig.outputs.insert("echo".into(), info("x:0", Shape(vec![None, Some(6)])));
        sig.outputs.insert("answer".into(), info("answer", Shape(vec![])));
    });
    let p = Predictor::from_saved_model(&v).unwrap();
    let x = mlp_input(2, 6);
    let inputs = [("x", x.clone())];
    let out = p.predict(&inputs).unwrap();
    let mut buffers = p.new_outputs();
    p.predict_into(&inputs, &mut buffers).unwrap();
    let mut session = p.session();
    let in_place = session.run(&inputs).unwrap();
    for key in ["echo", "answer", "probs"] {
        assert_eq!(out[key], buffers[key], "{key}");
        assert_eq!(out[key], in_place[key], "{key}");
    }
    assert_eq!(out["echo"], x);
    assert_eq!(out["answer"], Tensor::scalar(42.0f32));
}

/// An image model of fused convolutions (SAME with dilation, VALID with
/// uneven strides, with and without bias and ReLU) and pools, seeded.
fn cnn(base: &Path) -> std::path::PathBuf {
    let (mut model, _) = mlp(&[4, 2], 1);
    let meta = &mut model.meta_graphs[0];
    let var = |name: &str, shape: &[usize]| {
        Node::new(name, "Variable", &[])
            .with("dtype", Attr::Type(DataType::F32))
            .with("shape", Attr::Shape(Shape::known(shape)))
    };
    let ints = |v: &[i64]| Attr::Ints(v.to_vec());
    let conv = |name: &str, x: &str, f: &str, strides: &[i64], dilations: &[i64], padding: &str| {
        Node::new(name, "Conv2D", &[x, f])
            .with("strides", ints(strides))
            .with("dilations", ints(dilations))
            .with("padding", Attr::Str(padding.into()))
    };
    meta.graph.nodes = vec![
        Node::new("image", "Placeholder", &[])
            .with("dtype", Attr::Type(DataType::F32))
            .with("shape", Attr::Shape(Shape(vec![None, Some(9), Some(8), Some(3)]))),
        var("f1", &[3, 3, 3, 5]),
        var("b1", &[5]),
        var("f2", &[2, 3, 5, 4]),
        conv("conv1", "image", "f1", &[1, 1], &[2, 1], "SAME"),
        Node::new("bias1", "BiasAdd", &["conv1", "b1"]),
        Node::new("relu1", "Relu", &["bias1"]),
        Node::new("pool", "MaxPool", &["relu1"])
            .with("ksize", ints(&[2, 2]))
            .with("strides", ints(&[2, 2]))
            .with("padding", Attr::Str("SAME".into())),
        conv("conv2", "pool", "f2", &[2, 1], &[1, 1], "VALID"),
        Node::new("features", "AvgPool", &["conv2"])
            .with("ksize", ints(&[2, 2]))
            .with("strides", ints(&[1, 1]))
            .with("padding", Attr::Str("SAME".into())),
    ];
    let info = |name: &str| TensorInfo { name: name.into(), dtype: DataType::F32, shape: Shape(vec![None; 4]) };
    let signature = meta.signatures.get_mut("serving_default").unwrap();
    signature.inputs = [("image".to_owned(), info("image:0"))].into();
    signature.outputs = [("features".to_owned(), info("features:0"))].into();
    let uniform = |name: &str, shape: &[usize]| {
        (name.to_owned(), estimator::Initializer::Uniform { min: -1.0, max: 1.0 }.value(name, DataType::F32, shape, 5))
    };
    let weights = [uniform("f1", &[3, 3, 3, 5]), uniform("b1", &[5]), uniform("f2", &[2, 3, 5, 4])];
    let refs: Vec<(&str, &Tensor)> = weights.iter().map(|(n, t)| (n.as_str(), t)).collect();
    export::write_artifact(base, &model, &refs, &Assets::new()).unwrap()
}

#[test]
fn convolutions_match_the_reference() {
    let base = tempfile::tempdir().unwrap();
    let version = cnn(base.path());
    // Conv + BiasAdd + Relu fused, the pool, the second convolution, the pool.
    assert_eq!(Predictor::from_saved_model(&version).unwrap().plan_len(), 4);
    for batch in [1, 3] {
        let image: Vec<f32> = (0..batch * 9 * 8 * 3).map(|i| ((i * 7919) % 23) as f32 / 11.0 - 1.0).collect();
        assert_close(&version, &[("image", Tensor::from_vec(vec![batch, 9, 8, 3], image).unwrap())], 1e-5);
    }
}

#[test]
fn a_shape_nothing_else_needs_the_value_of_comes_from_shape_rules() {
    // `zeros_like(tanh(x) @ W)` as TensorFlow's importer writes it: the
    // product's value is never computed, its shape is.
    let base = tempfile::tempdir().unwrap();
    let plain = Predictor::from_saved_model(variant(base.path(), |_, _| {})).unwrap();
    let v = variant(base.path(), |nodes, sig| {
        let cell = Tensor::from_vec(vec![1, 1], vec![0.0f32]).unwrap();
        nodes.extend([
            Node::new("side/tanh", "Tanh", &["x"]),
            Node::new("side/matmul", "MatMul", &["side/tanh", "dense_0/kernel"]),
            Node::new("zeros/shape", "Shape", &["side/matmul"]),
            Node::new("zeros/cell", "Const", &[]).with("value", Attr::Tensor(cell)),
            Node::new("zeros", "TileBy", &["zeros/cell", "zeros/shape"]),
        ]);
        let info = TensorInfo { name: "zeros:0".into(), dtype: DataType::F32, shape: Shape(vec![None, Some(5)]) };
        sig.outputs.insert("zeros".into(), info);
    });
    for batch in [1, 3, 3, 8] {
        assert_close(&v, &[("x", mlp_input(batch, 6))], 1e-6);
    }
    // One step for the shape and one for the tile; none for tanh or the product.
    assert_eq!(Predictor::from_saved_model(&v).unwrap().plan_len(), plain.plan_len() + 2);
}

#[test]
fn rows_reshaped_for_a_product_are_read_in_place() {
    // Keras's Dense over a sequence: `reshape(x, [-1, k]) @ W` of a
    // `[batch, steps, k]` input; the dense kernel reads the rows itself.
    let base = tempfile::tempdir().unwrap();
    let plain = Predictor::from_saved_model(variant(base.path(), |_, _| {})).unwrap();
    let v = variant(base.path(), |nodes, sig| {
        nodes.extend([
            Node::new("seq", "Placeholder", &[])
                .with("dtype", Attr::Type(DataType::F32))
                .with("shape", Attr::Shape(Shape(vec![None, Some(2), Some(6)]))),
            Node::new("seq/rows", "Reshape", &["seq"]).with("shape", Attr::Ints(vec![-1, 6])),
            Node::new("seq/matmul", "MatMul", &["seq/rows", "dense_0/kernel"]),
        ]);
        let seq = TensorInfo { name: "seq:0".into(), dtype: DataType::F32, shape: Shape(vec![None, Some(2), Some(6)]) };
        sig.inputs.insert("seq".into(), seq);
        let out = TensorInfo { name: "seq/matmul:0".into(), dtype: DataType::F32, shape: Shape(vec![None, Some(5)]) };
        sig.outputs.insert("per_step".into(), out);
    });
    for batch in [1, 3] {
        let seq =
            Tensor::from_vec(vec![batch, 2, 6], (0..batch * 12).map(|i| (i as f32 - 7.0) / 5.0).collect()).unwrap();
        assert_close(&v, &[("x", mlp_input(batch, 6)), ("seq", seq)], 1e-6);
    }
    assert_eq!(Predictor::from_saved_model(&v).unwrap().plan_len(), plain.plan_len() + 1, "one dense step, no copy");
}
