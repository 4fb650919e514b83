//! Which versions of a model to serve: TensorFlow Serving's
//! `ServableVersionPolicy` (tensorflow_serving/sources/storage_path/
//! file_system_storage_path_source.proto), applied to the numeric version
//! directories under a model's base path.

/// The versions to serve among those on disk. The default, as in
/// TensorFlow Serving, is the newest one (`latest { num_versions: 1 }`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionPolicy {
    /// The `n` newest versions (`latest { num_versions: n }`); TensorFlow
    /// Serving reads 0, the proto's default, as 1.
    Latest(u32),
    /// Every version on disk (`all {}`).
    All,
    /// Exactly these versions, those on disk (`specific { versions: ... }`).
    Specific(Vec<u64>),
}

impl Default for VersionPolicy {
    fn default() -> VersionPolicy {
        VersionPolicy::Latest(1)
    }
}

impl VersionPolicy {
    /// The versions of `on_disk` (ascending) this policy serves, ascending.
    pub fn select(&self, on_disk: &[u64]) -> Vec<u64> {
        match self {
            VersionPolicy::Latest(n) => {
                // As FileSystemStoragePathSource: max(num_versions, 1).
                let n = usize::try_from((*n).max(1)).unwrap_or(usize::MAX);
                on_disk[on_disk.len().saturating_sub(n)..].to_vec()
            }
            VersionPolicy::All => on_disk.to_vec(),
            VersionPolicy::Specific(wanted) => on_disk.iter().copied().filter(|v| wanted.contains(v)).collect(),
        }
    }

    /// The versions a `specific` policy names that are not in `on_disk`,
    /// ascending (none for the other policies).
    pub fn missing(&self, on_disk: &[u64]) -> Vec<u64> {
        let VersionPolicy::Specific(wanted) = self else { return Vec::new() };
        let mut missing: Vec<u64> = wanted.iter().copied().filter(|v| !on_disk.contains(v)).collect();
        missing.sort_unstable();
        missing.dedup();
        missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_as_tensorflow_serving() {
        let disk = [1, 2, 5, 7];
        assert_eq!(VersionPolicy::default().select(&disk), [7]);
        assert_eq!(VersionPolicy::Latest(0).select(&disk), [7]);
        assert_eq!(VersionPolicy::Latest(2).select(&disk), [5, 7]);
        assert_eq!(VersionPolicy::Latest(9).select(&disk), disk);
        assert_eq!(VersionPolicy::All.select(&disk), disk);
        assert_eq!(VersionPolicy::Specific(vec![5, 1, 3]).select(&disk), [1, 5]);
        assert!(VersionPolicy::Latest(1).select(&[]).is_empty());
        assert_eq!(VersionPolicy::Specific(vec![5, 9, 3, 9]).missing(&disk), [3, 9]);
        assert!(VersionPolicy::All.missing(&[]).is_empty());
    }
}
