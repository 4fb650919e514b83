//! The model server over real HTTP on loopback, against an artifact exported
//! by the estimator: every endpoint, every bad input, a hot swap under
//! concurrent requests, a broken version refused, a graceful shutdown.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[path = "common/server.rs"]
mod server;

use estimator::Steps;
use estimator_rs::{serving_input_receiver_fn, toy_estimator, train_input_fn};
use serde_json::{Value, json};
use server::Server;

fn export(dir: &Path, learning_rate_boost: Option<u64>) -> PathBuf {
    let estimator = toy_estimator(dir);
    match learning_rate_boost {
        None => {
            estimator.train(train_input_fn, Steps::Max(1000)).unwrap();
        }
        Some(steps) => {
            estimator.train(train_input_fn, Steps::Count(steps)).unwrap();
        }
    }
    estimator.export_saved_model(dir.join("saved_model"), serving_input_receiver_fn).unwrap()
}

fn y(v: &Value) -> f64 {
    v["predictions"][0][0].as_f64().unwrap()
}

#[test]
fn endpoints_answer_as_tensorflow_serving_does() {
    let dir = tempfile::tempdir().unwrap();
    let version = export(dir.path(), None);
    let v = version.file_name().unwrap().to_str().unwrap().to_owned();
    let server = Server::start(&dir.path().join("saved_model"), 1 << 20);

    let (status, body) = server.predict(json!({"instances": [[1.0], [2.0]]}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["predictions"].as_array().unwrap().len(), 2);
    assert!((y(&body) - 2.0).abs() < 1e-2);
    let (status, body) = server.predict(json!({"instances": [{"number": [3.0]}]}));
    assert_eq!(status, 200, "{body}");
    assert!((y(&body) - 6.0).abs() < 1e-2);
    let (status, body) = server.predict(json!({"inputs": {"number": [[3.0], [4.0]]}}));
    assert_eq!(status, 200, "{body}");
    assert!((body["outputs"][1][0].as_f64().unwrap() - 8.0).abs() < 1e-2);
    let (status, body) = server.predict(json!({"inputs": [[5.0]], "signature_name": "predict"}));
    assert_eq!(status, 200, "{body}");
    let (status, body) =
        server.request("POST", &format!("/v1/models/toy/versions/{v}:predict"), r#"{"instances": [[1.0]]}"#);
    assert_eq!(status, 200, "{body}");

    let (status, body) = server.request("GET", "/v1/models/toy", "");
    assert_eq!(status, 200);
    assert_eq!(body["model_version_status"][0]["version"], json!(v));
    assert_eq!(body["model_version_status"][0]["state"], "AVAILABLE");
    let (status, body) = server.request("GET", &format!("/v1/models/toy/versions/{v}"), "");
    assert_eq!(status, 200, "{body}");
    let (status, body) = server.request("GET", "/v1/models/toy/metadata", "");
    assert_eq!(status, 200);
    let sig = &body["metadata"]["signature_def"]["signature_def"]["serving_default"];
    assert_eq!(sig["inputs"]["number"]["dtype"], "DT_FLOAT");
    assert_eq!(sig["inputs"]["number"]["tensor_shape"]["dim"][0]["size"], "-1");
    assert_eq!(sig["outputs"]["output"]["name"], "dense/BiasAdd:0");
    assert_eq!(server.request("GET", "/readyz", "").0, 200);
    assert_eq!(server.request("GET", "/healthz", "").0, 200);
    server.shutdown();
}

#[test]
fn a_model_config_file_serves_several_models() {
    let dir = tempfile::tempdir().unwrap();
    export(dir.path(), None);
    let early = dir.path().join("early");
    export(&early, Some(3));
    let config = dir.path().join("models.config");
    std::fs::write(
        &config,
        format!(
            "model_config_list {{\n  config {{ name: 'toy' base_path: '{}' model_platform: 'tensorflow' }}\n  \
             config {{ name: 'early' base_path: 'early/saved_model' }}\n}}\n",
            dir.path().join("saved_model").display()
        ),
    )
    .unwrap();
    let models = serving::read_model_config(&config).unwrap();
    assert_eq!(models[1].base_path, dir.path().join("early/saved_model"), "relative to the config file");
    let server = Server::start_models(models, 1 << 20);

    let (status, trained) = server.predict(json!({"instances": [[10.0]]}));
    assert_eq!(status, 200, "{trained}");
    assert!((y(&trained) - 20.0).abs() < 0.1, "{trained}");
    let (status, barely) = server.request("POST", "/v1/models/early:predict", r#"{"instances": [[10.0]]}"#);
    assert_eq!(status, 200, "{barely}");
    assert!((y(&barely) - 20.0).abs() > 1.0, "3 steps of training should not fit: {barely}");
    let (status, body) = server.request("GET", "/v1/models/early/metadata", "");
    assert_eq!((status, &body["model_spec"]["name"]), (200, &json!("early")));
    let (status, body) = server.request("POST", "/v1/models/late:predict", r#"{"instances": [[1.0]]}"#);
    assert_eq!(status, 404);
    assert!(body["error"].as_str().unwrap().contains("early, toy"), "{body}");
    let (status, body) = server.request("GET", "/readyz", "");
    assert_eq!(status, 200);
    assert!(body.as_str().unwrap().contains("early version") && body.as_str().unwrap().contains("toy version"));
    server.shutdown();
}

#[test]
fn bad_requests_get_4xx_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    export(dir.path(), None);
    let server = Server::start(&dir.path().join("saved_model"), 4096);
    let cases: Vec<(&str, &str, String, u16, &str)> = vec![
        ("POST", "/v1/models/toy:predict", "{not json".into(), 400, "JSON Parse error"),
        (
            "POST",
            "/v1/models/toy:predict",
            r#"{"instances": [{"numbr": [1.0]}]}"#.into(),
            400,
            "unknown input \"numbr\"",
        ),
        (
            "POST",
            "/v1/models/toy:predict",
            r#"{"instances": [[1.0, 2.0]]}"#.into(),
            400,
            "expected shape [?, 1], got [1, 2]",
        ),
        ("POST", "/v1/models/toy:predict", r#"{"instances": [[1.0], [2.0, 3.0]]}"#.into(), 400, "ragged"),
        ("POST", "/v1/models/toy:predict", r#"{"instances": [["a"]]}"#.into(), 400, "not a f32"),
        ("POST", "/v1/models/toy:predict", r#"{"instances": [[1.0]], "inputs": [[1.0]]}"#.into(), 400, "not both"),
        (
            "POST",
            "/v1/models/toy:predict",
            r#"{"signature_name": "nope", "instances": [[1.0]]}"#.into(),
            400,
            "\"nope\" not found",
        ),
        (
            "POST",
            "/v1/models/toy:predict",
            format!(r#"{{"instances": [{}]}}"#, vec!["[1.0]"; 2000].join(",")),
            413,
            "limit",
        ),
        ("POST", "/v1/models/other:predict", r#"{"instances": [[1.0]]}"#.into(), 404, "model \"other\""),
        ("POST", "/v1/models/toy/versions/7:predict", r#"{"instances": [[1.0]]}"#.into(), 404, "version \"7\""),
        ("POST", "/v1/models/toy/versions/temp-99:predict", r#"{"instances": [[1.0]]}"#.into(), 404, "temp-99"),
        ("GET", "/v1/models/toy:predict", String::new(), 404, "no endpoint"),
    ];
    for (method, path, body, status, message) in cases {
        let (got, answer) = server.request(method, path, &body);
        assert_eq!(got, status, "{method} {path} {body:.60}: {answer}");
        assert!(answer["error"].as_str().unwrap().contains(message), "{path}: {answer}");
    }
    assert_eq!(server.predict(json!({"instances": [[1.0]]})).0, 200);
    server.shutdown();
}

#[test]
fn versions_swap_under_load_without_a_failed_request() {
    let dir = tempfile::tempdir().unwrap();
    export(dir.path(), None);
    let base = dir.path().join("saved_model");
    let server = Arc::new(Server::start(&base, 1 << 20));
    let before = y(&server.predict(json!({"instances": [[10.0]]})).1);

    let running = Arc::new(AtomicBool::new(true));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let answers = Arc::new(std::sync::Mutex::new(Vec::new()));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (server, running, ok, failed, answers) =
                (Arc::clone(&server), Arc::clone(&running), Arc::clone(&ok), Arc::clone(&failed), Arc::clone(&answers));
            std::thread::spawn(move || {
                while running.load(Ordering::Relaxed) {
                    let (status, body) = server.predict(json!({"instances": [[10.0]]}));
                    if status == 200 {
                        ok.fetch_add(1, Ordering::Relaxed);
                        answers.lock().unwrap().push(y(&body));
                    } else {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();

    // A broken version appears first: refused, the old one keeps serving.
    std::thread::sleep(Duration::from_millis(100));
    let broken = base.join("9999999990");
    std::fs::create_dir_all(broken.join("variables")).unwrap();
    std::fs::write(broken.join("saved_model.pb"), b"garbage").unwrap();
    std::fs::create_dir_all(base.join("temp-9999999999")).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!((y(&server.predict(json!({"instances": [[10.0]]})).1) - before).abs() < 1e-9);
    std::fs::remove_dir_all(&broken).unwrap();

    // The estimator trains on and exports a new version: the server swaps.
    let second = export(dir.path(), Some(300));
    let v2 = second.file_name().unwrap().to_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, status) = server.request("GET", "/v1/models/toy", "");
        if status["model_version_status"][0]["version"] == json!(v2) {
            break;
        }
        assert!(Instant::now() < deadline, "the new version was not picked up");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    running.store(false, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    assert_eq!(failed.load(Ordering::Relaxed), 0, "no request may fail during the swap");
    assert!(ok.load(Ordering::Relaxed) > 10);
    let after = y(&server.predict(json!({"instances": [[10.0]]})).1);
    assert_ne!(before, after, "answers come from the new version");
    let answers = answers.lock().unwrap();
    assert!(answers.iter().all(|&a| a == before || a == after), "every answer is one version's or the other's");
    Arc::try_unwrap(server).ok().unwrap().shutdown();
}

/// The estimator's `train_and_evaluate` exports after each evaluation while
/// the server serves the export directory: it swaps to each new version,
/// and no request fails.
#[test]
fn training_exports_are_served_as_they_land() {
    use estimator::{EvalSpec, LatestExporter, RunConfig, TrainSpec, train_and_evaluate};
    let dir = tempfile::tempdir().unwrap();
    let config = RunConfig { save_checkpoints_steps: 250, ..RunConfig::default() };
    let estimator = toy_estimator(dir.path()).with_config(config);
    let base = dir.path().join("model/export/latest");
    let first = || {
        EvalSpec::new(|| train_input_fn().take(2)).exporter(LatestExporter::new("latest", serving_input_receiver_fn, 0))
    };
    train_and_evaluate(&estimator, TrainSpec { input_fn: train_input_fn, max_steps: 250 }, first()).unwrap();
    let server = Arc::new(Server::start(&base, 1 << 20));

    let running = Arc::new(AtomicBool::new(true));
    let (failed, versions) = (Arc::new(AtomicUsize::new(0)), Arc::new(std::sync::Mutex::new(Vec::<Value>::new())));
    let client = {
        let (server, running, failed, versions) =
            (Arc::clone(&server), Arc::clone(&running), Arc::clone(&failed), Arc::clone(&versions));
        std::thread::spawn(move || {
            while running.load(Ordering::Relaxed) {
                if server.predict(json!({"instances": [[10.0]]})).0 != 200 {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                let (_, status) = server.request("GET", "/v1/models/toy", "");
                let version = status["model_version_status"][0]["version"].clone();
                let mut seen = versions.lock().unwrap();
                if seen.last() != Some(&version) {
                    seen.push(version);
                }
            }
        })
    };
    let eval_spec = EvalSpec::new(|| train_input_fn().take(2)).throttle_secs(0.0).exporter(LatestExporter::new(
        "latest",
        serving_input_receiver_fn,
        0,
    ));
    let (_, exports) =
        train_and_evaluate(&estimator, TrainSpec { input_fn: train_input_fn, max_steps: 1000 }, eval_spec).unwrap();
    let last = exports.last().unwrap().file_name().unwrap().to_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(10);
    while versions.lock().unwrap().last() != Some(&json!(last)) {
        assert!(Instant::now() < deadline, "the last export was not picked up: {:?}", versions.lock().unwrap());
        std::thread::sleep(Duration::from_millis(20));
    }
    running.store(false, Ordering::Relaxed);
    client.join().unwrap();
    assert_eq!(failed.load(Ordering::Relaxed), 0, "no request may fail while versions land");
    assert!(versions.lock().unwrap().len() >= 2, "{:?}", versions.lock().unwrap());
    Arc::try_unwrap(server).ok().unwrap().shutdown();
}

/// TensorFlow Serving's JSON details: `NaN` / `Infinity` / `-Infinity`
/// tokens read and written (not `null`), an empty `instances` list
/// answered with no prediction, a version's metadata by number.
#[test]
fn non_finite_floats_empty_instances_and_version_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let version = export(dir.path(), None);
    let v = version.file_name().unwrap().to_str().unwrap().to_owned();
    let server = Server::start(&dir.path().join("saved_model"), 1 << 20);
    let (status, body) =
        server.request("POST", "/v1/models/toy:predict", r#"{"instances": [[NaN], [Infinity], [-Infinity], [1.0]]}"#);
    assert_eq!(status, 200, "{body}");
    // The toy is y = w x + b with w > 0: the tokens come back as tokens.
    let text = body.as_str().expect("not JSON to serde_json: it holds NaN tokens");
    assert!(text.starts_with(r#"{"predictions":[[NaN],[Infinity],[-Infinity],["#), "{text}");
    let (status, body) = server.request("POST", "/v1/models/toy:predict", r#"{"instances": [["NaN"]]}"#);
    assert_eq!(status, 400, "a string is not a float: {body}");
    let (status, body) = server.request("POST", "/v1/models/toy:predict", r#"{"instances": []}"#);
    assert_eq!((status, body), (200, json!({"predictions": []})));
    let (status, body) = server.request("GET", &format!("/v1/models/toy/versions/{v}/metadata"), "");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["model_spec"]["version"], json!(v));
    assert!(body["metadata"]["signature_def"]["signature_def"]["serving_default"].is_object(), "{body}");
    server.shutdown();
}
