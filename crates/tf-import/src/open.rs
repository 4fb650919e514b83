//! Opening a TensorFlow SavedModel version directory as an artifact, and
//! converting it into a version of ours.

use std::fs;
use std::path::{Path, PathBuf};

use export::{Artifact, Format, SAVED_MODEL_FILE, TEMP_PREFIX, VARIABLES_DIR, VariablesBundle};

use crate::{Error, Result, import, is_tensorflow};

/// Opens the TensorFlow SavedModel in the version directory `dir` and
/// imports it: an [`Artifact`] of [`Format::TensorFlow`]. TensorFlow's
/// bundle carries per-tensor checksums; those of the tensors the graph uses
/// are verified.
///
/// # Errors
/// [`Error::Io`] for a missing directory or file; [`Error::Malformed`] for
/// a `temp-*` directory (an export still in progress) or a `saved_model.pb`
/// that is not TensorFlow's (ours is read by [`Artifact::open`]); the errors
/// of the import: [`Error::Decode`] for a garbage proto, [`Error::Malformed`]
/// or [`Error::Checksum`] for a bad bundle, [`Error::Node`] naming the
/// TensorFlow node and op the importer cannot translate.
pub fn open(dir: impl AsRef<Path>) -> Result<Artifact> {
    let dir = dir.as_ref();
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    if name.starts_with(TEMP_PREFIX) {
        return Err(Error::malformed(dir, "this is an export still being written (temp-*), not a version"));
    }
    let path = dir.join(SAVED_MODEL_FILE);
    let bytes = fs::read(&path).map_err(Error::io("reading", &path))?;
    if !is_tensorflow(&bytes) {
        return Err(Error::malformed(&path, "this is not a TensorFlow SavedModel"));
    }
    let (model, tensors) = import(dir, &bytes)?;
    let variables = VariablesBundle::from_tensors(dir.join(VARIABLES_DIR), tensors);
    Ok(Artifact::from_parts(dir.to_owned(), Format::TensorFlow, model, variables))
}

/// Converts the TensorFlow SavedModel in the version directory `dir` into a
/// new version of our artifact under `export_dir_base`, and returns it.
///
/// ```no_run
/// let version = tf_import::convert("tf_export/1700000000", "saved_model")?;
/// let artifact = export::Artifact::open(&version)?;
/// # Ok::<(), tf_import::Error>(())
/// ```
///
/// # Errors
/// The errors of [`open`], and [`Error::Export`] naming what could not be
/// written (on error no version appears).
pub fn convert(dir: impl AsRef<Path>, export_dir_base: impl AsRef<Path>) -> Result<PathBuf> {
    Ok(open(dir)?.write_version(export_dir_base)?)
}
