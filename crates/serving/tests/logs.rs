//! The server's logs written to a pipe (as under a supervisor or into a
//! file) carry no ANSI colour codes.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

/// What the server with `args` logs (stdout, then stderr) in its first
/// 1.5 s: the start-up lines (model loaded, address) come within a second.
fn first_logs(args: &[&std::ffi::OsStr]) -> String {
    let mut server = Command::new(env!("CARGO_BIN_EXE_serving"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    server.kill().unwrap();
    let mut logs = String::new();
    server.stdout.take().unwrap().read_to_string(&mut logs).unwrap();
    server.stderr.take().unwrap().read_to_string(&mut logs).unwrap();
    let _ = server.wait();
    logs
}

#[test]
fn logs_to_a_pipe_have_no_colour_codes() {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/tensorflow/estimator_toy");
    let args = ["--port", "0", "--model_name", "toy", "--model_base_path", fixture];
    let logs = first_logs(&args.map(std::ffi::OsStr::new));
    assert!(logs.contains("INFO"), "the server logged nothing: {logs}");
    assert!(!logs.contains('\u{1b}'), "ANSI codes in piped logs: {logs:?}");
}

/// One line per request at debug (model, version, API, entrypoint, status,
/// latency), one per refusal at info.
#[test]
fn each_request_is_logged_with_its_model_version_api_status_and_latency() {
    use std::io::Write;
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/tensorflow/estimator_toy");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_serving"))
        .args(["--host", "127.0.0.1", "--port", "0", "--rest_api_port", &port.to_string()])
        .args(["--model_name", "toy", "--model_base_path", fixture])
        .env("RUST_LOG", "serving=debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let ask = |path: &str, body: &str| loop {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            write!(
                stream,
                "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).unwrap();
            return answer;
        }
        assert!(std::time::Instant::now() < deadline, "the server did not listen");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(ask("/v1/models/toy/versions/1:predict", r#"{"instances": [[1.0]]}"#).contains("404"));
    assert!(ask("/v1/models/toy:predict", r#"{"instances": [[1.0]]}"#).contains("200 OK"));
    std::thread::sleep(Duration::from_millis(200));
    server.kill().unwrap();
    let mut logs = String::new();
    server.stdout.take().unwrap().read_to_string(&mut logs).unwrap();
    let _ = server.wait();
    let line = |level: &str, status: &str| {
        logs.lines().find(|l| l.contains(level) && l.contains(&format!("status=\"{status}\""))).map(str::to_owned)
    };
    let ok = line("DEBUG", "OK").unwrap_or_else(|| panic!("no request line: {logs}"));
    for field in ["model=\"toy\"", "version=latest", "api=\"Predict\"", "entrypoint=\"REST\"", "latency_us="] {
        assert!(ok.contains(field), "{field} not in {ok}");
    }
    let refused = line("INFO", "NOT_FOUND").unwrap_or_else(|| panic!("no refusal line: {logs}"));
    assert!(refused.contains("version=1") && refused.contains("Servable not found"), "{refused}");
}

/// `--log_format json`: one JSON object a line, the fields of each event in it.
#[test]
fn json_log_lines_are_json_objects() {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/tensorflow/estimator_toy");
    let mut server = Command::new(env!("CARGO_BIN_EXE_serving"))
        .args(["--port", "0", "--log_format", "json", "--model_name", "toy", "--model_base_path", fixture])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    server.kill().unwrap();
    let mut logs = String::new();
    server.stdout.take().unwrap().read_to_string(&mut logs).unwrap();
    let _ = server.wait();
    let lines: Vec<serde_json::Value> =
        logs.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    let loaded = lines
        .iter()
        .find(|l| l["fields"]["message"] == "version loaded")
        .unwrap_or_else(|| panic!("no load line: {logs}"));
    assert_eq!((&loaded["level"], &loaded["fields"]["model"]), (&"INFO".into(), &"toy".into()), "{loaded}");
    let help = Command::new(env!("CARGO_BIN_EXE_serving")).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--log_format") && help.contains("RUST_LOG"), "{help}");
}

/// As TensorFlow Serving: a `specific` version that is not on disk is
/// warned about (once), and the versions that are serve.
#[test]
fn a_specific_version_not_on_disk_is_warned_about() {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/tensorflow/estimator_toy");
    let dir = std::env::temp_dir().join(format!("serving-specific-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("models.config");
    std::fs::write(
        &config,
        format!(
            "model_config_list {{ config {{ name: 'toy' base_path: '{fixture}' \
             model_version_policy {{ specific {{ versions: 1700000000 versions: 42 }} }} }} }}"
        ),
    )
    .unwrap();
    let flags = ["--port", "0", "--file_system_poll_wait_seconds", "0.1", "--model_config_file"];
    let args: Vec<&std::ffi::OsStr> = flags.iter().map(std::ffi::OsStr::new).chain([config.as_os_str()]).collect();
    let logs = first_logs(&args);
    std::fs::remove_dir_all(&dir).unwrap();
    let warned =
        logs.matches("version 42 of model \"toy\", which was requested to be served as a 'specific' version").count();
    assert_eq!(warned, 1, "warned once over many polls: {logs}");
    assert!(logs.contains("version loaded"), "{logs}");
}
