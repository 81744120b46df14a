//! Makes text from elsewhere safe to show: no piece of the PAT, control characters made
//! visible, and server text cut to one short line only after both.
//!
//! A hostile server knows the PAT (we sent it) and may echo any part of it, so every run of
//! 8 or more bytes that also occurs in the PAT is removed, not only the whole token, and so
//! are shorter runs of 4 to 7 bytes where several of them together spell 16 bytes of it (the
//! PAT cut into small pieces). Invisible format characters put between the PAT's characters
//! are dropped before the pieces are looked for. `main` hands the PAT over once (`hide`);
//! the logger passes every line through `redact` before it reaches stderr, the HTTP client
//! shows server text only through `server_text`, and no record that holds any 16 bytes of the
//! PAT is written (`holds_secret_scanning`).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::ops::Range;
use std::sync::OnceLock;

/// The shortest piece of the secret that is always removed: shorter runs occur in ordinary
/// text by chance.
const PIECE_BYTES: usize = 8;
/// The shortest piece of the secret that is removed when, with the other short pieces of the
/// same text, it spells `SHORT_PIECES_BYTES` of the secret. A run of 4 bytes of a random
/// token occurs in ordinary text by chance about once in 250,000 runs; sixteen bytes in such
/// runs never do. Three bytes at a time still pass: nothing can stop a server that echoes
/// the token one character at a time between other text, and pieces that small have to be
/// put together in the right order out of many messages.
const SHORT_PIECE_BYTES: usize = 4;
const SHORT_PIECES_BYTES: usize = 16;
/// How much of the secret a record may not hold: any run of this many bytes of it.
const RECORD_WINDOW_BYTES: usize = 16;
/// How much of a server text is looked at: far more than any message shows, and little
/// enough that even a 4 MiB body (the cap) costs no noticeable time.
const SCANNED_BYTES: usize = 64 * 1024;
/// What a removed piece of the secret is replaced with.
const REDACTED: &str = "[redacted]";

/// Removes every piece of one secret from text.
#[derive(Debug)]
pub struct Redactor {
    /// The secret itself, to measure how far a match found by a piece reaches.
    secret: Vec<u8>,
    /// Every run of `PIECE_BYTES` bytes of the secret, as a number: a lookup costs a
    /// multiplication and a bit test, with no hashing of bytes.
    pieces: PieceSet,
    /// Every run of `SHORT_PIECE_BYTES` bytes of the secret, likewise: where a text has none,
    /// it has no run of the secret worth a closer look.
    short_pieces: PieceSet,
}

static SECRET: OnceLock<Redactor> = OnceLock::new();
static NOTHING: Redactor =
    Redactor { secret: Vec::new(), pieces: PieceSet::EMPTY, short_pieces: PieceSet::EMPTY };

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

/// Whether lines about to be written hold any 16 bytes of the secret given to `hide`. The
/// PAT in a record could only come from a hostile server, and would reach every system the
/// export is fed to. Every block of `lines` that is not all ASCII is handed to `not_ascii`
/// in the same pass (`Redactor::holds_scanning`).
pub fn holds_secret_scanning(lines: &[u8], not_ascii: impl FnMut(Range<usize>)) -> bool {
    secret().holds_scanning(lines, not_ascii)
}

fn secret() -> &'static Redactor {
    SECRET.get().unwrap_or(&NOTHING)
}

impl Redactor {
    pub fn new(secret: &str) -> Redactor {
        let bytes = secret.as_bytes();
        let set_of = |length: usize| match bytes.len() >= length {
            true => PieceSet::new(bytes.windows(length).map(as_number)),
            false => PieceSet::EMPTY,
        };
        let (pieces, short_pieces) = (set_of(PIECE_BYTES), set_of(SHORT_PIECE_BYTES));
        Redactor { secret: bytes.to_vec(), pieces, short_pieces }
    }

    /// `holds_scanning` without the blocks.
    #[cfg(test)]
    pub fn holds(&self, lines: &[u8]) -> bool {
        self.holds_scanning(lines, |_| {})
    }

