//! Training the toy model: convergence, Adam against TensorFlow, resuming,
//! checkpoints, the naive predict path, export.

mod common;

use common::{Params, model_fn, predict_one};
use estimator::prelude::*;
use ndarray::array;

fn estimator(dir: &std::path::Path, params: Params) -> Estimator<impl estimator::ModelFn<Params>, Params> {
    Estimator::new(model_fn, dir.join("model"), params).unwrap()
}

#[test]
fn the_toy_model_converges() {
    let dir = tempfile::tempdir().unwrap();
    let est = estimator(dir.path(), Params::default());
    let summary = est.train(common::train_input_fn, Steps::Max(1000)).unwrap();
    assert_eq!(summary.global_step, 1000);
    let eval_input = || common::train_input_fn().take(5);
    let metrics = est.evaluate(eval_input).unwrap();
    assert!(metrics.loss < 1e-3, "loss {}", metrics.loss);
    assert_eq!(metrics.global_step, 1000);
    for n in 100..110 {
        let y = predict_one(&est, n as f32);
        assert!((y - 2.0 * n as f32).abs() < 1e-2, "predict({n}) = {y}");
    }
    // TensorBoard's files, as TensorFlow's estimator writes them: the loss
    // every 100 steps and the step rate in the model directory, the
    // evaluation's loss at the checkpoint's step in eval/.
    let events = |dir: std::path::PathBuf| {
        let files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("events.out.tfevents."))
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        estimator::summary::read_scalars(&files[0]).unwrap()
    };
    let model_dir = dir.path().join("model");
    let train = events(model_dir.clone());
    let losses: Vec<i64> = train.iter().filter(|(tag, ..)| tag == "loss").map(|(_, step, _)| *step).collect();
    assert_eq!(losses, (1..=10).map(|k| k * 100).collect::<Vec<i64>>());
    assert!(train.iter().any(|(tag, step, rate)| tag == "global_step/sec" && *step == 1000 && *rate > 0.0));
    let final_loss = train.iter().rfind(|(tag, ..)| tag == "loss").unwrap().2;
    assert_eq!(final_loss, summary.loss);
    let eval = events(model_dir.join("eval"));
    assert_eq!(eval, [("loss".to_owned(), 1000, metrics.loss)]);
}

