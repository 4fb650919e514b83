//! Version policies and labels over real sockets on loopback, REST and
//! gRPC: `latest`, `all` and `specific` serve exactly the versions they
//! select, each addressable; labels name versions under TensorFlow
//! Serving's rules and wording (`ServerCore::UpdateModelVersionLabelMap`,
//! `GetModelVersionForLabel`); a reload re-pins while requests go on.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

#[path = "common/server.rs"]
mod server;

use estimator::Steps;
use estimator_rs::{serving_input_receiver_fn, toy_estimator, train_input_fn};
use serde_json::{Value, json};
use server::Server;
use serving::VersionPolicy;
use serving::grpc::proto::file_system_storage_path_source_config::ServableVersionPolicy;
use serving::grpc::proto::file_system_storage_path_source_config::servable_version_policy::{
    All, PolicyChoice, Specific,
};
use serving::grpc::proto::model_server_config::Config as ServerConfigKind;
use serving::grpc::proto::model_service_client::ModelServiceClient;
use serving::grpc::proto::model_spec::VersionChoice;
use serving::grpc::proto::model_version_status::State;
use serving::grpc::proto::prediction_service_client::PredictionServiceClient;
use serving::grpc::proto::tensorflow::error::Code as TfCode;
use serving::grpc::proto::{
    DataType, GetModelMetadataRequest, GetModelStatusRequest, ModelConfig, ModelConfigList, ModelServerConfig,
    ModelSpec, PredictRequest, ReloadConfigRequest, TensorProto, TensorShapeProto, tensor_shape_proto::Dim,
};
use tonic::Code;

