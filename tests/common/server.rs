//! The model server over real HTTP on loopback, for the end-to-end tests:
//! started on an ephemeral port in a thread of its own, asked with plain
//! HTTP/1.1 requests, shut down gracefully.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

/// A running server.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    model: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Serves the model `toy` from the export base `base`.
    pub fn start(base: &Path, max_body_bytes: usize) -> Server {
        Server::start_named("toy", base, max_body_bytes)
    }

    /// Serves the model `name` from the export base `base`.
    pub fn start_named(name: &str, base: &Path, max_body_bytes: usize) -> Server {
        Server::start_models(
            vec![serving::ModelConfig { name: name.into(), base_path: base.to_owned() }],
            max_body_bytes,
        )
    }

    /// Serves `models`; [`Server::predict`] asks the first.
    pub fn start_models(models: Vec<serving::ModelConfig>, max_body_bytes: usize) -> Server {
        let first = models.first().map(|m| m.name.clone()).unwrap_or_default();
        let config = serving::Config { models, poll_interval: Duration::from_millis(50), max_body_bytes, threads: 2 };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, bound) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                ready.send(listener.local_addr().unwrap()).unwrap();
                serving::serve(config, listener, async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
            });
        });
        Server { addr: bound.recv().unwrap(), model: first, stop: Some(stop), thread: Some(thread) }
    }

    /// (status, JSON body) of one request.
    pub fn request(&self, method: &str, path: &str, body: &str) -> (u16, Value) {
        let mut stream = TcpStream::connect(self.addr).unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut raw = String::new();
        stream.read_to_string(&mut raw).unwrap();
        let status = raw.split(' ').nth(1).unwrap().parse().unwrap();
        let body = raw.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        (status, serde_json::from_str(body).unwrap_or(Value::String(body.to_owned())))
    }

    /// (status, JSON body) of a `:predict` of the served model.
    pub fn predict(&self, body: Value) -> (u16, Value) {
        self.request("POST", &format!("/v1/models/{}:predict", self.model), &body.to_string())
    }

    /// Stops the server and waits for it.
    pub fn shutdown(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        self.thread.take().unwrap().join().unwrap();
    }
}
