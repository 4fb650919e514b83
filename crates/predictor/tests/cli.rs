//! `saved_model_cli` run as a process on a real artifact: the write-up's
//! exported graph (`number` tiled, one dense unit), written through `export`.

use std::path::{Path, PathBuf};
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
fn show_prints_tensorflows_text_for_our_artifacts() {
    let base = tempfile::tempdir().unwrap();
    let version = toy_artifact(base.path());
    let base_dir = base.path().to_str().unwrap();
    let tag_sets = stdout(&cli(&["show", "--dir", base_dir]));
    assert_eq!(tag_sets, "The given SavedModel contains the following tag-sets:\n'serve'\n");
    let keys = stdout(&cli(&["show", "--dir", base_dir, "--tag_set", "serve"]));
    assert_eq!(
        keys,
        "The given SavedModel MetaGraphDef contains SignatureDefs with the following keys:\n\
         SignatureDef key: \"serving_default\"\n"
    );
    let all = stdout(&cli(&["show", "--dir", version.to_str().unwrap(), "--all"]));
    let want = "
MetaGraphDef with tag-set: 'serve' contains the following SignatureDefs:

signature_def['serving_default']:
  The given SavedModel SignatureDef contains the following input(s):
    inputs['number'] tensor_info:
        dtype: DT_FLOAT
        shape: (-1, 1)
        name: number:0
  The given SavedModel SignatureDef contains the following output(s):
    outputs['output'] tensor_info:
        dtype: DT_FLOAT
        shape: (-1, 1)
        name: dense/BiasAdd:0
  Method name is: tensorflow/serving/predict
The MetaGraph with tag set ['serve'] contains the following ops: {'BiasAdd', 'MatMul', 'Placeholder', 'Tile', 'Variable'}
";
    assert_eq!(all, want);
    let one = stdout(&cli(&["show", "--dir", base_dir, "--signature_def", "serving_default"]));
    assert!(one.starts_with("The given SavedModel SignatureDef contains the following input(s):\n"), "{one}");
    assert!(one.ends_with("Method name is: tensorflow/serving/predict\n"), "{one}");
    let ops = stdout(&cli(&["show", "--dir", base_dir, "--tag_set", "serve", "--list_ops"]));
    assert!(ops.starts_with("The MetaGraph with tag set ['serve'] contains the following ops: {'BiasAdd'"), "{ops}");
    // Ours, on request: which format, version and directory.
    let details = stdout(&cli(&["show", "--dir", base_dir, "--all", "--details"]));
    let version_name = version.file_name().unwrap().to_str().unwrap();
    assert!(details.starts_with("native artifact, version ") && details.contains(version_name), "{details}");
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
        (&["run", "--dir", dir, "number=[['one']]"], "is not a number"),
        (&["run", "--dir", dir, "number"], "expected key=<expression>"),
        (&["run", "--dir", dir], "input \"number\" is missing"),
        (&["show", "--dir", "/nonexistent/place"], "/nonexistent/place"),
    ];
    for (args, expected) in cases {
        let err = stderr_of_failure(&cli(args));
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    let help = cli(&["run", "--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("--input_exprs"));
}

#[test]
fn a_tensorflow_export_is_shown_run_and_converted() {
    let tf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tensorflow/estimator_toy");
    let shown = stdout(&cli(&["show", "--dir", tf.to_str().unwrap(), "--all"]));
    assert!(
        shown.starts_with("\nMetaGraphDef with tag-set: 'serve' contains the following SignatureDefs:\n"),
        "{shown}"
    );
    assert!(shown.contains("name: dense/BiasAdd"), "{shown}");
    // TensorFlow computed 84.0005874633789 for 42 (expected.json).
    let out = stdout(&cli(&["run", "--dir", tf.to_str().unwrap(), "number=[[42.0]]"]));
    let y: f64 = out.trim().trim_start_matches(r#"{"output":[["#).trim_end_matches("]]}").parse().unwrap();
    assert!((y - 84.0005874633789).abs() < 1e-4, "{out}");
    // `import` keeps the version number; `convert` is its other name; a
    // version already there is never replaced; `--renumber` numbers anew.
    let base = tempfile::tempdir().unwrap();
    let out_dir = base.path().to_str().unwrap();
    let imported = stdout(&cli(&["import", "--dir", tf.to_str().unwrap(), "--output_dir", out_dir]));
    assert!(imported.starts_with("imported the TensorFlow SavedModel"), "{imported}");
    assert!(imported.trim_end().ends_with("1700000000"), "{imported}");
    let again = cli(&["convert", "--dir", tf.to_str().unwrap(), "--output_dir", out_dir]);
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("1700000000"));
    let renumbered = stdout(&cli(&["convert", "--dir", tf.to_str().unwrap(), "--output_dir", out_dir, "--renumber"]));
    assert!(!renumbered.trim_end().ends_with("1700000000"), "{renumbered}");
    let details = stdout(&cli(&["show", "--dir", out_dir, "--details"]));
    assert!(details.starts_with("native artifact"), "{details}");
    let again = stdout(&cli(&["run", "--dir", out_dir, "number=[[42.0]]"]));
    assert_eq!(again, out);
    let help = stdout(&cli(&["import", "--help"]));
    assert!(help.contains("Not TensorFlow's `convert` (TensorRT)"), "{help}");
}

/// A TensorFlow fixture's export base.
fn tensorflow_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tensorflow").join(name)
}

/// A copy of TensorFlow fixture `name`'s version directory under `base`.
fn copy_version(name: &str, base: &Path) -> PathBuf {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &to.join(entry.file_name()));
            } else {
                std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
            }
        }
    }
    let to = base.join("1700000000");
    copy(&tensorflow_fixture(name).join("1700000000"), &to);
    to
}