    /// Whether `lines` hold `RECORD_WINDOW_BYTES` bytes of the secret in a row (the whole
    /// secret if it is shorter, but not shorter than a piece). Any such run covers a
    /// `PIECE_BYTES` block at a multiple of `PIECE_BYTES` in `lines`, so only those blocks are
    /// looked up, and only a block found in the secret is looked at more closely. In the same
    /// pass, every block of `lines` that is not all ASCII is handed to `not_ascii`, in order
    /// (blocks of 32 bytes, the last one shorter), until the secret is found: the output's
    /// search for invisible characters looks only there.
    pub fn holds_scanning(&self, lines: &[u8], mut not_ascii: impl FnMut(Range<usize>)) -> bool {
        const TOPS: u64 = u64::from_ne_bytes([0x80; 8]);
        const BLOCK: usize = 4 * PIECE_BYTES;
        let secret = &self.secret[..];
        let window = RECORD_WINDOW_BYTES.min(secret.len());
        if window < 2 * PIECE_BYTES - 1 {
            // Too short for the blocks to be sure to fall inside: look at every position.
            for (n, block) in lines.chunks(BLOCK).enumerate().filter(|(_, b)| !b.is_ascii()) {
                not_ascii(n * BLOCK..n * BLOCK + block.len());
            }
            let short = |run: &[u8]| secret.windows(window).any(|s| s == run);
            return window >= PIECE_BYTES && lines.windows(window).any(short);
        }
        let word = |bytes: &[u8]| u64::from_le_bytes(bytes.try_into().expect("eight bytes"));
        let found_at = |at: usize| {
            self.pieces.contains(word(&lines[at..at + PIECE_BYTES]))
                && self.longest_run_through(lines, at) >= window
        };
        // Four words at a time through the filter and the test for ASCII, with one branch
        // for both: almost every text has no piece of the secret, and most is ASCII.
        let mut fours = lines.chunks_exact(BLOCK);
        for (n, four) in fours.by_ref().enumerate() {
            let words = [0, 8, 16, 24].map(|at| word(&four[at..at + PIECE_BYTES]));
            let maybe = words.map(|w| self.pieces.may_contain(w));
            let high = (words[0] | words[1] | words[2] | words[3]) & TOPS != 0;
            if !(maybe[0] | maybe[1] | maybe[2] | maybe[3] | high) {
                continue;
            }
            let at = n * BLOCK;
            if high {
                not_ascii(at..at + BLOCK);
            }
            // Only the words the filter let through (most blocks stop here for a byte
            // beyond ASCII) are looked up.
            if (0..4).any(|nth| maybe[nth] && found_at(at + nth * PIECE_BYTES)) {
                return true;
            }
        }
        let rest = lines.len() - fours.remainder().len();
        if !fours.remainder().is_ascii() {
            not_ascii(rest..lines.len());
        }
        let whole_blocks_end = lines.len() - lines.len() % PIECE_BYTES;
        (rest..whole_blocks_end).step_by(PIECE_BYTES).any(found_at)
    }

    /// The longest run of bytes of the secret in `text` that covers the `PIECE_BYTES` bytes
    /// at `at`, which are known to occur in the secret.
    fn longest_run_through(&self, text: &[u8], at: usize) -> usize {
        let secret = &self.secret[..];
        let block = &text[at..at + PIECE_BYTES];
        (0..=secret.len() - PIECE_BYTES)
            .filter(|&start| &secret[start..start + PIECE_BYTES] == block)
            .map(|start| {
                let before = (1..=start.min(at))
                    .take_while(|&back| text[at - back] == secret[start - back])
                    .count();
                let after = (PIECE_BYTES..secret.len() - start)
                    .take_while(|&ahead| text.get(at + ahead) == Some(&secret[start + ahead]))
                    .count();
                before + PIECE_BYTES + after
            })
            .max()
            .unwrap_or(0)
    }

    /// `text` with every run of bytes that occurs in the secret and is at least a piece
    /// long replaced by `[redacted]`, widened to whole characters; runs of 4 to 7 bytes too,
    /// where they add up to 16 bytes or more.
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

