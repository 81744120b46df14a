//! Writes NDJSON records: one JSON object per line, whole lines only; a failed write says
//! where it was writing.

use std::ffi::c_int;
use std::io::{self, Write};
use std::ops::Range;
use std::os::fd::RawFd;

use serde::Serialize;

use crate::redact;

/// How many bytes of whole lines are collected before they are searched for the secret
/// and written in one piece.
const PENDING_BYTES: usize = 64 * 1024;

/// The one writer of records. Records are serialized into a buffer of whole lines, which
/// is searched for the secret once and then written in one piece, so whatever ends the
/// program, the stream ends on a complete line, and no line holding the secret is written.
/// One search per buffer rather than per line costs a fraction of the time. A failed write
/// is a `WriteFailed` inside the `io::Error`, which keeps its kind (a closed pipe stays a
/// `BrokenPipe`).
pub struct Output<W: Write> {
    out: W,
    /// Whole lines not yet searched nor written.
    pending: Vec<u8>,
    /// What `out` is, for messages: "stdout" unless `named`.
    target: String,
    /// The descriptor of `out`, if a cut line left by a failed write can be taken back there.
    descriptor: Option<RawFd>,
}

impl<W: Write> Output<W> {
    pub fn new(out: W) -> Output<W> {
        Output {
            out,
            pending: Vec::with_capacity(PENDING_BYTES + 1024),
            target: "stdout".to_string(),
            descriptor: None,
        }
    }

    /// Takes back, when `out` is a regular file that writes straight to the descriptor `fd`
    /// (no buffer of its own), the start of a line that a failed write left behind (a file size limit lets a write through only in
    /// part), so that the file still ends on a whole line.
    pub fn whole_lines_on(mut self, fd: RawFd) -> Output<W> {
        self.descriptor = Some(fd);
        self
    }

    /// Names what `out` is in messages, such as `--output export.ndjson`.
    pub fn named(mut self, target: String) -> Output<W> {
        self.target = target;
        self
    }

    pub fn write<T: Serialize>(&mut self, record: &T) -> io::Result<()> {
        self.write_with(|line| Ok(serde_json::to_writer(line, record)?))
    }

    /// Writes one record whose JSON `write_json` appends to the buffer (see
    /// `Grant::write_json`); a record it fails to write whole is taken back out.
    pub fn write_with(
        &mut self,
        write_json: impl FnOnce(&mut Vec<u8>) -> io::Result<()>,
    ) -> io::Result<()> {
        let start = self.pending.len();
        if let Err(err) = write_json(&mut self.pending) {
            self.pending.truncate(start);
            return Err(err);
        }
        self.pending.push(b'\n');
        if self.pending.len() < PENDING_BYTES {
            return Ok(());
        }
        self.write_pending()
    }

    /// Writes what is buffered and flushes; call it at the end and on failure, and see its
    /// error.
    pub fn flush(&mut self) -> io::Result<()> {
        self.write_pending()?;
        self.out.flush().map_err(|err| WriteFailed::inside_io(&self.target, err))
    }

    /// Writes the buffered lines unless one of them holds the secret, in which case none is
    /// ever written. A match cannot span two lines: the secret was sent in a header, which
    /// holds no line break.
    fn write_pending(&mut self) -> io::Result<()> {
        let mut invisible = Invisible::default();
        let lines = &self.pending;
        if redact::holds_secret_scanning(lines, |block| invisible.look_in(lines, block)) {
            self.pending.clear();
            return Err(io::Error::other(SecretInRecord));
        }
        if let Some(first) = invisible.first {
            escape_invisible_from(&mut self.pending, first);
        }
        let (mut written, mut result) = (0, Ok(()));
        while written < self.pending.len() && result.is_ok() {
            match self.out.write(&self.pending[written..]) {
                Ok(0) => result = Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => written += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => result = Err(err),
            }
        }
        if result.is_err() {
            let cut = self.pending[..written].iter().rev().take_while(|&&byte| byte != b'\n');
            self.take_back(cut.count());
        }
        self.pending.clear();
        result.map_err(|err| WriteFailed::inside_io(&self.target, err))
    }

    /// Removes the last `bytes` written, if there are any and `out` is a regular file.
    fn take_back(&mut self, bytes: usize) {
        if let Some(fd) = self.descriptor.filter(|_| bytes > 0) {
            truncate_by(fd, bytes as i64);
        }
    }
}