/// Expected values from TensorFlow 2.15.1 (tf.compat.v1), three steps:
///
/// ```python
/// x = tf.constant([[1., 2.], [3., -1.], [0.5, 0.25]]); y = tf.constant([[2.], [4.], [6.]])
/// k = tf.Variable([[0.3], [-0.2]]); b = tf.Variable([0.1])
/// loss = tf.nn.l2_loss(tf.nn.bias_add(tf.matmul(x, k), b) - y)
/// opt = tf.train.AdamOptimizer(0.5); train = opt.minimize(loss)
/// for i in range(3): s.run(train); print(s.run([k, b, opt.get_slot(k, 'm'), opt.get_slot(k, 'v')]))
/// ```
#[test]
#[allow(clippy::excessive_precision)] // TensorFlow's values, as it printed them
fn adam_matches_tensorflow_for_three_steps() {
    type Step = ([f32; 2], f32, [f32; 2], [f32; 2]); // kernel, bias, m, v
    let expected: [Step; 3] = [
        (
            [0.800000011920929, 0.2999999523162842],
            0.6000000238418579,
            [-1.3300002813339233, -0.2650000751018524],
            [0.17688770592212677, 0.007022410165518522],
        ),
        (
            [1.262826919555664, 0.6252609491348267],
            1.0773416757583618,
            [-1.8332502841949463, -0.23162510991096497],
            [0.2171916961669922, 0.007020114455372095],
        ),
        (
            [1.6152329444885254, 0.6426371335983276],
            1.498885154724121,
            [-1.625434160232544, -0.017753824591636658],
            [0.2170344889163971, 0.0106500294059515],
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let params = Params { learning_rate: 0.5, kernel: Some(vec![0.3, -0.2]), bias: Some(vec![0.1]) };
    let est =
        estimator(dir.path(), params).with_config(RunConfig { save_checkpoints_steps: 1, ..RunConfig::default() });
    let input = || {
        let batch = Example::new(array![[1.0f32, 2.0], [3.0, -1.0], [0.5, 0.25]], array![[2.0f32], [4.0], [6.0]]);
        Dataset::from_vec(vec![batch]).repeat(10)
    };
    for (step, (kernel, bias, m, v)) in expected.iter().enumerate() {
        let summary = est.train(input, Steps::Count(1)).unwrap();
        assert_eq!(summary.global_step, step as i64 + 1);
        let ckpt = estimator::checkpoint::restore(&summary.checkpoint).unwrap();
        let close = |name: &str, want: &[f32]| {
            let got = ckpt[name].as_slice::<f32>().unwrap();
            for (g, w) in got.iter().zip(want) {
                assert!(
                    (g - w).abs() <= 1e-6 * w.abs().max(1.0),
                    "step {}: {name} = {got:?}, TensorFlow {want:?}",
                    step + 1
                );
            }
        };
        close("dense/kernel", kernel);
        close("dense/bias", &[*bias]);
        close("dense/kernel/Adam", m);
        close("dense/kernel/Adam_1", v);
    }
}

#[test]
fn resuming_continues_the_global_step_and_matches_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let whole = Estimator::new(model_fn, dir.path().join("whole"), Params::default()).unwrap();
    whole.train(common::train_input_fn, Steps::Max(300)).unwrap();
    let split = Estimator::new(model_fn, dir.path().join("split"), Params::default()).unwrap();
    // The same 300 batches, split in two runs of 100 and 200.
    let first = split.train(|| common::train_input_fn().take(100), Steps::UntilExhausted).unwrap();
    assert_eq!(first.global_step, 100);
    let second = split.train(|| common::train_input_fn().repeat(2).take(300).skip_batches(100), Steps::Max(300));
    let second = second.unwrap();
    assert_eq!(second.global_step, 300);
    let a = estimator::checkpoint::restore(&whole.latest_checkpoint().unwrap().unwrap()).unwrap();
    let b = estimator::checkpoint::restore(&second.checkpoint).unwrap();
    assert_eq!(a, b, "resumed training must give bit-identical weights and slots");
}

/// Skips the first `n` elements (an input_fn that resumes where it stopped).
trait SkipBatches {
    fn skip_batches(self, n: usize) -> Self;
}

impl SkipBatches for Dataset<Example> {
    fn skip_batches(self, n: usize) -> Dataset<Example> {
        let data = self;
        Dataset::from_generator(move || data.iter().skip(n).map(Result::unwrap))
    }
}

#[test]
fn keeps_the_last_five_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let est = estimator(dir.path(), Params::default())
        .with_config(RunConfig { save_checkpoints_steps: 10, ..RunConfig::default() });
    est.train(common::train_input_fn, Steps::Max(95)).unwrap();
    let listed = estimator::checkpoint::list(&dir.path().join("model")).unwrap();
    let names: Vec<String> = listed.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["ckpt-60", "ckpt-70", "ckpt-80", "ckpt-90", "ckpt-95"]);
    let on_disk =
        std::fs::read_dir(dir.path().join("model")).unwrap().filter(|e| e.as_ref().unwrap().path().is_dir()).count();
    assert_eq!(on_disk, 5);
}

#[test]
fn predict_restores_from_disk_on_every_call() {
    let dir = tempfile::tempdir().unwrap();
    let est = estimator(dir.path(), Params::default());
    est.train(common::train_input_fn, Steps::Max(1000)).unwrap();
    let before = predict_one(&est, 10.0);
    // Another estimator on the same directory trains further (with a huge
    // learning rate, so the weights visibly change): the first one's next
    // predict must see the new checkpoint.
    let other = estimator(dir.path(), Params { learning_rate: 50.0, ..Params::default() });
    other.train(|| common::train_input_fn().take(3), Steps::Count(3)).unwrap();
    let after = predict_one(&est, 10.0);
    assert_ne!(before, after);
}

#[test]
fn the_exported_artifact_evaluates_like_predict() {
    let dir = tempfile::tempdir().unwrap();
    let est = estimator(dir.path(), Params::default());
    est.train(common::train_input_fn, Steps::Max(1000)).unwrap();
    let version = est.export_saved_model(dir.path().join("saved_model"), common::receiver_fn).unwrap();
    assert_eq!(export::latest_version(dir.path().join("saved_model")).unwrap(), version);

    let artifact = export::Artifact::open(&version).unwrap();
    let meta = artifact.model().meta_graph(&["serve"]).unwrap();
    let signature = &meta.signatures["serving_default"];
    assert_eq!(signature.inputs["number"].shape, Shape(vec![None, Some(1)]));
    assert_eq!(signature.outputs["output"].shape, Shape(vec![None, Some(1)]));
    assert_eq!(artifact.variables().names().collect::<Vec<_>>(), ["dense/bias", "dense/kernel"], "no optimizer slots");

    let graph = artifact.typed_graph(&["serve"]).unwrap();
    for n in 100..110 {
        let mut values = vec![None; graph.nodes().len()];
        values[graph.resolve(&signature.inputs["number"].name).unwrap()] = Some(Tensor::from(array![[n as f32]]));
        for name in artifact.variables().names() {
            values[graph.resolve(name).unwrap()] = Some(artifact.variables().get(name).unwrap());
        }
        let out = graph.resolve(&signature.outputs["output"].name).unwrap();
        graph.evaluate(&[out], &mut values).unwrap();
        let y = values[out].as_ref().unwrap().as_f32().unwrap()[[0, 0]];
        assert_eq!(y, predict_one(&est, n as f32), "n = {n}");
    }
}

