//! The artifact directory as a whole (`Artifact`): reading and writing a
//! version; and `SavedModel`, the contents of its `saved_model.pb`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use prost::Message;

use opset::{Assets, Graph, OP_SET_VERSION, Tensor, TypedGraph};

use crate::bundle::{VariablesBundle, write_bundle};
use crate::fsio::write_file_synced;
use crate::proto::{saved_model_from_pb, saved_model_to_pb};
use crate::signature::Signature;
use crate::{Error, FORMAT_VERSION, Result, pb};

/// The file holding the [`SavedModel`] proto in a version directory.
pub const SAVED_MODEL_FILE: &str = "saved_model.pb";
/// The directory holding the variables bundle in a version directory.
pub const VARIABLES_DIR: &str = "variables";
/// The directory holding the assets in a version directory.
pub const ASSETS_DIR: &str = "assets";

/// The model description: one or more meta graphs, each selected by tags.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SavedModel {
    /// The meta graphs.
    pub meta_graphs: Vec<MetaGraph>,
}

/// A servable graph with its signatures and the assets it reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetaGraph {
    /// The tags that select it (e.g. `["serve"]`).
    pub tags: Vec<String>,
    /// The graph.
    pub graph: Graph,
    /// Named signatures (e.g. `serving_default`).
    pub signatures: BTreeMap<String, Signature>,
    /// File names under `assets/` the graph reads.
    pub assets: Vec<String>,
}

impl SavedModel {
    /// The meta graph whose tag set is exactly `tags` (in any order).
    ///
    /// # Errors
    /// [`Error::NoMetaGraph`] listing the tag sets present.
    pub fn meta_graph(&self, tags: &[&str]) -> Result<&MetaGraph> {
        let mut wanted: Vec<&str> = tags.to_vec();
        wanted.sort_unstable();
        self.meta_graphs
            .iter()
            .find(|mg| {
                let mut have: Vec<&str> = mg.tags.iter().map(String::as_str).collect();
                have.sort_unstable();
                have == wanted
            })
            .ok_or_else(|| Error::NoMetaGraph {
                wanted: tags.iter().map(|t| (*t).to_owned()).collect(),
                available: self.meta_graphs.iter().map(|mg| mg.tags.clone()).collect(),
            })
    }

    /// Encodes as `saved_model.pb` bytes, stamped with this build's format
    /// and op-set versions. Deterministic: the same model gives the same bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        saved_model_to_pb(self).encode_to_vec()
    }

    /// Decodes `saved_model.pb` bytes; `path` names the file in errors.
    ///
    /// # Errors
    /// [`Error::Decode`] for bytes that are not the proto,
    /// [`Error::UnsupportedVersion`] for a newer format or op set,
    /// [`Error::Malformed`] for impossible contents.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<SavedModel> {
        let proto = pb::SavedModel::decode(bytes).map_err(|source| Error::Decode {
            path: path.to_owned(),
            message: "SavedModel",
            source,
        })?;
        for (what, found, supported) in
            [("format", proto.format_version, FORMAT_VERSION), ("op set", proto.op_set_version, OP_SET_VERSION)]
        {
            if found > supported {
                return Err(Error::UnsupportedVersion { path: path.to_owned(), what, found, supported });
            }
        }
        if proto.format_version == 0 {
            return Err(Error::malformed(path, "format version 0: this is not an artifact of this format"));
        }
        saved_model_from_pb(&proto).map_err(|reason| Error::malformed(path, reason))
    }
}

/// How to open an artifact.
#[derive(Debug, Clone, Copy)]
pub struct OpenOptions {
    /// Check every variable's crc32c at open (default: yes). Costs one pass
    /// over the variables' bytes (crc32c runs at several GB/s).
    pub verify_checksums: bool,
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions { verify_checksums: true }
    }
}

/// Which format a version directory holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// This project's artifact.
    Native,
    /// A SavedModel written by TensorFlow, imported into our graph IR.
    TensorFlow,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::Native => "native artifact",
            Format::TensorFlow => "TensorFlow SavedModel",
        })
    }
}

