//! Truncated, corrupted and hostile artifacts: each a typed error naming the
//! file, tensor or node, never a panic and never a huge allocation.

mod common;

use std::path::Path;

use export::{Artifact, Error};
use opset::{Assets, Attr, DataType, Graph, Node, Shape, TypedGraph};
use prost_free::*;

/// Hand-encoding of protobuf bytes, to forge what a writer never would.
mod prost_free {
    pub fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    pub fn field(number: u32, wire: u8, out: &mut Vec<u8>) {
        varint(u64::from(number << 3 | u32::from(wire)), out);
    }
    pub fn bytes_field(number: u32, bytes: &[u8], out: &mut Vec<u8>) {
        field(number, 2, out);
        varint(bytes.len() as u64, out);
        out.extend_from_slice(bytes);
    }
    /// A `VariableEntry` with the given fields.
    pub fn entry(name: &str, dtype: u64, dims: &[i64], offset: u64, length: u64) -> Vec<u8> {
        let mut e = Vec::new();
        bytes_field(1, name.as_bytes(), &mut e);
        field(2, 0, &mut e);
        varint(dtype, &mut e);
        let mut shape = Vec::new();
        for &d in dims {
            field(1, 0, &mut shape);
            varint(d as u64, &mut shape);
        }
        bytes_field(3, &shape, &mut e);
        field(4, 0, &mut e);
        varint(offset, &mut e);
        field(5, 0, &mut e);
        varint(length, &mut e);
        e
    }
    /// A `VariablesIndex` of one entry.
    pub fn index(entry: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        field(1, 0, &mut out);
        varint(1, &mut out);
        bytes_field(2, entry, &mut out);
        out
    }
}

fn artifact() -> (tempfile::TempDir, std::path::PathBuf) {
    let base = tempfile::tempdir().unwrap();
    let dir = common::write(base.path());
    (base, dir)
}

fn open_err(dir: &Path) -> String {
    Artifact::open(dir).unwrap_err().to_string()
}

#[test]
fn truncated_or_garbage_saved_model() {
    let (_base, dir) = artifact();
    let pb = dir.join("saved_model.pb");
    let bytes = std::fs::read(&pb).unwrap();
    std::fs::write(&pb, &bytes[..bytes.len() / 2]).unwrap();
    let err = Artifact::open(&dir).unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
    assert!(err.to_string().contains("saved_model.pb"));
    std::fs::write(&pb, b"\xff\xff\xff\xff garbage").unwrap();
    assert!(open_err(&dir).contains("saved_model.pb"));
    std::fs::write(&pb, b"").unwrap();
    assert!(open_err(&dir).contains("format version 0"));
}

#[test]
fn newer_format_or_op_set_is_refused() {
    let (_base, dir) = artifact();
    let pb = dir.join("saved_model.pb");
    let mut bytes = std::fs::read(&pb).unwrap();
    // Fields 1 (format_version) and 2 (op_set_version) lead; append overrides.
    field(1, 0, &mut bytes);
    varint(99, &mut bytes);
    std::fs::write(&pb, &bytes).unwrap();
    let err = open_err(&dir);
    assert!(err.contains("format version 99 is newer"), "{err}");
    let mut bytes = std::fs::read(&pb).unwrap();
    field(1, 0, &mut bytes);
    varint(1, &mut bytes);
    field(2, 0, &mut bytes);
    let newer = opset::OP_SET_VERSION + 1;
    varint(u64::from(newer), &mut bytes);
    std::fs::write(&pb, &bytes).unwrap();
    assert!(open_err(&dir).contains(&format!("op set version {newer} is newer")));
}

#[test]
fn missing_files() {
    let (_base, dir) = artifact();
    std::fs::remove_file(dir.join("variables/variables.data")).unwrap();
    assert!(open_err(&dir).contains("variables.data"));
    std::fs::remove_file(dir.join("variables/variables.index")).unwrap();
    assert!(open_err(&dir).contains("variables.index"));
    std::fs::remove_file(dir.join("saved_model.pb")).unwrap();
    assert!(open_err(&dir).contains("saved_model.pb"));
    assert!(open_err(&dir.join("nope")).contains("nope"));
}

