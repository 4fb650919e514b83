//! TFRecord, TensorFlow's file of records: each record its length (8 bytes,
//! little-endian), the length's masked crc32c (4 bytes), the data, and the
//! data's masked crc32c (4 bytes). The format of TensorBoard's event files,
//! of `tf.data.TFRecordDataset`, and of a SavedModel's
//! `assets.extra/tf_serving_warmup_requests`.
//!
//! ```
//! let mut file = Vec::new();
//! file.extend(export::tfrecord::frame(b"first"));
//! file.extend(export::tfrecord::frame(b""));
//! let records = export::tfrecord::split(&file, "in.tfrecord".as_ref())?;
//! assert_eq!(records, [b"first".as_slice(), b""]);
//! # Ok::<(), export::Error>(())
//! ```

use std::path::Path;

use crate::{Error, Result};

/// TFRecord's masked crc32c: rotated right by 15 and offset, so that a
/// checksum of data holding checksums stays well distributed.
pub fn masked_crc(bytes: &[u8]) -> u32 {
    crc32c::crc32c(bytes).rotate_right(15).wrapping_add(0xa282_ead8)
}

/// `data` framed as one record.
pub fn frame(data: &[u8]) -> Vec<u8> {
    let len = (data.len() as u64).to_le_bytes();
    let mut record = Vec::with_capacity(data.len() + 16);
    record.extend_from_slice(&len);
    record.extend_from_slice(&masked_crc(&len).to_le_bytes());
    record.extend_from_slice(data);
    record.extend_from_slice(&masked_crc(data).to_le_bytes());
    record
}

/// The records of a file's `bytes`, each checked against its checksums.
///
/// # Errors
/// [`Error::Malformed`] naming `path` and the record's offset for a
/// truncated record, a length past the file, or a checksum that does not
/// match.
pub fn split<'a>(bytes: &'a [u8], path: &Path) -> Result<Vec<&'a [u8]>> {
    let malformed = |at: usize, what: &str| Error::malformed(path, format!("record at byte {at}: {what}"));
    let mut records = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let header = bytes.get(at..at + 12).ok_or_else(|| malformed(at, "truncated length"))?;
        let (len, len_crc) = header.split_at(8);
        if masked_crc(len).to_le_bytes() != len_crc {
            return Err(malformed(at, "the length's checksum does not match"));
        }
        let len = <[u8; 8]>::try_from(len).map_or(u64::MAX, u64::from_le_bytes);
        let end = usize::try_from(len)
            .ok()
            .and_then(|len| (at + 12).checked_add(len))
            .filter(|&end| end.checked_add(4).is_some_and(|e| e <= bytes.len()))
            .ok_or_else(|| malformed(at, &format!("truncated data (a length of {len} bytes)")))?;
        let data = &bytes[at + 12..end];
        if masked_crc(data).to_le_bytes() != bytes[end..end + 4] {
            return Err(malformed(at, "the data's checksum does not match"));
        }
        records.push(data);
        at = end + 4;
    }
    Ok(records)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn records_are_tensorflows_and_corruption_is_caught_naming_the_offset() {
        // TFRecord's masked crc of an empty string, as TensorFlow computes it.
        assert_eq!(masked_crc(b""), 0xa282_ead8);
        let mut file = frame(b"abc");
        file.extend(frame(b"defg"));
        let path = Path::new("x.tfrecord");
        assert_eq!(split(&file, path).unwrap(), [b"abc".as_slice(), b"defg"]);
        let mut flipped = file.clone();
        let last = flipped.len() - 6;
        flipped[last] ^= 1;
        let err = split(&flipped, path).unwrap_err().to_string();
        assert!(err.contains("x.tfrecord") && err.contains("byte 19") && err.contains("data's checksum"), "{err}");
        assert!(split(&file[..file.len() - 3], path).unwrap_err().to_string().contains("truncated data"));
        assert!(split(&file[..5], path).unwrap_err().to_string().contains("truncated length"));
        // A forged length past the file is refused, not allocated.
        let mut huge = u64::MAX.to_le_bytes().to_vec();
        huge.extend(masked_crc(&huge.clone()).to_le_bytes());
        assert!(split(&huge, path).unwrap_err().to_string().contains("truncated data"));
    }
}
