//! The variables bundle: `variables.index` (a protobuf `VariablesIndex`:
//! name -> dtype, shape, offset, length, crc32c) and `variables.data` (raw
//! little-endian bytes, each tensor starting on a 64-byte boundary, no
//! framing), so a loader can memory-map the data and use weights in place.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;
use prost::Message;

use opset::{Buffer, Data, DataType, Shape, Tensor};

use crate::fsio::write_file_synced;
use crate::proto::{concrete_shape, dtype_from_pb, dtype_to_pb, shape_to_pb};
use crate::tensor_bytes::{tensor_from_bytes, tensor_to_bytes};
use crate::{Error, Result, pb};

/// File name of the index inside a bundle directory.
pub const INDEX_FILE: &str = "variables.index";
/// File name of the data inside a bundle directory.
pub const DATA_FILE: &str = "variables.data";
/// Every tensor's bytes start at a multiple of this in the data file.
pub const ALIGNMENT: usize = 64;
/// The version of the index format written by this build.
const INDEX_VERSION: u32 = 1;

/// Writes `tensors` as a bundle in `dir` (which must exist), every file
/// fsynced. Names must be unique.
///
/// # Errors
/// [`Error::Io`] naming the file that could not be written.
pub fn write_bundle(dir: &Path, tensors: &[(&str, &Tensor)]) -> Result<()> {
    let mut data = Vec::new();
    let mut entries = Vec::with_capacity(tensors.len());
    for (name, tensor) in tensors {
        data.resize(data.len().next_multiple_of(ALIGNMENT), 0);
        let bytes = tensor_to_bytes(tensor);
        entries.push(pb::VariableEntry {
            name: (*name).to_owned(),
            dtype: dtype_to_pb(tensor.dtype()) as i32,
            shape: Some(shape_to_pb(&Shape::known(tensor.shape()))),
            offset: data.len() as u64,
            length: bytes.len() as u64,
            crc32c: crc32c::crc32c(&bytes),
        });
        data.extend_from_slice(&bytes);
    }
    let index = pb::VariablesIndex { format_version: INDEX_VERSION, entries };
    write_file_synced(&dir.join(DATA_FILE), &data)?;
    write_file_synced(&dir.join(INDEX_FILE), &index.encode_to_vec())
}

/// A bundle opened for reading: the index parsed and checked against the
/// data file's size, the data memory-mapped.
#[derive(Debug, Clone)]
pub struct VariablesBundle {
    dir: PathBuf,
    map: Option<Arc<Mmap>>,
    entries: BTreeMap<String, Entry>,
    /// Tensors already decoded (a TensorFlow bundle, imported).
    loaded: BTreeMap<String, Tensor>,
}

#[derive(Debug, Clone)]
struct Entry {
    dtype: DataType,
    shape: Vec<usize>,
    count: usize,
    offset: usize,
    length: usize,
    crc32c: u32,
}

impl VariablesBundle {
    /// Opens the bundle in `dir`. With `verify`, every tensor's crc32c is
    /// checked now (a pass over all the bytes); without, only when
    /// [`VariablesBundle::verify`] is called.
    ///
    /// # Errors
    /// [`Error::Io`] for a missing file, [`Error::Decode`] for a garbage
    /// index, [`Error::Malformed`] for an entry that points outside the data
    /// or whose shape contradicts its length, [`Error::Checksum`] naming a
    /// corrupt tensor.
    pub fn open(dir: impl AsRef<Path>, verify: bool) -> Result<VariablesBundle> {
        Self::open_impl(dir.as_ref(), verify)
    }

    fn open_impl(dir: &Path, verify: bool) -> Result<VariablesBundle> {
        let index_path = dir.join(INDEX_FILE);
        let data_path = dir.join(DATA_FILE);
        let bytes = std::fs::read(&index_path).map_err(Error::io("reading", &index_path))?;
        let index = pb::VariablesIndex::decode(bytes.as_slice()).map_err(|source| Error::Decode {
            path: index_path.clone(),
            message: "variables index",
            source,
        })?;
        if index.format_version > INDEX_VERSION {
            return Err(Error::UnsupportedVersion {
                path: index_path,
                what: "variables index format",
                found: index.format_version,
                supported: INDEX_VERSION,
            });
        }
        let file = File::open(&data_path).map_err(Error::io("opening", &data_path))?;
        let file_len = file.metadata().map_err(Error::io("reading metadata of", &data_path))?.len();
        let map = if file_len == 0 {
            None
        } else {
            // SAFETY: the map is read-only and private to this process. As
            // with every memory-mapped file, another process truncating or
            // rewriting the file while it is mapped is undefined behaviour;
            // artifacts are written once, under a temporary name, and never
            // modified in place.
            let map = unsafe { Mmap::map(&file) }.map_err(Error::io("memory-mapping", &data_path))?;
            Some(Arc::new(map))
        };
        let mut entries = BTreeMap::new();
        for e in index.entries {
            let entry = check_entry(&e, file_len).map_err(|reason| Error::malformed(&index_path, reason))?;
            if entries.insert(e.name.clone(), entry).is_some() {
                return Err(Error::malformed(&index_path, format!("variable {:?} is listed twice", e.name)));
            }
        }
        let bundle = VariablesBundle { dir: dir.to_owned(), map, entries, loaded: BTreeMap::new() };
        if verify {
            bundle.verify()?;
        }
        Ok(bundle)
    }

