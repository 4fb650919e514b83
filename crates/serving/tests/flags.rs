//! The binary's command line as `tensorflow_model_server`'s: a port it
//! cannot listen on is named, and gRPC and REST cannot share a port.

use std::process::Command;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/tensorflow/estimator_toy");

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_serving"))
        .args(["--model_name", "toy", "--model_base_path", FIXTURE])
        .args(args)
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_port_in_use_is_named() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (ok, stderr) = run(&["--host", "127.0.0.1", "--port", &port]);
    assert!(!ok);
    assert!(stderr.contains(&format!("could not listen on 127.0.0.1:{port}: Address already in use")), "{stderr}");
    let (ok, stderr) = run(&["--host", "127.0.0.1", "--port=0", &format!("--rest_api_port={port}")]);
    assert!(!ok);
    assert!(stderr.contains(&format!("could not listen on 127.0.0.1:{port}")), "{stderr}");
}

#[test]
fn grpc_and_rest_need_two_ports() {
    let (ok, stderr) = run(&["--port=8599", "--rest_api_port=8599"]);
    assert!(!ok);
    assert!(stderr.contains("--port and --rest_api_port cannot be the same (8599)"), "{stderr}");
}

#[test]
fn a_bad_monitoring_config_is_named() {
    let dir = std::env::temp_dir().join(format!("serving-monitoring-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("monitoring.config");
    std::fs::write(&file, "prometheus_config { enable: maybe }").unwrap();
    let (ok, stderr) = run(&["--port=0", "--monitoring_config_file", file.to_str().unwrap()]);
    assert!(!ok);
    assert!(stderr.contains("monitoring.config: line 1: expected true or false for enable"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn boolean_flags_take_tensorflow_servings_forms_and_a_bad_batching_file_is_named() {
    let dir = std::env::temp_dir().join(format!("serving-batching-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("batching.config");
    std::fs::write(&file, "max_batch_size { value: 8 }\nallowed_batch_sizes: [2, 4]\n").unwrap();
    let file = file.to_str().unwrap();
    // --flag, --flag=true and --flag=false all parse; the batching file is
    // then read, and its error names it.
    for enable in ["--enable_batching", "--enable_batching=true", "--enable_batching=1"] {
        let (ok, stderr) =
            run(&["--port=0", enable, "--enable_model_warmup=false", "--batching_parameters_file", file]);
        assert!(!ok, "{enable}");
        assert!(stderr.contains("batching.config: the final entry in allowed_batch_sizes must equal"), "{stderr}");
    }
    let (ok, stderr) = run(&["--port=0", "--enable_batching=maybe"]);
    assert!(!ok);
    assert!(stderr.contains("--enable_batching"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