#[test]
fn flipped_byte_names_the_corrupt_tensor() {
    let (_base, dir) = artifact();
    let data = dir.join("variables/variables.data");
    let mut bytes = std::fs::read(&data).unwrap();
    bytes[1] ^= 0x40; // inside "w", the first tensor
    std::fs::write(&data, &bytes).unwrap();
    let err = Artifact::open(&dir).unwrap_err();
    assert!(matches!(&err, Error::Checksum { name, .. } if name == "w"), "{err}");
    // Opening without verification succeeds; verifying later still catches it.
    let opened = Artifact::open_with(&dir, export::OpenOptions { verify_checksums: false }).unwrap();
    assert!(opened.variables().verify().is_err());
}

#[test]
fn truncated_data_file() {
    let (_base, dir) = artifact();
    let data = dir.join("variables/variables.data");
    let bytes = std::fs::read(&data).unwrap();
    std::fs::write(&data, &bytes[..bytes.len() - 3]).unwrap();
    let err = open_err(&dir);
    assert!(err.contains("past the end of the data"), "{err}");
}

fn forge_index(dir: &Path, entry: Vec<u8>) -> String {
    std::fs::write(dir.join("variables/variables.index"), index(&entry)).unwrap();
    open_err(dir)
}

#[test]
fn hostile_indexes() {
    let (_base, dir) = artifact();
    let len = std::fs::metadata(dir.join("variables/variables.data")).unwrap().len();
    // Points past the end of the data.
    let err = forge_index(&dir, entry("w", 1, &[2, 1], 64, len));
    assert!(err.contains("\"w\"") && err.contains("past the end"), "{err}");
    // Offset + length overflows u64.
    let err = forge_index(&dir, entry("w", 1, &[2, 1], u64::MAX - 2, 8));
    assert!(err.contains("past the end"), "{err}");
    // A shape whose element count overflows.
    let err = forge_index(&dir, entry("w", 1, &[1 << 40, 1 << 40, 1 << 40], 0, 8));
    assert!(err.contains("more elements than memory"), "{err}");
    // A shape that exceeds the data it claims.
    let err = forge_index(&dir, entry("w", 1, &[1000], 0, 8));
    assert!(err.contains("needs 1000 x 4 bytes"), "{err}");
    // Billions of strings in a few bytes: refused before any allocation.
    let err = forge_index(&dir, entry("s", 5, &[4_000_000_000], 0, 8));
    assert!(err.contains("cannot fit"), "{err}");
    // Negative dims, unknown dtypes, misaligned offsets.
    assert!(forge_index(&dir, entry("w", 1, &[-5], 0, 0)).contains("-5"));
    assert!(forge_index(&dir, entry("w", 42, &[1], 0, 4)).contains("unknown dtype code 42"));
    assert!(forge_index(&dir, entry("w", 1, &[1], 4, 4)).contains("multiple of 64"));
    std::fs::write(dir.join("variables/variables.index"), b"\x0a\xff\xff").unwrap();
    assert!(open_err(&dir).contains("variables index"));
}

#[test]
fn bad_bool_and_string_bytes_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("variables.data"), [2u8]).unwrap();
    let mut e = entry("b", 4, &[1], 0, 1);
    field(6, 0, &mut e);
    varint(u64::from(crc32c::crc32c(&[2])), &mut e);
    std::fs::write(dir.path().join("variables.index"), index(&e)).unwrap();
    let bundle = export::VariablesBundle::open(dir.path(), true).unwrap();
    assert!(bundle.get("b").unwrap_err().to_string().contains("not 0 or 1"));
    // A string record claiming more bytes than there are.
    let mut data = 100u64.to_le_bytes().to_vec();
    data.extend_from_slice(b"abc");
    std::fs::write(dir.path().join("variables.data"), &data).unwrap();
    std::fs::write(dir.path().join("variables.index"), index(&entry("s", 5, &[1], 0, data.len() as u64))).unwrap();
    let bundle = export::VariablesBundle::open(dir.path(), false).unwrap();
    assert!(bundle.get("s").is_err());
    assert!(matches!(bundle.get("nope"), Err(Error::MissingVariable { .. })));
}

fn placeholder(name: &str) -> Node {
    Node::new(name, "Placeholder", &[])
        .with("dtype", Attr::Type(DataType::F32))
        .with("shape", Attr::Shape(Shape(vec![None, Some(2)])))
}

fn check(nodes: Vec<Node>) -> opset::Error {
    TypedGraph::new(&Graph { nodes }, &Assets::new()).unwrap_err()
}