    /// A bundle of tensors already in memory (or mapped from elsewhere), as
    /// the TensorFlow importer produces; `dir` names it in errors.
    pub fn from_tensors(dir: impl Into<PathBuf>, tensors: BTreeMap<String, Tensor>) -> VariablesBundle {
        VariablesBundle { dir: dir.into(), map: None, entries: BTreeMap::new(), loaded: tensors }
    }

    /// Checks every tensor's bytes against its crc32c.
    ///
    /// # Errors
    /// [`Error::Checksum`] naming the first corrupt tensor.
    pub fn verify(&self) -> Result<()> {
        self.entries.iter().try_for_each(|(name, e)| self.verify_entry(name, e))
    }

    fn verify_entry(&self, name: &str, e: &Entry) -> Result<()> {
        let actual = crc32c::crc32c(self.bytes(e));
        if actual == e.crc32c {
            Ok(())
        } else {
            Err(Error::Checksum { name: name.to_owned(), expected: e.crc32c, actual })
        }
    }

    fn bytes(&self, e: &Entry) -> &[u8] {
        match &self.map {
            Some(map) => map.get(e.offset..e.offset + e.length).unwrap_or_default(),
            None => &[],
        }
    }

    /// The names of the tensors, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().chain(self.loaded.keys()).map(String::as_str)
    }

    /// The number of tensors.
    pub fn len(&self) -> usize {
        self.entries.len() + self.loaded.len()
    }

    /// Whether the bundle holds no tensor.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The dtype and shape of tensor `name`, without reading it.
    pub fn spec(&self, name: &str) -> Option<(DataType, &[usize])> {
        match self.entries.get(name) {
            Some(e) => Some((e.dtype, e.shape.as_slice())),
            None => self.loaded.get(name).map(|t| (t.dtype(), t.shape())),
        }
    }

    /// Tensor `name`. Numeric tensors borrow the mapped bytes (no copy);
    /// bool and string tensors are decoded.
    ///
    /// # Errors
    /// [`Error::MissingVariable`], or [`Error::Malformed`] for bytes that do
    /// not decode (a bool that is not 0 or 1, a string that is not UTF-8).
    pub fn get(&self, name: &str) -> Result<Tensor> {
        if let Some(t) = self.loaded.get(name) {
            return Ok(t.clone());
        }
        let e = self.entries.get(name).ok_or_else(|| Error::MissingVariable { name: name.to_owned() })?;
        let malformed = |reason: String| Error::malformed(self.dir.join(DATA_FILE), reason);
        let mapped = |data: Option<Data>| data.map(|d| Tensor::from_data(e.shape.clone(), d));
        let zero_copy = match (&self.map, e.dtype) {
            (Some(map), DataType::F32) => mapped(Buffer::mapped(map, e.offset, e.length).map(Data::F32)),
            (Some(map), DataType::I64) => mapped(Buffer::mapped(map, e.offset, e.length).map(Data::I64)),
            (Some(map), DataType::I32) => mapped(Buffer::mapped(map, e.offset, e.length).map(Data::I32)),
            _ => None,
        };
        match zero_copy {
            Some(t) => Ok(t),
            None => tensor_from_bytes(e.dtype, e.shape.clone(), e.count, self.bytes(e), &format!("variable {name:?}"))
                .map_err(malformed),
        }
    }
}

fn check_entry(e: &pb::VariableEntry, file_len: u64) -> std::result::Result<Entry, String> {
    let what = format!("variable {:?}", e.name);
    let dtype = dtype_from_pb(e.dtype, &what)?;
    let (shape, count) = concrete_shape(e.shape.as_ref(), &what)?;
    let end = e.offset.checked_add(e.length).filter(|&end| end <= file_len).ok_or_else(|| {
        format!("{what}: bytes {}..+{} lie past the end of the data ({file_len} bytes)", e.offset, e.length)
    })?;
    let (offset, length) = (
        usize::try_from(e.offset).map_err(|_| what.clone())?,
        usize::try_from(end - e.offset).map_err(|_| what.clone())?,
    );
    if offset % ALIGNMENT != 0 {
        return Err(format!("{what}: offset {offset} is not a multiple of {ALIGNMENT}"));
    }
    match dtype.byte_size() {
        Some(size) if count.checked_mul(size) != Some(length) => {
            Err(format!("{what}: shape {shape:?} of {dtype} needs {count} x {size} bytes, the index says {length}"))
        }
        // Each string takes at least its 8-byte length prefix.
        None if count > length / 8 => Err(format!("{what}: {count} strings cannot fit in {length} bytes")),
        _ => Ok(Entry { dtype, shape, count, offset, length, crc32c: e.crc32c }),
    }
}