    /// Server text fit for a one-line message: the first `SCANNED_BYTES` of it, control and
    /// format characters escaped, pieces of the secret removed, then cut to `max_chars`
    /// characters, with `…` when something was left out. Cutting comes last, so that a cut
    /// never leaves the start of the secret behind where the whole would have been removed.
    /// Where invisible format characters were put between pieces of the secret, they are
    /// dropped rather than escaped, so that the pieces are found and removed.
    pub fn server_text(&self, text: &str, max_chars: usize) -> String {
        let scanned = &text[..floor_char_boundary(text, SCANNED_BYTES)];
        let escaped = escape_controls(scanned);
        let mut redacted = self.redact(&escaped);
        let visible = drop_format_chars(scanned);
        if matches!(visible, Cow::Owned(_)) && !self.pieces_in(&visible).is_empty() {
            redacted = Cow::Owned(self.redact(&escape_controls(&visible)).into_owned());
        }
        let mut line: String = redacted.chars().take(max_chars).collect();
        if line.len() < redacted.len() || scanned.len() < text.len() {
            line.push('…');
        }
        line
    }

    /// The byte ranges of `text` to remove, in order, merged where they touch or overlap:
    /// every run of the secret of `PIECE_BYTES` or more, and the runs of `SHORT_PIECE_BYTES`
    /// or more if they add up to `SHORT_PIECES_BYTES`.
    fn pieces_in(&self, text: &str) -> Vec<Range<usize>> {
        let (runs, short_cover) = self.runs_in(text.as_bytes());
        let least = match short_cover >= SHORT_PIECES_BYTES {
            true => SHORT_PIECE_BYTES,
            false => PIECE_BYTES,
        };
        let mut found: Vec<Range<usize>> = Vec::new();
        for run in runs.into_iter().filter(|run| run.len() >= least.min(self.secret.len())) {
            // A non-ASCII secret can match from the middle of a character: remove the
            // whole character, so that what is left is still UTF-8.
            let range = floor_char_boundary(text, run.start)..ceil_char_boundary(text, run.end);
            match found.last_mut() {
                Some(last) if last.end >= range.start => last.end = last.end.max(range.end),
                _ => found.push(range),
            }
        }
        found
    }

    /// The maximal runs of `text` of at least `SHORT_PIECE_BYTES` bytes (or the whole
    /// secret, if shorter) that occur in the secret, in order, and how many bytes of the
    /// secret the runs shorter than a piece spell between them (a word of the secret
    /// repeated spells it once). Only a position whose next `SHORT_PIECE_BYTES` occur in the
    /// secret is compared with the secret.
    fn runs_in(&self, text: &[u8]) -> (Vec<Range<usize>>, usize) {
        let secret = &self.secret[..];
        let least = SHORT_PIECE_BYTES.min(secret.len());
        let mut runs: Vec<Range<usize>> = Vec::new();
        let mut spelled = vec![false; secret.len()];
        if least == 0 {
            return (runs, 0);
        }
        for at in 0..text.len().saturating_sub(least - 1) {
            if least == SHORT_PIECE_BYTES
                && !self.short_pieces.contains(as_number(&text[at..at + least]))
            {
                continue;
            }
            let (longest, from) = (0..=secret.len() - least)
                .map(|start| (common_prefix(&text[at..], &secret[start..]), start))
                .max()
                .unwrap_or((0, 0));
            if longest < least {
                continue;
            }
            if longest < PIECE_BYTES {
                spelled[from..from + longest].fill(true);
            }
            let run = at..at + longest;
            match runs.last_mut() {
                Some(last) if last.end >= run.start => last.end = last.end.max(run.end),
                _ => runs.push(run),
            }
        }
        (runs, spelled.iter().filter(|&&byte| byte).count())
    }
}

/// How many bytes `one` and `other` have in common from their start.
fn common_prefix(one: &[u8], other: &[u8]) -> usize {
    one.iter().zip(other).take_while(|(a, b)| a == b).count()
}

/// A set of 64-bit numbers, small and fixed once built. Nearly every lookup is of a number
/// not in the set, and ends at one bit of a 4096-bit filter (a multiplication, a shift and a
/// load); a number whose bit is set is looked up in the sorted members.
#[derive(Debug)]
struct PieceSet {
    filter: [u64; 64],
    sorted: Vec<u64>,
}

impl PieceSet {
    const EMPTY: PieceSet = PieceSet { filter: [0; 64], sorted: Vec::new() };

