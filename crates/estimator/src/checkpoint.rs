//! Checkpoints in a `model_dir`: each a variables bundle (the `export`
//! format: one reader, one writer) in `ckpt-<step>/`, written atomically,
//! and a state file `checkpoint` naming the latest, as TensorFlow keeps them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use export::VariablesBundle;
use opset::Tensor;

use crate::{Error, Result};

/// The state file naming the checkpoints, newest last.
pub const STATE_FILE: &str = "checkpoint";
/// The name under which the global step is saved.
pub const GLOBAL_STEP: &str = "global_step";

/// The checkpoint directories listed in `model_dir`'s state file, oldest
/// first; empty if there is no state file yet.
///
/// # Errors
/// [`Error::Checkpoint`] if the state file cannot be read or parsed.
pub fn list(model_dir: &Path) -> Result<Vec<PathBuf>> {
    let path = model_dir.join(STATE_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::Checkpoint { path, reason: e.to_string() }),
    };
    let mut latest = None;
    let mut all = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (key, value) = line
            .split_once(':')
            .map(|(k, v)| (k.trim(), v.trim().trim_matches('"')))
            .filter(|(_, v)| is_checkpoint_name(v))
            .ok_or_else(|| Error::Checkpoint { path: path.clone(), reason: format!("unreadable line {line:?}") })?;
        match key {
            "model_checkpoint_path" => latest = Some(value.to_owned()),
            "all_model_checkpoint_paths" => all.push(value.to_owned()),
            other => return Err(Error::Checkpoint { path: path.clone(), reason: format!("unknown key {other:?}") }),
        }
    }
    let latest =
        latest.ok_or_else(|| Error::Checkpoint { path: path.clone(), reason: "no model_checkpoint_path".into() })?;
    all.retain(|c| *c != latest);
    all.push(latest);
    Ok(all.into_iter().map(|c| model_dir.join(c)).collect())
}

/// A checkpoint name is `ckpt-<step>`: never a path that leaves `model_dir`.
fn is_checkpoint_name(name: &str) -> bool {
    name.strip_prefix("ckpt-").is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
}

/// The newest checkpoint directory, if any.
///
/// # Errors
/// As [`list`].
pub fn latest(model_dir: &Path) -> Result<Option<PathBuf>> {
    Ok(list(model_dir)?.pop())
}

/// Reads a checkpoint: every tensor by name, checksums verified.
///
/// # Errors
/// [`Error::Export`] naming the file or tensor that is missing or corrupt.
pub fn restore(dir: &Path) -> Result<BTreeMap<String, Tensor>> {
    let bundle = VariablesBundle::open(dir, true)?;
    bundle.names().map(|name| Ok((name.to_owned(), bundle.get(name)?))).collect()
}

/// Writes `tensors` as checkpoint `ckpt-<step>` (atomically: under a
/// temporary name, fsynced, renamed), then points the state file at it
/// (atomically too) and deletes all but the newest `keep`.
///
/// # Errors
/// [`Error::Export`] naming the file that could not be written; the
/// previous checkpoint stays the latest and intact.
pub fn save(model_dir: &Path, step: i64, tensors: &BTreeMap<String, Tensor>, keep: usize) -> Result<PathBuf> {
    let name = format!("ckpt-{step}");
    std::fs::create_dir_all(model_dir).map_err(|source| export::Error::Io {
        action: "creating model directory",
        path: model_dir.to_owned(),
        source,
    })?;
    let dir = model_dir.join(&name);
    if !dir.exists() {
        let refs: Vec<(&str, &Tensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
        export::publish_dir(model_dir, &name, |tmp| export::write_bundle(tmp, &refs))?;
    }
    let mut all: Vec<String> = list(model_dir)?
        .iter()
        .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_owned))
        .filter(|n| *n != name)
        .collect();
    all.push(name.clone());
    let dropped = all.len().saturating_sub(keep.max(1));
    let kept = all.split_off(dropped);
    let mut state = format!("model_checkpoint_path: \"{name}\"\n");
    for c in &kept {
        state.push_str(&format!("all_model_checkpoint_paths: \"{c}\"\n"));
    }
    export::write_file_atomically(&model_dir.join(STATE_FILE), state.as_bytes())?;
    for old in all {
        // Best effort: a leftover old checkpoint is harmless.
        let _ = std::fs::remove_dir_all(model_dir.join(old));
    }
    Ok(dir)
}
