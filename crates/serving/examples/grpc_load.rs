//! A closed-loop gRPC load: `--clients` concurrent clients, each sending one
//! Predict call (one row of `--width` values of `--input`) as soon as its
//! last is answered, over `--connections` HTTP/2 connections, for
//! `--seconds`; prints the calls a second and the latency percentiles
//! (what h2load does not report), and fails if any call failed.
//!
//! ```text
//! cargo run --release -p serving --example grpc_load -- 127.0.0.1:8500 --model mlp --input x --width 784 --clients 32
//! ```

use std::time::{Duration, Instant};

use clap::Parser;
use serving::grpc::proto::prediction_service_client::PredictionServiceClient;
use serving::grpc::proto::tensor_shape_proto::Dim;
use serving::grpc::proto::{DataType, ModelSpec, PredictRequest, TensorProto, TensorShapeProto};

/// Load a model server's PredictionService and report throughput and latency.
#[derive(Parser)]
struct Args {
    /// The server's gRPC address.
    address: String,
    /// The model asked.
    #[arg(long, default_value = "toy")]
    model: String,
    /// The input's key.
    #[arg(long, default_value = "number")]
    input: String,
    /// The elements of the one row each call sends (in tensor_content).
    #[arg(long, default_value_t = 1)]
    width: usize,
    /// Clients, each with one call in flight.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// HTTP/2 connections the clients share.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// How long to load, after a second of warm-up.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let row: Vec<u8> = (0..args.width).flat_map(|j| ((j % 17) as f32 / 17.0 - 0.5).to_le_bytes()).collect();
    let request = PredictRequest {
        model_spec: Some(ModelSpec { name: args.model.clone(), ..ModelSpec::default() }),
        inputs: [(
            args.input.clone(),
            TensorProto {
                dtype: DataType::DtFloat.into(),
                tensor_shape: Some(TensorShapeProto {
                    dim: [1, i64::try_from(args.width)?]
                        .iter()
                        .map(|&size| Dim { size, name: String::new() })
                        .collect(),
                    unknown_rank: false,
                }),
                tensor_content: row,
                ..TensorProto::default()
            },
        )]
        .into_iter()
        .collect(),
        output_filter: Vec::new(),
    };
    let mut channels = Vec::new();
    for _ in 0..args.connections.max(1) {
        channels.push(PredictionServiceClient::connect(format!("http://{}", args.address)).await?);
    }
    let warm_up = Instant::now() + Duration::from_secs(1);
    let end = warm_up + Duration::from_secs_f64(args.seconds);
    let mut clients = Vec::new();
    for i in 0..args.clients {
        let mut client = channels[i % channels.len()].clone();
        let request = request.clone();
        clients.push(tokio::spawn(async move {
            let (mut latencies, mut failed) = (Vec::new(), Vec::new());
            loop {
                let started = Instant::now();
                if started >= end {
                    return (latencies, failed);
                }
                let answer = client.predict(request.clone()).await;
                if started >= warm_up {
                    match answer {
                        Ok(_) => latencies.push(started.elapsed()),
                        Err(status) => failed.push(status),
                    }
                }
            }
        }));
    }
    let (mut latencies, mut failed) = (Vec::new(), Vec::new());
    for client in clients {
        let (l, f) = client.await?;
        latencies.extend(l);
        failed.extend(f);
    }
    latencies.sort();
    let at = |q: f64| latencies.get(((latencies.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or_default();
    println!(
        "{} calls in {:.1} s: {:.0} calls/s; latency p50 {:.2?} p90 {:.2?} p99 {:.2?} max {:.2?}; {} failed",
        latencies.len(),
        args.seconds,
        latencies.len() as f64 / args.seconds,
        at(0.5),
        at(0.9),
        at(0.99),
        latencies.last().copied().unwrap_or_default(),
        failed.len()
    );
    if let Some(status) = failed.first() {
        anyhow::bail!("{} calls failed, the first with {status}", failed.len());
    }
    Ok(())
}
