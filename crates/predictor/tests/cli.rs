//! `saved_model_cli` run as a process on a real artifact: the write-up's
//! exported graph (`number` tiled, one dense unit), written through `export`.

use std::path::Path;
use std::process::{Command, Output};

use export::{DEFAULT_SIGNATURE, MetaGraph, PREDICT_METHOD, SavedModel, Signature, TensorInfo};
use ndarray::array;
use opset::{Assets, Attr, DataType, Graph, Node, Shape, Tensor};

fn toy_artifact(base: &Path) -> std::path::PathBuf {
    let var = |name: &str, shape: &[usize]| {
        Node::new(name, "Variable", &[])
            .with("dtype", Attr::Type(DataType::F32))
            .with("shape", Attr::Shape(Shape::known(shape)))
    };
    let graph = Graph {
        nodes: vec![
            Node::new("number", "Placeholder", &[])
                .with("dtype", Attr::Type(DataType::F32))
                .with("shape", Attr::Shape(Shape(vec![None, Some(1)]))),
            Node::new("Tile", "Tile", &["number"]).with("multiples", Attr::Ints(vec![1, 2])),
            var("dense/kernel", &[2, 1]),
            var("dense/bias", &[1]),
            Node::new("dense/MatMul", "MatMul", &["Tile", "dense/kernel"]),
            Node::new("dense/BiasAdd", "BiasAdd", &["dense/MatMul", "dense/bias"]),
        ],
    };
    let info = |name: &str| TensorInfo { name: name.into(), dtype: DataType::F32, shape: Shape(vec![None, Some(1)]) };
    let signature = Signature {
        method_name: PREDICT_METHOD.into(),
        inputs: [("number".to_owned(), info("number:0"))].into(),
        outputs: [("output".to_owned(), info("dense/BiasAdd:0"))].into(),
    };
    let model = SavedModel {
        meta_graphs: vec![MetaGraph {
            tags: vec!["serve".into()],
            graph,
            signatures: [(DEFAULT_SIGNATURE.to_owned(), signature)].into(),
            assets: vec![],
        }],
    };
    let (kernel, bias) = (Tensor::from(array![[1.5f32], [0.5]]), Tensor::from(array![0.25f32]));
    export::write_artifact(base, &model, &[("dense/kernel", &kernel), ("dense/bias", &bias)], &Assets::new()).unwrap()
}

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_saved_model_cli")).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn show_lists_signatures_and_describes_them() {
    let base = tempfile::tempdir().unwrap();
    let version = toy_artifact(base.path());
    let out = stdout(&cli(&["show", "--dir", base.path().to_str().unwrap()]));
    assert!(out.contains("signature_def['serving_default']"), "{out}");
    assert!(out.contains(version.file_name().unwrap().to_str().unwrap()), "the newest version is shown: {out}");
    let all = stdout(&cli(&["show", "--dir", version.to_str().unwrap(), "--all"]));
    assert!(
        all.contains(
            "inputs['number'] tensor_info:\n        dtype: f32\n        shape: [?, 1]\n        name: number:0"
        ),
        "{all}"
    );
    assert!(all.contains("outputs['output']") && all.contains("name: dense/BiasAdd:0"), "{all}");
    let one = stdout(&cli(&["show", "--dir", version.to_str().unwrap(), "--signature_def", "serving_default"]));
    assert!(one.contains("Method name is: tensorflow/serving/predict"), "{one}");
}

#[test]
fn run_prints_outputs_as_json() {
    let base = tempfile::tempdir().unwrap();
    let dir = toy_artifact(base.path());
    let dir = dir.to_str().unwrap();
    // y = 1.5 x + 0.5 x + 0.25
    let out = stdout(&cli(&["run", "--dir", dir, "--input_exprs", "number=[[1.0], [2.0]]"]));
    assert_eq!(out.trim(), r#"{"output":[[2.25],[4.25]]}"#);
    let out = stdout(&cli(&["run", "--dir", dir, "--inputs_json", r#"{"number": [[10]]}"#]));
    assert_eq!(out.trim(), r#"{"output":[[20.25]]}"#);
    let out = stdout(&cli(&["run", "--dir", dir, "number=[[0.5]]"]));
    assert_eq!(out.trim(), r#"{"output":[[1.25]]}"#);
}

#[test]
fn bad_invocations_fail_with_a_clear_message() {
    let base = tempfile::tempdir().unwrap();
    let dir = toy_artifact(base.path());
    let dir = dir.to_str().unwrap();
    let cases: [(&[&str], &str); 6] = [
        (&["run", "--dir", dir, "numbr=[[1.0]]"], "unknown input \"numbr\""),
        (&["run", "--dir", dir, "number=[[1.0], [2.0, 3.0]]"], "ragged"),
        (&["run", "--dir", dir, "number=[[true]]"], "not a f32"),
        (&["run", "--dir", dir, "number"], "expected key=<JSON value>"),
        (&["run", "--dir", dir], "input \"number\" is missing"),
        (&["show", "--dir", "/nonexistent/place"], "/nonexistent/place"),
    ];
    for (args, expected) in cases {
        let out = cli(args);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    let help = cli(&["run", "--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("--input_exprs"));
}

#[test]
fn a_tensorflow_export_is_shown_run_and_converted() {
    let tf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tensorflow/estimator_toy");
    let shown = stdout(&cli(&["show", "--dir", tf.to_str().unwrap(), "--all"]));
    assert!(shown.starts_with("TensorFlow SavedModel, version 1700000000"), "{shown}");
    assert!(shown.contains("name: dense/BiasAdd"), "{shown}");
    // TensorFlow computed 84.0005874633789 for 42 (expected.json).
    let out = stdout(&cli(&["run", "--dir", tf.to_str().unwrap(), "number=[[42.0]]"]));
    let y: f64 = out.trim().trim_start_matches(r#"{"output":[["#).trim_end_matches("]]}").parse().unwrap();
    assert!((y - 84.0005874633789).abs() < 1e-4, "{out}");
    let base = tempfile::tempdir().unwrap();
    let converted =
        stdout(&cli(&["convert", "--dir", tf.to_str().unwrap(), "--output_dir", base.path().to_str().unwrap()]));
    assert!(converted.starts_with("converted the TensorFlow SavedModel"), "{converted}");
    let shown = stdout(&cli(&["show", "--dir", base.path().to_str().unwrap()]));
    assert!(shown.starts_with("native artifact"), "{shown}");
    let again = stdout(&cli(&["run", "--dir", base.path().to_str().unwrap(), "number=[[42.0]]"]));
    assert_eq!(again, out);
}
