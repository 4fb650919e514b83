//! TensorFlow's variables bundle: `variables.index` (a LevelDB table of
//! `BundleEntryProto`s keyed by checkpoint key, the empty key holding the
//! `BundleHeaderProto`) and `variables.data-NNNNN-of-MMMMM` shards.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;
use prost::Message;

use opset::{Buffer, Data, DataType, Tensor};

use crate::pb;
use crate::sstable::{mask, read_table, varint};
use crate::{Error, Result};

/// An opened TensorFlow bundle: the index parsed, the shards mapped.
pub(crate) struct TfBundle {
    index_path: PathBuf,
    entries: BTreeMap<String, pb::BundleEntryProto>,
    shards: Vec<Option<Arc<Mmap>>>,
}

impl TfBundle {
    /// Opens `dir/variables.index` and its shards.
    pub fn open(dir: &Path) -> Result<TfBundle> {
        let index_path = dir.join("variables.index");
        let bytes = std::fs::read(&index_path).map_err(Error::io("reading", &index_path))?;
        let malformed = |reason: String| Error::malformed(&index_path, reason);
        let mut entries = BTreeMap::new();
        let mut num_shards = 1;
        for (key, value) in read_table(&bytes).map_err(malformed)? {
            let key = String::from_utf8(key).map_err(|_| malformed("a key is not UTF-8".into()))?;
            if key.is_empty() {
                let header = pb::BundleHeaderProto::decode(value.as_slice()).map_err(|source| Error::Decode {
                    path: index_path.clone(),
                    message: "BundleHeaderProto",
                    source,
                })?;
                if header.endianness != pb::bundle_header_proto::Endianness::Little as i32 {
                    return Err(malformed("the bundle is big-endian".into()));
                }
                num_shards = header.num_shards.max(1);
                continue;
            }
            let entry = pb::BundleEntryProto::decode(value.as_slice()).map_err(|source| Error::Decode {
                path: index_path.clone(),
                message: "BundleEntryProto",
                source,
            })?;
            entries.insert(key, entry);
        }
        if num_shards > 4096 {
            return Err(malformed(format!("{num_shards} shards")));
        }
        let shards = (0..num_shards)
            .map(|i| {
                let path = dir.join(format!("variables.data-{i:05}-of-{num_shards:05}"));
                let file = match File::open(&path) {
                    Ok(f) => f,
                    // A shard no entry uses may be absent; a used one is reported at read.
                    Err(_) => return Ok(None),
                };
                let len = file.metadata().map_err(Error::io("reading metadata of", &path))?.len();
                if len == 0 {
                    return Ok(None);
                }
                // SAFETY: read-only private map of a file written once by
                // TensorFlow; modifying it while mapped is undefined, as for
                // every memory-mapped file.
                let map = unsafe { Mmap::map(&file) }.map_err(Error::io("memory-mapping", &path))?;
                Ok(Some(Arc::new(map)))
            })
            .collect::<Result<_>>()?;
        Ok(TfBundle { index_path, entries, shards })
    }

    /// A bundle without variables, for graphs that have none.
    #[cfg(test)]
    pub fn empty() -> TfBundle {
        TfBundle { index_path: PathBuf::new(), entries: BTreeMap::new(), shards: Vec::new() }
    }

    /// Whether the bundle has an entry `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// Tensor `key`, its checksum verified; numeric tensors whose bytes are
    /// aligned are used in place from the mapped shard.
    pub fn get(&self, key: &str) -> Result<Tensor> {
        let e = self.entries.get(key).ok_or_else(|| Error::MissingVariable { name: key.to_owned() })?;
        let what = format!("variable {key:?}");
        let malformed = |reason: String| Error::malformed(&self.index_path, format!("{what}: {reason}"));
        if !e.slices.is_empty() {
            return Err(malformed("partitioned variables (slices) are not supported".into()));
        }
        let dtype = crate::tensor_proto::dtype(e.dtype).map_err(malformed)?;
        let (dims, n) = crate::tensor_proto::known_shape(e.shape.as_ref()).map_err(malformed)?;
        let map = usize::try_from(e.shard_id)
            .ok()
            .and_then(|s| self.shards.get(s))
            .and_then(Option::as_ref)
            .ok_or_else(|| malformed(format!("its data shard {} is missing", e.shard_id)))?;
        let (offset, size) = (usize::try_from(e.offset).ok(), usize::try_from(e.size).ok());
        let range = offset.zip(size).and_then(|(o, s)| Some(o..o.checked_add(s)?)).filter(|r| r.end <= map.len());
        let range =
            range.ok_or_else(|| malformed(format!("bytes {}..+{} lie outside the data shard", e.offset, e.size)))?;
        let bytes = &map[range.clone()];
        let actual = mask(crc32c::crc32c(bytes));
        if actual != e.crc32c {
            return Err(Error::Checksum { name: key.to_owned(), expected: e.crc32c, actual });
        }
        let mapped = |data: Option<Data>| data.map(|d| Tensor::from_data(dims.clone(), d));
        let fits = dtype.byte_size().is_some_and(|s| n.checked_mul(s) == Some(bytes.len()));
        let in_place = match dtype {
            _ if !fits => None,
            DataType::F32 => mapped(Buffer::mapped(map, range.start, range.len()).map(Data::F32)),
            DataType::I64 => mapped(Buffer::mapped(map, range.start, range.len()).map(Data::I64)),
            DataType::I32 => mapped(Buffer::mapped(map, range.start, range.len()).map(Data::I32)),
            _ => None,
        };
        match (in_place, dtype) {
            (Some(t), _) => Ok(t),
            (_, DataType::String) => strings(bytes, dims, n).map_err(malformed),
            _ => export::tensor_from_bytes(dtype, dims, n, bytes, &what).map_err(malformed),
        }
    }
}

/// A string tensor: `n` varint lengths, a 4-byte masked crc32c of them,
/// then the bytes of each string.
fn strings(bytes: &[u8], dims: Vec<usize>, n: usize) -> std::result::Result<Tensor, String> {
    let mut cursor = bytes;
    let mut lengths = Vec::with_capacity(n.min(bytes.len()));
    for _ in 0..n {
        lengths.push(usize::try_from(varint(&mut cursor)?).map_err(|_| "string length")?);
    }
    cursor = cursor.get(4..).ok_or("truncated string tensor")?;
    let mut values = Vec::with_capacity(lengths.len());
    for len in lengths {
        if len > cursor.len() {
            return Err("truncated string tensor".into());
        }
        let (s, rest) = cursor.split_at(len);
        values.push(opset::Bytes::copy_from_slice(s));
        cursor = rest;
    }
    Tensor::from_vec(dims, values).map_err(|e| e.to_string())
}
