//! Monitoring over real sockets on loopback: the Prometheus page of
//! `--monitoring_config_file` on the REST port, scraped after requests of
//! both APIs, with TensorFlow Serving's metric names and labels
//! (tensorflow_serving/servables/tensorflow/util.cc).

#[path = "common/grpc.rs"]
mod grpc_client;
#[path = "common/server.rs"]
mod server;

use grpc_client::{export, sample, spec};
use serde_json::Value;
use server::Server;
use serving::grpc::proto::model_service_client::ModelServiceClient;
use serving::grpc::proto::prediction_service_client::PredictionServiceClient;
use serving::grpc::proto::{
    DataType, GetModelStatusRequest, PredictRequest, TensorProto, TensorShapeProto, tensor_shape_proto::Dim,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_prometheus_page_counts_requests_by_model_api_and_status() {
    let dir = tempfile::tempdir().unwrap();
    export(dir.path(), 100);
    let file = dir.path().join("monitoring.config");
    std::fs::write(&file, "prometheus_config {\n  enable: true\n  path: \"/monitoring/prometheus/metrics\"\n}\n")
        .unwrap();
    let monitoring = serving::read_monitoring_config(&file).unwrap();
    assert_eq!(monitoring.prometheus_path.as_deref(), Some(serving::DEFAULT_PROMETHEUS_PATH));
    let server = Server::start_config(serving::Config {
        models: vec![serving::ModelConfig::new("toy", dir.path().join("saved_model"))],
        prometheus_path: monitoring.prometheus_path,
        ..serving::Config::default()
    });

    for _ in 0..3 {
        assert_eq!(server.predict(serde_json::json!({"instances": [[1.0]]})).0, 200);
    }
    assert_eq!(server.predict(serde_json::json!({"instances": [["text"]]})).0, 400);
    assert_eq!(server.request("GET", "/v1/models/toy", "").0, 200);
    assert_eq!(server.request("GET", "/v1/models/toy/metadata", "").0, 200);
    assert_eq!(server.request("POST", "/v1/models/nope:predict", r#"{"instances": [[1.0]]}"#).0, 404);
    let url = format!("http://{}", server.grpc_addr);
    let mut prediction = PredictionServiceClient::connect(url.clone()).await.unwrap();
    let number = TensorProto {
        dtype: DataType::DtFloat.into(),
        tensor_shape: Some(TensorShapeProto {
            dim: vec![Dim { size: 1, name: String::new() }; 2],
            unknown_rank: false,
        }),
        float_val: vec![1.0],
        ..Default::default()
    };
    let request = PredictRequest {
        model_spec: spec("toy", None),
        inputs: [("number".to_owned(), number)].into_iter().collect(),
        output_filter: Vec::new(),
    };
    prediction.predict(request.clone()).await.unwrap();
    prediction.predict(request).await.unwrap();
    let mut models = ModelServiceClient::connect(url).await.unwrap();
    models.get_model_status(GetModelStatusRequest { model_spec: spec("toy", None) }).await.unwrap();

    let (status, page) = server.request("GET", "/monitoring/prometheus/metrics", "");
    assert_eq!(status, 200);
    let Value::String(page) = page else { panic!("not text: {page}") };
    let count = |labels: &str| sample(&page, &format!(":tensorflow:serving:request_count{{{labels}}}"));
    assert_eq!(count("model_name=\"toy\",status=\"OK\""), 5, "3 REST and 2 gRPC predictions:\n{page}");
    assert_eq!(count("model_name=\"toy\",status=\"INVALID_ARGUMENT\""), 1, "{page}");
    assert_eq!(count("model_name=\"nope\",status=\"NOT_FOUND\""), 1, "{page}");
    let latency = |labels: &str| sample(&page, &format!(":tensorflow:serving:request_latency_count{{{labels}}}"));
    assert_eq!(latency("model_name=\"toy\",API=\"Predict\",entrypoint=\"REST\",status=\"OK\""), 3, "{page}");
    assert_eq!(latency("model_name=\"toy\",API=\"Predict\",entrypoint=\"GRPC\",status=\"OK\""), 2, "{page}");
    assert_eq!(latency("model_name=\"toy\",API=\"GetModelStatus\",entrypoint=\"REST\",status=\"OK\""), 1, "{page}");
    assert_eq!(latency("model_name=\"toy\",API=\"GetModelStatus\",entrypoint=\"GRPC\",status=\"OK\""), 1, "{page}");
    assert_eq!(latency("model_name=\"toy\",API=\"GetModelMetadata\",entrypoint=\"REST\",status=\"OK\""), 1, "{page}");
    let inf = ":tensorflow:serving:request_latency_bucket{model_name=\"toy\",API=\"Predict\",entrypoint=\"REST\",status=\"OK\",le=\"+Inf\"}";
    assert_eq!(sample(&page, inf), 3, "{page}");
    assert!(page.contains("# TYPE :tensorflow:serving:request_latency histogram"), "{page}");
    let loads = page
        .lines()
        .find(|l| l.starts_with(":tensorflow:cc:saved_model:load_attempt_count{") && l.contains("status=\"success\""))
        .unwrap_or_else(|| panic!("no load recorded:\n{page}"));
    assert!(loads.ends_with(" 1"), "{loads}");
    server.shutdown();
}

#[test]
fn no_page_without_a_monitoring_config() {
    let dir = tempfile::tempdir().unwrap();
    export(dir.path(), 100);
    let server = Server::start(&dir.path().join("saved_model"), 1 << 20);
    assert_eq!(server.request("GET", "/monitoring/prometheus/metrics", "").0, 404);
    server.shutdown();
}
