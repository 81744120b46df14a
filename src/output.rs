//! Writes NDJSON records: one JSON object per line, whole lines only; a failed write says
//! where it was writing.

use std::io::{self, BufWriter, Write};

use serde::Serialize;

use crate::redact;

/// The one writer of records. Each record is serialized into a line buffer first and then
/// written in one piece, so whatever ends the program, the stream ends on a complete line.
/// A failed write is a `WriteFailed` inside the `io::Error`, which keeps its kind (a closed
/// pipe stays a `BrokenPipe`).
pub struct Output<W: Write> {
    out: BufWriter<W>,
    line: Vec<u8>,
    /// What `out` is, for messages: "stdout" unless `named`.
    target: String,
}

impl<W: Write> Output<W> {
    pub fn new(out: W) -> Output<W> {
        Output {
            out: BufWriter::with_capacity(64 * 1024, out),
            line: Vec::with_capacity(1024),
            target: "stdout".to_string(),
        }
    }

    /// Names what `out` is in messages, such as `--output export.ndjson`.
    pub fn named(mut self, target: String) -> Output<W> {
        self.target = target;
        self
    }

    pub fn write<T: Serialize>(&mut self, record: &T) -> io::Result<()> {
        self.write_with(|line| Ok(serde_json::to_writer(line, record)?))
    }

    /// Writes one record whose JSON `write_json` puts into the line (see `Grant::write_json`).
    pub fn write_with(
        &mut self,
        write_json: impl FnOnce(&mut Vec<u8>) -> io::Result<()>,
    ) -> io::Result<()> {
        self.line.clear();
        write_json(&mut self.line)?;
        if redact::holds_secret(&self.line) {
            return Err(io::Error::other(SecretInRecord));
        }
        self.line.push(b'\n');
        self.out.write_all(&self.line).map_err(|err| WriteFailed::inside_io(&self.target, err))
    }

    /// Flushes what is buffered; call it at the end and on failure, and see its error.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush().map_err(|err| WriteFailed::inside_io(&self.target, err))
    }
}

/// A record from the server holds the PAT, which only a hostile server could have put there:
/// it is not written, and the sync ends.
#[derive(Debug)]
pub struct SecretInRecord;

impl std::fmt::Display for SecretInRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "the server sent the PAT back inside a record, which is not written: only a hostile server or proxy does that; revoke the PAT and check --instance-url (BATON_INSTANCE_URL)",
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
}
