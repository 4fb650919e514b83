//! `run`'s files in numpy's format: `--inputs key=file.npy` or
//! `key=file.npz[name]` read, `--outdir` written (one `<key>.npy` per
//! output), through `ndarray-npy`. A file's element type is converted to
//! the input's dtype as TensorFlow's feed does with numpy's defaults
//! (`float64` to `f32`, integers between widths when they fit).

use std::io::{Cursor, Read, Seek};
use std::path::{Path, PathBuf};

use ndarray::ArrayD;
use ndarray_npy::{NpzReader, ReadNpyExt, ReadableElement, WriteNpyExt};

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
    if !path.ends_with(".npz") {
        if name.is_some() {
            return Err(fail(format!("{path}: an array name in [] needs an .npz file")));
        }
        return typed(dtype, |ty| read_npy(ty, Cursor::new(&bytes[..]))).map_err(|e| fail(format!("{path}: {e}")));
    }
    let names = NpzReader::new(Cursor::new(&bytes[..]))
        .and_then(|mut z| z.names())
        .map_err(|e| fail(format!("{path} is not an .npz file: {e}")))?;
    let name = match (name, names.as_slice()) {
        (Some(name), _) => name.to_owned(),
        (None, [only]) => only.clone(),
        (None, _) => return Err(fail(format!("{path} holds {names:?}: say which, as {path}[name]"))),
    };
    if !names.contains(&name) {
        return Err(fail(format!("{path} has no array {name:?}; it holds {names:?}")));
    }
    let read = |ty: Elem| {
        let mut npz = NpzReader::new(Cursor::new(&bytes[..])).map_err(|e| e.to_string())?;
        read_npz(ty, &mut npz, &name)
    };
    typed(dtype, read).map_err(|e| fail(format!("{path}[{name}]: {e}")))
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

fn read_npz<R: Read + Seek>(ty: Elem, npz: &mut NpzReader<R>, name: &str) -> std::result::Result<Tensor, String> {
    let e = |e: ndarray_npy::ReadNpzError| e.to_string();
    Ok(match ty {
        Elem::F32 => npz.by_name::<ndarray::OwnedRepr<f32>, ndarray::IxDyn>(name).map_err(e)?.into(),
        Elem::F64 => npz.by_name::<ndarray::OwnedRepr<f64>, ndarray::IxDyn>(name).map_err(e)?.mapv(|v| v as f32).into(),
        Elem::I32 => npz.by_name::<ndarray::OwnedRepr<i32>, ndarray::IxDyn>(name).map_err(e)?.into(),
        Elem::I64 => npz.by_name::<ndarray::OwnedRepr<i64>, ndarray::IxDyn>(name).map_err(e)?.into(),
        Elem::Bool => npz.by_name::<ndarray::OwnedRepr<bool>, ndarray::IxDyn>(name).map_err(e)?.into(),
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
