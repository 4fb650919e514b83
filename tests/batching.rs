//! Server-side batching (`--enable_batching`) over real sockets: concurrent
//! gRPC and REST requests merged into batches, each answered with its own
//! rows exactly as alone; padding to the allowed batch sizes; TensorFlow
//! Serving's refusals (too many rows, a full queue); a bad request never
//! failing the batch it would have joined; batch sizes on the Prometheus
//! page.

use std::time::Duration;

#[path = "common/grpc.rs"]
mod grpc_client;
#[path = "common/server.rs"]
mod server;

use grpc_client::{clients, export, f32s, floats, predict_request, sample};
use serde_json::{Value, json};
use server::Server;
use serving::BatchingParameters;
use tonic::Code;

/// Serves the toy exported under `dir` with batching as `params` say, and
/// the Prometheus page.
fn serve(dir: &std::path::Path, params: BatchingParameters) -> Server {
    Server::start_config(serving::Config {
        models: vec![serving::ModelConfig::new("toy", dir.join("saved_model"))],
        prometheus_path: Some(serving::DEFAULT_PROMETHEUS_PATH.into()),
        batching: Some(params),
        ..serving::Config::default()
    })
}

fn metrics(server: &Server) -> String {
    match server.request("GET", serving::DEFAULT_PROMETHEUS_PATH, "") {
        (200, Value::String(page)) => page,
        other => panic!("no metrics page: {other:?}"),
    }
}

const PROCESSED: &str = ":tensorflow:serving:batching_session:processed_batch_size";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_run_as_one_batch_and_each_gets_its_own_rows() {
    let dir = tempfile::tempdir().unwrap();
    let version = export(dir.path(), 300);
    let alone = predictor::Predictor::from_saved_model(&version).unwrap();
    // A batch waits up to 10 s for 8 rows: the 6 requests below (4 of one
    // row, 2 of two) fill one.
    let params = BatchingParameters {
        max_batch_size: 8,
        batch_timeout: Duration::from_secs(10),
        num_batch_threads: 1,
        ..BatchingParameters::default()
    };
    let server = serve(dir.path(), params);
    let (prediction, _) = clients(server.grpc_addr).await;
    let asks = (0..6).map(|i| {
        let mut client = prediction.clone();
        let x = [i as f32, 100.0 + i as f32];
        tokio::spawn(async move {
            let rows = if i < 4 { 1 } else { 2 };
            let request = predict_request("toy", vec![("number", floats(&[rows, 1], &x[..rows as usize]))]);
            let answer = client.predict(request).await.unwrap().into_inner();
            (x[..rows as usize].to_vec(), f32s(&answer.outputs["output"]))
        })
    });
    let mut rows = 0;
    for ask in asks.collect::<Vec<_>>() {
        let (x, y) = ask.await.unwrap();
        rows += x.len();
        let input = predictor::Tensor::from_vec(vec![x.len(), 1], x.clone()).unwrap();
        let expected = alone.predict(&[("number", input)]).unwrap()["output"].as_f32().unwrap().to_owned();
        assert_eq!(y, expected.iter().copied().collect::<Vec<f32>>(), "the rows of {x:?}");
    }
    assert_eq!(rows, 8);

    let page = metrics(&server);
    assert_eq!(sample(&page, &format!("{PROCESSED}_count{{}}")), 1, "one batch:\n{page}");
    assert_eq!(sample(&page, &format!("{PROCESSED}_sum{{}}")), 8, "{page}");
    let input = ":tensorflow:serving:batching_session:input_batch_size";
    assert_eq!(sample(&page, &format!("{input}_count{{}}")), 6, "{page}");
    assert_eq!(sample(&page, &format!("{input}_bucket{{le=\"2\"}}")), 4, "one-row requests:\n{page}");
    assert!(page.contains(&format!("# TYPE {PROCESSED} histogram")), "{page}");
    server.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_are_padded_to_the_allowed_sizes_and_the_padding_is_not_answered() {
    let dir = tempfile::tempdir().unwrap();
    export(dir.path(), 300);
    let params = BatchingParameters {
        max_batch_size: 8,
        allowed_batch_sizes: vec![4, 8],
        num_batch_threads: 1,
        ..BatchingParameters::default()
    };
    let server = serve(dir.path(), params);
    let (status, body) = server.predict(json!({"instances": [[1.0], [2.0], [3.0], [4.0], [5.0]]}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["predictions"].as_array().unwrap().len(), 5, "{body}");
    let (status, body) = server.predict(json!({"instances": [[1.0]]}));
    assert_eq!((status, body["predictions"].as_array().unwrap().len()), (200, 1), "{body}");
    let page = metrics(&server);
    // 5 rows run as 8, 1 row as 4.
    assert_eq!(sample(&page, &format!("{PROCESSED}_sum{{}}")), 12, "{page}");
    assert_eq!(sample(&page, &format!("{PROCESSED}_bucket{{le=\"8\"}}")), 1, "{page}");
    server.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_rows_a_full_queue_and_bad_inputs_are_refused_alone() {
    let dir = tempfile::tempdir().unwrap();
    export(dir.path(), 300);
    // One batch may wait, for 3 s unless full.
    let params = BatchingParameters {
        max_batch_size: 4,
        batch_timeout: Duration::from_secs(3),
        max_enqueued_batches: 1,
        num_batch_threads: 1,
        ..BatchingParameters::default()
    };
    let server = serve(dir.path(), params);
    let (prediction, _) = clients(server.grpc_addr).await;

    let mut client = prediction.clone();
    let too_many = client.predict(predict_request("toy", vec![("number", floats(&[5, 1], &[1.0; 5]))])).await;
    let refused = too_many.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("Task size 5 is larger than maximum input batch size 4"), "{refused:?}");

    // Three rows wait for a fourth; two more would need a second batch.
    let mut waiting = prediction.clone();
    let first = tokio::spawn(async move {
        waiting.predict(predict_request("toy", vec![("number", floats(&[3, 1], &[1.0, 2.0, 3.0]))])).await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let full = client.predict(predict_request("toy", vec![("number", floats(&[2, 1], &[1.0, 2.0]))])).await;
    let full = full.unwrap_err();
    assert_eq!(full.code(), Code::Unavailable, "{full:?}");
    assert!(full.message().contains("batch scheduling queue to which this task was submitted is full"), "{full:?}");

    // A request of the wrong dtype is refused before it queues, with the
    // predictor's own words; the waiting one is answered in full.
    let (status, body) = server.predict(json!({"instances": [["text"]]}));
    assert_eq!(status, 400, "{body}");
    let answer = first.await.unwrap().unwrap().into_inner();
    assert_eq!(f32s(&answer.outputs["output"]).len(), 3);
    server.shutdown();
}

#[test]
fn the_batching_parameters_file_is_read_as_tensorflow_serving_writes_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("batching.config");
    std::fs::write(
        &file,
        "max_batch_size { value: 16 }\nbatch_timeout_micros { value: 500 }\nallowed_batch_sizes: [8, 16]\n",
    )
    .unwrap();
    let params = BatchingParameters::read(&file).unwrap();
    assert_eq!((params.max_batch_size, params.batch_timeout), (16, Duration::from_micros(500)));
    assert_eq!(params.allowed_batch_sizes, [8, 16]);
    std::fs::write(&file, "max_batch_size { value: 16 }\nallowed_batch_sizes: [8]\n").unwrap();
    let err = BatchingParameters::read(&file).unwrap_err();
    assert!(err.contains("batching.config") && err.contains("must equal max_batch_size"), "{err}");
}
