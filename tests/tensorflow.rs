//! SavedModels exported by TensorFlow itself (`tests/fixtures/tensorflow/`,
//! each with the outputs TensorFlow computed in `expected.json`), loaded by
//! the predictor as they are, and converted to our format.

use std::path::{Path, PathBuf};

use predictor::Predictor;
use predictor::json::{tensor_from_json, tensor_to_json};
use serde_json::Value;

fn fixtures() -> Vec<PathBuf> {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tensorflow");
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir(base).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    dirs
}

/// Element-wise comparison of nested arrays, numbers within `tolerance`
/// (relative, at least absolute for small values).
fn assert_close(got: &Value, want: &Value, tolerance: f64, at: &str) {
    match (got, want) {
        (Value::Array(g), Value::Array(w)) => {
            assert_eq!(g.len(), w.len(), "{at}: lengths differ");
            for (i, (g, w)) in g.iter().zip(w).enumerate() {
                assert_close(g, w, tolerance, &format!("{at}[{i}]"));
            }
        }
        (Value::Number(g), Value::Number(w)) => {
            let (g, w) = (g.as_f64().unwrap(), w.as_f64().unwrap());
            assert!((g - w).abs() <= tolerance * w.abs().max(1.0), "{at}: ours {g}, TensorFlow {w}");
        }
        _ => assert_eq!(got, want, "{at}"),
    }
}

/// Every case of `expected` on the default signature, and, where
/// `expected.json` has `signatures` (the tf.Example fixtures), every case
/// of every signature.
fn check_expected(predictor: &Predictor, expected: &Value, name: &str) {
    check_cases(predictor, &expected["cases"], name);
    for (key, cases) in expected.get("signatures").and_then(Value::as_object).into_iter().flatten() {
        let signature = predictor.with_signature(key).unwrap_or_else(|e| panic!("{name} {key}: {e}"));
        check_cases(&signature, cases, &format!("{name} signature {key}"));
    }
}

fn check_cases(predictor: &Predictor, cases: &Value, name: &str) {
    for (c, case) in cases.as_array().unwrap().iter().enumerate() {
        let inputs: Vec<(&str, opset::Tensor)> = case["inputs"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(key, value)| {
                let spec = predictor.inputs().iter().find(|s| s.key == *key).unwrap();
                (key.as_str(), tensor_from_json(value, spec.dtype, key).unwrap())
            })
            .collect();
        let outputs = predictor.predict(&inputs).unwrap_or_else(|e| panic!("{name} case {c}: {e}"));
        for (key, want) in case["outputs"].as_object().unwrap() {
            let got = tensor_to_json(&outputs[key.as_str()]);
            assert_close(&got, want, 1e-5, &format!("{name} case {c} output {key}"));
        }
    }
}

/// Fixtures whose TensorFlow ops the importer does not translate yet, each
/// with an op it must name when it refuses them (none today: the last two,
/// TF1 loop frames and TensorArrays, load since op set 5).
const NOT_YET: &[(&str, &str)] = &[];

#[test]
fn tensorflow_exports_predict_what_tensorflow_computed() {
    let fixtures = fixtures();
    assert!(fixtures.len() >= 2);
    for base in fixtures {
        let name = base.file_name().unwrap().to_string_lossy().into_owned();
        if let Some((_, op)) = NOT_YET.iter().find(|(n, _)| *n == name) {
            let err =
                Predictor::from_export_base(&base).err().unwrap_or_else(|| panic!("{name} now loads")).to_string();
            assert!(err.contains(op) && err.contains("not supported"), "{name}: {err}");
            continue;
        }
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(base.join("expected.json")).unwrap()).unwrap();
        let predictor = Predictor::from_export_base(&base).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(predictor.model().format(), export::Format::TensorFlow, "{name}");
        assert_eq!(predictor.signature_name(), expected["signature"].as_str().unwrap());
        check_expected(&predictor, &expected, &name);

        // Converted to our format, the same answers.
        let out = tempfile::tempdir().unwrap();
        let converted = tf_import::open(predictor.model().dir()).unwrap().write_version(out.path()).unwrap();
        let ours = Predictor::from_saved_model(&converted).unwrap();
        assert_eq!(ours.model().format(), export::Format::Native);
        check_expected(&ours, &expected, &format!("{name} (converted)"));
    }
}

fn copy_fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tensorflow").join(name).join("1700000000");
    let dir = tempfile::tempdir().unwrap();
    let dst = dir.path().join("1700000000");
    std::fs::create_dir_all(dst.join("variables")).unwrap();
    std::fs::copy(src.join("saved_model.pb"), dst.join("saved_model.pb")).unwrap();
    for f in std::fs::read_dir(src.join("variables")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), dst.join("variables").join(f.file_name())).unwrap();
    }
    for path in [dst.join("saved_model.pb"), dst.join("variables")] {
        let mut perms = std::fs::metadata(&path).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        std::fs::set_permissions(&path, perms).unwrap();
    }
    (dir, dst)
}

