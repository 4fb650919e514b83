//! Round trips: the whole artifact, the variables bundle for every dtype
//! (memory-mapped), version directories and crash safety.

mod common;

use export::{Artifact, VariablesBundle};
use ndarray::array;
use opset::Tensor;

#[test]
fn whole_artifact_round_trips() {
    let base = tempfile::tempdir().unwrap();
    let dir = common::write(base.path());
    let artifact = Artifact::open(&dir).unwrap();
    assert_eq!(artifact.model(), &common::model());
    assert_eq!(artifact.version(), dir.file_name().unwrap().to_str().unwrap().parse().ok());
    for (name, tensor) in common::variables() {
        assert_eq!(artifact.variables().get(name).unwrap(), tensor, "{name}");
    }
    // Same model, same bytes.
    assert_eq!(common::model().to_bytes(), std::fs::read(dir.join("saved_model.pb")).unwrap());
}

#[test]
fn numeric_variables_are_used_in_place_from_the_map() {
    let base = tempfile::tempdir().unwrap();
    let dir = common::write(base.path());
    let bundle = VariablesBundle::open(dir.join("variables"), true).unwrap();
    for name in ["w", "i64", "i32", "scalar"] {
        assert!(bundle.get(name).unwrap().is_mapped(), "{name} should borrow the map");
    }
    assert!(!bundle.get("strings").unwrap().is_mapped());
    let w = bundle.get("w").unwrap();
    assert_eq!(w.as_slice::<f32>().unwrap().as_ptr() as usize % export::ALIGNMENT, 0);
    assert_eq!(bundle.spec("w"), Some((opset::DataType::F32, &[2usize, 1][..])));
    assert_eq!(bundle.names().count(), common::variables().len());
}

#[test]
fn reference_evaluation_of_a_loaded_graph() {
    let base = tempfile::tempdir().unwrap();
    let artifact = Artifact::open(common::write(base.path())).unwrap();
    let graph = artifact.typed_graph(&["serve"]).unwrap();
    let mut values = vec![None; graph.nodes().len()];
    values[graph.resolve("x").unwrap()] = Some(Tensor::from(array![[1.0f32, 1.0], [2.0, 0.0]]));
    values[graph.resolve("w").unwrap()] = Some(artifact.variables().get("w").unwrap());
    let y = graph.resolve("y:0").unwrap();
    graph.evaluate(&[y], &mut values).unwrap();
    assert_eq!(values[y].as_ref().unwrap(), &Tensor::from(array![[5.5f32], [4.5]]));
}

#[test]
fn latest_version_ignores_temp_and_non_numeric_entries() {
    let base = tempfile::tempdir().unwrap();
    for d in ["100", "temp-999", "abc", "20", "1e5", "-3"] {
        std::fs::create_dir(base.path().join(d)).unwrap();
    }
    std::fs::write(base.path().join("500"), b"a file, not a version").unwrap();
    assert_eq!(export::latest_version(base.path()).unwrap(), base.path().join("100"));
    let versions: Vec<u64> = export::list_versions(base.path()).unwrap().into_iter().map(|(v, _)| v).collect();
    assert_eq!(versions, [20, 100]);
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(export::latest_version(empty.path()), Err(export::Error::NoVersion { .. })));
}

#[test]
fn a_base_without_versions_says_what_it_holds_instead() {
    // A version directory given as a base.
    let base = tempfile::tempdir().unwrap();
    let version = common::write(base.path());
    let err = export::latest_version(&version).unwrap_err().to_string();
    assert!(err.contains("it is a version directory") && err.contains("from_saved_model"), "{err}");
    // A base whose only export is still being written.
    let writing = tempfile::tempdir().unwrap();
    std::fs::create_dir(writing.path().join("temp-1700000000")).unwrap();
    let err = export::latest_version(writing.path()).unwrap_err().to_string();
    assert!(err.contains("still being written there (temp-1700000000)"), "{err}");
    let empty = tempfile::tempdir().unwrap();
    let err = export::latest_version(empty.path()).unwrap_err().to_string();
    assert!(err.ends_with(&format!("under {}", empty.path().display())), "no hint to give: {err}");
}

