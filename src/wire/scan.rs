//! A JSON scanner for the shape-aware reader (`shaped.rs`): strings eight bytes at a time,
//! kept as spans of the page, and a validating skipper for the values it does not read.
//! Every method answers `None` for anything it is not sure of (an escape in a kept string,
//! an unexpected byte, the end of the text), and then serde_json reads the page instead,
//! so that what a page gives, rows or error, is always what serde_json gives.

use crate::words::find_json_escaped;

/// Where the scanner is in a page's text, which was checked to be UTF-8 as a whole.
pub struct Scan<'a> {
    text: &'a str,
    at: usize,
}

/// Deeper nesting than this in a skipped value is left to serde_json (which has no limit
/// for skipped values but reads them the same way).
const MAX_SKIP_DEPTH: u32 = 64;

impl<'a> Scan<'a> {
    pub fn new(text: &'a str) -> Scan<'a> {
        Scan { text, at: 0 }
    }

    /// The next byte that is not JSON whitespace, not taken; `None` at the end of the text.
    #[inline]
    pub fn peek(&mut self) -> Option<u8> {
        let byte = *self.text.as_bytes().get(self.at)?;
        // JSON's whitespace is all below `!`; ZITADEL sends none.
        match byte > b' ' {
            true => Some(byte),
            false => self.peek_after_whitespace(),
        }
    }

    fn peek_after_whitespace(&mut self) -> Option<u8> {
        let bytes = self.text.as_bytes();
        while let Some(&byte) = bytes.get(self.at) {
            if !matches!(byte, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(byte);
            }
            self.at += 1;
        }
        None
    }

    /// Takes `byte`, the next one after whitespace.
    #[inline]
    pub fn eat(&mut self, byte: u8) -> Option<()> {
        if self.peek()? != byte {
            return None;
        }
        self.at += 1;
        Some(())
    }

    /// Whether only whitespace is left, as serde_json's `end` requires.
    pub fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// A string without escapes, as the span of the page between its quotes: what serde_json
    /// borrows. A backslash or a control character is left to serde_json.
    #[inline]
    pub fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let (start, end) = (self.at, self.string_end(self.at));
        if *self.text.as_bytes().get(end)? != b'"' {
            return None;
        }
        self.at = end + 1;
        self.text.get(start..end)
    }

    /// Where the first quote, backslash or control character at or after `at` is (the
    /// text's length when there is none).
    #[inline(always)]
    fn string_end(&self, at: usize) -> usize {
        find_json_escaped(self.text.as_bytes(), at)
    }

