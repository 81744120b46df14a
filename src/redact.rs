//! Makes text from elsewhere safe to show: no piece of the PAT, control characters made
//! visible, and server text cut to one short line only after both.
//!
//! A hostile server knows the PAT (we sent it) and may echo any part of it, so every run of
//! 8 or more bytes that also occurs in the PAT is removed, not only the whole token. `main`
//! hands the PAT over once (`hide`); the logger passes every line through `redact` before it
//! reaches stderr, the HTTP client shows server text only through `server_text`, and no
//! record that holds the PAT is written (`holds_secret`).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::ops::Range;
use std::sync::OnceLock;

/// The shortest piece of the secret that is removed: shorter runs occur in ordinary text
/// by chance, and reveal too little to matter.
const PIECE_BYTES: usize = 8;
/// How much of a server text is looked at: far more than any message shows, and little
/// enough that even a 4 MiB body (the cap) costs no noticeable time.
const SCANNED_BYTES: usize = 64 * 1024;
/// What a removed piece of the secret is replaced with.
const REDACTED: &str = "[redacted]";

/// Removes every piece of one secret from text.
#[derive(Debug)]
pub struct Redactor {
    /// The length of the pieces looked for: `PIECE_BYTES`, or the whole secret if shorter.
    piece: usize,
    /// Every piece of that length of the secret, as a number, sorted: a lookup per byte of
    /// text costs a few comparisons and no hashing.
    pieces: Vec<u64>,
    /// The start of the secret that records are searched for (`holds_secret`): long enough
    /// never to occur by chance, short enough for the standard library's fast search.
    probe: String,
}

static SECRET: OnceLock<Redactor> = OnceLock::new();
static NOTHING: Redactor = Redactor { piece: 0, pieces: Vec::new(), probe: String::new() };
/// The length of `Redactor::probe`: at most what `str::contains` searches for fastest.
const PROBE_BYTES: usize = 32;

/// Makes `secret` what `redact` and `server_text` remove from now on; the first call wins.
pub fn hide(secret: &str) {
    let _ = SECRET.set(Redactor::new(secret));
}

/// `text` without any piece of the secret given to `hide`.
pub fn redact(text: &str) -> Cow<'_, str> {
    secret().redact(text)
}

/// Server text fit for a one-line message; see `Redactor::server_text`.
pub fn server_text(text: &str, max_chars: usize) -> String {
    secret().server_text(text, max_chars)
}

/// Whether lines about to be written hold the secret given to `hide`. Searching all the
/// records costs 3 % of a sync's instructions; the whole PAT in a record could only come
/// from a hostile server, and would reach every system the export is fed to.
pub fn holds_secret(lines: &[u8]) -> bool {
    secret().holds(lines)
}

fn secret() -> &'static Redactor {
    SECRET.get().unwrap_or(&NOTHING)
}

impl Redactor {
    pub fn new(secret: &str) -> Redactor {
        let bytes = secret.as_bytes();
        let piece = PIECE_BYTES.min(bytes.len());
        let mut pieces: Vec<u64> = match piece {
            0 => Vec::new(),
            _ => bytes.windows(piece).map(as_number).collect(),
        };
        pieces.sort_unstable();
        pieces.dedup();
        let mut probe_end = PROBE_BYTES.min(secret.len());
        while !secret.is_char_boundary(probe_end) {
            probe_end -= 1;
        }
        let probe = match piece {
            PIECE_BYTES => secret[..probe_end].to_string(),
            _ => String::new(),
        };
        Redactor { piece, pieces, probe }
    }

    /// Whether `line` holds the start of the secret (`PROBE_BYTES` of it).
    pub fn holds(&self, line: &[u8]) -> bool {
        if self.probe.is_empty() {
            return false;
        }
        match std::str::from_utf8(line) {
            Ok(text) => text.contains(&self.probe),
            Err(_) => line.windows(self.probe.len()).any(|window| window == self.probe.as_bytes()),
        }
    }

