//! Bad input to the estimator: typed errors, and nothing half-written left
//! looking valid.

mod common;

use common::{Params, model_fn};
use estimator::prelude::*;
use ndarray::array;

fn trained(dir: &std::path::Path) -> Estimator<impl estimator::ModelFn<Params>, Params> {
    let est = Estimator::new(model_fn, dir.join("model"), Params::default()).unwrap();
    est.train(|| common::train_input_fn().take(10), Steps::UntilExhausted).unwrap();
    est
}

#[test]
fn mismatched_shapes_in_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    let est = Estimator::new(model_fn, dir.path().join("model"), Params::default()).unwrap();
    let ragged = || {
        Dataset::from_vec(vec![
            Example::new(array![1.0f32, 1.0], array![2.0f32]),
            Example::new(array![1.0f32, 1.0, 1.0], array![2.0f32]),
        ])
        .batch(2)
    };
    let err = est.train(ragged, Steps::UntilExhausted).unwrap_err().to_string();
    assert!(err.contains("cannot batch") && err.contains("[3]"), "{err}");
    // A later batch whose shape differs from the first one's.
    let changing = || {
        Dataset::from_vec(vec![
            Example::new(array![1.0f32, 1.0], array![2.0f32]),
            Example::new(array![1.0f32], array![2.0f32]),
        ])
        .batch(1)
    };
    let err = est.train(changing, Steps::UntilExhausted).unwrap_err().to_string();
    assert!(err.contains("features") && err.contains("[1, 1]"), "{err}");
    assert!(est.latest_checkpoint().unwrap().is_none(), "a failed first train writes no checkpoint");
}

#[test]
fn empty_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let est = Estimator::new(model_fn, dir.path().join("model"), Params::default()).unwrap();
    let err = est.train(|| Dataset::from_vec(Vec::<Example>::new()).batch(4), Steps::UntilExhausted).unwrap_err();
    assert!(matches!(err, Error::EmptyDataset), "{err}");
}

#[test]
fn nan_loss_stops_with_the_step_and_keeps_the_last_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let est = trained(dir.path());
    let good = est.latest_checkpoint().unwrap().unwrap();
    let poisoned = || {
        Dataset::from_generator(|| {
            (0..5).map(|i| Example::new(array![1.0f32, 1.0], array![if i == 3 { f32::NAN } else { 2.0 }]))
        })
        .batch(1)
    };
    let err = est.train(poisoned, Steps::UntilExhausted).unwrap_err();
    assert!(matches!(err, Error::Diverged { step: 13, .. }), "{err}");
    assert!(err.to_string().contains("step 13"));
    assert_eq!(est.latest_checkpoint().unwrap().unwrap(), good);
}

#[test]
fn missing_and_corrupt_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = Estimator::new(model_fn, dir.path().join("nothing"), Params::default()).unwrap();
    assert!(matches!(fresh.predict(|| common::example_input_fn(1.0)), Err(Error::NoCheckpoint { .. })));
    assert!(matches!(fresh.evaluate(common::train_input_fn), Err(Error::NoCheckpoint { .. })));
    assert!(matches!(
        fresh.export_saved_model(dir.path().join("out"), common::receiver_fn),
        Err(Error::NoCheckpoint { .. })
    ));

    let est = trained(dir.path());
    let ckpt = est.latest_checkpoint().unwrap().unwrap();
    let data = ckpt.join("variables.data");
    let mut bytes = std::fs::read(&data).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&data, bytes).unwrap();
    let err = est.predict(|| common::example_input_fn(1.0)).err().unwrap().to_string();
    assert!(err.contains("corrupt"), "{err}");
    std::fs::remove_dir_all(&ckpt).unwrap();
    let err = est.predict(|| common::example_input_fn(1.0)).err().unwrap().to_string();
    assert!(err.contains("variables.index"), "{err}");
    std::fs::write(dir.path().join("model/checkpoint"), "model_checkpoint_path: \"../../etc\"\n").unwrap();
    let err = est.latest_checkpoint().unwrap_err().to_string();
    assert!(err.contains("unreadable line"), "{err}");
}