#[test]
fn invalid_graphs_name_the_node() {
    let err = check(vec![placeholder("x"), Node::new("bad", "FancyOp", &["x"])]);
    assert!(matches!(&err, opset::Error::UnknownOp { node, op, .. } if node == "bad" && op == "FancyOp"), "{err}");
    let err = check(vec![Node::new("a", "Relu", &["b"]), Node::new("b", "Relu", &["a"])]);
    assert!(matches!(&err, opset::Error::Cycle { .. }), "{err}");
    let err = check(vec![Node::new("a", "Relu", &["a"])]);
    assert!(err.to_string().contains("cycle through node \"a\""), "{err}");
    let err = check(vec![placeholder("x"), Node::new("r", "Relu", &["ghost"])]);
    assert!(matches!(&err, opset::Error::MissingInput { node, input } if node == "r" && input == "ghost"), "{err}");
    let err = check(vec![placeholder("x"), Node::new("r", "Relu", &["x", "x"])]);
    assert!(err.to_string().contains("expected 1 input(s), got 2"), "{err}");
    let err = check(vec![placeholder("x"), placeholder("x")]);
    assert!(matches!(err, opset::Error::DuplicateNode { .. }));
    let err = check(vec![placeholder("x"), Node::new("r", "Relu", &["x:1"])]);
    assert!(err.to_string().contains("single output"), "{err}");
    // dtype mismatch
    let ids = Node::new("i", "Const", &[]).with("value", Attr::Tensor(opset::Tensor::from(ndarray::array![1i64])));
    let err = check(vec![placeholder("x"), ids, Node::new("s", "Add", &["x", "i"])]);
    assert!(err.to_string().contains("node \"s\"") && err.to_string().contains("i64"), "{err}");
    // shapes that cannot agree: [?, 2] @ [3, 1]
    let w = Node::new("w", "Variable", &[])
        .with("dtype", Attr::Type(DataType::F32))
        .with("shape", Attr::Shape(Shape::known(&[3, 1])));
    let err = check(vec![placeholder("x"), w, Node::new("mm", "MatMul", &["x", "w"])]);
    assert!(err.to_string().contains("node \"mm\"") && err.to_string().contains("inner dimensions"), "{err}");
    // missing attribute
    let err = check(vec![Node::new("p", "Placeholder", &[])]);
    assert!(err.to_string().contains("missing attribute \"dtype\""), "{err}");
}

#[test]
fn deep_graphs_do_not_overflow_the_stack() {
    let mut nodes = vec![placeholder("n0")];
    for i in 1..200_000 {
        nodes.push(Node::new(format!("n{i}"), "Identity", &[&format!("n{}", i - 1)]));
    }
    nodes.reverse();
    let graph = TypedGraph::new(&Graph { nodes }, &Assets::new()).unwrap();
    assert_eq!(graph.nodes()[0].name, "n0");
}

#[test]
fn absurd_shapes_are_refused_at_load_not_allocated() {
    let huge = 1i64 << 40;
    let err = check(vec![
        placeholder("x"),
        Node::new("r", "Reshape", &["x"]).with("shape", Attr::Ints(vec![huge, huge, huge])),
    ]);
    assert!(err.to_string().contains("node \"r\""), "{err}");
    let c = Node::new("c", "Const", &[]).with("value", Attr::Tensor(opset::Tensor::from(ndarray::array![[1.0f32]])));
    let err = check(vec![c.clone(), Node::new("t", "Tile", &["c"]).with("multiples", Attr::Ints(vec![huge, huge]))]);
    assert!(err.to_string().contains("node \"t\"") && err.to_string().contains("absurd"), "{err}");
    let big = Node::new("p", "Placeholder", &[])
        .with("dtype", Attr::Type(DataType::F32))
        .with("shape", Attr::Shape(Shape(vec![Some(1 << 40), Some(1 << 40)])));
    assert!(check(vec![big]).to_string().contains("absurd"));
    // Unknown at load, too big at run time: the kernel refuses instead of allocating.
    let graph = TypedGraph::new(
        &Graph {
            nodes: vec![
                placeholder("x"),
                Node::new("t", "Tile", &["x"]).with("multiples", Attr::Ints(vec![1 << 31, 1])),
            ],
        },
        &Assets::new(),
    )
    .unwrap();
    let mut values = vec![None; 2];
    values[0] = Some(opset::Tensor::from(ndarray::array![[1.0f32, 2.0], [3.0, 4.0]]));
    let err = graph.evaluate(&[1], &mut values).unwrap_err().to_string();
    assert!(err.contains("over the limit"), "{err}");
}