    fn new(values: impl Iterator<Item = u64>) -> PieceSet {
        let mut set = PieceSet { filter: [0; 64], sorted: values.collect() };
        set.sorted.sort_unstable();
        set.sorted.dedup();
        for &value in &set.sorted {
            let bit = Self::bit_of(value);
            set.filter[bit >> 6] |= 1 << (bit & 63);
        }
        set
    }

    /// The top 12 bits of a multiplication by a constant (Fibonacci hashing), which mixes
    /// every byte of the number into them.
    fn bit_of(value: u64) -> usize {
        (value.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 52) as usize
    }

    #[inline]
    fn contains(&self, value: u64) -> bool {
        self.may_contain(value) && self.sorted.binary_search(&value).is_ok()
    }

    /// Whether the filter lets `value` through: always if it is in the set, and for one in
    /// 60 or so other numbers.
    #[inline]
    fn may_contain(&self, value: u64) -> bool {
        let bit = Self::bit_of(value);
        self.filter[bit >> 6] & (1 << (bit & 63)) != 0
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

/// Control characters (C0, DEL, C1), line and paragraph separators, and the format
/// characters (Unicode category Cf): the bidirectional controls that reorder text on screen
/// ("Trojan Source") and the invisible ones that can hide text or split it.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || is_format_char(c)
}

/// Unicode's format characters (category Cf, Unicode 15): invisible, or reordering text.
pub fn is_format_char(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{600}'..='\u{605}'
            | '\u{61c}'
            | '\u{6dd}'
            | '\u{70f}'
            | '\u{890}'..='\u{891}'
            | '\u{8e2}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{110bd}'
            | '\u{110cd}'
            | '\u{13430}'..='\u{1343f}'
            | '\u{1bca0}'..='\u{1bca3}'
            | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0001}'
            | '\u{e0020}'..='\u{e007f}'
    )
}

