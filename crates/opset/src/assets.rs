//! Asset files: what the graph reads at load, by file name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Where each asset named by the graph lives on disk right now: under the
/// artifact's `assets/` once exported, or wherever the user keeps it while
/// training. The graph only ever refers to the file name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Assets {
    files: BTreeMap<String, PathBuf>,
}

impl Assets {
    /// No asset.
    pub fn new() -> Assets {
        Assets::default()
    }

    /// Registers the file `name` (a plain file name) as found at `path`.
    ///
    /// # Errors
    /// [`Error::Malformed`] if `name` is not a plain file name (a separator,
    /// `..` or an absolute path would let an artifact reach outside itself).
    pub fn insert(&mut self, name: &str, path: impl Into<PathBuf>) -> Result<()> {
        let path = path.into();
        check_name(name, &path)?;
        self.files.insert(name.to_owned(), path);
        Ok(())
    }

    /// The assets `names` under `dir` (an artifact's `assets/`).
    ///
    /// # Errors
    /// As [`Assets::insert`].
    pub fn in_dir<'a>(dir: &Path, names: impl IntoIterator<Item = &'a str>) -> Result<Assets> {
        let mut assets = Assets::new();
        for name in names {
            assets.insert(name, dir.join(name))?;
        }
        Ok(assets)
    }

    /// Where asset `name` is.
    ///
    /// # Errors
    /// [`Error::Malformed`] naming the asset if it was never registered.
    pub fn path(&self, name: &str) -> Result<&Path> {
        self.files
            .get(name)
            .map(PathBuf::as_path)
            .ok_or_else(|| Error::malformed(name, "the graph uses this asset but the artifact does not list it"))
    }

    /// Every asset, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Path)> {
        self.files.iter().map(|(k, v)| (k.as_str(), v.as_path()))
    }
}

fn check_name(name: &str, path: &Path) -> Result<()> {
    let plain = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && Path::new(name).file_name().is_some_and(|f| f == name);
    if plain { Ok(()) } else { Err(Error::malformed(path, format!("asset name {name:?} must be a plain file name"))) }
}
