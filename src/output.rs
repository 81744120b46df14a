//! Writes NDJSON records: one JSON object per line, whole lines only.

use std::io::{self, BufWriter, Write};

use serde::Serialize;

/// The one writer of records. Each record is serialized into a line buffer first and then
/// written in one piece, so whatever ends the program, the stream ends on a complete line.
pub struct Output<W: Write> {
    out: BufWriter<W>,
    line: Vec<u8>,
}

impl<W: Write> Output<W> {
    pub fn new(out: W) -> Output<W> {
        Output { out: BufWriter::with_capacity(64 * 1024, out), line: Vec::with_capacity(1024) }
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
        self.line.push(b'\n');
        self.out.write_all(&self.line)
    }

    /// Flushes what is buffered; call it at the end and on failure, and see its error.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
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
}