/// A base path holding versions 1, 2 and 3 of the toy trained 3, 30 and
/// 1000 steps (so each answers differently).
fn versions(dir: &Path) -> PathBuf {
    let base = dir.join("base");
    for (version, steps) in [(1, 3), (2, 30), (3, 1000)] {
        let work = dir.join(format!("train{version}"));
        let estimator = toy_estimator(&work);
        estimator.train(train_input_fn, Steps::Max(steps)).unwrap();
        let exported = estimator.export_saved_model(work.join("saved_model"), serving_input_receiver_fn).unwrap();
        copy_dir(&exported, &base.join(version.to_string()));
    }
    base
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn y(v: &Value) -> f64 {
    v["predictions"][0][0].as_f64().unwrap()
}

/// (status, y at x = 10) of a REST predict at `path`.
fn ask(server: &Server, path: &str) -> (u16, Value) {
    server.request("POST", &format!("/v1/models/toy{path}:predict"), r#"{"instances": [[10.0]]}"#)
}

/// The versions and states of a REST status answer.
fn states(body: &Value) -> Vec<(String, String)> {
    body["model_version_status"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["version"].as_str().unwrap().to_owned(), s["state"].as_str().unwrap().to_owned()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(v, s)| ((*v).to_owned(), (*s).to_owned())).collect()
}

fn config(base: &Path, policy: VersionPolicy, labels: &[(&str, u64)]) -> serving::ModelConfig {
    serving::ModelConfig {
        version_policy: policy,
        version_labels: labels.iter().map(|(l, v)| ((*l).to_owned(), *v)).collect(),
        ..serving::ModelConfig::new("toy", base)
    }
}

fn grpc_predict(choice: Option<VersionChoice>) -> PredictRequest {
    let number = TensorProto {
        dtype: DataType::DtFloat.into(),
        tensor_shape: Some(TensorShapeProto {
            dim: [1, 1].iter().map(|&size| Dim { size, name: String::new() }).collect(),
            unknown_rank: false,
        }),
        float_val: vec![10.0],
        ..Default::default()
    };
    PredictRequest {
        model_spec: Some(ModelSpec { name: "toy".into(), version_choice: choice, signature_name: String::new() }),
        inputs: [("number".to_owned(), number)].into_iter().collect(),
        output_filter: Vec::new(),
    }
}

fn reload(base: &Path, policy: PolicyChoice, labels: &[(&str, i64)]) -> ReloadConfigRequest {
    let config = ModelConfig {
        name: "toy".into(),
        base_path: base.display().to_string(),
        model_platform: "tensorflow".into(),
        model_version_policy: Some(ServableVersionPolicy { policy_choice: Some(policy) }),
        version_labels: labels.iter().map(|(l, v)| ((*l).to_owned(), *v)).collect(),
    };
    ReloadConfigRequest {
        config: Some(ModelServerConfig {
            config: Some(ServerConfigKind::ModelConfigList(ModelConfigList { config: vec![config] })),
        }),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_serves_exactly_its_versions_and_labels_name_them() {
    let dir = tempfile::tempdir().unwrap();
    let base = versions(dir.path());
    // From a config file, as TensorFlow Serving's users write it.
    let file = dir.path().join("models.config");
    std::fs::write(
        &file,
        "model_config_list { config {\n  name: 'toy' base_path: 'base'\n  \
         model_version_policy { specific { versions: [1, 2] } }\n  \
         version_labels { key: 'stable' value: 1 }\n  version_labels { key: 'canary' value: 2 }\n} }\n",
    )
    .unwrap();
    let models = serving::read_model_config(&file).unwrap();
    assert_eq!(models[0], config(&base, VersionPolicy::Specific(vec![1, 2]), &[("stable", 1), ("canary", 2)]));
    let server = Server::start_models(models, 1 << 20);

    // REST: both versions served, each addressable; the default is the newest served.
    let (status, body) = server.request("GET", "/v1/models/toy", "");
    assert_eq!(status, 200, "{body}");
    assert_eq!(states(&body), pairs(&[("2", "AVAILABLE"), ("1", "AVAILABLE")]));
    let (one, two) = (ask(&server, "/versions/1"), ask(&server, "/versions/2"));
    assert_eq!((one.0, two.0), (200, 200));
    assert_ne!(y(&one.1), y(&two.1), "versions 1 and 2 answer differently");
    assert_eq!(y(&ask(&server, "").1), y(&two.1), "no version: the newest served");
    let (status, body) = ask(&server, "/versions/3");
    assert_eq!(status, 404, "version 3 is on disk but not selected: {body}");
    assert!(body["error"].as_str().unwrap().contains("serving: 1, 2"), "{body}");

    // REST labels: predict, metadata and status under /labels/.
    assert_eq!(y(&ask(&server, "/labels/stable").1), y(&one.1));
    assert_eq!(y(&ask(&server, "/labels/canary").1), y(&two.1));
    let (status, body) = server.request("GET", "/v1/models/toy/labels/stable/metadata", "");
    assert_eq!((status, &body["model_spec"]["version"]), (200, &json!("1")), "{body}");
    let (status, body) = server.request("GET", "/v1/models/toy/labels/canary", "");
    assert_eq!(status, 200, "{body}");
    assert_eq!(states(&body), pairs(&[("2", "AVAILABLE")]));
    let (status, body) = server.request("GET", "/v1/models/toy/versions/1/metadata", "");
    assert_eq!((status, &body["model_spec"]["version"]), (200, &json!("1")), "{body}");
    let (status, body) = ask(&server, "/labels/nope");
    assert_eq!(status, 400, "{body}");
    let message = body["error"].as_str().unwrap();
    assert!(message.starts_with("Unrecognized servable version label: nope"), "TensorFlow Serving's words: {message}");
    assert!(message.contains("canary, stable"), "the labels there are: {message}");

    // gRPC: version numbers and labels, the version that answered in the spec.
    let url = format!("http://{}", server.grpc_addr);
    let mut prediction = PredictionServiceClient::connect(url.clone()).await.unwrap();
    let mut model_service = ModelServiceClient::connect(url).await.unwrap();
    for (choice, version) in [
        (None, 2),
        (Some(VersionChoice::Version(1)), 1),
        (Some(VersionChoice::VersionLabel("stable".into())), 1),
        (Some(VersionChoice::VersionLabel("canary".into())), 2),
    ] {
        let answer = prediction.predict(grpc_predict(choice.clone())).await.unwrap().into_inner();
        assert_eq!(answer.model_spec.unwrap().version_choice, Some(VersionChoice::Version(version)), "{choice:?}");
        let y = answer.outputs["output"].float_val[0];
        let rest = if version == 1 { y_of(&one) } else { y_of(&two) };
        assert!((f64::from(y) - rest).abs() < 1e-5, "{choice:?}: {y} against REST's {rest}");
    }
    let status = prediction.predict(grpc_predict(Some(VersionChoice::Version(3)))).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    let status = prediction.predict(grpc_predict(Some(VersionChoice::VersionLabel("nope".into())))).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().starts_with("Unrecognized servable version label: nope"), "{status:?}");
    let metadata = GetModelMetadataRequest {
        model_spec: Some(ModelSpec {
            name: "toy".into(),
            version_choice: Some(VersionChoice::VersionLabel("stable".into())),
            signature_name: String::new(),
        }),
        metadata_field: vec!["signature_def".into()],
    };
    let answer = prediction.get_model_metadata(metadata).await.unwrap().into_inner();
    assert_eq!(answer.model_spec.unwrap().version_choice, Some(VersionChoice::Version(1)));
    let status_of = |choice: Option<VersionChoice>| GetModelStatusRequest {
        model_spec: Some(ModelSpec { name: "toy".into(), version_choice: choice, signature_name: String::new() }),
    };
    let all = model_service.get_model_status(status_of(None)).await.unwrap().into_inner();
    let listed: Vec<(i64, i32)> = all.model_version_status.iter().map(|s| (s.version, s.state)).collect();
    assert_eq!(listed, [(2, State::Available as i32), (1, State::Available as i32)]);
    let canary = model_service
        .get_model_status(status_of(Some(VersionChoice::VersionLabel("canary".into()))))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(canary.model_version_status.iter().map(|s| s.version).collect::<Vec<_>>(), [2]);
    server.shutdown();
}

fn y_of(answer: &(u16, Value)) -> f64 {
    y(&answer.1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_repins_versions_and_labels_without_failing_a_request() {
    let dir = tempfile::tempdir().unwrap();
    let base = versions(dir.path());
    // The default policy: the newest version. A broken version 4 lands:
    // refused, with its error in the status, and 3 stays on in its stead.
    let server = Arc::new(Server::start_models(vec![config(&base, VersionPolicy::default(), &[])], 1 << 20));
    let (status, body) = server.request("GET", "/v1/models/toy", "");
    assert_eq!((status, states(&body)), (200, pairs(&[("3", "AVAILABLE")])), "{body}");
    std::fs::create_dir_all(base.join("4/variables")).unwrap();
    std::fs::write(base.join("4/saved_model.pb"), b"garbage").unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let body = loop {
        let (status, body) = server.request("GET", "/v1/models/toy", "");
        assert_eq!(status, 200, "{body}");
        if body["model_version_status"][0]["state"] == "END" {
            break body;
        }
        assert!(std::time::Instant::now() < deadline, "version 4 was not seen: {body}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(states(&body), pairs(&[("4", "END"), ("3", "AVAILABLE")]));
    let broken = &body["model_version_status"][0]["status"];
    assert_eq!(broken["error_code"], "UNKNOWN", "{body}");
    assert!(!broken["error_message"].as_str().unwrap().is_empty(), "the load error is shown: {body}");
    let three = y(&ask(&server, "").1);

    // Requests without a version run on while the versions are re-pinned.
    let running = Arc::new(AtomicBool::new(true));
    let (failed, done) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let clients: Vec<_> = (0..2)
        .map(|_| {
            let (server, running, failed, done) =
                (Arc::clone(&server), Arc::clone(&running), Arc::clone(&failed), Arc::clone(&done));
            std::thread::spawn(move || {
                while running.load(Ordering::Relaxed) {
                    let (status, body) = ask(&server, "");
                    if status != 200 {
                        eprintln!("failed: {status} {body}");
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();

    let url = format!("http://{}", server.grpc_addr);
    let mut models = ModelServiceClient::connect(url).await.unwrap();
    // all {}: every version on disk, the broken one shown with its error.
    models.handle_reload_config_request(reload(&base, PolicyChoice::All(All {}), &[("stable", 1)])).await.unwrap();
    let (_, body) = server.request("GET", "/v1/models/toy", "");
    assert_eq!(states(&body), pairs(&[("4", "END"), ("3", "AVAILABLE"), ("2", "AVAILABLE"), ("1", "AVAILABLE")]));
    assert_eq!(y(&ask(&server, "").1), three, "the newest served answers");
    let one = y(&ask(&server, "/labels/stable").1);
    // gRPC's GetModelStatus lists the same, the broken version with its error.
    let status = models
        .get_model_status(GetModelStatusRequest {
            model_spec: Some(ModelSpec { name: "toy".into(), version_choice: None, signature_name: String::new() }),
        })
        .await
        .unwrap()
        .into_inner();
    let listed: Vec<(i64, i32)> = status.model_version_status.iter().map(|s| (s.version, s.state)).collect();
    let available = State::Available as i32;
    assert_eq!(listed, [(4, State::End as i32), (3, available), (2, available), (1, available)]);
    let error = status.model_version_status[0].status.as_ref().unwrap();
    assert_eq!(error.error_code, TfCode::Unknown as i32);
    assert!(error.error_message.contains("not a valid SavedModel"), "{error:?}");
    assert_ne!(one, three);

    // A label on a version not available refuses the labels, in TensorFlow Serving's words.
    let status = models
        .handle_reload_config_request(reload(&base, PolicyChoice::All(All {}), &[("stable", 9)]))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(
        status.message().starts_with(
            "Request to assign label to version 9 of model toy, which is not currently available for inference"
        ),
        "{status:?}"
    );
    assert_eq!(y(&ask(&server, "/labels/stable").1), one, "the former labels stay");

    // specific { 1, 2 }: 3 and 4 leave, the default request goes to 2.
    let specific = PolicyChoice::Specific(Specific { versions: vec![1, 2] });
    models.handle_reload_config_request(reload(&base, specific, &[("stable", 2)])).await.unwrap();
    let (_, body) = server.request("GET", "/v1/models/toy", "");
    assert_eq!(states(&body), pairs(&[("2", "AVAILABLE"), ("1", "AVAILABLE")]));
    let two = y(&ask(&server, "").1);
    assert_eq!(y(&ask(&server, "/labels/stable").1), two, "the label moved to 2");
    assert_eq!(ask(&server, "/versions/3").0, 404);

    let before = done.load(Ordering::Relaxed);
    std::thread::sleep(std::time::Duration::from_millis(100));
    running.store(false, Ordering::Relaxed);
    for client in clients {
        client.join().unwrap();
    }
    assert!(done.load(Ordering::Relaxed) > before, "requests ran during the test");
    assert_eq!(failed.load(Ordering::Relaxed), 0, "no request may fail while versions are re-pinned");
    Arc::try_unwrap(server).ok().unwrap().shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_label_on_an_unavailable_version_fails_the_start_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let base = versions(dir.path());
    let labelled = config(&base, VersionPolicy::Latest(2), &[("old", 1)]);
    let start = |allow: bool| serving::Config {
        models: vec![labelled.clone()],
        allow_version_labels_for_unavailable_models: allow,
        ..serving::Config::default()
    };
    let rest = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let listeners = serving::Listeners { rest: Some(rest), ..serving::Listeners::default() };
    let error = serving::serve(start(false), listeners, async {}).await.unwrap_err();
    assert!(
        error.to_string().starts_with(
            "Request to assign label to version 1 of model toy, which is not currently available for inference"
        ),
        "{error}"
    );

    let server = Server::start_config(start(true));
    let (status, body) = server.request("GET", "/v1/models/toy", "");
    assert_eq!(states(&body), pairs(&[("3", "AVAILABLE"), ("2", "AVAILABLE")]), "{status} {body}");
    let (status, body) = ask(&server, "/labels/old");
    assert_eq!(status, 404, "the label points to a version not served: {body}");
    assert!(body["error"].as_str().unwrap().contains("1 (label old)"), "{body}");
    server.shutdown();
}

#[test]
fn a_config_file_reread_repins_versions_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    versions(dir.path());
    let file = dir.path().join("models.config");
    let write = |extra: &str| {
        std::fs::write(&file, format!("model_config_list {{ config {{ name: 'toy' base_path: 'base' {extra} }} }}"))
            .unwrap()
    };
    write("");
    let server = Server::start_config(serving::Config {
        models: serving::read_model_config(&file).unwrap(),
        config_file: Some(serving::ConfigFile {
            path: file.clone(),
            poll_interval: std::time::Duration::from_millis(50),
        }),
        ..serving::Config::default()
    });
    let (_, body) = server.request("GET", "/v1/models/toy", "");
    assert_eq!(states(&body), pairs(&[("3", "AVAILABLE")]));
    write("model_version_policy { latest { num_versions: 2 } } version_labels { key: 'previous' value: 2 }");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while ask(&server, "/labels/previous").0 != 200 {
        assert!(std::time::Instant::now() < deadline, "the new policy and label were not applied");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let (_, body) = server.request("GET", "/v1/models/toy", "");
    assert_eq!(states(&body), pairs(&[("3", "AVAILABLE"), ("2", "AVAILABLE")]));
    assert_eq!(y(&ask(&server, "/labels/previous").1), y(&ask(&server, "/versions/2").1));
    server.shutdown();
}