/// Rewrites, in JSON lines, every character that a terminal would act on or that a reader
/// would not see as the `\uXXXX` escape that JSON already allows for it: C1 controls, line
/// and paragraph separators (which end lines for consumers that split on Unicode line
/// breaks) and format characters such as bidirectional overrides (see
/// `redact::is_unsafe`). The decoded value stays the same; C0 controls were escaped by the
/// JSON writers already, and such characters can only stand inside strings.
#[cfg(test)]
fn escape_invisible(lines: &mut Vec<u8>) {
    let mut invisible = Invisible::default();
    let redactor = redact::Redactor::new(crate::fuzz::PAT);
    let holds = redactor.holds_scanning(lines, |block| invisible.look_in(lines, block));
    assert!(!holds, "no secret in the lines");
    if let Some(first) = invisible.first {
        escape_invisible_from(lines, first);
    }
}

/// `escape_invisible` of `lines` whose first such character starts at `first`.
fn escape_invisible_from(lines: &mut Vec<u8>, first: usize) {
    let Ok(text) = std::str::from_utf8(&lines[first..]) else { return };
    let mut escaped = Vec::with_capacity(lines.len() + 64);
    escaped.extend_from_slice(&lines[..first]);
    let mut units = [0u16; 2];
    for c in text.chars() {
        if unsafe_in_records(c) {
            for unit in c.encode_utf16(&mut units) {
                escaped.extend_from_slice(format!("\\u{unit:04x}").as_bytes());
            }
        } else {
            escaped.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        }
    }
    *lines = escaped;
}

/// The search for the first character that `escape_invisible` rewrites, handed the blocks
/// of the lines that are not all ASCII, in order, by the search for the secret (which looks
/// at every byte anyway). Of a block, eight ASCII bytes are passed at a time; of the rest,
/// only a character that starts with a byte that begins such characters is decoded.
#[derive(Default)]
struct Invisible {
    /// Where the character after the last one looked at starts: past the end of the last
    /// block when a character crosses into the next.
    resume: usize,
    /// Where the first character to rewrite starts, once found.
    first: Option<usize>,
}

impl Invisible {
    /// Looks at the characters that start in `block` of `lines`. The byte before the block
    /// is ASCII, or the end of a character looked at before, so the block (or `resume`, if
    /// that is later) is where a character starts.
    fn look_in(&mut self, lines: &[u8], block: Range<usize>) {
        const TOPS: u64 = u64::from_ne_bytes([0x80; 8]);
        if self.first.is_some() {
            return;
        }
        let word_at = |at: usize| {
            let bytes = lines.get(at..at + 8)?;
            Some(u64::from_ne_bytes(bytes.try_into().expect("eight bytes")))
        };
        let mut at = self.resume.max(block.start);
        while at < block.end {
            // `at` is where a character starts, so eight ASCII bytes from it can be passed.
            if word_at(at).is_some_and(|word| word & TOPS == 0) {
                at += 8;
                continue;
            }
            let lead = lines[at];
            let width = match lead {
                0xc0..=0xdf => 2,
                0xe0..=0xef => 3,
                0xf0..=0xff => 4,
                _ => 1,
            };
            if matches!(lead, 0xc2 | 0xd8 | 0xdb | 0xdc | 0xe0 | 0xe1 | 0xe2 | 0xef | 0xf0 | 0xf3)
                && let Some(bytes) = lines.get(at..at + width)
                && let Ok(text) = std::str::from_utf8(bytes)
                && text.chars().any(unsafe_in_records)
            {
                self.first = Some(at);
                return;
            }
            at += width;
        }
        self.resume = at;
    }
}

/// A character `escape_invisible` escapes: any unsafe one beyond ASCII.
fn unsafe_in_records(c: char) -> bool {
    !c.is_ascii() && redact::is_unsafe(c)
}

/// Shortens the regular file open at `fd` by `bytes` at its current position, which is its
/// end after a write; anything else (a pipe, a device) is left alone.
fn truncate_by(fd: RawFd, bytes: i64) {
    unsafe extern "C" {
        fn lseek(fd: c_int, offset: i64, whence: c_int) -> i64;
        fn ftruncate(fd: c_int, length: i64) -> c_int;
    }
    const SEEK_CUR: c_int = 1;
    const SEEK_SET: c_int = 0;
    // SAFETY: lseek and ftruncate on a descriptor take no memory; on a pipe or a device they
    // fail (or do nothing) without harm.
    unsafe {
        let end = lseek(fd, 0, SEEK_CUR);
        if end >= bytes && ftruncate(fd, end - bytes) == 0 {
            lseek(fd, end - bytes, SEEK_SET);
        }
    }
}