#[test]
fn a_crash_while_checkpointing_leaves_the_previous_one_intact() {
    let dir = tempfile::tempdir().unwrap();
    let est = trained(dir.path());
    let good = est.latest_checkpoint().unwrap().unwrap();
    // A writer that died half-way leaves a temp directory and nothing else.
    let tmp = dir.path().join("model/temp-ckpt-11");
    std::fs::create_dir(&tmp).unwrap();
    std::fs::write(tmp.join("variables.data"), b"partial").unwrap();
    assert_eq!(est.latest_checkpoint().unwrap().unwrap(), good);
    assert!(est.predict(|| common::example_input_fn(1.0)).is_ok());
    // Training goes on and cleans the leftover up when it writes that step.
    est.train(|| common::train_input_fn().take(1), Steps::UntilExhausted).unwrap();
    assert!(!tmp.exists());
}

#[test]
fn export_to_an_unwritable_place_leaves_no_version() {
    let dir = tempfile::tempdir().unwrap();
    let est = trained(dir.path());
    let file = dir.path().join("a_file");
    std::fs::write(&file, b"not a directory").unwrap();
    let err = est.export_saved_model(&file, common::receiver_fn).unwrap_err().to_string();
    assert!(err.contains("a_file"), "{err}");
    let err = est.export_saved_model(file.join("below"), common::receiver_fn).unwrap_err().to_string();
    assert!(err.contains("below"), "{err}");
}

#[test]
fn a_receiver_whose_features_do_not_fit_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let est = trained(dir.path());
    let receiver = |g: &mut GraphBuilder| {
        let number = g.placeholder("number", DataType::F32, Shape(vec![None, Some(1)]))?;
        let features = g.tile(number, &[1, 3])?; // [?, 3], the model wants [?, 2]
        Ok(ServingInputReceiver::new(features, [("number".to_owned(), number)].into()))
    };
    let base = dir.path().join("saved_model");
    let err = est.export_saved_model(&base, receiver).unwrap_err().to_string();
    assert!(err.contains("dense/kernel") || err.contains("checkpoint"), "{err}");
    let strings = |g: &mut GraphBuilder| {
        let words = g.placeholder("words", DataType::String, Shape(vec![None, Some(2)]))?;
        Ok(ServingInputReceiver::new(words, [("words".to_owned(), words)].into()))
    };
    let err = est.export_saved_model(&base, strings).unwrap_err().to_string();
    assert!(err.contains("dense/MatMul") && err.contains("string"), "{err}");
    assert!(export::latest_version(&base).is_err(), "no version was written");
}

#[test]
fn a_mode_the_model_fn_does_not_handle() {
    fn predict_only(
        _: &mut GraphBuilder,
        f: Features<Output>,
        _: Option<Output>,
        mode: Mode,
        _: &(),
    ) -> Result<EstimatorSpec> {
        match mode {
            Mode::Predict => Ok(EstimatorSpec::predict(*f.single_or("x")?)),
            _ => Err(Error::ModelFn { mode, reason: "only PREDICT is implemented".into() }),
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let est = Estimator::new(predict_only, dir.path(), ()).unwrap();
    let err = est.train(|| common::train_input_fn().take(1), Steps::UntilExhausted).unwrap_err().to_string();
    assert!(err.contains("TRAIN") && err.contains("only PREDICT"), "{err}");
    // A spec that lacks what the mode needs.
    fn no_train_op(
        g: &mut GraphBuilder,
        f: Features<Output>,
        _: Option<Output>,
        _: Mode,
        _: &(),
    ) -> Result<EstimatorSpec> {
        let x = *f.single_or("x")?;
        let loss = g.l2_loss(x)?;
        Ok(EstimatorSpec::eval(loss))
    }
    let est = Estimator::new(no_train_op, dir.path(), ()).unwrap();
    let err = est.train(|| common::train_input_fn().take(1), Steps::UntilExhausted).unwrap_err().to_string();
    assert!(err.contains("no train_op"), "{err}");
}

#[test]
fn a_model_dir_that_is_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    std::fs::write(&file, b"").unwrap();
    assert!(Estimator::new(model_fn, &file, Params::default()).is_err());
}