/// A small CNN learns where the one bright pixel of a 4x4 image is (left
/// or right half): convolution + ReLU, max pool, flatten, dense logits,
/// softmax cross-entropy, Adam; then predicts every position right.
#[test]
fn a_small_cnn_learns_where_the_bright_pixel_is() {
    fn image(position: usize) -> ndarray::Array3<f32> {
        let mut image = ndarray::Array3::<f32>::zeros((4, 4, 1));
        image[[position / 4, position % 4, 0]] = 1.0;
        image
    }
    let label = |position: usize| if position % 4 >= 2 { array![0.0f32, 1.0] } else { array![1.0f32, 0.0] };
    let model_fn = |g: &mut GraphBuilder, features: Features<Output>, labels: Option<Output>, mode: Mode, _: &()| {
        let x = *features.single_or("image")?;
        let h = Conv2D::new(4, [3, 3]).activation(Activation::Relu).apply(g, x)?;
        let pooled = g.max_pool(h, [2, 2], estimator::Sliding { strides: [2, 2], dilations: [1, 1], same: true })?;
        let flat = g.reshape(pooled, &[-1, 16])?;
        let logits = Dense::new(2).apply(g, flat)?;
        if mode == Mode::Predict {
            return Ok(EstimatorSpec::predict(logits));
        }
        let labels = labels.ok_or(estimator::Error::ModelFn { mode, reason: "labels are required".into() })?;
        let loss = losses::softmax_cross_entropy(g, labels, logits)?;
        Ok(match mode {
            Mode::Eval => EstimatorSpec::eval(loss),
            _ => EstimatorSpec::train(loss, Adam::new(0.05).minimize(loss)),
        })
    };
    let dir = tempfile::tempdir().unwrap();
    let est = Estimator::new(model_fn, dir.path().join("model"), ()).unwrap();
    let train = move || {
        Dataset::from_generator(move || (0..16).map(move |p| Example::new(image(p), label(p)))).batch(16).repeat(300)
    };
    est.train(train, Steps::Max(300)).unwrap();
    let all = || Dataset::from_generator(|| (0..16).map(|p| Example::unlabeled(image(p)))).batch(16);
    let predictions: Vec<_> = est.predict(all).unwrap().collect::<Result<_>>().unwrap();
    assert_eq!(predictions.len(), 16);
    for (p, prediction) in predictions.iter().enumerate() {
        let logits = prediction.values().next().unwrap().as_slice::<f32>().unwrap();
        assert_eq!(logits[1] > logits[0], p % 4 >= 2, "position {p}: logits {logits:?}");
    }
}

