//! Durable file-system steps: files and directories fsynced, directories
//! published by an atomic rename, so a crash never leaves a half-written
//! version or checkpoint visible under its final name.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The prefix of directories still being written; every reader skips them.
pub const TEMP_PREFIX: &str = "temp-";

/// Writes `bytes` to a new file at `path` and fsyncs it.
///
/// # Errors
/// [`Error::Io`] naming `path`.
pub fn write_file_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = File::create(path).map_err(Error::io("creating", path))?;
    file.write_all(bytes).map_err(Error::io("writing", path))?;
    file.sync_all().map_err(Error::io("syncing", path))
}

/// Replaces the file at `path` with `bytes` atomically: written to a
/// sibling temporary file, fsynced, renamed over `path`, parent fsynced.
///
/// # Errors
/// [`Error::Io`] naming the file.
pub fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    write_file_synced(&tmp, bytes)?;
    fs::rename(&tmp, path).map_err(Error::io("renaming into place", path))?;
    sync_parent(path)
}

/// Fsyncs a directory, so that the entries created or renamed in it persist.
///
/// # Errors
/// [`Error::Io`] naming the directory.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(Error::io("syncing directory", dir))
}

fn sync_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => sync_dir(p),
        _ => sync_dir(Path::new(".")),
    }
}

/// Builds a directory atomically: `fill` writes into `parent/temp-<name>`,
/// then every directory inside is fsynced and it is renamed to
/// `parent/<name>`. If `fill` fails, the temporary directory is removed and
/// nothing appears under `name`.
///
/// # Errors
/// `fill`'s error, or [`Error::Io`] naming the directory concerned; an
/// existing `parent/<name>` is an error, never overwritten.
pub fn publish_dir(parent: &Path, name: &str, fill: impl FnOnce(&Path) -> Result<()>) -> Result<PathBuf> {
    let tmp = parent.join(format!("{TEMP_PREFIX}{name}"));
    let dest = parent.join(name);
    if dest.exists() {
        return Err(Error::Io { action: "publishing", path: dest, source: std::io::ErrorKind::AlreadyExists.into() });
    }
    if tmp.exists() {
        // A leftover of a crashed writer: it was never published, so it is garbage.
        fs::remove_dir_all(&tmp).map_err(Error::io("removing stale", &tmp))?;
    }
    fs::create_dir_all(&tmp).map_err(Error::io("creating", &tmp))?;
    let written = fill(&tmp).and_then(|()| sync_tree(&tmp));
    if let Err(e) = written {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    fs::rename(&tmp, &dest).map_err(Error::io("renaming into place", &dest))?;
    sync_dir(parent)?;
    Ok(dest)
}

/// Fsyncs `dir` and every directory below it (files are synced when written).
fn sync_tree(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir).map_err(Error::io("listing", dir))? {
        let entry = entry.map_err(Error::io("listing", dir))?;
        if entry.file_type().map_err(Error::io("inspecting", entry.path()))?.is_dir() {
            sync_tree(&entry.path())?;
        }
    }
    sync_dir(dir)
}
