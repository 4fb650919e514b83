//! Which reader opens a version directory: a `saved_model.pb` written by
//! TensorFlow goes to the TensorFlow importer (`tf-import`, behind the
//! default `tensorflow` feature), anything else to our artifact's reader.
//! From the artifact on, both formats are the same types and run the same
//! plan.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use export::{Artifact, OpenOptions, SAVED_MODEL_FILE};

use crate::{Error, Result};

/// Opens the version directory `dir`, in whichever format it holds.
/// `options` apply to our format; the TensorFlow importer always verifies
/// the checksums of the tensors it reads.
///
/// # Errors
/// The errors of [`Artifact::open_with`] ([`crate::Error::Export`]) or of
/// `tf_import::open` (`Error::TensorFlow`); without the `tensorflow`
/// feature, [`Error::TensorFlowDisabled`] for a TensorFlow SavedModel;
/// [`Error::ExportBase`] for an export base given as a version.
pub(crate) fn open(dir: &Path, options: OpenOptions) -> Result<Artifact> {
    let path = dir.join(SAVED_MODEL_FILE);
    if !path.exists()
        && let Ok(versions) = export::list_versions(dir)
        && !versions.is_empty()
    {
        return Err(Error::ExportBase { dir: dir.to_owned(), versions: versions.iter().map(|(v, _)| *v).collect() });
    }
    // An unreadable file is our reader's to report, with its usual error.
    if head(&path).is_some_and(|bytes| is_tensorflow(&bytes)) {
        #[cfg(feature = "tensorflow")]
        return Ok(tf_import::open(dir)?);
        #[cfg(not(feature = "tensorflow"))]
        return Err(Error::TensorFlowDisabled { path });
    }
    Ok(Artifact::open_with(dir, options)?)
}

/// The first bytes of `path`: enough to tell the formats apart.
fn head(path: &Path) -> Option<Vec<u8>> {
    let mut bytes = Vec::with_capacity(16);
    File::open(path).ok()?.take(16).read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

#[cfg(feature = "tensorflow")]
fn is_tensorflow(bytes: &[u8]) -> bool {
    tf_import::is_tensorflow(bytes)
}

#[cfg(not(feature = "tensorflow"))]
fn is_tensorflow(bytes: &[u8]) -> bool {
    looks_like_tensorflow(bytes)
}

/// `tf_import::is_tensorflow`, for builds without the importer (so that a
/// TensorFlow export gets a clear error rather than a decoding one): field 1
/// as a varint then field 2 as a message (tag `0x12`) is TensorFlow's
/// `SavedModel`; ours has field 2 as a varint.
#[cfg(any(test, not(feature = "tensorflow")))]
fn looks_like_tensorflow(bytes: &[u8]) -> bool {
    let [0x08, rest @ ..] = bytes else { return bytes.first() == Some(&0x12) };
    // Skip the varint: at most 10 bytes, the last without the high bit.
    rest.iter().take(10).position(|b| b & 0x80 == 0).is_some_and(|end| rest.get(end + 1) == Some(&0x12))
}

#[cfg(all(test, feature = "tensorflow"))]
mod tests {
    #[test]
    fn the_fallback_detection_agrees_with_the_importer() {
        let mut cases: Vec<Vec<u8>> = vec![
            vec![],
            vec![0x08],
            vec![0x08, 0x01],
            vec![0x08, 0x01, 0x10, 0x01],
            vec![0x08, 0x01, 0x12, 0x00],
            vec![0x08, 0x81, 0x01, 0x12],
            vec![0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x12],
            vec![0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x12],
            vec![0x12, 0x00],
            vec![0x10, 0x12],
        ];
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tensorflow");
        for entry in std::fs::read_dir(fixtures).unwrap() {
            let version = entry.unwrap().path().join("1700000000");
            if let Ok(bytes) = std::fs::read(version.join("saved_model.pb")) {
                cases.push(bytes[..bytes.len().min(16)].to_vec());
            }
        }
        for bytes in cases {
            assert_eq!(super::looks_like_tensorflow(&bytes), tf_import::is_tensorflow(&bytes), "{bytes:02x?}");
        }
    }
}