#[test]
fn train_and_evaluate_exports_after_evaluations() {
    use estimator::{BestExporter, EvalSpec, FinalExporter, LatestExporter, TrainSpec, train_and_evaluate};
    let dir = tempfile::tempdir().unwrap();
    let config = RunConfig { save_checkpoints_steps: 200, ..RunConfig::default() };
    let est = estimator(dir.path(), Params::default()).with_config(config.clone());
    let eval_input = || common::train_input_fn().take(5);
    let eval_spec = EvalSpec::new(eval_input)
        .throttle_secs(0.0)
        .exporter(LatestExporter::new("latest", common::receiver_fn, 3))
        .exporter(BestExporter::new("best", common::receiver_fn, 0))
        .exporter(FinalExporter::new("final", common::receiver_fn));
    let train_spec = TrainSpec { input_fn: common::train_input_fn, max_steps: 1000 };
    let (metrics, exports) = train_and_evaluate(&est, train_spec, eval_spec).unwrap();
    assert_eq!(metrics.global_step, 1000);
    let export_root = dir.path().join("model/export");
    let versions = |name: &str| export::list_versions(export_root.join(name)).unwrap().len();
    // Evaluations at 200, 400, 600, 800 and the final one at 1000.
    assert_eq!(versions("latest"), 3, "the newest three kept of five");
    assert_eq!(versions("final"), 1);
    let best = versions("best");
    assert!((1..=5).contains(&best), "{best}");
    assert_eq!(exports.len(), 5 + best + 1);
    assert!(exports.iter().all(|v| v.starts_with(&export_root)), "{exports:?}");
    // The evaluations were written for TensorBoard at each of those steps.
    let eval_dir = dir.path().join("model/eval");
    let steps: Vec<i64> = std::fs::read_dir(&eval_dir)
        .unwrap()
        .flat_map(|e| estimator::summary::read_scalars(e.unwrap().path()).unwrap())
        .map(|(_, step, _)| step)
        .collect();
    let mut sorted = steps.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [200, 400, 600, 800, 1000]);
    // A throttle longer than training: the first checkpoint's evaluation
    // (TensorFlow's timer triggers on the first) and the final one.
    let again = tempfile::tempdir().unwrap();
    let est = estimator(again.path(), Params::default()).with_config(config);
    let eval_spec = EvalSpec::new(eval_input).exporter(LatestExporter::new("latest", common::receiver_fn, 0));
    let train_spec = TrainSpec { input_fn: common::train_input_fn, max_steps: 1000 };
    let (_, exports) = train_and_evaluate(&est, train_spec, eval_spec).unwrap();
    assert_eq!(exports.len(), 2);
}

#[test]
fn the_model_fns_summaries_reach_tensorboards_files() {
    use estimator::{EstimatorSpec, Features, GraphBuilder, Output, layers, losses};
    fn model_fn(
        g: &mut GraphBuilder,
        f: Features<Output>,
        labels: Option<Output>,
        mode: Mode,
        _: &(),
    ) -> Result<EstimatorSpec> {
        let x = *f.single_or("feature")?;
        let y = layers::dense(g, x, 1)?;
        if mode == Mode::Predict {
            return Ok(EstimatorSpec::predict(y));
        }
        let mean = g.reduce_mean(y, &[], false)?;
        g.summary_scalar("mean_prediction", mean)?;
        g.summary_histogram("predictions", y)?;
        assert!(g.summary_scalar("not_a_scalar", y).unwrap_err().to_string().contains("one f32 value"));
        let labels = labels.ok_or(Error::ModelFn { mode, reason: "labels".into() })?;
        let diff = g.sub(y, labels)?;
        let loss = losses::l2_loss(g, diff)?;
        Ok(EstimatorSpec::train(loss, Adam::new(0.5).minimize(loss)))
    }
    let dir = tempfile::tempdir().unwrap();
    let est = Estimator::new(model_fn, dir.path().join("model"), ()).unwrap();
    est.train(common::train_input_fn, Steps::Max(300)).unwrap();
    let file = std::fs::read_dir(dir.path().join("model"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with("events.out.tfevents."))
        .unwrap();
    let events = estimator::summary::read_events(&file).unwrap();
    // The training graph, once, for TensorBoard's graph view.
    let graph = events.iter().find_map(|e| e.graph_def.as_ref()).expect("a graph event");
    let graph = <estimator::summary::GraphDef as prost::Message>::decode(graph.as_slice()).unwrap();
    assert!(graph.node.iter().any(|n| n.op == "MatMul" && n.name.starts_with("dense")), "{:?}", graph.node);
    let at =
        |step: i64| events.iter().find(|e| e.step == step && e.summary.as_ref().is_some_and(|s| s.value.len() == 3));
    for step in [100, 200, 300] {
        let values = &at(step).unwrap_or_else(|| panic!("no summaries at {step}")).summary.as_ref().unwrap().value;
        let tags: Vec<&str> = values.iter().map(|v| v.tag.as_str()).collect();
        assert_eq!(tags, ["loss", "mean_prediction", "predictions"]);
        let histo = values[2].histo.as_ref().unwrap();
        assert_eq!(histo.num, 20.0, "one batch of 20 predictions");
        assert_eq!(histo.bucket.iter().sum::<f64>(), 20.0);
        assert!(histo.min <= histo.max && histo.bucket_limit.windows(2).all(|w| w[0] < w[1]));
        let mean = values[1].simple_value.unwrap();
        assert!((f64::from(mean) - histo.sum / histo.num).abs() < 1e-3 * mean.abs().max(1.0) as f64);
    }
}
