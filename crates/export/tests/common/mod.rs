//! A small artifact shared by the tests: `y = x @ w + b`, plus a variable of
//! every dtype.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use export::{DEFAULT_SIGNATURE, MetaGraph, PREDICT_METHOD, SavedModel, Signature, TensorInfo};
use ndarray::array;
use opset::{Assets, Attr, DataType, Graph, Node, Shape, Tensor};

/// The graph of `y = x @ w + b`, its nodes deliberately out of order.
pub fn graph() -> Graph {
    Graph {
        nodes: vec![
            Node::new("y", "BiasAdd", &["xw", "b:0"]),
            Node::new("x", "Placeholder", &[])
                .with("dtype", Attr::Type(DataType::F32))
                .with("shape", Attr::Shape(Shape(vec![None, Some(2)]))),
            Node::new("w", "Variable", &[])
                .with("dtype", Attr::Type(DataType::F32))
                .with("shape", Attr::Shape(Shape::known(&[2, 1]))),
            Node::new("b", "Const", &[]).with("value", Attr::Tensor(Tensor::from(array![0.5f32]))),
            Node::new("xw", "MatMul", &["x", "w"]),
        ],
    }
}

/// The graph with a `serving_default` signature.
pub fn model() -> SavedModel {
    let info = |name: &str, shape| TensorInfo { name: name.into(), dtype: DataType::F32, shape };
    let signature = Signature {
        method_name: PREDICT_METHOD.into(),
        inputs: [("x".to_owned(), info("x:0", Shape(vec![None, Some(2)])))].into(),
        outputs: [("y".to_owned(), info("y", Shape(vec![None, Some(1)])))].into(),
    };
    SavedModel {
        meta_graphs: vec![MetaGraph {
            tags: vec!["serve".into()],
            graph: graph(),
            signatures: [(DEFAULT_SIGNATURE.to_owned(), signature)].into(),
            assets: vec![],
        }],
    }
}

/// One variable of every dtype, plus edge shapes.
pub fn variables() -> Vec<(&'static str, Tensor)> {
    vec![
        ("w", Tensor::from(array![[2.0f32], [3.0]])),
        ("i64", Tensor::from(array![[1i64, -2, i64::MAX]])),
        ("i32", Tensor::from(array![7i32, i32::MIN])),
        ("bool", Tensor::from(array![true, false, true])),
        (
            "strings",
            Tensor::strings(vec![2, 2], vec![String::new(), "héllo".into(), "a\nb".into(), "z".into()]).unwrap(),
        ),
        ("scalar", Tensor::scalar(1.5f32)),
        ("empty", Tensor::from_vec::<f32>(vec![0, 3], vec![]).unwrap()),
    ]
}

/// Writes the artifact as a new version under `base`.
pub fn write(base: &Path) -> PathBuf {
    let vars = variables();
    let refs: Vec<(&str, &Tensor)> = vars.iter().map(|(n, t)| (*n, t)).collect();
    export::write_artifact(base, &model(), &refs, &Assets::new()).unwrap()
}