    /// `text` with every run of bytes that occurs in the secret and is at least a piece
    /// long replaced by `[redacted]`, widened to whole characters.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let found = self.pieces_in(text);
        if found.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut redacted = String::with_capacity(text.len());
        let mut shown = 0;
        for range in found {
            redacted.push_str(&text[shown..range.start]);
            redacted.push_str(REDACTED);
            shown = range.end;
        }
        redacted.push_str(&text[shown..]);
        Cow::Owned(redacted)
    }

    /// Server text fit for a one-line message: the first `SCANNED_BYTES` of it, control
    /// characters escaped, pieces of the secret removed, then cut to `max_chars`
    /// characters, with `…` when something was left out. Cutting comes last, so that a cut
    /// never leaves the start of the secret behind where the whole would have been removed.
    pub fn server_text(&self, text: &str, max_chars: usize) -> String {
        let scanned = &text[..floor_char_boundary(text, SCANNED_BYTES)];
        let escaped = escape_controls(scanned);
        let redacted = self.redact(&escaped);
        let mut line: String = redacted.chars().take(max_chars).collect();
        if line.len() < redacted.len() || scanned.len() < text.len() {
            line.push('…');
        }
        line
    }

    /// The byte ranges of `text` to remove, in order, merged where they touch or overlap.
    fn pieces_in(&self, text: &str) -> Vec<Range<usize>> {
        let mut found: Vec<Range<usize>> = Vec::new();
        if self.piece == 0 {
            return found;
        }
        for (at, window) in text.as_bytes().windows(self.piece).enumerate() {
            if self.pieces.binary_search(&as_number(window)).is_err() {
                continue;
            }
            // A non-ASCII secret can match from the middle of a character: remove the
            // whole character, so that what is left is still UTF-8.
            let range = floor_char_boundary(text, at)..ceil_char_boundary(text, at + self.piece);
            match found.last_mut() {
                Some(last) if last.end >= range.start => last.end = last.end.max(range.end),
                _ => found.push(range),
            }
        }
        found
    }
}

/// The largest character boundary of `text` at or before `at` (`str::floor_char_boundary`,
/// which needs a newer Rust than the one this crate supports).
fn floor_char_boundary(text: &str, at: usize) -> usize {
    (0..=at.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0)
}

