//! The deadline of the attempt under way, which every read and write on every connection
//! obeys, so that `--timeout` bounds an attempt as a whole in every phase.
//!
//! ureq bounds most phases by what is left of its global timeout, but some by a timeout
//! that each read starts afresh: the wait for a proxy's answer to CONNECT gives every read
//! the whole connect timeout, so a proxy that sends a byte now and then holds an attempt
//! forever. A transport beneath every other one cuts each wait to what is left until the
//! deadline, and fails at the deadline as ureq's own global timeout does. No thread is
//! started: the waits are the socket's own.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};

/// When the attempt under way must end, shared by the client that starts each attempt and
/// every connection it uses, pooled ones included.
#[derive(Debug, Clone, Default)]
pub struct Deadline(Arc<Mutex<Option<Instant>>>);

impl Deadline {
    /// Starts an attempt that may take `timeout`.
    pub fn start(&self, timeout: Duration) {
        *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) =
            Instant::now().checked_add(timeout);
    }

    /// `timeout`, cut to what is left of the attempt; an error once nothing is left.
    fn clamp(&self, timeout: NextTimeout) -> Result<NextTimeout, ureq::Error> {
        let deadline = *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(deadline) = deadline else {
            return Ok(timeout);
        };
        clamp(timeout, deadline.saturating_duration_since(Instant::now()))
    }
}

/// `timeout` cut to `left`; a timeout of the whole attempt when nothing is left (ureq
/// would turn a wait of zero into one of a second).
fn clamp(mut timeout: NextTimeout, left: Duration) -> Result<NextTimeout, ureq::Error> {
    if left.is_zero() {
        return Err(ureq::Error::Timeout(ureq::Timeout::Global));
    }
    let left = left.into();
    if left < timeout.after {
        timeout.after = left;
        timeout.reason = ureq::Timeout::Global;
    }
    Ok(timeout)
}

/// Puts every connection the chain made so far beneath a [`Deadline`]. Placed right after
/// the TCP connector, it is beneath TLS and beneath the CONNECT exchange, which ureq runs
/// through the whole chain on the proxy's own connection.
#[derive(Debug)]
pub struct Bounded(pub Deadline);

impl<In: Transport> Connector<In> for Bounded {
    type Out = BoundedTransport<In>;

    fn connect(
        &self,
        _details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        Ok(chained.map(|inner| BoundedTransport { inner, deadline: self.0.clone() }))
    }
}

/// A connection whose every wait ends by the deadline.
#[derive(Debug)]
pub struct BoundedTransport<T> {
    inner: T,
    deadline: Deadline,
}

impl<T: Transport> Transport for BoundedTransport<T> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let timeout = self.deadline.clamp(timeout)?;
        self.inner.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let timeout = self.deadline.clamp(timeout)?;
        self.inner.await_input(timeout)
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wait_ends_by_the_deadline() {
        let secs = |secs: u64| Duration::from_secs(secs);
        let next = |after: ureq::unversioned::transport::time::Duration| NextTimeout {
            after,
            reason: ureq::Timeout::Connect,
            ..NextTimeout::default()
        };
        let never = ureq::unversioned::transport::time::Duration::NotHappening;
        let check =
            |timeout: NextTimeout, left: Duration, expected: Option<(u64, ureq::Timeout)>| {
                let got = clamp(timeout, left).ok().map(|got| (got.after.as_secs(), got.reason));
                assert_eq!(got, expected, "{timeout:?} with {left:?} left");
            };
        check(next(secs(30).into()), secs(3), Some((3, ureq::Timeout::Global)));
        check(next(secs(2).into()), secs(3), Some((2, ureq::Timeout::Connect)));
        check(next(never), secs(3), Some((3, ureq::Timeout::Global)));
        check(next(secs(2).into()), Duration::ZERO, None);
        assert!(matches!(
            clamp(next(never), Duration::ZERO),
            Err(ureq::Error::Timeout(ureq::Timeout::Global))
        ));
    }
}
