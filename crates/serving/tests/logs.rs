//! The server's logs written to a pipe (as under a supervisor or into a
//! file) carry no ANSI colour codes.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn logs_to_a_pipe_have_no_colour_codes() {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/tensorflow/estimator_toy");
    let mut server = Command::new(env!("CARGO_BIN_EXE_serving"))
        .args(["--port", "0", "--model_name", "toy", "--model_base_path", fixture])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The start-up lines (model loaded, address) come within a second.
    std::thread::sleep(Duration::from_millis(1500));
    server.kill().unwrap();
    let mut logs = String::new();
    server.stdout.take().unwrap().read_to_string(&mut logs).unwrap();
    server.stderr.take().unwrap().read_to_string(&mut logs).unwrap();
    let _ = server.wait();
    assert!(logs.contains("INFO"), "the server logged nothing: {logs}");
    assert!(!logs.contains('\u{1b}'), "ANSI codes in piped logs: {logs:?}");
}