/// A version directory opened for reading: the model decoded, the variables
/// mapped, the assets located. [`Artifact::open`] reads our format; an
/// importer (such as `tf-import` for TensorFlow SavedModels) builds the same
/// type with [`Artifact::from_parts`].
#[derive(Debug, Clone)]
pub struct Artifact {
    dir: PathBuf,
    version: Option<u64>,
    format: Format,
    model: SavedModel,
    variables: VariablesBundle,
    /// Where the assets are when they are not in `dir/assets` (an artifact
    /// built in memory).
    assets: Option<Assets>,
}

impl Artifact {
    /// Opens the version directory `dir`, verifying checksums.
    ///
    /// ```no_run
    /// let artifact = export::Artifact::open(export::latest_version("saved_model")?)?;
    /// let graph = artifact.typed_graph(&["serve"])?;
    /// # Ok::<(), export::Error>(())
    /// ```
    ///
    /// # Errors
    /// See [`Artifact::open_with`].
    pub fn open(dir: impl AsRef<Path>) -> Result<Artifact> {
        Artifact::open_with(dir.as_ref(), OpenOptions::default())
    }

    /// Opens the version directory `dir`, which must hold our format (a
    /// TensorFlow SavedModel is read by the `tf-import` crate).
    ///
    /// # Errors
    /// [`Error::Io`] for a missing directory or file; a `temp-*` directory is
    /// refused as [`Error::Malformed`] (an export still in progress); the
    /// errors of [`SavedModel::from_bytes`] and [`VariablesBundle::open`].
    pub fn open_with(dir: &Path, options: OpenOptions) -> Result<Artifact> {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.starts_with(crate::fsio::TEMP_PREFIX) {
            return Err(Error::malformed(dir, "this is an export still being written (temp-*), not a version"));
        }
        let path = dir.join(SAVED_MODEL_FILE);
        let bytes = fs::read(&path).map_err(Error::io("reading", &path))?;
        let model = SavedModel::from_bytes(&bytes, &path)?;
        let variables = VariablesBundle::open(dir.join(VARIABLES_DIR), options.verify_checksums)?;
        Ok(Artifact::from_parts(dir.to_owned(), Format::Native, model, variables))
    }

    /// An artifact of parts read by an importer (or by [`Artifact::open`]):
    /// the version directory `dir` (its version number parsed from its
    /// name, if it is one), the `format` it was read from, the model and
    /// its variables.
    pub fn from_parts(dir: PathBuf, format: Format, model: SavedModel, variables: VariablesBundle) -> Artifact {
        let version = dir.file_name().and_then(|n| n.to_str()).and_then(|n| n.parse().ok());
        Artifact { dir, version, format, model, variables, assets: None }
    }

    /// An artifact held in memory, as an export would write it (how
    /// `predictor.from_estimator` gets one without a disk): the model, its
    /// variables, and where its assets are. No directory, no version.
    pub fn in_memory(model: SavedModel, variables: BTreeMap<String, Tensor>, assets: Assets) -> Artifact {
        let variables = VariablesBundle::from_tensors(PathBuf::new(), variables);
        Artifact { dir: PathBuf::new(), version: None, format: Format::Native, model, variables, assets: Some(assets) }
    }

    /// Which format the directory holds.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Writes this artifact, whatever format it was read from, as a new
    /// version of ours under `export_dir_base`, numbered by the time (as
    /// [`crate::write_version`] does).
    ///
    /// # Errors
    /// As [`write_artifact`].
    pub fn write_version(&self, export_dir_base: impl AsRef<Path>) -> Result<PathBuf> {
        self.write(export_dir_base, None)
    }

    /// Writes this artifact as version `version` of ours under
    /// `export_dir_base`: how a TensorFlow export is imported keeping its
    /// version number.
    ///
    /// # Errors
    /// As [`write_artifact`]; [`Error::Io`] (`AlreadyExists`) if that
    /// version is there already (it is never replaced).
    pub fn write_version_as(&self, export_dir_base: impl AsRef<Path>, version: u64) -> Result<PathBuf> {
        self.write(export_dir_base, Some(version))
    }

