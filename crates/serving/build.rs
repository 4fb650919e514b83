//! Compiles the subset of TensorFlow's and TensorFlow Serving's protos under
//! `proto/` with protox (pure Rust: no protoc on the machine) into prost
//! messages and tonic services, included by `src/grpc/proto.rs`.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("proto");
    println!("cargo:rerun-if-changed={}", proto_dir.display());
    let fds = protox::compile(
        [
            "tensorflow_serving/apis/prediction_service.proto",
            "tensorflow_serving/apis/model_service.proto",
            "tensorflow_serving/apis/prediction_log.proto",
        ],
        [&proto_dir],
    )?;
    tonic_prost_build::configure()
        // Sorted maps: a response's outputs and signatures in key order.
        .btree_map(".")
        .compile_fds(fds)?;
    Ok(())
}
