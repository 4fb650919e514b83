//! Version directories under an export base: `<base>/<unix seconds>/`.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::fsio::{TEMP_PREFIX, publish_dir};
use crate::{Error, Result};

/// The versions under `base`, oldest first: the directories whose name is
/// all digits. `temp-*` directories (exports in progress) and anything else
/// are ignored.
///
/// # Errors
/// [`Error::Io`] if `base` cannot be listed.
pub fn list_versions(base: impl AsRef<Path>) -> Result<Vec<(u64, PathBuf)>> {
    let base = base.as_ref();
    let mut versions = Vec::new();
    for entry in fs::read_dir(base).map_err(Error::io("listing export base", base))? {
        let entry = entry.map_err(Error::io("listing export base", base))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let (Ok(version), true) = (name.parse::<u64>(), entry.path().is_dir()) else { continue };
        versions.push((version, entry.path()));
    }
    versions.sort();
    Ok(versions)
}

/// The newest version directory under `base`.
///
/// ```no_run
/// let dir = export::latest_version("saved_model")?;
/// # Ok::<(), export::Error>(())
/// ```
///
/// # Errors
/// [`Error::NoVersion`] if there is none, [`Error::Io`] if `base` cannot be listed.
pub fn latest_version(base: impl AsRef<Path>) -> Result<PathBuf> {
    let base = base.as_ref();
    list_versions(base)?
        .pop()
        .map(|(_, p)| p)
        .ok_or_else(|| Error::NoVersion { base: base.to_owned(), hint: hint(base) })
}

/// Why a directory without versions may have been given as an export base.
fn hint(base: &Path) -> String {
    if base.join(crate::SAVED_MODEL_FILE).exists() {
        return format!(
            "; it holds {} itself: it is a version directory, load it directly (Predictor::from_saved_model)",
            crate::SAVED_MODEL_FILE
        );
    }
    let mut writing: Vec<String> = fs::read_dir(base)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str().filter(|n| n.starts_with(TEMP_PREFIX)).map(str::to_owned))
        .collect();
    writing.sort();
    match writing.as_slice() {
        [] => String::new(),
        names => format!("; an export is still being written there ({}): retry once it is published", names.join(", ")),
    }
}

/// Writes a new version under `base`: `fill` writes the files into a
/// `temp-<ts>` directory, which is then fsynced and renamed to `<ts>`, the
/// current unix time in seconds, bumped by one while taken.
///
/// # Errors
/// `fill`'s error or [`Error::Io`]; on error no version appears.
pub fn write_version(base: impl AsRef<Path>, fill: impl FnOnce(&Path) -> Result<()>) -> Result<PathBuf> {
    let base = base.as_ref();
    fs::create_dir_all(base).map_err(Error::io("creating export base", base))?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let newest = list_versions(base)?.last().map_or(0, |(v, _)| *v);
    let mut version = now.max(newest.saturating_add(1));
    while base.join(version.to_string()).exists() || base.join(format!("{TEMP_PREFIX}{version}")).exists() {
        version += 1;
    }
    publish_dir(base, &version.to_string(), fill)
}

/// Publishes `fill`'s directory as version `version` of `base` (created if
/// missing), written under a `temp-` name and renamed into place as
/// [`write_version`] does, for a version numbered elsewhere (an imported
/// export keeping its number).
///
/// # Errors
/// [`Error::Io`] (`AlreadyExists`) if the version is there already: a
/// version is never replaced; else what creating or filling it meets.
pub fn write_version_as(
    base: impl AsRef<Path>,
    version: u64,
    fill: impl FnOnce(&Path) -> Result<()>,
) -> Result<PathBuf> {
    let base = base.as_ref();
    fs::create_dir_all(base).map_err(Error::io("creating export base", base))?;
    publish_dir(base, &version.to_string(), fill)
}
