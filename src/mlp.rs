//! Multi-layer perceptrons written straight through `export`, without
//! training: `x: f32[?, sizes[0]]` -> dense + ReLU ... -> dense + softmax
//! -> `probs`, with seeded Glorot-uniform weights. For benches and tests of
//! real model sizes (784-512-512-10, or ~100 MB).

use std::path::{Path, PathBuf};

use estimator::Initializer;
use export::{DEFAULT_SIGNATURE, MetaGraph, PREDICT_METHOD, SavedModel, Signature, TensorInfo};
use opset::{Assets, Attr, DataType, Graph, Node, Shape, Tensor};

/// The graph, signature and weights of an MLP with layer sizes `sizes`
/// (`[784, 512, 512, 10]`: three dense layers).
pub fn mlp(sizes: &[usize], seed: u64) -> (SavedModel, Vec<(String, Tensor)>) {
    let f32_var = |name: &str, shape: &[usize]| {
        Node::new(name, "Variable", &[])
            .with("dtype", Attr::Type(DataType::F32))
            .with("shape", Attr::Shape(Shape::known(shape)))
    };
    let mut nodes = vec![
        Node::new("x", "Placeholder", &[])
            .with("dtype", Attr::Type(DataType::F32))
            .with("shape", Attr::Shape(Shape(vec![None, Some(sizes[0])]))),
    ];
    let mut weights = Vec::new();
    let mut last = "x".to_owned();
    let layers = sizes.len() - 1;
    for (l, pair) in sizes.windows(2).enumerate() {
        let (w, b) = (format!("dense_{l}/kernel"), format!("dense_{l}/bias"));
        nodes.push(f32_var(&w, pair));
        nodes.push(f32_var(&b, &pair[1..]));
        let mm = format!("dense_{l}/MatMul");
        let add = format!("dense_{l}/BiasAdd");
        nodes.push(Node::new(&mm, "MatMul", &[&last, &w]));
        nodes.push(Node::new(&add, "BiasAdd", &[&mm, &b]));
        let act = if l + 1 == layers { "probs".to_owned() } else { format!("dense_{l}/Relu") };
        nodes.push(Node::new(&act, if l + 1 == layers { "Softmax" } else { "Relu" }, &[&add]));
        weights.push((w.clone(), Initializer::GlorotUniform.value(&w, DataType::F32, pair, seed)));
        weights
            .push((b.clone(), Initializer::Uniform { min: -0.1, max: 0.1 }.value(&b, DataType::F32, &pair[1..], seed)));
        last = act;
    }
    let info = |name: &str, n: usize| TensorInfo {
        name: name.into(),
        dtype: DataType::F32,
        shape: Shape(vec![None, Some(n)]),
    };
    let signature = Signature {
        method_name: PREDICT_METHOD.into(),
        inputs: [("x".to_owned(), info("x:0", sizes[0]))].into(),
        outputs: [("probs".to_owned(), info("probs:0", sizes[layers]))].into(),
    };
    let model = SavedModel {
        meta_graphs: vec![MetaGraph {
            tags: vec!["serve".into()],
            graph: Graph { nodes },
            signatures: [(DEFAULT_SIGNATURE.to_owned(), signature)].into(),
            assets: vec![],
        }],
    };
    (model, weights)
}

/// Writes the MLP of `sizes` as a new version under `base`.
///
/// # Errors
/// Whatever writing the artifact reports.
pub fn write_mlp(base: &Path, sizes: &[usize], seed: u64) -> export::Result<PathBuf> {
    let (model, weights) = mlp(sizes, seed);
    let refs: Vec<(&str, &Tensor)> = weights.iter().map(|(n, t)| (n.as_str(), t)).collect();
    export::write_artifact(base, &model, &refs, &Assets::new())
}

/// The input the benches and tests feed: `x[i, j] = ((i * n + j) mod 17) / 17 - 0.5`,
/// as the TensorFlow fixture's `expected.json` was computed.
pub fn mlp_input(batch: usize, n: usize) -> Tensor {
    Tensor::from(ndarray::Array2::from_shape_fn((batch, n), |(i, j)| ((i * n + j) % 17) as f32 / 17.0 - 0.5))
}

/// The layers of [`mlp`]'s weights as ndarray matrices and vectors, for the
/// hand-written baseline.
pub fn by_hand_layers(sizes: &[usize], seed: u64) -> Vec<(ndarray::Array2<f32>, ndarray::Array1<f32>)> {
    let (_, weights) = mlp(sizes, seed);
    let matrix = |t: &Tensor| t.view::<f32>().ok().and_then(|v| v.into_dimensionality().ok()).map(|v| v.to_owned());
    let vector = |t: &Tensor| t.view::<f32>().ok().and_then(|v| v.into_dimensionality().ok()).map(|v| v.to_owned());
    weights.chunks(2).filter_map(|wb| Some((matrix(&wb[0].1)?, vector(&wb[1].1)?))).collect()
}

/// The MLP by hand with ndarray, as one would write it without a framework:
/// `x.dot(w) + b`, ReLU, ..., softmax.
pub fn by_hand(
    x: &ndarray::Array2<f32>,
    layers: &[(ndarray::Array2<f32>, ndarray::Array1<f32>)],
) -> ndarray::Array2<f32> {
    let mut h = x.clone();
    for (i, (w, b)) in layers.iter().enumerate() {
        h = h.dot(w) + b;
        if i + 1 < layers.len() {
            h.mapv_inplace(|v| v.max(0.0));
        }
    }
    for mut row in h.axis_iter_mut(ndarray::Axis(0)) {
        let max = row.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        row.mapv_inplace(|v| (v - max).exp());
        let sum = row.sum();
        row.mapv_inplace(|v| v / sum);
    }
    h
}
