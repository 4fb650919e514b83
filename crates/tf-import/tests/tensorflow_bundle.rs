//! TensorFlow bundles forged byte by byte: a LevelDB table written here
//! (one data block, an index block, the footer), holding `BundleEntryProto`s
//! encoded by hand, to reach every check of the reader.

use std::path::{Path, PathBuf};

use tf_import::Error;

fn varint(mut v: u64, out: &mut Vec<u8>) {
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

/// A block of `entries` (no prefix sharing, one restart point), with its trailer.
fn block(entries: &[(&[u8], Vec<u8>)]) -> Vec<u8> {
    let mut b = Vec::new();
    for (k, v) in entries {
        varint(0, &mut b);
        varint(k.len() as u64, &mut b);
        varint(v.len() as u64, &mut b);
        b.extend_from_slice(k);
        b.extend_from_slice(v);
    }
    b.extend_from_slice(&0u32.to_le_bytes()); // restart at 0
    b.extend_from_slice(&1u32.to_le_bytes()); // one restart
    let mut trailer = vec![0u8]; // no compression
    let mut checked = b.clone();
    checked.push(0);
    trailer.extend_from_slice(&export::tfrecord::masked_crc(&checked).to_le_bytes());
    b.extend_from_slice(&trailer);
    b
}

/// A whole table file of sorted `entries`.
fn table(entries: &[(&[u8], Vec<u8>)]) -> Vec<u8> {
    let data = block(entries);
    let data_len = data.len() as u64 - 5;
    let mut handle = Vec::new();
    varint(0, &mut handle);
    varint(data_len, &mut handle);
    let last_key = entries.last().map_or(&b""[..], |(k, _)| k);
    let index = block(&[(last_key, handle)]);
    let mut file = data.clone();
    let index_offset = file.len() as u64;
    file.extend_from_slice(&index);
    let mut footer = Vec::new();
    varint(0, &mut footer); // empty metaindex handle
    varint(0, &mut footer);
    varint(index_offset, &mut footer);
    varint(index.len() as u64 - 5, &mut footer);
    footer.resize(40, 0);
    footer.extend_from_slice(&0xdb47_7524_8b80_fb57u64.to_le_bytes());
    file.extend_from_slice(&footer);
    file
}

/// A `BundleEntryProto`: dtype, shape, shard 0, offset, size, crc32c.
fn entry(dtype: u64, dims: &[i64], offset: u64, size: u64, crc: u32) -> Vec<u8> {
    let mut e = Vec::new();
    varint(1 << 3, &mut e);
    varint(dtype, &mut e);
    let mut shape = Vec::new();
    for &d in dims {
        let mut dim = Vec::new();
        varint(1 << 3, &mut dim);
        varint(d as u64, &mut dim);
        varint(2 << 3 | 2, &mut shape);
        varint(dim.len() as u64, &mut shape);
        shape.extend_from_slice(&dim);
    }
    varint(2 << 3 | 2, &mut e);
    varint(shape.len() as u64, &mut e);
    e.extend_from_slice(&shape);
    varint(4 << 3, &mut e);
    varint(offset, &mut e);
    varint(5 << 3, &mut e);
    varint(size, &mut e);
    varint(6 << 3 | 5, &mut e);
    e.extend_from_slice(&crc.to_le_bytes());
    e
}

/// The TensorFlow toy export, copied, with `dense/bias` and `dense/kernel`
/// described by the given entries over the given data shard.
fn forged(bias: Vec<u8>, kernel: Vec<u8>, data: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tensorflow/estimator_toy/1700000000");
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("1700000000");
    std::fs::create_dir_all(v.join("variables")).unwrap();
    std::fs::copy(src.join("saved_model.pb"), v.join("saved_model.pb")).unwrap();
    let mut header = Vec::new();
    varint(1 << 3, &mut header);
    varint(1, &mut header); // one shard
    let index = table(&[(b"", header), (b"dense/bias", bias), (b"dense/kernel", kernel)]);
    std::fs::write(v.join("variables/variables.index"), index).unwrap();
    std::fs::write(v.join("variables/variables.data-00000-of-00001"), data).unwrap();
    (dir, v)
}

const F32: u64 = 1;

fn good_data() -> Vec<u8> {
    [0.5f32, 1.0, 1.0].iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn good_bias() -> Vec<u8> {
    entry(F32, &[1], 0, 4, export::tfrecord::masked_crc(&good_data()[..4]))
}

fn good_kernel() -> Vec<u8> {
    entry(F32, &[2, 1], 4, 8, export::tfrecord::masked_crc(&good_data()[4..]))
}

#[test]
fn a_forged_bundle_that_is_right_loads() {
    let (_d, v) = forged(good_bias(), good_kernel(), &good_data());
    let artifact = tf_import::open(&v).unwrap();
    assert_eq!(artifact.variables().get("dense/bias").unwrap().as_slice::<f32>().unwrap(), [0.5]);
    assert_eq!(artifact.variables().get("dense/kernel").unwrap().as_slice::<f32>().unwrap(), [1.0, 1.0]);
}

#[test]
fn every_bad_entry_is_a_typed_error() {
    let data = good_data();
    let cases: [(Vec<u8>, &str); 5] = [
        (entry(F32, &[2, 1], 4, 800, 0), "outside the data shard"),
        (entry(F32, &[2, 1], u64::MAX / 2, 8, 0), "outside the data shard"),
        (entry(F32, &[3, 1], 4, 8, export::tfrecord::masked_crc(&data[4..])), "cannot hold 3 elements"),
        (
            entry(F32, &[1 << 40, 1 << 40, 1 << 40], 4, 8, export::tfrecord::masked_crc(&data[4..])),
            "more elements than memory",
        ),
        (entry(F32, &[2, 1], 4, 8, 12345), "is corrupt"),
    ];
    for (kernel, expected) in cases {
        let (_d, v) = forged(good_bias(), kernel, &data);
        let err = tf_import::open(&v).unwrap_err().to_string();
        assert!(err.contains(expected) && err.contains("dense/kernel"), "{expected}: {err}");
    }
    let (_d, v) = forged(good_bias(), entry(99, &[2, 1], 4, 8, 0), &data);
    assert!(tf_import::open(&v).unwrap_err().to_string().contains("unknown dtype code 99"));
}

#[test]
fn broken_tables_are_refused() {
    let (_d, v) = forged(good_bias(), good_kernel(), &good_data());
    let index = v.join("variables/variables.index");
    let good = std::fs::read(&index).unwrap();
    let cases: [(Vec<u8>, &str); 4] = [
        (good[..good.len() - 1].to_vec(), "magic"),
        (b"short".to_vec(), "too short"),
        (
            {
                let mut b = good.clone();
                b[3] ^= 0x55; // inside the data block
                b
            },
            "checksum",
        ),
        (
            {
                let mut b = good.clone();
                let n = b.len();
                b[n - 48..n - 8].fill(0xff); // handles whose varints never end
                b
            },
            "varint",
        ),
    ];
    for (bytes, expected) in cases {
        std::fs::write(&index, &bytes).unwrap();
        let err = tf_import::open(&v).unwrap_err();
        assert!(matches!(err, Error::Malformed { .. }), "{err}");
        assert!(err.to_string().contains(expected) && err.to_string().contains("variables.index"), "{expected}: {err}");
    }
}
