//! A reader for the LevelDB table format that TensorFlow's `variables.index`
//! uses: data blocks of prefix-compressed keys with restart points, an index
//! block of block handles, a 48-byte footer ending with a magic number, and
//! after each block a compression byte and a masked crc32c.
//!
//! No well-kept crate reads these tables standalone (the LevelDB ports are
//! whole databases with their own file layout and locks), and the format is
//! small, so it is read here, with every length checked against the file.

/// Key-value pairs, in key order.
type Entries = Vec<(Vec<u8>, Vec<u8>)>;

const MAGIC: u64 = 0xdb47_7524_8b80_fb57;
const FOOTER_LEN: usize = 48;
const TRAILER_LEN: usize = 5;

/// Every (key, value) pair of the table, in key order.
///
/// # Errors
/// A message naming what is inconsistent: bad magic, a block outside the
/// file, a bad checksum, a compressed block, a malformed entry.
pub(crate) fn read_table(file: &[u8]) -> Result<Entries, String> {
    if file.len() < FOOTER_LEN {
        return Err(format!("{} bytes is too short for a table footer", file.len()));
    }
    let footer = &file[file.len() - FOOTER_LEN..];
    let magic = u64::from_le_bytes(footer[40..48].try_into().map_err(|_| "footer")?);
    if magic != MAGIC {
        return Err(format!("bad table magic number {magic:#x}"));
    }
    let mut cursor = footer;
    let _metaindex = read_handle(&mut cursor)?;
    let index = read_handle(&mut cursor)?;
    let mut entries = Vec::new();
    for (_, handle) in block_entries(block(file, index)?)? {
        let mut h = handle.as_slice();
        let data = read_handle(&mut h)?;
        entries.extend(block_entries(block(file, data)?)?);
    }
    Ok(entries)
}

/// A block handle: (offset, size) as two varints.
fn read_handle(cursor: &mut &[u8]) -> Result<(u64, u64), String> {
    Ok((varint(cursor)?, varint(cursor)?))
}

/// The contents of the block at `handle`, its trailer checked.
fn block(file: &[u8], (offset, size): (u64, u64)) -> Result<&[u8], String> {
    let out_of_file = || format!("block at {offset} of {size} bytes lies outside the {}-byte file", file.len());
    let start = usize::try_from(offset).map_err(|_| out_of_file())?;
    let len = usize::try_from(size).map_err(|_| out_of_file())?;
    let end = start
        .checked_add(len)
        .and_then(|e| e.checked_add(TRAILER_LEN))
        .filter(|&e| e <= file.len())
        .ok_or_else(out_of_file)?;
    let (contents, trailer) = file[start..end].split_at(len);
    if trailer[0] != 0 {
        return Err(format!("block at {offset} is compressed (type {}), which is not supported", trailer[0]));
    }
    let expected = u32::from_le_bytes(trailer[1..5].try_into().map_err(|_| "trailer")?);
    let actual = mask(crc32c::crc32c_append(crc32c::crc32c(contents), &trailer[..1]));
    if actual != expected {
        return Err(format!("block at {offset}: checksum {actual:#010x}, trailer says {expected:#010x}"));
    }
    Ok(contents)
}

/// The (key, value) entries of a block, undoing the prefix compression.
fn block_entries(block: &[u8]) -> Result<Entries, String> {
    if block.len() < 4 {
        return Err("block too short for its restart count".into());
    }
    let restarts = u32::from_le_bytes(block[block.len() - 4..].try_into().map_err(|_| "restarts")?) as usize;
    let restart_bytes = restarts.checked_mul(4).and_then(|r| r.checked_add(4)).filter(|&r| r <= block.len());
    let data_len =
        block.len() - restart_bytes.ok_or_else(|| format!("{restarts} restart points do not fit the block"))?;
    let mut cursor = &block[..data_len];
    let mut entries = Vec::new();
    let mut key: Vec<u8> = Vec::new();
    while !cursor.is_empty() {
        let shared = usize::try_from(varint(&mut cursor)?).map_err(|_| "shared length")?;
        let unshared = usize::try_from(varint(&mut cursor)?).map_err(|_| "key length")?;
        let value_len = usize::try_from(varint(&mut cursor)?).map_err(|_| "value length")?;
        if shared > key.len() || unshared.checked_add(value_len).is_none_or(|n| n > cursor.len()) {
            return Err("an entry's lengths run past its block".into());
        }
        key.truncate(shared);
        key.extend_from_slice(&cursor[..unshared]);
        entries.push((key.clone(), cursor[unshared..unshared + value_len].to_vec()));
        cursor = &cursor[unshared + value_len..];
    }
    Ok(entries)
}

/// A little-endian base-128 varint (at most 10 bytes).
pub(crate) fn varint(cursor: &mut &[u8]) -> Result<u64, String> {
    let mut value = 0u64;
    for (i, &byte) in cursor.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            *cursor = &cursor[i + 1..];
            return Ok(value);
        }
    }
    Err("truncated or overlong varint".into())
}

/// LevelDB's and TensorFlow's masked crc32c.
pub(crate) fn mask(crc: u32) -> u32 {
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}
