//! Calls that do not fit the signature: each a typed error naming the key,
//! what was expected and what came; the predictor keeps working after.

use std::sync::OnceLock;

use estimator_rs::train_and_export;
use ndarray::array;
use opset::Tensor;
use predictor::{Error, LoadOptions, Predictor};

fn predictor() -> &'static Predictor {
    static PREDICTOR: OnceLock<(tempfile::TempDir, Predictor)> = OnceLock::new();
    &PREDICTOR
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let (_, version) = train_and_export(dir.path()).unwrap();
            let p = Predictor::from_saved_model(version).unwrap();
            (dir, p)
        })
        .1
}

fn number(t: Tensor) -> [(&'static str, Tensor); 1] {
    [("number", t)]
}

#[test]
fn introspection() {
    let p = predictor();
    assert_eq!(p.signature_name(), "serving_default");
    assert!(p.signatures().contains_key("predict"));
    let sig = p.signature();
    assert_eq!(sig.inputs["number"].dtype, opset::DataType::F32);
    assert_eq!(sig.inputs["number"].shape.to_string(), "[?, 1]");
    assert_eq!(sig.outputs["output"].shape.to_string(), "[?, 1]");
    assert!(p.version().is_some());
    // Tile([1, 2]) folds into the weights; MatMul + BiasAdd are one fused step.
    assert_eq!(p.plan_len(), 1);
}

#[test]
fn wrong_missing_and_extra_keys() {
    let p = predictor();
    let err = p.predict(&[("numbr", array![[1.0f32]].into())]).unwrap_err();
    assert!(matches!(&err, Error::UnknownInput { key, .. } if key == "numbr"), "{err}");
    assert!(err.to_string().contains("[\"number\"]"));
    let err = p.predict(&[]).unwrap_err();
    assert!(matches!(&err, Error::MissingInput { key, .. } if key == "number"), "{err}");
    let err = p.predict(&[("number", array![[1.0f32]].into()), ("extra", array![[1.0f32]].into())]).unwrap_err();
    assert!(matches!(&err, Error::UnknownInput { key, .. } if key == "extra"), "{err}");
    let err = p.predict(&[("number", array![[1.0f32]].into()), ("number", array![[2.0f32]].into())]).unwrap_err();
    assert!(matches!(&err, Error::DuplicateInput { .. }), "{err}");
}

#[test]
fn wrong_dtype_rank_and_fixed_dimension() {
    let p = predictor();
    let err = p.predict(&number(array![[1i64]].into())).unwrap_err();
    assert_eq!(err.to_string(), "input \"number\": expected dtype f32, got i64");
    let err = p.predict(&number(array![1.0f32].into())).unwrap_err();
    assert_eq!(err.to_string(), "input \"number\": expected shape [?, 1], got [1]");
    let err = p.predict(&number(array![[1.0f32, 2.0]].into())).unwrap_err();
    assert!(matches!(&err, Error::InputShape { got, .. } if got == &[1, 2]), "{err}");
    let err = p.predict(&number(Tensor::scalar(1.0f32))).unwrap_err();
    assert!(matches!(err, Error::InputShape { .. }));
}

#[test]
fn the_batch_dimension_varies_and_an_empty_batch_gives_empty_outputs() {
    let p = predictor();
    for n in [1, 2, 33, 300] {
        let out = p.predict(&number(ndarray::Array2::<f32>::ones((n, 1)).into())).unwrap();
        assert_eq!(out["output"].shape(), &[n, 1]);
    }
    // As in TensorFlow, a batch of zero rows is valid and answers zero rows.
    let out = p.predict(&number(ndarray::Array2::<f32>::zeros((0, 1)).into())).unwrap();
    assert_eq!(out["output"].shape(), &[0, 1]);
}

#[test]
fn nan_passes_through_as_data() {
    let p = predictor();
    let out = p.predict(&number(array![[f32::NAN], [1.0]].into())).unwrap();
    let y = out["output"].as_slice::<f32>().unwrap();
    assert!(y[0].is_nan());
    assert!((y[1] - 2.0).abs() < 1e-2);
}

#[test]
fn predict_into_reuses_the_callers_buffers() {
    let p = predictor();
    let mut outputs = p.new_outputs();
    p.predict_into(&number(array![[3.0f32]].into()), &mut outputs).unwrap();
    let ptr = outputs["output"].as_slice::<f32>().unwrap().as_ptr();
    p.predict_into(&number(array![[4.0f32]].into()), &mut outputs).unwrap();
    assert_eq!(outputs["output"].as_slice::<f32>().unwrap().as_ptr(), ptr);
    assert!((outputs["output"].as_slice::<f32>().unwrap()[0] - 8.0).abs() < 1e-2);
    assert!(outputs.get("nope").is_none());
    // A failed call leaves the predictor serving.
    assert!(p.predict_into(&number(array![[1i32]].into()), &mut outputs).is_err());
    p.predict_into(&number(array![[5.0f32]].into()), &mut outputs).unwrap();
}

#[test]
fn unknown_signature_and_tags() {
    let p = predictor();
    let err = p.with_signature("classify").unwrap_err();
    assert!(
        matches!(&err, Error::NoSignature { name, available } if name == "classify" && available.len() == 2),
        "{err}"
    );
    let other = p.with_signature("predict").unwrap();
    assert_eq!(other.signature_name(), "predict");
    let options = LoadOptions { tags: vec!["train".into()], ..LoadOptions::default() };
    let err = Predictor::load(p.model().dir(), &options).unwrap_err().to_string();
    assert!(err.contains("no meta graph tagged [\"train\"]"), "{err}");
}

#[test]
fn a_session_answers_like_predict_and_refuses_the_same_inputs() {
    let p = predictor();
    let mut session = p.session();
    for n in [1.0f32, 2.5, -7.0] {
        let want = p.predict(&number(array![[n]].into())).unwrap();
        let input = number(array![[n], [n + 1.0]].into());
        let got = session.run(&input).unwrap();
        assert_eq!(got["output"].as_slice::<f32>().unwrap()[0], want["output"].as_slice::<f32>().unwrap()[0]);
        assert_eq!(got["output"].shape(), &[2, 1]);
        assert!(got.get("nope").is_none());
        let at = got.at(p.output_position("output").unwrap()).unwrap();
        assert_eq!(at, &got["output"]);
        assert!(got.at(9).is_none());
    }
    let err = session.run(&number(array![[1i64]].into())).err().unwrap();
    assert!(matches!(err, Error::InputDType { .. }), "{err}");
    assert!(session.run(&number(array![[3.0f32]].into())).is_ok());
}

#[test]
fn an_export_base_given_as_a_version_is_named_as_one() {
    let base = tempfile::tempdir().unwrap();
    let version = estimator_rs::mlp::write_mlp(base.path(), &[3, 2], 1).unwrap();
    let err = Predictor::from_saved_model(base.path()).unwrap_err().to_string();
    let name = version.file_name().unwrap().to_str().unwrap();
    assert!(
        err.contains("looks like an export base") && err.contains(name) && err.contains("from_export_base"),
        "{err}"
    );
    let err = Predictor::from_export_base(&version).unwrap_err().to_string();
    assert!(err.contains("it is a version directory"), "{err}");
}