    /// An object's key (without escapes) and its colon.
    pub fn key(&mut self) -> Option<&'a str> {
        let key = self.string()?;
        self.eat(b':')?;
        Some(key)
    }

    /// Reads an object whose keys are among `keys`, each written `"key":`, handing each
    /// member to `member` with the place of its key in `keys` (`None` for any other key),
    /// which reads its value. The keys are guessed to come in the order of `keys` (as
    /// ZITADEL sends them): a key where it was guessed is taken with its quotes and colon
    /// at once; any other is read as a key and looked up, and the guess goes on after it.
    pub fn object(
        &mut self,
        keys: &[&[u8]],
        mut member: impl FnMut(&mut Scan<'a>, Option<usize>) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        let mut next = 0;
        loop {
            let found = match keys.get(next) {
                Some(&guess) if has_at(self.text.as_bytes(), self.at, guess) => {
                    self.at += guess.len();
                    Some(next)
                }
                _ => {
                    let key = self.key()?.as_bytes();
                    keys.iter().position(|quoted| &quoted[1..quoted.len() - 2] == key)
                }
            };
            next = found.map_or(next, |at| at + 1);
            member(self, found)?;
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Reads an array, calling `item` for each item, which reads it.
    pub fn array(&mut self, mut item: impl FnMut(&mut Scan<'a>) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        if self.peek()? == b']' {
            self.at += 1;
            return Some(());
        }
        loop {
            item(self)?;
            match self.peek()? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// `true` or `false`.
    pub fn bool(&mut self) -> Option<bool> {
        match self.peek()? {
            b't' => self.literal(b"true").map(|()| true),
            b'f' => self.literal(b"false").map(|()| false),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        if self.text.as_bytes().get(self.at..end)? != word {
            return None;
        }
        self.at = end;
        Some(())
    }

    /// A uint64 as `u64_from_string_or_number` reads one: a string without escapes that
    /// `str::parse` takes, or digits that fit (no sign, fraction or exponent).
    pub fn uint64(&mut self) -> Option<u64> {
        if self.peek()? == b'"' {
            return self.string()?.parse().ok();
        }
        let start = self.at;
        let digits = self.digits();
        let bytes = &self.text.as_bytes()[start..self.at];
        let next = self.text.as_bytes().get(self.at).copied().unwrap_or(b' ');
        if digits == 0 || (digits > 1 && bytes[0] == b'0') || matches!(next, b'.' | b'e' | b'E') {
            return None;
        }
        self.text[start..self.at].parse().ok()
    }

    /// Takes the digits that follow and says how many there were.
    fn digits(&mut self) -> usize {
        let bytes = self.text.as_bytes();
        let start = self.at;
        while bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        self.at - start
    }

    /// Skips any JSON value, checking it as serde_json's `ignore_value` does: strings with
    /// their escapes (and no control character), numbers by JSON's grammar, literals,
    /// arrays and objects to `MAX_SKIP_DEPTH`. A bit per level says whether it is an object.
    pub fn skip(&mut self) -> Option<()> {
        // Most values skipped are strings, and most strings have no escape.
        if self.peek()? == b'"' {
            let at = self.at;
            if self.string().is_some() {
                return Some(());
            }
            self.at = at;
            return self.skip_string();
        }
        let (mut objects, mut depth) = (0u64, 0u32);
        loop {
            match self.peek()? {
                b'"' => self.skip_string()?,
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                b'-' | b'0'..=b'9' => self.skip_number()?,
                open @ (b'{' | b'[') => {
                    self.at += 1;
                    let close = if open == b'{' { b'}' } else { b']' };
                    if self.peek()? == close {
                        self.at += 1;
                    } else {
                        depth += 1;
                        if depth > MAX_SKIP_DEPTH {
                            return None;
                        }
                        objects = objects << 1 | u64::from(open == b'{');
                        if open == b'{' {
                            self.skip_key()?;
                        }
                        continue;
                    }
                }
                _ => return None,
            }
            // After a value: close what ends here, or go on after a comma.
            loop {
                if depth == 0 {
                    return Some(());
                }
                let object = objects & 1 == 1;
                match self.peek()? {
                    b',' => {
                        self.at += 1;
                        if object {
                            self.skip_key()?;
                        }
                        break;
                    }
                    b'}' if object => self.at += 1,
                    b']' if !object => self.at += 1,
                    _ => return None,
                }
                (objects, depth) = (objects >> 1, depth - 1);
            }
        }
    }

    /// A key of a skipped object, escapes allowed, and its colon.
    fn skip_key(&mut self) -> Option<()> {
        self.skip_string()?;
        self.eat(b':')
    }

    /// A string of a skipped value: escapes as serde_json checks them (`\u` with four hex
    /// digits, whatever code point they make), no control character.
    fn skip_string(&mut self) -> Option<()> {
        self.eat(b'"')?;
        let bytes = self.text.as_bytes();
        loop {
            let at = self.string_end(self.at);
            match bytes.get(at)? {
                b'"' => {
                    self.at = at + 1;
                    return Some(());
                }
                b'\\' => {
                    let length = match bytes.get(at + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => 2,
                        b'u' if bytes.get(at + 2..at + 6)?.iter().all(u8::is_ascii_hexdigit) => 6,
                        _ => return None,
                    };
                    self.at = at + length;
                }
                _ => return None,
            }
        }
    }

    /// A number by JSON's grammar: `-`, then `0` or digits not starting with `0`, then
    /// perhaps a fraction and an exponent, each with at least one digit.
    fn skip_number(&mut self) -> Option<()> {
        if self.text.as_bytes().get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        let start = self.at;
        match self.digits() {
            0 => return None,
            1 => {}
            _ if self.text.as_bytes()[start] == b'0' => return None,
            _ => {}
        }
        if self.text.as_bytes().get(self.at) == Some(&b'.') {
            self.at += 1;
            if self.digits() == 0 {
                return None;
            }
        }
        if matches!(self.text.as_bytes().get(self.at), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.text.as_bytes().get(self.at), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        Some(())
    }
}

/// Whether `bytes` has `pattern` at `at`, compared eight bytes at a time (the last word
/// overlapping the one before it), without a call to `memcmp` for a few bytes.
fn has_at(bytes: &[u8], at: usize, pattern: &[u8]) -> bool {
    let Some(window) = bytes.get(at..at + pattern.len()) else {
        return false;
    };
    let word = |eight: &[u8]| u64::from_le_bytes(eight.try_into().expect("eight bytes"));
    let Some(last) = pattern.len().checked_sub(8) else {
        return window == pattern;
    };
    let pairs = window.chunks_exact(8).zip(pattern.chunks_exact(8));
    let differ = pairs.fold(0, |differ, (got, want)| differ | (word(got) ^ word(want)));
    differ == 0 && word(&window[last..]) == word(&pattern[last..])
}
