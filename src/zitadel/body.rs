//! The buffer a response body is read into, kept initialized from one response to the next.

use std::io::{self, Read};

/// The least and the most that the room grows by when it is full: a step at most this
/// large is zeroed, so a buffer touches little more memory than its largest body, while
/// the `Vec` beneath it doubles its capacity as it must.
const LEAST_GROWTH: usize = 8 * 1024;
const MOST_GROWTH: usize = 64 * 1024;

/// The bytes of the last response read into it. `Read` reads only into initialized bytes,
/// and `read_to_end` zeroes the room it offers on every call: 7 % of a sync's instructions
/// went to zeroing room that held the page before. Here the room beyond the body stays
/// initialized, so a buffer reused for every page of a list is zeroed once, as it grows.
#[derive(Debug, Default)]
pub struct Body {
    room: Vec<u8>,
    len: usize,
}

impl Body {
    /// The body last read.
    pub fn bytes(&self) -> &[u8] {
        &self.room[..self.len]
    }

    /// Empties the body, keeping the room.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Replaces the body with all that `reader` gives until it ends. The reader's limit is
    /// what bounds the room.
    pub fn read_from(&mut self, mut reader: impl Read) -> io::Result<()> {
        self.clear();
        loop {
            if self.len == self.room.len() {
                let more = self.room.len().clamp(LEAST_GROWTH, MOST_GROWTH);
                self.room.resize(self.room.len() + more, 0);
            }
            match reader.read(&mut self.room[self.len..]) {
                Ok(0) => return Ok(()),
                Ok(read) => self.len += read,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that gives `data` a few bytes at a time, with an interruption between.
    struct Trickle<'a> {
        data: &'a [u8],
        interrupt: bool,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.interrupt = !self.interrupt;
            if self.interrupt {
                return Err(io::ErrorKind::Interrupted.into());
            }
            let amount = buf.len().min(self.data.len()).min(3000);
            buf[..amount].copy_from_slice(&self.data[..amount]);
            self.data = &self.data[amount..];
            Ok(amount)
        }
    }

    #[test]
    fn each_read_replaces_the_body_and_keeps_the_room() {
        let mut body = Body::default();
        let long: Vec<u8> = (0..20_000u32).map(|n| (n % 251) as u8).collect();
        body.read_from(Trickle { data: &long, interrupt: false }).unwrap();
        assert_eq!(body.bytes(), long);
        let room = body.room.len();
        assert!(room >= long.len() && room <= long.len() + MOST_GROWTH, "{room}");

        body.read_from(&b"{\"result\":[]}"[..]).unwrap();
        assert_eq!(body.bytes(), b"{\"result\":[]}");
        assert_eq!(body.room.len(), room, "the room is kept");

        body.read_from(&b""[..]).unwrap();
        assert_eq!(body.bytes(), b"");

        body.read_from(&b"[]"[..]).unwrap();
        body.clear();
        assert_eq!((body.bytes(), body.room.len()), (&b""[..], room));
    }

    #[test]
    fn a_failed_read_is_reported() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("reset"))
            }
        }
        let mut body = Body::default();
        assert_eq!(body.read_from(Broken).unwrap_err().to_string(), "reset");
    }
}
