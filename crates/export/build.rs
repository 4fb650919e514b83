//! Compiles `proto/artifact.proto` with protox (pure Rust: no protoc on the
//! machine) into prost types, included privately by `src/pb.rs`.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    println!("cargo:rerun-if-changed={}", proto_dir.display());
    let fds = protox::compile(["artifact.proto"], [&proto_dir])?;
    prost_build::Config::new()
        // Sorted maps make the artifact's bytes deterministic.
        .btree_map(["."])
        .compile_fds(fds)?;
    Ok(())
}