/// A record from the server holds the PAT, which only a hostile server could have put there:
/// it is not written, and the sync ends.
#[derive(Debug)]
pub struct SecretInRecord;

impl std::fmt::Display for SecretInRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the server sent the PAT back inside a record, which is not written: only a hostile server or proxy does that; revoke the PAT and check {}",
            crate::settings::INSTANCE_URL
        )
    }
}

impl std::error::Error for SecretInRecord {}

/// The records could not be written where they go (a full disk, a file size limit, an I/O
/// error): says where, and has an exit status of its own.
#[derive(Debug)]
pub struct WriteFailed {
    target: String,
    source: io::Error,
}

impl WriteFailed {
    pub fn new(target: String, source: io::Error) -> WriteFailed {
        WriteFailed { target, source }
    }

    /// `source` as an `io::Error` of the same kind that carries the target.
    fn inside_io(target: &str, source: io::Error) -> io::Error {
        io::Error::new(source.kind(), WriteFailed::new(target.to_string(), source))
    }
}

impl std::fmt::Display for WriteFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write the records to {}", self.target)
    }
}

impl std::error::Error for WriteFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Whether `err` is, or was caused by, a failure to write the records.
pub fn is_write_failure(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        let in_io = cause.downcast_ref::<io::Error>().and_then(io::Error::get_ref);
        cause.is::<WriteFailed>() || in_io.is_some_and(|inner| inner.is::<WriteFailed>())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_record_is_one_line() -> io::Result<()> {
        let mut buffer = Vec::new();
        let mut output = Output::new(&mut buffer);
        output.write(&serde_json::json!({"kind": "a", "text": "line\nbreak"}))?;
        output.write(&serde_json::json!({"kind": "b"}))?;
        output.flush()?;
        drop(output);
        assert_eq!(buffer, b"{\"kind\":\"a\",\"text\":\"line\\nbreak\"}\n{\"kind\":\"b\"}\n");
        Ok(())
    }

    #[test]
    fn no_line_holding_the_secret_is_written_wherever_it_falls() {
        // The same secret as the fuzz test's, which sets it for the whole test binary too.
        crate::redact::hide(crate::fuzz::PAT);
        let filler = "f".repeat(1000);
        let records = 3 * PENDING_BYTES / filler.len();
        // The first line, the line that fills the first buffer and the one after it, and the
        // last line, which is only searched by the final flush (the three buffers before it
        // hold 65 lines each).
        for secret_at in
            [0, PENDING_BYTES / filler.len() - 1, PENDING_BYTES / filler.len(), records - 1]
        {
            let mut sink = Vec::new();
            let mut output = Output::new(&mut sink);
            let mut failed = None;
            for at in 0..records {
                let text = if at == secret_at { crate::fuzz::PAT } else { &filler };
                if let Err(err) = output.write(&serde_json::json!({ "at": at, "text": text })) {
                    failed = Some(err);
                    break;
                }
            }
            // A failed sync still flushes what it printed (`main::sync_to`).
            let flushed = output.flush();
            let failed = failed.or(flushed.err()).expect("the sync fails");
            drop(output);
            assert!(failed.get_ref().is_some_and(|err| err.is::<SecretInRecord>()), "{failed}");
            let written = String::from_utf8_lossy(&sink);
            assert!(!written.contains(crate::fuzz::PAT), "line {secret_at} was written");
            assert!(sink.is_empty() || sink.ends_with(b"\n"), "whole lines only");
        }
    }

    /// Sixteen bytes of the PAT right before or after an invisible character, across the
    /// border of two blocks of the search: the lines are not written.
    #[test]
    fn the_secret_beside_an_invisible_character_is_found_wherever_it_falls() {
        crate::redact::hide(crate::fuzz::PAT);
        let piece = &crate::fuzz::PAT[..16];
        for at in 0..70 {
            for text in [
                format!("{}{piece}\u{2028}ü", "a".repeat(at)),
                format!("{}\u{2028}{piece}", "a".repeat(at)),
            ] {
                let mut sink = Vec::new();
                let mut output = Output::new(&mut sink);
                output.write(&serde_json::json!({ "name": text })).expect("buffered");
                let err = output.flush().expect_err("the secret is refused");
                drop(output);
                assert!(err.get_ref().is_some_and(|err| err.is::<SecretInRecord>()), "{err}");
                assert!(sink.is_empty(), "at {at}");
            }
        }
    }

    /// A writer that fails every write with `kind`.
    struct Failing(io::ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(self.0.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failed_write_names_its_target_and_keeps_its_kind() {
        let mut output =
            Output::new(Failing(io::ErrorKind::StorageFull)).named("--output x".into());
        output.write(&serde_json::json!({"kind": "a"})).expect("buffered");
        let err = anyhow::Error::from(output.flush().expect_err("the flush fails"));
        assert!(is_write_failure(&err));
        assert!(
            format!("{err:#}").starts_with("cannot write the records to --output x: "),
            "{err:#}"
        );

        let mut output = Output::new(Failing(io::ErrorKind::BrokenPipe));
        output.write(&serde_json::json!({"kind": "a"})).expect("buffered");
        let err = output.flush().expect_err("the flush fails");
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "`| head` stays recognizable");
        assert_eq!(err.to_string(), "cannot write the records to stdout");
        assert!(!is_write_failure(&anyhow::anyhow!("HTTP 500")));
    }

    #[test]
    fn characters_a_terminal_acts_on_are_escaped_with_the_same_value() -> io::Result<()> {
        let name = "Mallory\u{85}\u{9b}2J\u{2028}x\u{2029}\u{202e}gnp.exe\u{2066}\u{200f}\u{200b}\u{e0001}";
        let mut buffer = Vec::new();
        let mut output = Output::new(&mut buffer);
        output.write(
            &serde_json::json!({"kind": "a", "name": name, "fine": "Zoë Müller – O’Brien"}),
        )?;
        output.flush()?;
        drop(output);
        let line = String::from_utf8(buffer).expect("UTF-8");
        assert_eq!(
            line,
            "{\"fine\":\"Zoë Müller – O’Brien\",\"kind\":\"a\",\"name\":\"Mallory\\u0085\\u009b2J\\u2028x\\u2029\\u202egnp.exe\\u2066\\u200f\\u200b\\udb40\\udc01\"}\n"
        );
        assert!(
            line.is_ascii() || !line.chars().any(crate::redact::is_unsafe) || line.ends_with('\n')
        );
        let value: serde_json::Value = serde_json::from_str(&line).expect("still JSON");
        assert_eq!(value["name"], name, "the same decoded value");
        Ok(())
    }

    /// Each bidirectional isolate and mark, which reorder what a terminal shows, is escaped
    /// in records.
    #[test]
    fn every_bidi_isolate_and_mark_is_escaped_in_records() -> io::Result<()> {
        for c in ['\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{200e}', '\u{200f}'] {
            let mut buffer = Vec::new();
            let mut output = Output::new(&mut buffer);
            output.write(&serde_json::json!({ "name": format!("a{c}b") }))?;
            output.flush()?;
            drop(output);
            let expected = format!("{{\"name\":\"a\\u{:04x}b\"}}\n", c as u32);
            assert_eq!(String::from_utf8_lossy(&buffer), expected, "{c:?}");
        }
        Ok(())
    }

    #[test]
    fn an_invisible_character_is_found_wherever_it_falls() {
        // Past the first block of 64 bytes, and at every place within a word of 8.
        for at in 0..140 {
            for (c, escaped) in
                [('\u{2028}', "\\u2028"), ('\u{85}', "\\u0085"), ('\u{e0041}', "\\udb40\\udc41")]
            {
                // Right after another character beyond ASCII, and ASCII bytes after one.
                for text in [
                    format!("{}ü{c}ö{}", "a".repeat(at), "b".repeat(140 - at)),
                    format!("ü{}{c}ö{}", "a".repeat(at), "b".repeat(140 - at)),
                ] {
                    let mut lines = text.clone().into_bytes();
                    escape_invisible(&mut lines);
                    assert_eq!(lines, text.replace(c, escaped).into_bytes(), "{c:?} at {at}");
                }
            }
        }
        // A character crossing from one block of 32 bytes into the next, or 8 ASCII bytes
        // passed at once reaching into the next block, and the character after them.
        for at in 25..40 {
            let text = format!("{}€{}\u{202e}x", "a".repeat(at), "b".repeat(40 - at));
            let mut lines = text.clone().into_bytes();
            escape_invisible(&mut lines);
            assert_eq!(lines, text.replace('\u{202e}', "\\u202e").into_bytes(), "at {at}");
        }
        let mut fine = "Zoë Müller – O’Brien ½".repeat(9).into_bytes();
        escape_invisible(&mut fine);
        assert_eq!(fine, "Zoë Müller – O’Brien ½".repeat(9).into_bytes());
    }
}
