//! Version directories the predictor must refuse: missing, half-written,
//! corrupt, from a newer format. A clear error each time, never a panic.

use std::path::{Path, PathBuf};

use estimator_rs::train_and_export;
use predictor::Predictor;

fn exported() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (_, version) = train_and_export(dir.path()).unwrap();
    (dir, version)
}

fn load_err(dir: &Path) -> String {
    Predictor::from_saved_model(dir).unwrap_err().to_string()
}

#[test]
fn a_missing_version_directory() {
    let dir = tempfile::tempdir().unwrap();
    let err = load_err(&dir.path().join("1234"));
    assert!(err.contains("1234") && err.contains("saved_model.pb"), "{err}");
    let err = Predictor::from_export_base(dir.path()).unwrap_err().to_string();
    assert!(err.contains("no version directory"), "{err}");
}

#[test]
fn a_half_written_export_is_never_loaded() {
    let (dir, version) = exported();
    let base = dir.path().join("saved_model");
    let temp = base.join("temp-99999999999");
    std::fs::rename(&version, &temp).unwrap();
    assert!(load_err(&temp).contains("still being written"));
    let err = Predictor::from_export_base(&base).unwrap_err().to_string();
    assert!(err.contains("no version directory"), "{err}");
}

#[test]
fn corrupt_weights_name_the_tensor() {
    let (_dir, version) = exported();
    let data = version.join("variables/variables.data");
    let mut bytes = std::fs::read(&data).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&data, bytes).unwrap();
    let err = load_err(&version);
    assert!(
        err.contains("variable \"dense/kernel\" is corrupt") || err.contains("variable \"dense/bias\" is corrupt"),
        "{err}"
    );
}

#[test]
fn a_corrupt_or_truncated_graph() {
    let (_dir, version) = exported();
    let pb = version.join("saved_model.pb");
    let bytes = std::fs::read(&pb).unwrap();
    std::fs::write(&pb, &bytes[..bytes.len() - 7]).unwrap();
    assert!(load_err(&version).contains("saved_model.pb"));
    std::fs::write(&pb, [0x1a, 0xff, 0xff, 0xff, 0x0f]).unwrap();
    assert!(load_err(&version).contains("saved_model.pb"));
}

#[test]
fn a_newer_format_is_refused() {
    let (_dir, version) = exported();
    let pb = version.join("saved_model.pb");
    let mut bytes = std::fs::read(&pb).unwrap();
    bytes.extend_from_slice(&[0x08, 0x02]); // format_version = 2
    std::fs::write(&pb, bytes).unwrap();
    let err = load_err(&version);
    assert!(err.contains("format version 2 is newer than the newest this build reads (1)"), "{err}");
}

#[test]
fn missing_variables() {
    let (_dir, version) = exported();
    std::fs::remove_dir_all(version.join("variables")).unwrap();
    assert!(load_err(&version).contains("variables.index"));
}
