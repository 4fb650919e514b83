//! Strings: formatting numbers, splitting into characters, and strings to
//! ids (vocabularies, key-value tables, hash buckets).

mod as_string;
pub use as_string::AsString;
mod vocab_lookup;
pub use vocab_lookup::VocabLookup;
mod table_lookup;
pub use table_lookup::{KeyValueMap, TableLookup};
mod hash_bucket;
pub use hash_bucket::HashBucket;
mod unicode_split;
pub use unicode_split::UnicodeSplit;
mod index_to_string;
pub use index_to_string::IndexToString;
mod string_length;
pub use string_length::StringLength;