    fn write(&self, export_dir_base: impl AsRef<Path>, version: Option<u64>) -> Result<PathBuf> {
        let tensors =
            self.variables.names().map(|n| Ok((n.to_owned(), self.variables.get(n)?))).collect::<Result<Vec<_>>>()?;
        let refs: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
        let mut assets = Assets::new();
        for meta in &self.model.meta_graphs {
            for (name, path) in self.assets(meta)?.iter() {
                assets.insert(name, path)?;
            }
        }
        let fill = |dir: &Path| write_contents(dir, &self.model, &refs, &assets);
        match version {
            Some(version) => crate::version::write_version_as(export_dir_base, version, fill),
            None => crate::write_version(export_dir_base, fill),
        }
    }

    /// The version directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The version number, if the directory is named by one.
    pub fn version(&self) -> Option<u64> {
        self.version
    }

    /// The decoded `saved_model.pb`.
    pub fn model(&self) -> &SavedModel {
        &self.model
    }

    /// The variables bundle.
    pub fn variables(&self) -> &VariablesBundle {
        &self.variables
    }

    /// Where the assets of `meta_graph` are on disk.
    ///
    /// # Errors
    /// [`Error::Opset`] ([`opset::Error::Malformed`]) for an asset name that
    /// is not a plain file name.
    pub fn assets(&self, meta_graph: &MetaGraph) -> Result<Assets> {
        if let Some(assets) = &self.assets {
            return Ok(assets.clone());
        }
        let dir = self.dir.join(ASSETS_DIR);
        Ok(Assets::in_dir(&dir, meta_graph.assets.iter().map(String::as_str))?)
    }

    /// The meta graph tagged `tags`, validated, with every signature checked
    /// against it.
    ///
    /// # Errors
    /// [`Error::NoMetaGraph`], [`Error::Signature`], or [`Error::Opset`]
    /// for a graph error naming the node.
    pub fn typed_graph(&self, tags: &[&str]) -> Result<TypedGraph> {
        let meta_graph = self.model.meta_graph(tags)?;
        let graph = TypedGraph::new(&meta_graph.graph, &self.assets(meta_graph)?)?;
        for (key, signature) in &meta_graph.signatures {
            signature.check(key, &graph)?;
        }
        Ok(graph)
    }
}

/// Writes a new version of `model` under `export_dir_base` (see
/// [`crate::write_version`]): `saved_model.pb`, the `variables`, and each
/// asset copied from where `assets` says it is into `assets/`.
///
/// # Errors
/// [`Error::Io`] naming the file that could not be written or copied; on
/// error no version appears.
pub fn write_artifact(
    export_dir_base: impl AsRef<Path>,
    model: &SavedModel,
    variables: &[(&str, &Tensor)],
    assets: &Assets,
) -> Result<PathBuf> {
    crate::write_version(export_dir_base, |dir| write_contents(dir, model, variables, assets))
}

/// The files of a version, into the (temporary) directory `dir`.
fn write_contents(dir: &Path, model: &SavedModel, variables: &[(&str, &Tensor)], assets: &Assets) -> Result<()> {
    write_file_synced(&dir.join(SAVED_MODEL_FILE), &model.to_bytes())?;
    let vars = dir.join(VARIABLES_DIR);
    fs::create_dir(&vars).map_err(Error::io("creating", &vars))?;
    write_bundle(&vars, variables)?;
    let mut assets = assets.iter().peekable();
    if assets.peek().is_some() {
        let asset_dir = dir.join(ASSETS_DIR);
        fs::create_dir(&asset_dir).map_err(Error::io("creating", &asset_dir))?;
        for (name, source) in assets {
            let bytes = fs::read(source).map_err(Error::io("reading asset", source))?;
            write_file_synced(&asset_dir.join(name), &bytes)?;
        }
    }
    Ok(())
}
