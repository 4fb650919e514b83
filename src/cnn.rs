//! A small image model written straight through `export`, without
//! training, for benches: MNIST-sized `image: f32[?, 28, 28, 1]` -> conv
//! 3x3x32 SAME + bias + ReLU -> max pool 2x2 -> conv 3x3x64 SAME + bias +
//! ReLU -> max pool 2x2 -> `features: f32[?, 7, 7, 64]`, seeded weights.

use std::path::{Path, PathBuf};

use estimator::Initializer;
use export::{DEFAULT_SIGNATURE, MetaGraph, PREDICT_METHOD, SavedModel, Signature, TensorInfo};
use opset::{Assets, Attr, DataType, Graph, Node, Shape, Tensor};

/// Writes the model as a new version under `base`.
///
/// # Errors
/// Whatever writing the artifact reports.
pub fn write_cnn(base: &Path, seed: u64) -> export::Result<PathBuf> {
    let ints = |v: &[i64]| Attr::Ints(v.to_vec());
    let same = || Attr::Str("SAME".into());
    let mut nodes = vec![
        Node::new("image", "Placeholder", &[])
            .with("dtype", Attr::Type(DataType::F32))
            .with("shape", Attr::Shape(Shape(vec![None, Some(28), Some(28), Some(1)]))),
    ];
    let mut weights = Vec::new();
    let mut last = "image".to_owned();
    for (l, (c, f)) in [(1usize, 32usize), (32, 64)].into_iter().enumerate() {
        let (filter, bias) = (format!("conv_{l}/kernel"), format!("conv_{l}/bias"));
        for (name, shape) in [(&filter, vec![3, 3, c, f]), (&bias, vec![f])] {
            nodes.push(
                Node::new(name, "Variable", &[])
                    .with("dtype", Attr::Type(DataType::F32))
                    .with("shape", Attr::Shape(Shape::known(&shape))),
            );
            weights.push((name.clone(), Initializer::GlorotUniform.value(name, DataType::F32, &shape, seed)));
        }
        let names = ["Conv2D", "BiasAdd", "Relu", "MaxPool"].map(|op| format!("conv_{l}/{op}"));
        nodes.push(
            Node::new(&names[0], "Conv2D", &[&last, &filter]).with("strides", ints(&[1, 1])).with("padding", same()),
        );
        nodes.push(Node::new(&names[1], "BiasAdd", &[&names[0], &bias]));
        nodes.push(Node::new(&names[2], "Relu", &[&names[1]]));
        nodes.push(
            Node::new(&names[3], "MaxPool", &[&names[2]])
                .with("ksize", ints(&[2, 2]))
                .with("strides", ints(&[2, 2]))
                .with("padding", same()),
        );
        last = names[3].clone();
    }
    let info = |name: &str, dims: [usize; 3]| TensorInfo {
        name: name.into(),
        dtype: DataType::F32,
        shape: Shape(std::iter::once(None).chain(dims.map(Some)).collect()),
    };
    let signature = Signature {
        method_name: PREDICT_METHOD.into(),
        inputs: [("image".to_owned(), info("image:0", [28, 28, 1]))].into(),
        outputs: [("features".to_owned(), info(&format!("{last}:0"), [7, 7, 64]))].into(),
    };
    let model = SavedModel {
        meta_graphs: vec![MetaGraph {
            tags: vec!["serve".into()],
            graph: Graph { nodes },
            signatures: [(DEFAULT_SIGNATURE.to_owned(), signature)].into(),
            assets: vec![],
        }],
    };
    let refs: Vec<(&str, &Tensor)> = weights.iter().map(|(n, t)| (n.as_str(), t)).collect();
    export::write_artifact(base, &model, &refs, &Assets::new())
}

/// A batch of images: pixel `i` is `((i * 31) mod 256) / 255`.
pub fn cnn_input(batch: usize) -> Tensor {
    let pixels = (0..batch * 28 * 28).map(|i| ((i * 31) % 256) as f32 / 255.0).collect();
    Tensor::from_vec(vec![batch, 28, 28, 1], pixels).unwrap_or_else(|_| Tensor::empty(DataType::F32))
}