/// The smallest character boundary of `text` at or after `at`.
fn ceil_char_boundary(text: &str, at: usize) -> usize {
    (at.min(text.len())..=text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(text.len())
}

/// Up to 8 bytes as one number, zero-padded.
fn as_number(bytes: &[u8]) -> u64 {
    let mut padded = [0; 8];
    padded[..bytes.len()].copy_from_slice(bytes);
    u64::from_le_bytes(padded)
}

/// `text` with every character that could move the cursor, end a line or reorder what a
/// terminal shows written as a visible escape (`\n`, `\r`, `\u{1b}`, `\u{202e}`), so that
/// server text can neither forge log lines nor hide in them, and still shows that something
/// odd was there.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe(c) {
            write!(escaped, "{}", c.escape_debug()).expect("writing to a String cannot fail");
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

/// Control characters (C0, DEL, C1), line and paragraph separators, and the bidirectional
/// formatting characters that reorder text on screen ("Trojan Source").
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAT: &str = "Xk2mP9qL7vR4tW8nZ3bY6cJ1";

    /// Whether any piece of `PAT` of `PIECE_BYTES` bytes occurs in `text`.
    fn leaks(text: &str) -> bool {
        PAT.as_bytes()
            .windows(PIECE_BYTES)
            .any(|piece| text.as_bytes().windows(PIECE_BYTES).any(|window| window == piece))
    }

    #[test]
    fn every_piece_of_the_secret_is_removed() {
        let redactor = Redactor::new(PAT);
        assert_eq!(redactor.redact(&format!("token {PAT} echoed")), "token [redacted] echoed");
        // The middle of the token, its start and its end, each alone and twice in a row.
        for piece in
            [&PAT[5..15], &PAT[..8], &PAT[16..], &format!("{}{}", &PAT[3..12], &PAT[3..12])]
        {
            let text = format!("a{piece}b");
            let redacted = redactor.redact(&text);
            assert!(!leaks(&redacted), "{piece:?} gives {redacted:?}");
            assert!(redacted.starts_with('a') && redacted.ends_with('b'), "{redacted:?}");
        }
        // Seven bytes are not a piece; different text is left alone without copying.
        assert_eq!(redactor.redact(&PAT[..7]), &PAT[..7]);
        assert!(matches!(redactor.redact("nothing to see"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_short_secret_is_removed_whole_and_an_empty_one_changes_nothing() {
        assert_eq!(Redactor::new("abc").redact("xabcx ab"), "x[redacted]x ab");
        assert_eq!(Redactor::new("").redact("anything"), "anything");
    }

    #[test]
    fn a_non_ascii_secret_is_removed_with_whole_characters() {
        let secret = "ünïcödé-tökén";
        let redactor = Redactor::new(secret);
        // Its first eight characters: pieces of 8 bytes start and end inside characters.
        assert_eq!(redactor.redact(&format!("<{}>", &secret[..12])), "<[redacted]>");
        assert_eq!(redactor.redact(&format!("ü{}ü", &secret[3..15])), "ü[redacted]ü");
        // `ż` ends in the same byte as `ü`: the match starts inside `ż`, which goes too.
        assert_eq!(redactor.redact("<żnïcöd>"), "<[redacted]>");
    }

    #[test]
    fn server_text_is_redacted_before_it_is_cut() {
        let redactor = Redactor::new(PAT);
        // 110 characters, then the token: a cut at 120 used to print its first ten.
        let body = format!("{}{PAT} and more", "x".repeat(110));
        let shown = redactor.server_text(&body, 120);
        assert!(!leaks(&shown), "{shown}");
        assert_eq!(shown, format!("{}[redacted]…", "x".repeat(110)));
        // The token cut in half by the scanning bound: the part before the bound is removed.
        let huge = format!("{}{PAT}", "y".repeat(SCANNED_BYTES - 12));
        assert!(!leaks(&redactor.server_text(&huge, SCANNED_BYTES)));
        assert_eq!(redactor.server_text("short", 120), "short");
        assert_eq!(redactor.server_text("abcdef", 3), "abc…");
    }

    #[test]
    fn control_characters_become_visible_escapes() {
        assert_eq!(
            escape_controls("a\nbaton-zitadel: sync complete\r\u{1b}[2J\u{7f}\u{85}\t\0z"),
            r"a\nbaton-zitadel: sync complete\r\u{1b}[2J\u{7f}\u{85}\t\0z"
        );
        assert_eq!(escape_controls("evil\u{202e}txt.exe\u{2028}"), r"evil\u{202e}txt.exe\u{2028}");
        assert!(matches!(escape_controls("Zoë Müller (AUTH-7fs1e)"), Cow::Borrowed(_)));
        let redactor = Redactor::new(PAT);
        assert_eq!(redactor.server_text("line one\nline two", 120), r"line one\nline two");
    }

    #[test]
    fn escapes_cannot_be_used_to_rebuild_the_secret() {
        // A secret that looks like an escape: the escaped text is what is scanned.
        let redactor = Redactor::new(r"u{1b}abcdef");
        let shown = redactor.server_text("\u{1b}abcdef", 120);
        assert_eq!(shown, r"\[redacted]");
    }
    #[test]
    fn records_are_searched_for_the_start_of_the_secret() {
        let redactor = Redactor::new("Xk2mP9qL7vR4tW8nZ3bY6cJ1abcdefghijklmnopqrstuvwxyz");
        assert!(redactor.holds(b"{\"name\":\"Xk2mP9qL7vR4tW8nZ3bY6cJ1abcdefgh\"}"));
        assert!(!redactor.holds(b"{\"name\":\"Xk2mP9qL7vR4tW8nZ3bY6cJ1abcdefg\"}"), "31 bytes");
        assert!(!Redactor::new("short").holds(b"short"), "no probe for a secret under 8 bytes");
        // The probe ends on a character boundary.
        let wide = Redactor::new(&"é".repeat(20));
        assert_eq!(wide.probe.len(), 32);
        assert!(wide.holds("é".repeat(16).as_bytes()));
    }
}
