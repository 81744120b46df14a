//! Looking at text eight or sixteen bytes at a time: whether any byte of it is one of a
//! few, without a branch per byte (records and ids are written for every grant, and every
//! string of the hot pages is scanned).

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const TOPS: u64 = u64::from_ne_bytes([0x80; 8]);

/// Whether `marks` (a function of eight bytes of `text` as a word, nonzero when one of them
/// is a byte looked for: see `equal` and `below`) marks any word of `text`. The bytes after
/// the last whole word are looked at within the word that ends the text, which overlaps the
/// one before it, or, in a text shorter than a word, padded with `filler`, a byte that is
/// not looked for.
pub fn any(text: &[u8], filler: u8, marks: impl Fn(u64) -> u64) -> bool {
    let word = |bytes: &[u8]| u64::from_ne_bytes(bytes.try_into().expect("eight bytes"));
    let mut words = text.chunks_exact(8);
    let mut found = 0;
    for bytes in &mut words {
        found |= marks(word(bytes));
    }
    let last = match text.len().checked_sub(8) {
        Some(start) => word(&text[start..]),
        None => text
            .iter()
            .rev()
            .fold(u64::from_ne_bytes([filler; 8]), |word, &byte| word << 8 | u64::from(byte)),
    };
    found |= marks(last);
    found != 0
}

/// The top bit of each byte of `word` that equals `byte`, and perhaps of bytes after one
/// that does: nonzero exactly when one does (the classic zero-byte test).
pub fn equal(word: u64, byte: u8) -> u64 {
    let zero_where_equal = word ^ (ONES * u64::from(byte));
    zero_where_equal.wrapping_sub(ONES) & !zero_where_equal & TOPS
}

/// Nonzero exactly when a byte of `word` is below `bound` (at most 0x80).
pub fn below(word: u64, bound: u8) -> u64 {
    word.wrapping_sub(ONES * u64::from(bound)) & !word & TOPS
}

/// Nonzero exactly when a byte of `word` is one JSON escapes in a string: a quote, a
/// backslash or a control character below 0x20 (the lowest byte marked is the first such
/// byte of a word read little endian).
pub fn json_escaped(word: u64) -> u64 {
    below(word, 0x20) | equal(word, b'"') | equal(word, b'\\')
}

/// Where the first byte at or after `at` is one JSON escapes in a string (see
/// `json_escaped`): `text.len()` when there is none. Sixteen bytes at a time where the
/// processor has SSE2 (every x86_64 one), then eight, then one.
#[inline(always)]
pub fn find_json_escaped(text: &[u8], mut at: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    while let Some(block) = text.get(at..at + 16) {
        let marks = sse2::json_escaped(block.try_into().expect("sixteen bytes"));
        if marks != 0 {
            return at + marks.trailing_zeros() as usize;
        }
        at += 16;
    }
    while let Some(bytes) = text.get(at..at + 8) {
        // Read little endian, the lowest byte marked is the first one looked for: the
        // tests above can mark a byte only after one that is.
        let marks = json_escaped(u64::from_le_bytes(bytes.try_into().expect("eight bytes")));
        if marks != 0 {
            return at + marks.trailing_zeros() as usize / 8;
        }
        at += 8;
    }
    while let Some(&byte) = text.get(at) {
        if byte == b'"' || byte == b'\\' || byte < 0x20 {
            break;
        }
        at += 1;
    }
    at
}

/// Whether any byte of `text` is one JSON escapes in a string (see `json_escaped`).
#[inline(always)]
pub fn holds_json_escaped(text: &[u8]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if let Some(found) = any_block(text, sse2::json_escaped) {
        return found;
    }
    any(text, b'a', json_escaped)
}

/// Whether any byte of `text` is `%` or `:`, what an id's component escapes (`id.rs`).
#[inline(always)]
pub fn holds_id_separator(text: &[u8]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if let Some(found) = any_block(text, sse2::id_separator) {
        return found;
    }
    any(text, b'a', |word| equal(word, b'%') | equal(word, b':'))
}

