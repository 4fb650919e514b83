//! `run`'s files in numpy's format: `--inputs key=file.npy` or
//! `key=file.npz[name]` read, `--outdir` written (one `<key>.npy` per
//! output), through `ndarray-npy`. A file's element type is converted to
//! the input's dtype as TensorFlow's feed does with numpy's defaults
//! (`float64` to `f32`, integers between widths when they fit).

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use ndarray::ArrayD;
use ndarray_npy::{ReadNpyExt, ReadableElement, WriteNpyExt};

use crate::{DataType, Error, Result, Tensor};

/// Input `key` from `spec`: `file.npy`, `file.npz[name]`, or `file.npz`
/// holding one array.
///
/// # Errors
/// [`Error::InputValue`] naming the key and file: unreadable, not numpy's
/// format, no such array, or elements that cannot be the input's dtype.
pub(super) fn read_input(key: &str, spec: &str, dtype: DataType) -> Result<Tensor> {
    let fail = |reason: String| Error::InputValue { key: key.to_owned(), reason };
    let (path, name) = match spec.strip_suffix(']').and_then(|s| s.split_once('[')) {
        Some((path, name)) => (path, Some(name)),
        None => (spec, None),
    };
    let bytes = std::fs::read(path).map_err(|e| fail(format!("reading {path}: {e}")))?;
    let (array, what) = if path.ends_with(".npz") {
        let (name, array) = npz_member(&bytes, name).map_err(|e| fail(format!("{path}: {e}")))?;
        (array, format!("{path}[{name}]"))
    } else if name.is_some() {
        return Err(fail(format!("{path}: an array name in [] needs an .npz file")));
    } else {
        (bytes, path.to_owned())
    };
    check_header(&array).map_err(|e| fail(format!("{what}: {e}")))?;
    typed(dtype, |ty| read_npy(ty, Cursor::new(&array[..]))).map_err(|e| fail(format!("{what}: {e}")))
}

/// The bytes of array `name` of an `.npz` archive (its only array if no
/// name), with its name. A member is read up to what its entry declares,
/// and at most [`MAX_ARRAY_BYTES`]: a hostile archive cannot make it
/// inflate without bound.
fn npz_member(bytes: &[u8], name: Option<&str>) -> std::result::Result<(String, Vec<u8>), String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("not an .npz file: {e}"))?;
    let names: Vec<String> = zip.file_names().map(|n| n.strip_suffix(".npy").unwrap_or(n).to_owned()).collect();
    let name = match (name, names.as_slice()) {
        (Some(name), _) => name.to_owned(),
        (None, [only]) => only.clone(),
        (None, _) => return Err(format!("it holds {names:?}: say which, as file.npz[name]")),
    };
    let entry = [name.clone(), format!("{name}.npy")].into_iter().find(|n| zip.index_for_name(n).is_some());
    let entry = entry.ok_or_else(|| format!("no array {name:?}; it holds {names:?}"))?;
    let mut file = zip.by_name(&entry).map_err(|e| e.to_string())?;
    if file.size() > MAX_ARRAY_BYTES {
        return Err(format!("array {name:?} is {} bytes, over the {MAX_ARRAY_BYTES} read here", file.size()));
    }
    let (size, mut array) = (file.size(), Vec::new());
    (&mut file).take(size).read_to_end(&mut array).map_err(|e| format!("reading array {name:?}: {e}"))?;
    Ok((name, array))
}

/// The most bytes one array of an `.npz` archive may inflate to (1 GiB).
const MAX_ARRAY_BYTES: u64 = 1 << 30;

/// Checks an `.npy` array's header against its bytes: numpy's magic, and
/// no more data promised (`shape` times the element size of `descr`) than
/// follows. A hostile header would otherwise make the reader allocate what
/// it promises.
fn check_header(bytes: &[u8]) -> std::result::Result<(), String> {
    let rest = bytes.strip_prefix(b"\x93NUMPY").ok_or("not numpy's format (no \\x93NUMPY magic)")?;
    let le =
        |at: std::ops::Range<usize>| rest.get(at).map(|b| b.iter().rev().fold(0usize, |n, &x| n << 8 | usize::from(x)));
    let (len, start): (Option<usize>, usize) = match rest.first() {
        Some(1) => (le(2..4), 10),
        Some(2 | 3) => (le(2..6), 12),
        _ => (None, 0),
    };
    let header =
        len.and_then(|len| bytes.get(start..start.checked_add(len)?)).ok_or("a truncated or unknown npy header")?;
    let header = String::from_utf8_lossy(header);
    let field = |key: &str| header.split_once(&format!("'{key}':")).map(|(_, v)| v.trim_start().to_owned());
    let descr = field("descr").and_then(|d| Some(d.strip_prefix('\'')?.split('\'').next()?.to_owned()));
    let descr = descr.ok_or("no 'descr' in the npy header")?;
    let digits: String =
        descr.chars().rev().take_while(char::is_ascii_digit).collect::<Vec<_>>().into_iter().rev().collect();
    let size: usize = digits.parse().map_err(|_| format!("element type {descr:?}"))?;
    let size = if descr.contains('U') { size.saturating_mul(4) } else { size };
    let shape = field("shape").and_then(|s| Some(s.strip_prefix('(')?.split(')').next()?.to_owned()));
    let shape = shape.ok_or("no 'shape' in the npy header")?;
    let mut dims = shape.split(',').map(str::trim).filter(|d| !d.is_empty()).map(|d| d.parse::<usize>());
    let count = dims.try_fold(1usize, |n, d| n.checked_mul(d.ok()?)).ok_or_else(|| format!("shape ({shape})"))?;
    let need = count.checked_mul(size).ok_or_else(|| format!("shape ({shape}) of {descr}"))?;
    let have = bytes.len() - (start + header.len());
    if need > have {
        return Err(format!(
            "its header promises {need} bytes of data (shape ({shape}) of {descr}), the file holds {have}"
        ));
    }
    Ok(())
}

