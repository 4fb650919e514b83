//! Model warmup as TensorFlow Serving's: a version's
//! `assets.extra/tf_serving_warmup_requests` (a TFRecord of
//! `PredictionLog`s) is replayed before it serves; a version whose warmup
//! fails (corrupt file, a request it refuses, too many records) does not
//! serve and shows why in its status; `--enable_model_warmup=false` skips
//! it.

use std::path::Path;

#[path = "common/grpc.rs"]
mod grpc_client;
#[path = "common/server.rs"]
mod server;

use grpc_client::{export, floats, predict_request};
use prost::Message;
use serde_json::{Value, json};
use server::Server;
use serving::grpc::proto::prediction_log::LogType;
use serving::grpc::proto::{ClassifyLog, PredictLog, PredictionLog};

/// A PredictionLog record asking `input` of the toy.
fn predict_log(input: &str) -> Vec<u8> {
    let request = predict_request("toy", vec![(input, floats(&[1, 1], &[3.0]))]);
    let log =
        PredictionLog { log_type: Some(LogType::PredictLog(PredictLog { request: Some(request), response: None })) };
    log.encode_to_vec()
}

/// Writes `records` as the version's warmup file.
fn write_warmup(version: &Path, records: &[Vec<u8>]) {
    let dir = version.join("assets.extra");
    std::fs::create_dir_all(&dir).unwrap();
    let file: Vec<u8> = records.iter().flat_map(|r| export::tfrecord::frame(r)).collect();
    std::fs::write(dir.join(serving::WARMUP_REQUESTS_FILE), file).unwrap();
}

fn serve(dir: &Path, warmup: Option<usize>) -> Server {
    Server::start_config(serving::Config {
        models: vec![serving::ModelConfig::new("toy", dir.join("saved_model"))],
        warmup,
        prometheus_path: Some(serving::DEFAULT_PROMETHEUS_PATH.into()),
        ..serving::Config::default()
    })
}

/// (state, error message) of the only version.
fn status(server: &Server) -> (String, String) {
    let (_, body) = server.request("GET", "/v1/models/toy", "");
    let version = &body["model_version_status"][0];
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    (text(&version["state"]), text(&version["status"]["error_message"]))
}

#[test]
fn a_version_serves_once_its_warmup_requests_run() {
    let dir = tempfile::tempdir().unwrap();
    let version = export(dir.path(), 100);
    let classify = PredictionLog { log_type: Some(LogType::ClassifyLog(ClassifyLog::default())) }.encode_to_vec();
    write_warmup(&version, &[predict_log("number"), predict_log("number"), classify]);
    let server = serve(dir.path(), Some(3));
    assert_eq!(status(&server), ("AVAILABLE".into(), String::new()));
    let (code, body) = server.predict(json!({"instances": [[1.0]]}));
    assert_eq!(code, 200, "{body}");
    // TensorFlow Serving's warmup latency histogram, one warmup of this version.
    let (_, page) = server.request("GET", serving::DEFAULT_PROMETHEUS_PATH, "");
    let page = page.as_str().unwrap_or_default().to_owned();
    let count = format!(
        ":tensorflow:serving:model_warmup_latency_count{{model_path=\"{}\",status=\"OK\"}} 1",
        version.display()
    );
    assert!(page.contains(&count), "{page}");
    server.shutdown();
}

/// What a case does to a version's warmup data.
type Spoil = Box<dyn Fn(&Path)>;

#[test]
fn a_version_whose_warmup_fails_does_not_serve_and_says_why() {
    let cases: [(&str, Spoil); 4] = [
        ("a request it refuses", Box::new(|v| write_warmup(v, &[predict_log("numbr")]))),
        ("not a PredictionLog", Box::new(|v| write_warmup(v, &[b"\x0a\xff".to_vec()]))),
        ("too many records", Box::new(|v| write_warmup(v, &vec![predict_log("number"); 1001]))),
        (
            "not a TFRecord file",
            Box::new(|v| {
                std::fs::create_dir_all(v.join("assets.extra")).unwrap();
                std::fs::write(v.join("assets.extra").join(serving::WARMUP_REQUESTS_FILE), b"not a record").unwrap();
            }),
        ),
    ];
    let expected = [
        "numbr",
        "Failed to parse warmup record 0",
        "Number of warmup records exceeds the maximum (1000)",
        "Please verify your warmup data is in TFRecord format",
    ];
    for ((case, spoil), words) in cases.iter().zip(expected) {
        let dir = tempfile::tempdir().unwrap();
        let version = export(dir.path(), 100);
        spoil(&version);
        let server = serve(dir.path(), Some(1));
        let (state, error) = status(&server);
        assert_eq!(state, "END", "{case}: {error}");
        assert!(error.contains(words) && error.contains("tf_serving_warmup_requests"), "{case}: {error}");
        assert_eq!(server.predict(json!({"instances": [[1.0]]})).0, 503, "{case}");
        server.shutdown();

        // Without warmup the same version serves.
        let server = serve(dir.path(), None);
        assert_eq!(status(&server).0, "AVAILABLE", "{case}");
        server.shutdown();
    }
}
