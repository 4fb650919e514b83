//! The model server over real sockets on loopback, for the end-to-end
//! tests: started on ephemeral ports (REST and gRPC) in a thread of its
//! own, asked with plain HTTP/1.1 requests (or a gRPC client on
//! `grpc_addr`), shut down gracefully.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

/// A running server.
pub struct Server {
    /// Where the REST API listens.
    pub addr: SocketAddr,
    /// Where the gRPC API listens.
    pub grpc_addr: SocketAddr,
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
        Server::start_models(vec![serving::ModelConfig::new(name, base)], max_body_bytes)
    }

    /// Serves `models`; [`Server::predict`] asks the first.
    pub fn start_models(models: Vec<serving::ModelConfig>, max_body_bytes: usize) -> Server {
        Server::start_config(serving::Config {
            models,
            poll_interval: Duration::from_millis(50),
            max_body_bytes,
            threads: 2,
            ..serving::Config::default()
        })
    }

    /// Serves as `config` says; [`Server::predict`] asks its first model.
    pub fn start_config(config: serving::Config) -> Server {
        let first = config.models.first().map(|m| m.name.clone()).unwrap_or_default();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, bound) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                let rest = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let grpc = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                ready.send((rest.local_addr().unwrap(), grpc.local_addr().unwrap())).unwrap();
                let listeners =
                    serving::Listeners { grpc: Some(grpc), rest: Some(rest), ..serving::Listeners::default() };
                serving::serve(config, listeners, async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
            });
        });
        let (addr, grpc_addr) = bound.recv().unwrap();
        Server { addr, grpc_addr, model: first, stop: Some(stop), thread: Some(thread) }
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