/// Writes each output as `<dir>/<key>.npy` (creating `dir`), refusing to
/// replace a file unless `overwrite`; returns the paths written.
///
/// # Errors
/// [`Error::Export`] (`Io`) naming the file; [`Error::InputValue`] for an
/// output numpy's format cannot hold here (strings).
pub(super) fn write_outputs<'a>(
    outputs: impl Iterator<Item = (&'a str, &'a Tensor)>,
    dir: &Path,
    overwrite: bool,
) -> Result<Vec<(String, PathBuf)>> {
    let io = |action, path: &Path, source| Error::Export(export::Error::Io { action, path: path.to_owned(), source });
    std::fs::create_dir_all(dir).map_err(|e| io("creating", dir, e))?;
    let mut written = Vec::new();
    for (key, tensor) in outputs {
        let path = dir.join(format!("{key}.npy"));
        if !overwrite && path.exists() {
            return Err(io(
                "writing",
                &path,
                std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "the output file already exists; add --overwrite to overwrite the existing output files",
                ),
            ));
        }
        let mut bytes = Vec::new();
        let encoded = match tensor.dtype() {
            DataType::F32 => tensor.view::<f32>()?.write_npy(&mut bytes),
            DataType::I64 => tensor.view::<i64>()?.write_npy(&mut bytes),
            DataType::I32 => tensor.view::<i32>()?.write_npy(&mut bytes),
            DataType::Bool => tensor.view::<bool>()?.write_npy(&mut bytes),
            DataType::String => {
                return Err(Error::InputValue {
                    key: key.to_owned(),
                    reason: "string outputs cannot be written as .npy here; run without --outdir to print them".into(),
                });
            }
        };
        encoded.map_err(|e| io("encoding", &path, std::io::Error::other(e.to_string())))?;
        export::write_file_atomically(&path, &bytes)?;
        written.push((key.to_owned(), path));
    }
    Ok(written)
}

/// The element types a file may hold for an input.
#[derive(Clone, Copy)]
enum Elem {
    F32,
    F64,
    I32,
    I64,
    Bool,
}

/// Reads the array as each element type `dtype` accepts, in order, until
/// one matches the file's, converting to `dtype`.
fn typed(
    dtype: DataType,
    read: impl Fn(Elem) -> std::result::Result<Tensor, String>,
) -> std::result::Result<Tensor, String> {
    let candidates: &[Elem] = match dtype {
        DataType::F32 => &[Elem::F32, Elem::F64, Elem::I64, Elem::I32],
        DataType::I64 => &[Elem::I64, Elem::I32],
        DataType::I32 => &[Elem::I32, Elem::I64],
        DataType::Bool => &[Elem::Bool],
        DataType::String => return Err("string inputs cannot be read from .npy files here".into()),
    };
    let mut first = None;
    for &ty in candidates {
        match read(ty) {
            Ok(t) => return convert(t, dtype),
            Err(e) => {
                first.get_or_insert(e);
            }
        }
    }
    Err(format!("its elements cannot be {dtype}: {}", first.unwrap_or_default()))
}

fn read_npy(ty: Elem, r: impl Read) -> std::result::Result<Tensor, String> {
    fn read<T: ReadableElement>(r: impl Read) -> std::result::Result<ArrayD<T>, String>
    where
        ArrayD<T>: ReadNpyExt,
    {
        ArrayD::<T>::read_npy(r).map_err(|e| e.to_string())
    }
    Ok(match ty {
        Elem::F32 => read::<f32>(r)?.into(),
        Elem::F64 => read::<f64>(r)?.mapv(|v| v as f32).into(),
        Elem::I32 => read::<i32>(r)?.into(),
        Elem::I64 => read::<i64>(r)?.into(),
        Elem::Bool => read::<bool>(r)?.into(),
    })
}

/// `t` as `dtype`: integers of the other width when every value fits,
/// integers as floats.
fn convert(t: Tensor, dtype: DataType) -> std::result::Result<Tensor, String> {
    match (t.dtype(), dtype) {
        (from, to) if from == to => Ok(t),
        (DataType::I64, DataType::F32) => {
            Ok(t.into_array::<i64>().map_err(|e| e.to_string())?.mapv(|v| v as f32).into())
        }
        (DataType::I32, DataType::F32) => {
            Ok(t.into_array::<i32>().map_err(|e| e.to_string())?.mapv(|v| v as f32).into())
        }
        (DataType::I32, DataType::I64) => Ok(t.into_array::<i32>().map_err(|e| e.to_string())?.mapv(i64::from).into()),
        (DataType::I64, DataType::I32) => {
            let a = t.into_array::<i64>().map_err(|e| e.to_string())?;
            let bad = a.iter().find(|&&v| i32::try_from(v).is_err());
            match bad {
                Some(v) => Err(format!("{v} does not fit in i32")),
                None => Ok(a.mapv(|v| v as i32).into()),
            }
        }
        (from, to) => Err(format!("{from} elements cannot be {to}")),
    }
}
