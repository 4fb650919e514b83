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
