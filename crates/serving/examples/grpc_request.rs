//! The write-up's request (`number: [[101.0]]` to the model `toy`), or one
//! row of `--width` values of any input (`--input x --width 784` for the
//! MLP, in `tensor_content` as TensorFlow's Python client writes arrays), as
//! a gRPC `PredictRequest`, written as the body of one gRPC call (a 0 byte for
//! "not compressed", the length as 4 big-endian bytes, the message) for an
//! HTTP/2 load generator such as h2load; with `--check`, the same request
//! sent to a running server, and its answer printed.
//!
//! ```text
//! cargo run --release -p serving --example grpc_request -- --out predict.bin --check 127.0.0.1:8500
//! h2load -n 200000 -c 8 -m 32 -t 1 -d predict.bin -H 'content-type: application/grpc' -H 'te: trailers' \
//!   http://127.0.0.1:8500/tensorflow.serving.PredictionService/Predict
//! ```

use clap::Parser;
use prost::Message;
use serving::grpc::proto::prediction_service_client::PredictionServiceClient;
use serving::grpc::proto::tensor_shape_proto::Dim;
use serving::grpc::proto::{DataType, ModelSpec, PredictRequest, TensorProto, TensorShapeProto};

/// Write a gRPC Predict call's body for a load generator.
#[derive(Parser)]
struct Args {
    /// Where to write the body.
    #[arg(long, default_value = "predict.bin")]
    out: std::path::PathBuf,
    /// The model asked.
    #[arg(long, default_value = "toy")]
    model: String,
    /// The input's key.
    #[arg(long, default_value = "number")]
    input: String,
    /// The value of each element.
    #[arg(long, default_value_t = 101.0)]
    number: f32,
    /// The elements of the one row (1: in `float_val`, more: in
    /// `tensor_content`).
    #[arg(long, default_value_t = 1)]
    width: usize,
    /// Also send the request to the server at this address and print the answer.
    #[arg(long)]
    check: Option<String>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dims = [1, i64::try_from(args.width)?];
    let mut number = TensorProto {
        dtype: DataType::DtFloat.into(),
        tensor_shape: Some(TensorShapeProto {
            dim: dims.iter().map(|&size| Dim { size, name: String::new() }).collect(),
            unknown_rank: false,
        }),
        ..TensorProto::default()
    };
    if args.width == 1 {
        number.float_val = vec![args.number];
    } else {
        number.tensor_content = std::iter::repeat_n(args.number.to_le_bytes(), args.width).flatten().collect();
    }
    let request = PredictRequest {
        model_spec: Some(ModelSpec { name: args.model, ..ModelSpec::default() }),
        inputs: [(args.input, number)].into_iter().collect(),
        output_filter: Vec::new(),
    };
    let message = request.encode_to_vec();
    let mut body = vec![0u8];
    body.extend_from_slice(&u32::try_from(message.len())?.to_be_bytes());
    body.extend_from_slice(&message);
    std::fs::write(&args.out, &body)?;
    println!("wrote {} ({} bytes: a {}-byte PredictRequest)", args.out.display(), body.len(), message.len());
    if let Some(address) = args.check {
        let mut client = PredictionServiceClient::connect(format!("http://{address}")).await?;
        let answer = client.predict(request).await?.into_inner();
        // The load test checks h2load's count of data bytes against this.
        println!("answer: {} bytes framed\n{answer:?}", answer.encoded_len() + 5);
    }
    Ok(())
}
