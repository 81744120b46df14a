//! Looking at text eight bytes at a time: whether any byte of it is one of a few, without a
//! branch per byte (records and ids are written for every grant).

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
}
