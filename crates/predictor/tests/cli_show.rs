//! `saved_model_cli show --all` against TensorFlow's own text for every
//! TensorFlow fixture (`tests/fixtures/tensorflow/*/saved_model_cli_show_all.txt`,
//! recorded by `record_show.py` with TensorFlow 2.15), line by line, the
//! "Concrete Functions" section included; the ops line is compared as a
//! set (TensorFlow prints a Python set in its arbitrary order).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// The ops of an ops line, as a set; other lines as they are.
fn normalized(line: &str) -> String {
    match line.split_once(" contains the following ops: ") {
        Some((head, ops)) => {
            let ops: BTreeSet<&str> = ops.trim_matches(|c| c == '{' || c == '}').split(", ").collect();
            format!("{head} contains the following ops: {ops:?}")
        }
        None => line.to_owned(),
    }
}

#[test]
fn show_all_prints_tensorflows_text() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tensorflow");
    let mut compared = 0;
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let dir = entry.unwrap().path();
        let Ok(theirs) = std::fs::read_to_string(dir.join("saved_model_cli_show_all.txt")) else { continue };
        let version = dir.join("1700000000");
        let out = Command::new(env!("CARGO_BIN_EXE_saved_model_cli"))
            .args(["show", "--dir", version.to_str().unwrap(), "--all"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}: {}", dir.display(), String::from_utf8_lossy(&out.stderr));
        let ours = String::from_utf8(out.stdout).unwrap();
        let (ours, theirs): (Vec<String>, Vec<String>) =
            (ours.lines().map(normalized).collect(), theirs.lines().map(normalized).collect());
        for (k, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert_eq!(a, b, "{}: line {}", dir.display(), k + 1);
        }
        assert_eq!(ours.len(), theirs.len(), "{}: line count", dir.display());
        compared += 1;
    }
    assert!(compared >= 20, "only {compared} fixtures have TensorFlow's text");
}