/// `text` without its format characters.
fn drop_format_chars(text: &str) -> Cow<'_, str> {
    match text.chars().any(is_format_char) {
        true => Cow::Owned(text.chars().filter(|&c| !is_format_char(c)).collect()),
        false => Cow::Borrowed(text),
    }
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
        // A cut 7 characters into the token, fewer than a piece: cutting first would leave
        // them, since no piece of the token is left whole for redaction to find.
        let body = format!("{}{PAT} and more", "x".repeat(113));
        let shown = redactor.server_text(&body, 120);
        assert!(!shown.contains(&PAT[..4]), "{shown}");
        assert_eq!(shown, format!("{}[redact…", "x".repeat(113)));
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
    fn records_are_searched_for_any_sixteen_bytes_of_the_secret() {
        let secret = "Xk2mP9qL7vR4tW8nZ3bY6cJ1abcdefghijklmnopqrstuvwxyz";
        let redactor = Redactor::new(secret);
        // Every run of 16 bytes, at every alignment in the line, is found; 15 are not.
        for start in 0..=secret.len() - 16 {
            for pad in 0..8 {
                let line =
                    format!("{{\"name\":\"{}{}\"}}", "p".repeat(pad), &secret[start..start + 16]);
                assert!(redactor.holds(line.as_bytes()), "{line}");
                let line =
                    format!("{{\"name\":\"{}{}\"}}", "p".repeat(pad), &secret[start..start + 15]);
                assert!(!redactor.holds(line.as_bytes()), "{line}");
            }
        }
        // In a long text, whichever of four blocks looked at together it falls in, and in
        // the blocks after the last four.
        for at in 0..100 {
            let mut text = "f".repeat(120).into_bytes();
            text[at..at + 16].copy_from_slice(&secret.as_bytes()[7..23]);
            assert!(redactor.holds(&text), "at {at}");
            text[at + 15] = b'f';
            assert!(!redactor.holds(&text), "15 bytes at {at}");
        }
        assert!(redactor.holds(format!("a{secret}b").as_bytes()));
        assert!(!redactor.holds(b"nothing of it, not even Xk2mP9qL"));
        // A secret shorter than 16 bytes: held only whole; under 8 bytes, never searched.
        assert!(Redactor::new("0123456789ab").holds(b"x0123456789abx"));
        assert!(!Redactor::new("0123456789ab").holds(b"x0123456789ax"));
        assert!(!Redactor::new("short").holds(b"short"));
        // Bytes that are not UTF-8 are searched too.
        let wide = Redactor::new(&"é".repeat(20));
        assert!(wide.holds(&[&[0xff][..], "é".repeat(8).as_bytes()].concat()));
        assert!(!wide.holds("é".repeat(7).as_bytes()));
    }

    /// The search for the secret hands on exactly the blocks that are not all ASCII, in
    /// order, whatever the secret's length, and finds the secret beside such a block.
    #[test]
    fn blocks_not_all_ascii_are_handed_on_in_order() {
        let secret = "Xk2mP9qL7vR4tW8nZ3bY6cJ1abcdefghijklmnopqrstuvwxyz";
        for redactor in [Redactor::new(secret), Redactor::new("0123456789ab"), Redactor::new("")] {
            for at in 0..100 {
                let text = format!("{}\u{2028}{}ü", "a".repeat(at), "b".repeat(100 - at));
                let expected: Vec<Range<usize>> = (0..text.len())
                    .step_by(32)
                    .map(|start| start..(start + 32).min(text.len()))
                    .filter(|block| !text.as_bytes()[block.clone()].is_ascii())
                    .collect();
                let mut handed = Vec::new();
                assert!(!redactor.holds_scanning(text.as_bytes(), |block| handed.push(block)));
                assert_eq!(handed, expected, "at {at}");
            }
        }
        for at in 0..100 {
            let mut text = "f".repeat(140).into_bytes();
            text[at..at + 3].copy_from_slice("\u{2028}".as_bytes());
            text[at + 3..at + 19].copy_from_slice(&secret.as_bytes()[7..23]);
            let mut blocks = 0;
            assert!(Redactor::new(secret).holds_scanning(&text, |_| blocks += 1), "at {at}");
            assert!(blocks <= 2, "the search stops where it finds the secret");
        }
    }

    #[test]
    fn the_secret_in_short_pieces_is_removed_once_they_spell_enough_of_it() {
        let redactor = Redactor::new(PAT);
        // Seven bytes at a time, then four at a time, between other text.
        for size in [7, 4] {
            let echoed: Vec<&str> =
                PAT.as_bytes().chunks(size).map(|c| std::str::from_utf8(c).unwrap()).collect();
            let text = echoed.join(" ");
            let redacted = redactor.redact(&text);
            for piece in echoed.iter().filter(|piece| piece.len() >= SHORT_PIECE_BYTES) {
                assert!(!redacted.contains(piece), "{piece} in {redacted}");
            }
        }
        // One short run alone is chance, and stays.
        assert_eq!(
            redactor.redact(&format!("id {} ok", &PAT[3..8])),
            format!("id {} ok", &PAT[3..8])
        );
    }

    /// The bidirectional isolates and marks, each of them: invisible, and they reorder what
    /// a terminal shows.
    #[test]
    fn every_bidi_isolate_and_mark_is_escaped() {
        for c in ['\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{200e}', '\u{200f}'] {
            let text = format!("a{c}b");
            assert_eq!(escape_controls(&text), format!("a\\u{{{:x}}}b", c as u32), "{c:?}");
        }
    }

    #[test]
    fn format_characters_are_escaped_and_cannot_hide_the_secret() {
        assert_eq!(
            escape_controls("a\u{200b}b\u{2060}c\u{ad}d\u{feff}e\u{2066}f\u{200e}g"),
            r"a\u{200b}b\u{2060}c\u{ad}d\u{feff}e\u{2066}f\u{200e}g"
        );
        let redactor = Redactor::new(PAT);
        for separator in ["\u{2060}", "\u{200b}", "\u{ad}"] {
            let hidden: String = PAT.chars().map(|c| format!("{c}{separator}")).collect();
            let shown = redactor.server_text(&format!("token {hidden} echoed"), 300);
            assert_eq!(shown, "token [redacted] echoed", "{separator:?}");
        }
        // Without the secret, format characters stay visible.
        assert_eq!(redactor.server_text("evil\u{202e}txt", 120), r"evil\u{202e}txt");
    }
}
