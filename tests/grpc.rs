//! The model server's gRPC API over real sockets on loopback, through a
//! tonic client generated from the same protos as TensorFlow Serving's own
//! clients: every RPC of PredictionService and ModelService, and every
//! error code a client can get.

use std::path::Path;

#[path = "common/grpc.rs"]
mod grpc_client;
#[path = "common/server.rs"]
mod server;

use grpc_client::{clients, dims, export, f32s, floats, predict_request, shape, spec, version_of};
use prost::Message;
use serde_json::json;
use server::Server;
use serving::grpc::proto::model_server_config::Config as ServerConfigKind;
use serving::grpc::proto::model_spec::VersionChoice;
use serving::grpc::proto::model_version_status::State;
use serving::grpc::proto::tensorflow::error::Code as TfCode;
use serving::grpc::proto::{
    ClassificationRequest, DataType, GetModelMetadataRequest, GetModelStatusRequest, ModelConfig, ModelConfigList,
    ModelServerConfig, ModelSpec, MultiInferenceRequest, PredictRequest, RegressionRequest, ReloadConfigRequest,
    SignatureDefMap, TensorProto,
};
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn predict_answers_with_typed_fields_and_tensor_content() {
    let dir = tempfile::tempdir().unwrap();
    let version = version_of(&export(dir.path(), 1000));
    let server = Server::start(&dir.path().join("saved_model"), 1 << 20);
    let (mut prediction, _) = clients(server.grpc_addr).await;

    // Typed fields in, typed fields out (TensorFlow Serving's default).
    let answer =
        prediction.predict(predict_request("toy", vec![("number", floats(&[2, 1], &[1.0, 2.0]))])).await.unwrap();
    let answer = answer.into_inner();
    let output = &answer.outputs["output"];
    assert_eq!((output.dtype, dims(output)), (DataType::DtFloat as i32, vec![2, 1]));
    assert!(output.tensor_content.is_empty(), "numeric outputs in float_val by default");
    let y = f32s(output);
    assert!((y[0] - 2.0).abs() < 1e-2 && (y[1] - 4.0).abs() < 1e-2, "{y:?}");
    let served = answer.model_spec.unwrap();
    assert_eq!(served.name, "toy");
    assert_eq!(served.version_choice, Some(VersionChoice::Version(version)));
    assert_eq!(served.signature_name, "serving_default");

    // tensor_content in, the same answer; one value fills the shape; the
    // version and signature named; output_filter.
    let content = TensorProto {
        dtype: DataType::DtFloat.into(),
        tensor_shape: shape(&[2, 1]),
        tensor_content: [1.0f32, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    };
    let again = prediction.predict(predict_request("toy", vec![("number", content)])).await.unwrap().into_inner();
    assert_eq!(f32s(&again.outputs["output"]), y);
    let filled = prediction.predict(predict_request("toy", vec![("number", floats(&[3, 1], &[5.0]))])).await.unwrap();
    let filled = f32s(&filled.into_inner().outputs["output"]);
    assert!(filled.len() == 3 && filled.iter().all(|v| (v - 10.0).abs() < 0.05), "{filled:?}");
    let mut named = predict_request("toy", vec![("number", floats(&[1, 1], &[3.0]))]);
    named.model_spec = Some(ModelSpec {
        name: "toy".into(),
        version_choice: Some(VersionChoice::Version(version)),
        signature_name: "predict".into(),
    });
    named.output_filter = vec!["output".into()];
    let named = prediction.predict(named).await.unwrap().into_inner();
    assert_eq!(named.model_spec.unwrap().signature_name, "predict");
    assert!((f32s(&named.outputs["output"])[0] - 6.0).abs() < 1e-2);

    // REST answers the same model in the same process.
    let (status, body) = server.predict(json!({"instances": [[1.0]]}));
    assert_eq!(status, 200, "{body}");
    assert!((body["predictions"][0][0].as_f64().unwrap() as f32 - y[0]).abs() < 1e-6);
    server.shutdown();

    // Responses in tensor_content when the server is told so.
    let server = Server::start_config(serving::Config {
        models: vec![serving::ModelConfig::new("toy", dir.path().join("saved_model"))],
        tensor_encoding: serving::TensorEncoding::Content,
        ..serving::Config::default()
    });
    let (mut prediction, _) = clients(server.grpc_addr).await;
    let answer =
        prediction.predict(predict_request("toy", vec![("number", floats(&[2, 1], &[1.0, 2.0]))])).await.unwrap();
    let output = &answer.into_inner().outputs["output"];
    assert!(output.float_val.is_empty() && output.tensor_content.len() == 8);
    assert_eq!(f32s(output), y);
    server.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_predict_requests_get_tensorflow_servings_codes() {
    let dir = tempfile::tempdir().unwrap();
    export(dir.path(), 1000);
    let server = Server::start(&dir.path().join("saved_model"), 1 << 20);
    let (mut prediction, _) = clients(server.grpc_addr).await;
    let mut missing_spec = predict_request("toy", vec![("number", floats(&[1, 1], &[1.0]))]);
    missing_spec.model_spec = None;
    let mut unknown_signature = predict_request("toy", vec![("number", floats(&[1, 1], &[1.0]))]);
    unknown_signature.model_spec.as_mut().unwrap().signature_name = "nope".into();
    let mut unknown_output = predict_request("toy", vec![("number", floats(&[1, 1], &[1.0]))]);
    unknown_output.output_filter = vec!["nope".into()];
    let mut labelled = predict_request("toy", vec![("number", floats(&[1, 1], &[1.0]))]);
    labelled.model_spec.as_mut().unwrap().version_choice = Some(VersionChoice::VersionLabel("stable".into()));
    let mut version_7 = predict_request("toy", vec![("number", floats(&[1, 1], &[1.0]))]);
    version_7.model_spec = spec("toy", Some(7));
    let ints = TensorProto {
        dtype: DataType::DtInt32.into(),
        tensor_shape: shape(&[1, 1]),
        int_val: vec![1],
        ..Default::default()
    };
    let doubles = TensorProto {
        dtype: DataType::DtDouble.into(),
        tensor_shape: shape(&[1, 1]),
        double_val: vec![1.0],
        ..Default::default()
    };
    let cases: Vec<(PredictRequest, Code, &str)> = vec![
        (
            predict_request("toy", vec![("numbr", floats(&[1, 1], &[1.0]))]),
            Code::InvalidArgument,
            "unknown input \"numbr\"",
        ),
        (
            predict_request("toy", vec![("number", ints)]),
            Code::InvalidArgument,
            "input \"number\": expected dtype f32, got i32",
        ),
        (
            predict_request("toy", vec![("number", doubles)]),
            Code::InvalidArgument,
            "expected dtype DT_FLOAT, got DT_DOUBLE",
        ),
        (
            predict_request("toy", vec![("number", floats(&[1, 2], &[1.0, 2.0]))]),
            Code::InvalidArgument,
            "input \"number\": expected shape [?, 1], got [1, 2]",
        ),
        (
            predict_request("toy", vec![("number", floats(&[2, 1], &[1.0, 2.0, 3.0]))]),
            Code::InvalidArgument,
            "input \"number\": shape [2, 1] holds 2 values, got 3 in float_val",
        ),
        (predict_request("toy", vec![]), Code::InvalidArgument, "input \"number\" is missing"),
        (missing_spec, Code::InvalidArgument, "Missing ModelSpec"),
        (unknown_signature, Code::InvalidArgument, "\"nope\" not found in signature def"),
        (unknown_output, Code::InvalidArgument, "output tensor alias not found in signature: \"nope\""),
        (labelled, Code::InvalidArgument, "Unrecognized servable version label: stable"),
        (
            predict_request("other", vec![("number", floats(&[1, 1], &[1.0]))]),
            Code::NotFound,
            "Servable not found for request: Latest(other)",
        ),
        (version_7, Code::NotFound, "Servable not found for request: Specific(toy, 7)"),
    ];
    for (request, code, message) in cases {
        let status = prediction.predict(request).await.unwrap_err();
        assert_eq!(status.code(), code, "{message}: {status:?}");
        assert!(status.message().contains(message), "expected {message:?} in {:?}", status.message());
    }
    // A message over the limit is refused by the transport.
    let big = floats(&[300_000, 1], &vec![1.0; 300_000]);
    let status = prediction.predict(predict_request("toy", vec![("number", big)])).await.unwrap_err();
    assert!(matches!(status.code(), Code::OutOfRange | Code::ResourceExhausted), "{status:?}");
    // The server keeps serving.
    prediction.predict(predict_request("toy", vec![("number", floats(&[1, 1], &[1.0]))])).await.unwrap();
    server.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_status_and_the_example_apis() {
    let dir = tempfile::tempdir().unwrap();
    let version = version_of(&export(dir.path(), 1000));
    let server = Server::start(&dir.path().join("saved_model"), 1 << 20);
    let (mut prediction, mut models) = clients(server.grpc_addr).await;

    let request =
        GetModelMetadataRequest { model_spec: spec("toy", None), metadata_field: vec!["signature_def".into()] };
    let metadata = prediction.get_model_metadata(request).await.unwrap().into_inner();
    assert_eq!(metadata.model_spec.unwrap().version_choice, Some(VersionChoice::Version(version)));
    let any = &metadata.metadata["signature_def"];
    assert_eq!(any.type_url, "type.googleapis.com/tensorflow.serving.SignatureDefMap");
    let map = SignatureDefMap::decode(any.value.as_slice()).unwrap();
    let default = &map.signature_def["serving_default"];
    assert_eq!(default.method_name, "tensorflow/serving/predict");
    let number = &default.inputs["number"];
    assert_eq!(number.dtype, DataType::DtFloat as i32);
    assert_eq!(number.tensor_shape.as_ref().unwrap().dim.iter().map(|d| d.size).collect::<Vec<_>>(), [-1, 1]);
    assert_eq!(default.outputs["output"].name, "dense/BiasAdd:0");
    assert!(map.signature_def.contains_key("predict"));
    for (fields, message) in [(vec![], "at least one metadata_field"), (vec!["nope".into()], "Metadata field nope")] {
        let request = GetModelMetadataRequest { model_spec: spec("toy", None), metadata_field: fields };
        let status = prediction.get_model_metadata(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().contains(message), "{status:?}");
    }

    let status = models.get_model_status(GetModelStatusRequest { model_spec: spec("toy", None) }).await.unwrap();
    let versions = status.into_inner().model_version_status;
    assert_eq!(versions.len(), 1);
    assert_eq!((versions[0].version, versions[0].state), (version, State::Available as i32));
    assert_eq!(versions[0].status.as_ref().unwrap().error_code, TfCode::Ok as i32);
    let status =
        models.get_model_status(GetModelStatusRequest { model_spec: spec("toy", Some(version)) }).await.unwrap();
    assert_eq!(status.into_inner().model_version_status.len(), 1);
    for (spec, message) in [(spec("toy", Some(7)), "Specific(toy, 7)"), (spec("other", None), "Latest(other)")] {
        let status = models.get_model_status(GetModelStatusRequest { model_spec: spec }).await.unwrap_err();
        assert_eq!(status.code(), Code::NotFound, "{status:?}");
        assert!(status.message().contains(message), "{status:?}");
    }

    // Classify and Regress (tests/classify.rs runs them on tf.Example models).
    let classify = ClassificationRequest { model_spec: spec("toy", None), input: None };
    let status = prediction.classify(classify).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("Input is empty"), "{status:?}");
    let status = prediction.classify(ClassificationRequest { model_spec: spec("other", None), input: None }).await;
    assert_eq!(status.unwrap_err().code(), Code::NotFound, "the model is looked up first");
    let status = prediction.regress(RegressionRequest { model_spec: spec("toy", None), input: None }).await;
    assert_eq!(status.unwrap_err().code(), Code::InvalidArgument);
    let status = prediction.multi_inference(MultiInferenceRequest::default()).await.unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
    server.shutdown();
}

fn reload(models: &[(&str, &Path)]) -> ReloadConfigRequest {
    let config = models
        .iter()
        .map(|(name, base)| ModelConfig {
            name: (*name).into(),
            base_path: base.display().to_string(),
            model_platform: "tensorflow".into(),
            ..Default::default()
        })
        .collect();
    ReloadConfigRequest {
        config: Some(ModelServerConfig { config: Some(ServerConfigKind::ModelConfigList(ModelConfigList { config })) }),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_reload_adds_and_removes_models_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    export(dir.path(), 1000);
    let early = dir.path().join("early");
    export(&early, 3);
    let (toy, early) = (dir.path().join("saved_model"), early.join("saved_model"));
    let server = Server::start(&toy, 1 << 20);
    let (mut prediction, mut models) = clients(server.grpc_addr).await;
    let ask = |name: &str| predict_request(name, vec![("number", floats(&[1, 1], &[10.0]))]);
    let before = f32s(&prediction.predict(ask("toy")).await.unwrap().into_inner().outputs["output"]);

    let answer = models.handle_reload_config_request(reload(&[("toy", &toy), ("early", &early)])).await.unwrap();
    assert_eq!(answer.into_inner().status.unwrap().error_code, TfCode::Ok as i32);
    let barely = f32s(&prediction.predict(ask("early")).await.unwrap().into_inner().outputs["output"]);
    assert!((barely[0] - 20.0).abs() > 1.0, "3 steps of training should not fit: {barely:?}");
    let after = f32s(&prediction.predict(ask("toy")).await.unwrap().into_inner().outputs["output"]);
    assert_eq!(before, after, "an unchanged model keeps its loaded version");
    let (status, body) = server.request("POST", "/v1/models/early:predict", r#"{"instances": [[10.0]]}"#);
    assert_eq!(status, 200, "REST sees the reloaded list: {body}");

    models.handle_reload_config_request(reload(&[("toy", &toy)])).await.unwrap();
    let status = prediction.predict(ask("early")).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    prediction.predict(ask("toy")).await.unwrap();

    // Invalid configs change nothing; a model that cannot load is reported.
    let custom = ReloadConfigRequest {
        config: Some(ModelServerConfig { config: Some(ServerConfigKind::CustomModelConfig(Default::default())) }),
    };
    for (request, code, message) in [
        (reload(&[("toy", &toy), ("toy", &early)]), Code::InvalidArgument, "configured twice"),
        (reload(&[("", &toy)]), Code::InvalidArgument, "a config needs a name and a base_path"),
        (custom, Code::InvalidArgument, "Only ModelConfigList is currently supported"),
        (ReloadConfigRequest::default(), Code::InvalidArgument, "Only ModelConfigList"),
    ] {
        let status = models.handle_reload_config_request(request).await.unwrap_err();
        assert_eq!(status.code(), code, "{status:?}");
        assert!(status.message().contains(message), "{status:?}");
    }
    let missing = dir.path().join("missing");
    let status = models.handle_reload_config_request(reload(&[("toy", &toy), ("gone", &missing)])).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(status.message().contains("\"gone\""), "{status:?}");
    prediction.predict(ask("toy")).await.unwrap();
    let status = prediction.predict(ask("gone")).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "configured, no version loaded: {status:?}");
    server.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_file_is_reread_and_applied_as_a_reload() {
    let dir = tempfile::tempdir().unwrap();
    export(dir.path(), 1000);
    let early = dir.path().join("early");
    export(&early, 3);
    let file = dir.path().join("models.config");
    let write = |models: &str| std::fs::write(&file, format!("model_config_list {{ {models} }}")).unwrap();
    write("config { name: 'toy' base_path: 'saved_model' }");
    let server = Server::start_config(serving::Config {
        models: serving::read_model_config(&file).unwrap(),
        config_file: Some(serving::ConfigFile {
            path: file.clone(),
            poll_interval: std::time::Duration::from_millis(50),
        }),
        ..serving::Config::default()
    });
    let (mut prediction, _) = clients(server.grpc_addr).await;
    let ask = |name: &str| predict_request(name, vec![("number", floats(&[1, 1], &[10.0]))]);
    assert_eq!(prediction.predict(ask("early")).await.unwrap_err().code(), Code::NotFound);

    write("config { name: 'toy' base_path: 'saved_model' } config { name: 'early' base_path: 'early/saved_model' }");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while prediction.predict(ask("early")).await.is_err() {
        assert!(std::time::Instant::now() < deadline, "the second model was not added");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    write("config { name: 'early' base_path: 'early/saved_model' }");
    while prediction.predict(ask("toy")).await.is_ok() {
        assert!(std::time::Instant::now() < deadline, "the first model was not removed");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // A broken file is not applied: the models stay.
    std::fs::write(&file, "model_config_list {").unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    prediction.predict(ask("early")).await.unwrap();
    server.shutdown();
}
