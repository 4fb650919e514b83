//! Versions as requests name them ([`Wanted`]: the newest, a number, a
//! label) and as the status endpoints report them ([`VersionStatus`], with
//! TensorFlow Serving's `ModelVersionStatus.State` names).

/// Which version of a model a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted<'a> {
    /// The newest served (no version given).
    Newest,
    /// A version by number.
    Number(i64),
    /// A version as written in a URL that is not a number (never served).
    Text(&'a str),
    /// A version by label (`version_label` of gRPC's `ModelSpec`).
    Label(&'a str),
}

/// `latest`, the number, or `label <name>`: the version in log lines.
impl std::fmt::Display for Wanted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Wanted::Newest => f.write_str("latest"),
            Wanted::Number(v) => write!(f, "{v}"),
            Wanted::Text(v) => f.write_str(v),
            Wanted::Label(label) => write!(f, "label {label}"),
        }
    }
}

impl Wanted<'_> {
    /// The version as the error messages write it, `None` for the newest.
    pub(crate) fn describe(&self) -> Option<String> {
        match self {
            Wanted::Newest => None,
            Wanted::Number(v) => Some(v.to_string()),
            Wanted::Text(v) | Wanted::Label(v) => Some((*v).to_owned()),
        }
    }
}

/// Where a version is in its life, as TensorFlow Serving's
/// `ModelVersionStatus.State` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionState {
    /// Being read and compiled.
    Loading,
    /// Answering requests.
    Available,
    /// Done: it failed to load (see the status's error).
    End,
}

impl VersionState {
    /// TensorFlow Serving's name: `LOADING`, `AVAILABLE`, `END`.
    pub fn tf_name(self) -> &'static str {
        match self {
            VersionState::Loading => "LOADING",
            VersionState::Available => "AVAILABLE",
            VersionState::End => "END",
        }
    }
}

/// The state of one version of a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionStatus {
    /// The version number.
    pub version: u64,
    /// Its state.
    pub state: VersionState,
    /// Why it failed to load, for [`VersionState::End`].
    pub error: Option<String>,
}