fn stderr_of_failure(o: &Output) -> String {
    assert!(!o.status.success(), "should fail; stdout: {}", String::from_utf8_lossy(&o.stdout));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// What TensorFlow 2.15's `saved_model_cli show --all` prints for the
/// signature of `tf_function_mlp`.
const MLP_SERVING_DEFAULT: &str = "
signature_def['serving_default']:
  The given SavedModel SignatureDef contains the following input(s):
    inputs['x'] tensor_info:
        dtype: DT_FLOAT
        shape: (-1, 784)
        name: serving_default_x:0
  The given SavedModel SignatureDef contains the following output(s):
    outputs['probs'] tensor_info:
        dtype: DT_FLOAT
        shape: (-1, 10)
        name: StatefulPartitionedCall:0
  Method name is: tensorflow/serving/predict
";

#[test]
fn show_prints_tensorflow_s_own_text_for_a_tensorflow_export() {
    let base = tensorflow_fixture("tf_function_mlp");
    let dir = base.to_str().unwrap();
    let all = stdout(&cli(&["show", "--dir", dir, "--all"]));
    assert!(all.starts_with("\nMetaGraphDef with tag-set: 'serve' contains the following SignatureDefs:\n"), "{all}");
    assert!(all.contains(MLP_SERVING_DEFAULT), "{all}");
    // TensorFlow's internal signature is shown too, as TensorFlow does.
    assert!(all.contains("\nsignature_def['__saved_model_init_op']:\n"), "{all}");
    assert!(!all.contains("This build cannot run"), "every op is supported: {all}");
    let tag_sets = stdout(&cli(&["show", "--dir", dir]));
    assert_eq!(tag_sets, "The given SavedModel contains the following tag-sets:\n'serve'\n");
    let keys = stdout(&cli(&["show", "--dir", dir, "--tag_set", "serve"]));
    assert_eq!(
        keys,
        "The given SavedModel MetaGraphDef contains SignatureDefs with the following keys:\n\
         SignatureDef key: \"__saved_model_init_op\"\nSignatureDef key: \"serving_default\"\n"
    );
    let one = stdout(&cli(&["show", "--dir", dir, "--tag_set", "serve", "--signature_def", "serving_default"]));
    let unindented: String =
        MLP_SERVING_DEFAULT.lines().skip(2).map(|l| format!("{}\n", l.strip_prefix("  ").unwrap())).collect();
    assert_eq!(one, unindented);
    let cases: [(&[&str], &str); 2] = [
        (&["show", "--dir", dir, "--tag_set", "gpu"], "no meta graph tagged [\"gpu\"]"),
        (&["show", "--dir", dir, "--signature_def", "predict"], "no signature \"predict\""),
    ];
    for (args, expected) in cases {
        let err = stderr_of_failure(&cli(args));
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

#[test]
fn show_works_on_an_export_with_an_unsupported_op_and_lists_it() {
    let base = tempfile::tempdir().unwrap();
    let version = copy_version("tf_function_mlp", base.path());
    // Rename the op of the `Softmax` nodes (`NodeDef.op`: field 2, length
    // 7) to one no importer knows; same length, so the proto stays valid.
    let pb = version.join("saved_model.pb");
    let mut bytes = std::fs::read(&pb).unwrap();
    let (from, to) = (b"\x12\x07Softmax", b"\x12\x07Unknown");
    let mut renamed = 0;
    for i in 0..bytes.len() - from.len() {
        if &bytes[i..i + from.len()] == from {
            bytes[i..i + from.len()].copy_from_slice(to);
            renamed += 1;
        }
    }
    assert!(renamed > 0);
    std::fs::write(&pb, bytes).unwrap();
    let dir = version.to_str().unwrap();

    let all = stdout(&cli(&["show", "--dir", dir, "--all"]));
    assert!(all.contains(MLP_SERVING_DEFAULT), "{all}");
    let section = all.split_once("\nThis build cannot run 1 op type of this export (tag-set 'serve';").map(|s| s.1);
    let section = section.unwrap_or_else(|| panic!("no section of unsupported ops: {all}"));
    let line = section.lines().find(|l| l.starts_with("  Unknown: 1 node (")).unwrap_or_else(|| panic!("{all}"));
    // The node is named, in the function it is in.
    assert!(line.contains(" in __inference_"), "{line}");
    for args in [&["show", "--dir", dir][..], &["show", "--dir", dir, "--signature_def", "serving_default"]] {
        let out = stdout(&cli(args));
        assert!(out.contains("\n  Unknown: 1 node ("), "{args:?}: {out}");
    }
    // Running or converting it still fails, naming the node and the op.
    let err = stderr_of_failure(&cli(&["run", "--dir", dir, "--input_exprs", "x=[[0.0]]"]));
    assert!(err.contains("TensorFlow op \"Unknown\" is not supported by the importer"), "{err}");
    let out = tempfile::tempdir().unwrap();
    let err = stderr_of_failure(&cli(&["convert", "--dir", dir, "--output_dir", out.path().to_str().unwrap()]));
    assert!(err.contains("(Unknown)"), "{err}");
}

#[test]
fn a_corrupt_tensorflow_saved_model_is_a_clear_error() {
    let base = tempfile::tempdir().unwrap();
    let version = copy_version("tf_function_mlp", base.path());
    let pb = version.join("saved_model.pb");
    let bytes = std::fs::read(&pb).unwrap();
    // Truncated: still TensorFlow's by its first bytes, but cut mid-message.
    std::fs::write(&pb, &bytes[..bytes.len() / 2]).unwrap();
    for args in
        [&["show", "--dir", version.to_str().unwrap(), "--all"][..], &["show", "--dir", base.path().to_str().unwrap()]]
    {
        let err = stderr_of_failure(&cli(args));
        assert!(
            err.contains(&pb.display().to_string()) && err.contains("is not a valid TensorFlow SavedModel"),
            "{err}"
        );
    }
}

/// Every TensorFlow fixture is shown, whether the importer translates it or
/// not; when it does not, the op it stops at is among those listed.
#[test]
fn every_tensorflow_fixture_is_shown_with_the_ops_the_importer_refuses() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tensorflow");
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(fixtures).unwrap() {
        let base = entry.unwrap().path();
        if !base.join("1700000000/saved_model.pb").exists() {
            continue;
        }
        let dir = base.to_str().unwrap();
        let all = stdout(&cli(&["show", "--dir", dir, "--all"]));
        assert!(all.contains("MetaGraphDef with tag-set: 'serve' contains the following SignatureDefs:"), "{all}");
        assert!(all.contains("  Method name is: tensorflow/serving/predict\n"), "{all}");
        let out = tempfile::tempdir().unwrap();
        let converted = cli(&["convert", "--dir", dir, "--output_dir", out.path().to_str().unwrap()]);
        let err = String::from_utf8_lossy(&converted.stderr);
        if converted.status.success() {
            assert!(!all.contains("This build cannot run"), "{dir} converts, yet: {all}");
        } else if let Some(op) = err.split_once("TensorFlow op \"").and_then(|(_, rest)| rest.split_once('"')) {
            assert!(all.contains(&format!("\n  {}: ", op.0)), "{dir}: {err}\n{all}");
        }
        seen.push(base.file_name().unwrap().to_string_lossy().into_owned());
    }
    assert!(seen.iter().any(|s| s == "tf_function_mlp"), "{seen:?}");
}

/// The numpy files beside this test (`fixtures/make_npy.py`, numpy's writer).
fn npy(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name).to_str().unwrap().to_owned()
}

#[test]
fn run_reads_numpy_files_and_expressions_and_writes_npy() {
    let base = tempfile::tempdir().unwrap();
    let dir = toy_artifact(base.path());
    let dir = dir.to_str().unwrap();
    // y = 1.5 x + 0.5 x + 0.25; numpy's float64 default read as the f32 input.
    let out = stdout(&cli(&["run", "--dir", dir, "--inputs", &format!("number={}", npy("number.npy"))]));
    assert_eq!(out.trim(), r#"{"output":[[84.25],[-2.75]]}"#);
    let out = stdout(&cli(&["run", "--dir", dir, "--inputs", &format!("number={}[number]", npy("inputs.npz"))]));
    assert_eq!(out.trim(), r#"{"output":[[6.25]]}"#);
    let out = stdout(&cli(&["run", "--dir", dir, "--inputs", &format!("number={}", npy("one.npz"))]));
    assert_eq!(out.trim(), r#"{"output":[[20.25]]}"#, "a compressed .npz of one array");
    let out = stdout(&cli(&["run", "--dir", dir, "--inputs", &format!("number={}", npy("ints.npy"))]));
    assert_eq!(out.trim(), r#"{"output":[[14.25]]}"#, "integers fed to a float input");
    // --input_exprs overrides the same key of --inputs, as TensorFlow's tool.
    let both = ["--inputs", &format!("number={}", npy("number.npy")), "--input_exprs", "number=np.ones((1, 1))"];
    let out = stdout(&cli(&[&["run", "--dir", dir][..], &both[..]].concat()));
    assert_eq!(out.trim(), r#"{"output":[[2.25]]}"#);
    let out = stdout(&cli(&["run", "--dir", dir, "--input_exprs", "number=np.full((2, 1), 2)"]));
    assert_eq!(out.trim(), r#"{"output":[[4.25],[4.25]]}"#);
    // NaN and infinity can be fed, and print as TensorFlow Serving's JSON
    // writes them (the same writer as the server's REST answers).
    let out = stdout(&cli(&["run", "--dir", dir, "--input_exprs", "number=[[nan], [np.inf], [-inf]]"]));
    assert_eq!(out.trim(), r#"{"output":[[NaN],[Infinity],[-Infinity]]}"#);
    let out = stdout(&cli(&["run", "--dir", dir, "--inputs_json", r#"{"number": [[NaN], [-Infinity]]}"#]));
    assert_eq!(out.trim(), r#"{"output":[[NaN],[-Infinity]]}"#);
    // --outdir writes numpy files; an existing one is replaced only with --overwrite.
    let outdir = tempfile::tempdir().unwrap();
    let args = ["run", "--dir", dir, "number=[[1.0]]", "--outdir", outdir.path().to_str().unwrap()];
    let saved = stdout(&cli(&args));
    let file = outdir.path().join("output.npy");
    assert_eq!(saved, format!("Output output is saved to {}\n", file.display()));
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.starts_with(b"\x93NUMPY") && bytes.ends_with(&2.25f32.to_le_bytes()), "{bytes:?}");
    let again = cli(&args);
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("--overwrite"));
    stdout(&cli(&[&args[..], &["--overwrite"]].concat()));
}

#[test]
fn run_refuses_bad_inputs_naming_them() {
    let base = tempfile::tempdir().unwrap();
    let dir = toy_artifact(base.path());
    let dir = dir.to_str().unwrap();
    let missing = format!("number={}", npy("nowhere.npy"));
    let unnamed = format!("number={}", npy("inputs.npz"));
    let wrong_name = format!("number={}[nope]", npy("inputs.npz"));
    let cases: [(&[&str], &str); 6] = [
        (&["run", "--dir", dir, "--input_exprs", "number=[[1.0]];number=[[2.0]]"], "input \"number\" is fed twice"),
        (&["run", "--dir", dir, "--inputs", &missing], "nowhere.npy"),
        (&["run", "--dir", dir, "--inputs", &unnamed], "say which"),
        (&["run", "--dir", dir, "--inputs", &wrong_name], "no array \"nope\""),
        (&["run", "--dir", dir, "--input_exprs", "number=np.linalg.inv([[1.0]])"], "not one of the forms"),
        (&["run", "--dir", dir, "--input_exprs", "number=[[1.0], [2.0, 3.0]]"], "ragged"),
    ];
    for (args, expected) in cases {
        let err = stderr_of_failure(&cli(args));
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

#[test]
fn hostile_numpy_files_are_refused_without_allocating_what_they_promise() {
    let base = tempfile::tempdir().unwrap();
    let dir = toy_artifact(base.path());
    let dir = dir.to_str().unwrap();
    let files = tempfile::tempdir().unwrap();
    let header = |text: &str| {
        let mut h = format!("{text:<117}\n").into_bytes();
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&(h.len() as u16).to_le_bytes());
        bytes.append(&mut h);
        bytes
    };
    let mut huge = header("{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000, 1), }");
    huge.extend_from_slice(&[0u8; 16]);
    let mut overflow = header("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }");
    overflow.extend_from_slice(&[0u8; 8]);
    let truncated = header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }");
    let cases: [(&str, Vec<u8>, &str); 5] = [
        ("huge.npy", huge, "promises 400000000000 bytes"),
        ("overflow.npy", overflow, "shape (4294967296, 4294967296, 16)"),
        ("truncated.npy", truncated, "promises 8 bytes of data"),
        ("garbage.npy", b"not numpy at all".to_vec(), "no \\x93NUMPY magic"),
        ("garbage.npz", b"PK\x03\x04 but not a zip".to_vec(), "not an .npz file"),
    ];
    for (name, bytes, expected) in cases {
        let path = files.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = stderr_of_failure(&cli(&["run", "--dir", dir, "--inputs", &format!("number={}", path.display())]));
        assert!(err.contains(expected) && err.contains(name), "{name}: {err}");
    }
}

#[test]
fn input_examples_are_serialized_as_tensorflows_tool_does() {
    let tf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tensorflow/parsing_dnn_classifier");
    let dir = tf.to_str().unwrap();
    // TensorFlow's scores for these two examples (expected.json, classification case 1).
    let examples = "inputs=[{'x': [0.5], 'age': [33.0], 'color': ['blue'], 'word': ['beta']}, \
                    {'x': [-1.0], 'age': [61.0], 'color': ['purple']}]";
    let out = stdout(&cli(&["run", "--dir", dir, "--signature_def", "classification", "--input_examples", examples]));
    let answer: serde_json::Value = serde_json::from_str(&out).unwrap();
    let want = [[0.45878687500953674, 0.5412131547927856], [0.46350595355033875, 0.5364941358566284]];
    for (row, scores) in want.iter().enumerate() {
        for (k, w) in scores.iter().enumerate() {
            let got = answer["scores"][row][k].as_f64().unwrap();
            assert!((got - w).abs() < 1e-5, "{out}");
        }
    }
    assert_eq!(answer["classes"][0], serde_json::json!(["0", "1"]));
    // An integer literal makes an int64 list, as in TensorFlow's tool: the
    // float feature `x` then refuses it. A value that is not a list is refused.
    let ints = cli(&[
        "run",
        "--dir",
        dir,
        "--signature_def",
        "classification",
        "--input_examples",
        "inputs=[{'x': [1], 'age': [3.0]}]",
    ]);
    let err = String::from_utf8_lossy(&ints.stderr).into_owned();
    assert!(!ints.status.success() && err.contains("Data type: int64 but expected type: float"), "{err}");
    let bare =
        cli(&["run", "--dir", dir, "--signature_def", "classification", "--input_examples", "inputs=[{'x': 1.0}]"]);
    let err = String::from_utf8_lossy(&bare.stderr).into_owned();
    assert!(!bare.status.success() && err.contains("feature value must be a list"), "{err}");
}