#[test]
fn versions_are_timestamps_bumped_on_collision() {
    let base = tempfile::tempdir().unwrap();
    let a = common::write(base.path());
    let b = common::write(base.path());
    let v = |p: &std::path::Path| p.file_name().unwrap().to_str().unwrap().parse::<u64>().unwrap();
    assert!(v(&b) > v(&a));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(v(&a).abs_diff(now) < 60);
    assert_eq!(export::latest_version(base.path()).unwrap(), b);
}

#[test]
fn a_crash_before_the_rename_leaves_no_visible_version() {
    let base = tempfile::tempdir().unwrap();
    let first = common::write(base.path());
    // The writer fails half-way (as a crash would): nothing new is visible.
    let err = export::write_version(base.path(), |dir| {
        std::fs::write(dir.join("saved_model.pb"), b"half").unwrap();
        Err(export::Error::MissingVariable { name: "crash".into() })
    });
    assert!(err.is_err());
    assert_eq!(export::latest_version(base.path()).unwrap(), first);
    let leftovers: Vec<_> = std::fs::read_dir(base.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    // A temp directory left by a real crash is never read as a version.
    let tmp = base.path().join("temp-99999999999");
    std::fs::create_dir(&tmp).unwrap();
    std::fs::copy(first.join("saved_model.pb"), tmp.join("saved_model.pb")).unwrap();
    assert_eq!(export::latest_version(base.path()).unwrap(), first);
    let err = Artifact::open(&tmp).unwrap_err().to_string();
    assert!(err.contains("still being written"), "{err}");
}

/// `y = x * 2^3`: a `While` node whose `body` attribute is a graph.
fn loop_model() -> export::SavedModel {
    use opset::{Attr, DataType, Graph, Node, Shape};
    let placeholder = |name: &str, dtype, shape: Shape| {
        Node::new(name, "Placeholder", &[]).with("dtype", Attr::Type(dtype)).with("shape", Attr::Shape(shape))
    };
    let constant = |name: &str, value: Tensor| Node::new(name, "Const", &[]).with("value", Attr::Tensor(value));
    let body = Graph {
        nodes: vec![
            placeholder("arg_0", DataType::F32, Shape(vec![None])),
            placeholder("arg_1", DataType::I64, Shape::scalar()),
            constant("three", Tensor::scalar(3i64)),
            constant("one", Tensor::scalar(1i64)),
            constant("two", Tensor::scalar(2.0f32)),
            Node::new("cond", "Less", &["arg_1", "three"]),
            Node::new("out_0", "Mul", &["arg_0", "two"]),
            Node::new("out_1", "Add", &["arg_1", "one"]),
        ],
    };
    let mut model = common::model();
    let meta = &mut model.meta_graphs[0];
    meta.graph = Graph {
        nodes: vec![
            placeholder("x", DataType::F32, Shape(vec![None, Some(2)])),
            Node::new("flat", "Reshape", &["x"]).with("shape", Attr::Ints(vec![-1])),
            constant("zero", Tensor::scalar(0i64)),
            Node::new("loop", "While", &["flat", "zero"])
                .with("body", Attr::Graph(body))
                .with("output", Attr::Int(0))
                .with("max_iterations", Attr::Int(10)),
            Node::new("y", "Reshape", &["loop"]).with("shape", Attr::Ints(vec![-1, 1])),
        ],
    };
    model
}

#[test]
fn a_graph_attribute_round_trips() {
    let base = tempfile::tempdir().unwrap();
    let dir = export::write_artifact(base.path(), &loop_model(), &[], &opset::Assets::new()).unwrap();
    let artifact = Artifact::open(&dir).unwrap();
    assert_eq!(artifact.model(), &loop_model());
    // Fields 1 (format_version) and 2 (op_set_version) lead: the loop needs op set 5.
    let bytes = std::fs::read(dir.join("saved_model.pb")).unwrap();
    assert_eq!(bytes[..4], [0x08, export::FORMAT_VERSION as u8, 0x10, 5]);
    let graph = artifact.typed_graph(&["serve"]).unwrap();
    let mut values = vec![None; graph.nodes().len()];
    values[graph.resolve("x").unwrap()] = Some(Tensor::from(array![[1.0f32, 0.5], [-2.0, 0.0]]));
    let y = graph.resolve("y").unwrap();
    graph.evaluate(&[y], &mut values).unwrap();
    assert_eq!(values[y].as_ref().unwrap(), &Tensor::from(array![[8.0f32], [4.0], [-16.0], [0.0]]));
}