#[test]
fn corrupt_tensorflow_exports_are_refused_clearly() {
    let (_dir, v) = copy_fixture("tf_function_mlp");
    let data = v.join("variables/variables.data-00000-of-00001");
    let mut bytes = std::fs::read(&data).unwrap();
    bytes[100] ^= 0x10; // inside the first layer's kernel
    std::fs::write(&data, &bytes).unwrap();
    let err = Predictor::from_saved_model(&v).unwrap_err().to_string();
    assert!(err.contains("is corrupt") && err.contains("w/0"), "{err}");

    let (_dir, v) = copy_fixture("tf_function_mlp");
    let index = v.join("variables/variables.index");
    let bytes = std::fs::read(&index).unwrap();
    std::fs::write(&index, &bytes[..bytes.len() - 10]).unwrap();
    let err = Predictor::from_saved_model(&v).unwrap_err().to_string();
    assert!(err.contains("variables.index"), "{err}");
    let mut flipped = bytes.clone();
    flipped[20] ^= 0xff;
    std::fs::write(&index, &flipped).unwrap();
    let err = Predictor::from_saved_model(&v).unwrap_err().to_string();
    assert!(err.contains("variables.index"), "{err}");

    let (_dir, v) = copy_fixture("estimator_toy");
    std::fs::remove_file(v.join("variables/variables.data-00000-of-00001")).unwrap();
    let err = Predictor::from_saved_model(&v).unwrap_err().to_string();
    assert!(err.contains("shard"), "{err}");

    let (_dir, v) = copy_fixture("estimator_toy");
    let pb = v.join("saved_model.pb");
    let bytes = std::fs::read(&pb).unwrap();
    std::fs::write(&pb, &bytes[..bytes.len() / 3]).unwrap();
    let err = Predictor::from_saved_model(&v).unwrap_err().to_string();
    assert!(err.contains("saved_model.pb"), "{err}");
}

#[test]
fn hostile_tensorflow_graphs_name_the_node() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tensorflow_hostile");
    let err = |name: &str| Predictor::from_export_base(base.join(name)).unwrap_err().to_string();
    let e = err("unknown_op");
    assert!(e.contains("dense/MatMul") && e.contains("FancyMatMul") && e.contains("not supported"), "{e}");
    let e = err("cycle");
    assert!(e.contains("cycle through node"), "{e}");
    let e = err("recursive_function");
    assert!(e.contains("nest more than 32 deep"), "{e}");
    let e = err("no_serve_tag");
    assert!(e.contains("no meta graph tagged [\"serve\"]") && e.contains("train"), "{e}");
    let e = err("dangling_input");
    assert!(e.contains("dense/BiasAdd") && e.contains("nowhere"), "{e}");
    // 10,050 ops along one path: refused by depth, not by a stack overflow.
    let e = err("deep_chain");
    assert!(e.contains("deeper than 10000 nodes along one path"), "{e}");
    // Range bounds whose difference overflows i64.
    let e = err("huge_range");
    assert!(e.contains("\"range\"") && e.contains("endless or too long"), "{e}");
}

/// The recurrent fixtures run their loops twice: standard cells fused (the
/// default) and every body op by op; both give TensorFlow's outputs, and
/// each other's to 1e-6.
#[test]
fn fused_recurrent_cells_agree_with_the_general_loop() {
    for name in [
        "keras_lstm",
        "keras_bilstm_tagger",
        "keras_gru",
        "keras_simple_rnn_backwards",
        "tf1_dynamic_rnn",
        "tf1_gru_cell",
    ] {
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tensorflow").join(name);
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(base.join("expected.json")).unwrap()).unwrap();
        let version = export::latest_version(&base).unwrap();
        let general = predictor::LoadOptions { fused_cells: false, ..Default::default() };
        let general = Predictor::load(&version, &general).unwrap();
        let fused = Predictor::from_saved_model(&version).unwrap();
        // Two LSTM or GRU layers each, one TF1 LSTMCell (its three outputs
        // read from one loop) or GRUCell; SimpleRNN's cell is not fused.
        let cells = match name {
            "keras_simple_rnn_backwards" => 0,
            "tf1_dynamic_rnn" | "tf1_gru_cell" => 1,
            _ => 2,
        };
        assert_eq!((fused.fused_loops(), general.fused_loops()), (cells, 0), "{name}");
        check_expected(&general, &expected, &format!("{name} (general loop)"));
        for case in expected["cases"].as_array().unwrap() {
            let inputs: Vec<(&str, opset::Tensor)> = case["inputs"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(key, value)| {
                    let spec = fused.inputs().iter().find(|s| s.key == *key).unwrap();
                    (key.as_str(), tensor_from_json(value, spec.dtype, key).unwrap())
                })
                .collect();
            let (a, b) = (fused.predict(&inputs).unwrap(), general.predict(&inputs).unwrap());
            for key in case["outputs"].as_object().unwrap().keys() {
                assert_close(&tensor_to_json(&a[key.as_str()]), &tensor_to_json(&b[key.as_str()]), 1e-6, name);
            }
        }
    }
}

#[test]
fn tf_examples_that_do_not_parse_or_miss_a_required_feature_are_refused_naming_it() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tensorflow/parsing_dnn_classifier");
    let predictor = Predictor::from_export_base(&base).unwrap().with_signature("predict").unwrap();
    let examples = |items: Vec<Vec<u8>>| opset::Tensor::strings(vec![items.len()], items).unwrap();
    let err = predictor.predict(&[("examples", examples(vec![b"\xff\xff\xff".to_vec()]))]).unwrap_err().to_string();
    assert!(err.contains("Could not parse example input 0"), "{err}");
    // An empty tf.Example: numeric columns (here `age`, the first parsed) have no default.
    let err = predictor.predict(&[("examples", examples(vec![Vec::new()]))]).unwrap_err().to_string();
    assert!(err.contains("Feature: age (data type: float) is required but could not be found"), "{err}");
}