/// Whether `marks` (nonzero for a block of sixteen bytes that holds a byte looked for)
/// marks any block of `text`, the bytes after the last whole block looked at within the
/// block that ends the text; `None` for a text shorter than a block.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn any_block(text: &[u8], marks: impl Fn(&[u8; 16]) -> u32) -> Option<bool> {
    let start = text.len().checked_sub(16)?;
    let block = |bytes: &[u8]| marks(bytes.try_into().expect("sixteen bytes"));
    let mut blocks = text.chunks_exact(16);
    let found = blocks.by_ref().fold(0, |found, bytes| found | block(bytes));
    Some(found | block(&text[start..]) != 0)
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };

    /// A bit for each byte of `block` that JSON escapes in a string, the first byte's the
    /// lowest: a quote, a backslash, or a byte whose minimum with 0x1f is itself.
    #[inline(always)]
    pub fn json_escaped(block: &[u8; 16]) -> u32 {
        // SAFETY: SSE2 is part of every x86_64 processor (the target enables it), `block`
        // is sixteen bytes to read, and the load needs no alignment.
        unsafe {
            let bytes = _mm_loadu_si128(block.as_ptr().cast());
            let quote = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'"' as i8));
            let backslash = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'\\' as i8));
            let control = _mm_cmpeq_epi8(_mm_min_epu8(bytes, _mm_set1_epi8(0x1f)), bytes);
            _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32
        }
    }

    /// A bit for each byte of `block` that is `%` or `:`.
    #[inline(always)]
    pub fn id_separator(block: &[u8; 16]) -> u32 {
        // SAFETY: as in `json_escaped`.
        unsafe {
            let bytes = _mm_loadu_si128(block.as_ptr().cast());
            let percent = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'%' as i8));
            let colon = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b':' as i8));
            _mm_movemask_epi8(_mm_or_si128(percent, colon)) as u32
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte value, at every place in a word and after the last whole one.
    #[test]
    fn any_byte_is_found_wherever_it_falls() {
        for byte in 0..=255u8 {
            for at in 0..19 {
                let mut text = [b'x'; 19];
                text[at] = byte;
                for len in at + 1..=19 {
                    let text = &text[..len];
                    assert_eq!(any(text, b'x', |w| equal(w, b'%')), byte == b'%', "{byte} {at}");
                    assert_eq!(any(text, b'x', |w| below(w, 0x20)), byte < 0x20, "{byte} {at}");
                    let escaped = byte < 0x20 || byte == b'"' || byte == b'\\';
                    assert_eq!(any(text, b'x', json_escaped), escaped, "{byte} {at}");
                }
            }
        }
        assert!(!any(b"", b'x', |w| equal(w, b'%')));
    }

    /// Every byte value at every place of texts long enough for two blocks of sixteen, a
    /// word and single bytes after them: looked for in the whole text, and the first one
    /// JSON escapes searched for from every start.
    #[test]
    fn bytes_are_found_a_block_at_a_time_wherever_they_fall() {
        for byte in 0..=255u8 {
            let escaped = byte < 0x20 || byte == b'"' || byte == b'\\';
            for at in 0..43 {
                let mut text = [b'x'; 43];
                text[at] = byte;
                for len in 0..=43 {
                    let text = &text[..len];
                    let holds = escaped && at < len;
                    assert_eq!(holds_json_escaped(text), holds, "{byte} {at} {len}");
                    let separator = (byte == b'%' || byte == b':') && at < len;
                    assert_eq!(holds_id_separator(text), separator, "{byte} {at} {len}");
                    for start in 0..=len {
                        let first = if escaped && (start..len).contains(&at) { at } else { len };
                        assert_eq!(find_json_escaped(text, start), first, "{byte} {at} {start}");
                    }
                }
            }
        }
    }
}
