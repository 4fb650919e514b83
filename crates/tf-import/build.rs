//! Compiles `proto/tensorflow/saved_model.proto` (the subset of TensorFlow's
//! protos we read) with protox (pure Rust: no protoc on the machine) into
//! prost types, included privately by `src/pb.rs`.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    println!("cargo:rerun-if-changed={}", proto_dir.display());
    let fds = protox::compile(["tensorflow/saved_model.proto"], [&proto_dir])?;
    prost_build::Config::new()
        // Sorted maps: signatures and attributes are imported in a
        // deterministic order, so a conversion gives the same bytes each time.
        .btree_map(["."])
        .compile_fds(fds)?;
    Ok(())
}
