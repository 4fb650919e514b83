//! Classify and Regress over real sockets, REST (`:classify`, `:regress`)
//! and gRPC, on TensorFlow's canned estimators exported with the parsing
//! receiver (`tests/fixtures/tensorflow/parsing_*`): features given as
//! JSON or as `tf.Example` protos give the results TensorFlow computed for
//! the classification and regression signatures.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[path = "common/grpc.rs"]
mod grpc_client;
#[path = "common/server.rs"]
mod server;

use grpc_client::{clients, spec};
use serde_json::{Value, json};
use server::Server;
use serving::grpc::proto::input::Kind as InputKind;
use serving::grpc::proto::tensorflow::feature::Kind;
use serving::grpc::proto::tensorflow::{BytesList, Example, Feature, Features, FloatList};
use serving::grpc::proto::{ClassificationRequest, ExampleListWithContext, Input, ModelSpec, RegressionRequest};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tensorflow").join(name)
}

fn expected(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(name).join("expected.json")).unwrap()).unwrap()
}

/// A case's examples as JSON features: `[x, age, color, word]`, a null
/// feature left out.
fn json_examples(case: &Value) -> Vec<Value> {
    let features = case["features"].as_array().unwrap();
    features
        .iter()
        .map(|f| {
            let mut example = json!({"x": f[0], "age": f[1]});
            for (i, key) in [(2, "color"), (3, "word")] {
                if !f[i].is_null() {
                    example[key] = f[i].clone();
                }
            }
            example
        })
        .collect()
}

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-5 * want.abs().max(1.0)
}

#[test]
fn rest_classify_and_regress_answer_what_tensorflow_computed() {
    let server = Server::start_named("census", &fixture("parsing_dnn_classifier"), 1 << 20);
    let want = expected("parsing_dnn_classifier");
    for case in want["signatures"]["classification"].as_array().unwrap() {
        let body = json!({"signature_name": "classification", "examples": json_examples(case)});
        let (status, answer) = server.request("POST", "/v1/models/census:classify", &body.to_string());
        assert_eq!(status, 200, "{answer}");
        let results = answer["results"].as_array().unwrap();
        let (classes, scores) = (&case["outputs"]["classes"], &case["outputs"]["scores"]);
        assert_eq!(results.len(), classes.as_array().unwrap().len());
        for (row, result) in results.iter().enumerate() {
            for (k, class) in result.as_array().unwrap().iter().enumerate() {
                assert_eq!(class[0], classes[row][k], "{answer}");
                assert!(close(class[1].as_f64().unwrap(), scores[row][k].as_f64().unwrap()), "{answer}");
            }
        }
    }
    // The default signature of the classifier classifies; its regression
    // signature (the logistic) regresses.
    let case = &want["signatures"]["regression"][1];
    let body = json!({"signature_name": "regression", "examples": json_examples(case)});
    let (status, answer) = server.request("POST", "/v1/models/census:regress", &body.to_string());
    assert_eq!(status, 200, "{answer}");
    let outputs = case["outputs"]["outputs"].as_array().unwrap();
    for (got, want) in answer["results"].as_array().unwrap().iter().zip(outputs) {
        let want = want.as_f64().or_else(|| want[0].as_f64()).unwrap();
        assert!(close(got.as_f64().unwrap(), want), "{answer}");
    }
    // A regression signature asked to classify, a predict body, a feature of mixed kinds.
    let body = json!({"signature_name": "regression", "examples": [{"x": 1.0, "age": 30.0}]});
    let (status, answer) = server.request("POST", "/v1/models/census:classify", &body.to_string());
    assert_eq!(status, 400);
    assert!(answer["error"].as_str().unwrap().contains("method_name to be tensorflow/serving/classify"), "{answer}");
    let (status, answer) = server.request("POST", "/v1/models/census:classify", r#"{"instances": [1]}"#);
    assert_eq!(status, 400);
    assert!(answer["error"].as_str().unwrap().contains("missing 'examples'"), "{answer}");
    let body = json!({"examples": [{"x": 1.0, "age": 30.0, "color": ["red", 2]}]});
    let (status, _) = server.request("POST", "/v1/models/census:classify", &body.to_string());
    assert_eq!(status, 400);
    server.shutdown();
}

fn floats(v: f32) -> Feature {
    Feature { kind: Some(Kind::FloatList(FloatList { value: vec![v] })) }
}

fn words(v: &str) -> Feature {
    Feature { kind: Some(Kind::BytesList(BytesList { value: vec![v.as_bytes().to_vec()] })) }
}

fn example(features: Vec<(&str, Feature)>) -> Example {
    let feature: HashMap<String, Feature> = features.into_iter().map(|(k, f)| (k.to_owned(), f)).collect();
    Example { features: Some(Features { feature: feature.into_iter().collect() }) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_classify_and_regress_take_examples_with_a_context() {
    let server = Server::start_named("linear", &fixture("parsing_linear_regressor"), 1 << 20);
    let want = expected("parsing_linear_regressor");
    let (mut prediction, _) = clients(server.grpc_addr).await;
    // Batch 1 of the fixture: (0.5, 33, blue, beta), (-1, 61, purple, -), (2, 47, -, zeta);
    // `age` given once as context, overridden where an example has its own.
    let examples = vec![
        example(vec![("x", floats(0.5)), ("age", floats(33.0)), ("color", words("blue")), ("word", words("beta"))]),
        example(vec![("x", floats(-1.0)), ("color", words("purple"))]),
        example(vec![("x", floats(2.0)), ("age", floats(47.0)), ("word", words("zeta"))]),
    ];
    let context = example(vec![("age", floats(61.0))]);
    let input = Input {
        kind: Some(InputKind::ExampleListWithContext(ExampleListWithContext { examples, context: Some(context) })),
    };
    let model_spec = Some(ModelSpec { signature_name: "regression".into(), ..spec("linear", None).unwrap() });
    let answer = prediction
        .regress(RegressionRequest { model_spec: model_spec.clone(), input: Some(input.clone()) })
        .await
        .unwrap()
        .into_inner();
    let outputs = want["signatures"]["regression"][1]["outputs"]["outputs"].as_array().unwrap();
    let regressions = answer.result.unwrap().regressions;
    assert_eq!(regressions.len(), 3);
    for (got, want) in regressions.iter().zip(outputs) {
        let want = want.as_f64().or_else(|| want[0].as_f64()).unwrap();
        assert!(close(f64::from(got.value), want), "ours {}, TensorFlow {want}", got.value);
    }
    assert_eq!(answer.model_spec.unwrap().signature_name, "regression");
    // A regressor has no classification signature.
    let status = prediction.classify(ClassificationRequest { model_spec, input: Some(input) }).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    server.shutdown();
}
