//! The end-to-end story: train the toy model with the estimator, export it,
//! load it with the predictor, and get what the estimator's naive predict gets.

use std::sync::Arc;

use estimator_rs::{naive_predict, train_and_export};
use ndarray::array;
use predictor::Predictor;

#[test]
fn predictor_equals_naive_predict_for_the_service_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let (estimator, version) = train_and_export(dir.path()).unwrap();
    let predict_fn = Predictor::from_export_base(dir.path().join("saved_model")).unwrap();
    assert_eq!(predict_fn.model().dir(), version);
    for nb in 100..110 {
        let out = predict_fn.predict(&[("number", array![[nb as f32]].into())]).unwrap();
        let y = out["output"].as_f32().unwrap()[[0, 0]];
        let naive = naive_predict(&estimator, nb as f32).unwrap();
        assert!((y - naive).abs() <= 1e-6 * naive.abs().max(1.0), "nb={nb}: predictor {y}, estimator {naive}");
        assert!((y - 2.0 * nb as f32).abs() < 1e-2);
    }
}

#[test]
fn batches_and_many_threads_agree() {
    let dir = tempfile::tempdir().unwrap();
    let (_, version) = train_and_export(dir.path()).unwrap();
    let predict_fn = Arc::new(Predictor::from_saved_model(&version).unwrap());
    let batch = predict_fn
        .predict(&[("number", ndarray::Array2::from_shape_fn((10, 1), |(i, _)| 100.0 + i as f32).into())])
        .unwrap();
    let expected: Vec<f32> = batch["output"].as_slice::<f32>().unwrap().to_vec();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let predict_fn = Arc::clone(&predict_fn);
            let expected = expected.clone();
            std::thread::spawn(move || {
                let mut outputs = predict_fn.new_outputs();
                for round in 0..2000 {
                    let i = (t + round) % 10;
                    let input = [("number", array![[100.0 + i as f32]].into())];
                    predict_fn.predict_into(&input, &mut outputs).unwrap();
                    assert_eq!(outputs["output"].as_slice::<f32>().unwrap(), [expected[i]]);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn the_plan_matches_the_reference_kernels() {
    // The reference evaluation of the exported graph (export's kernels)
    // and the predictor's compiled plan (fused dense) agree.
    let dir = tempfile::tempdir().unwrap();
    let (_, version) = train_and_export(dir.path()).unwrap();
    let predict_fn = Predictor::from_saved_model(&version).unwrap();
    let input = opset::Tensor::from(ndarray::Array2::from_shape_fn((7, 1), |(i, _)| i as f32 * 3.5 - 10.0));
    let inputs = [("number", input)];
    let reference = estimator_rs::reference::reference_outputs(&version, "serving_default", &inputs).unwrap();
    let got = predict_fn.predict(&inputs).unwrap();
    let reference = reference["output"].as_slice::<f32>().unwrap();
    for (a, b) in got["output"].as_slice::<f32>().unwrap().iter().zip(reference) {
        assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "{a} vs {b}");
    }
}

#[test]
fn the_cli_runs_the_estimators_export() {
    use predictor::cli::{Cli, execute};
    let dir = tempfile::tempdir().unwrap();
    let (_, version) = train_and_export(dir.path()).unwrap();
    let run = |args: &[&str]| {
        let cli = <Cli as clap::Parser>::try_parse_from(args).unwrap();
        let mut out = Vec::new();
        execute(cli, &mut out).map(|()| String::from_utf8(out).unwrap())
    };
    let base = dir.path().join("saved_model");
    let shown = run(&["saved_model_cli", "show", "--dir", base.to_str().unwrap(), "--all"]).unwrap();
    assert!(shown.contains("signature_def['predict']") && shown.contains("name: number:0"), "{shown}");
    let out = run(&["saved_model_cli", "run", "--dir", version.to_str().unwrap(), "--input_exprs", "number=[[100.0]]"])
        .unwrap();
    let value: f64 = out.trim().trim_start_matches(r#"{"output":[["#).trim_end_matches("]]}").parse().unwrap();
    assert!((value - 200.0).abs() < 1e-2, "{out}");
}

#[test]
fn from_estimator_equals_the_exported_then_loaded_predictor() {
    let dir = tempfile::tempdir().unwrap();
    let untrained = estimator_rs::toy_estimator(dir.path());
    let err = estimator_rs::from_estimator(&untrained, estimator_rs::serving_input_receiver_fn).unwrap_err();
    assert!(err.to_string().contains("no checkpoint"), "{err}");
    let (estimator, version) = train_and_export(dir.path()).unwrap();
    let in_memory = estimator_rs::from_estimator(&estimator, estimator_rs::serving_input_receiver_fn).unwrap();
    let loaded = Predictor::from_saved_model(&version).unwrap();
    assert_eq!(in_memory.plan_len(), loaded.plan_len(), "the same plan");
    assert_eq!(in_memory.model().version(), None, "no directory, no version");
    for nb in [-3.5f32, 0.0, 101.0, 1e6] {
        let x = [("number", array![[nb]].into())];
        let (a, b) = (in_memory.predict(&x).unwrap(), loaded.predict(&x).unwrap());
        assert_eq!(a["output"], b["output"], "number {nb}");
    }
    // Its signatures are checked as a loaded artifact's are.
    let bad = in_memory.predict(&[("number", array![[1.0f32, 2.0]].into())]).unwrap_err();
    assert!(bad.to_string().contains("number"), "{bad}");
}
