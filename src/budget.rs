//! The memory budget of a run: what a sync keeps from one page to the next (the hashes of the
//! rows and ids it has seen, role keys, names and manager roles) is charged here, all together,
//! against `--memory-limit`, so that no server can make it grow without bound.
//!
//! Everything else a sync holds is bounded by itself: the response bodies (4 MiB each, one per
//! list being walked), the rows of a page, the project grants held for their projects (4 MiB),
//! the output buffer. `FIXED_MIB` is set aside for those; the rest of the limit is the budget.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::settings;

/// What a run takes besides what it keeps across pages: the binary, TLS, up to three
/// response bodies of 4 MiB with their rows (a project's list inside the projects walk, a
/// project grant's managers inside its project), the project grants held (4 MiB) and the
/// output buffer. The hostile-server tests hold the peak RSS of such runs to it.
pub const FIXED_MIB: u64 = 24;
/// The least `--memory-limit` accepted, in MiB: 1 MiB of budget, the hashes of some 50,000
/// rows (enough for a small organization, and for the tests to reach the limit quickly).
pub const MIN_LIMIT_MIB: u64 = FIXED_MIB + 1;
/// The default `--memory-limit`, in MiB: room for an organization of 2 million users (16
/// MiB of their hashes, twice over while a changing user list is read again) with a million
/// user grants in one project.
pub const DEFAULT_LIMIT_MIB: u64 = 128;
/// The most `--memory-limit` accepted, in MiB (1 TiB).
pub const MAX_LIMIT_MIB: u64 = 1 << 20;

const MIB: usize = 1 << 20;

/// The bytes the run may keep across pages, and the bytes it keeps now.
static BUDGET: AtomicUsize = AtomicUsize::new(((DEFAULT_LIMIT_MIB - FIXED_MIB) as usize) * MIB);
static KEPT: AtomicUsize = AtomicUsize::new(0);
static LIMIT_MIB: AtomicUsize = AtomicUsize::new(DEFAULT_LIMIT_MIB as usize);

/// Sets the limit of the run, in MiB, as `--memory-limit` gives it (at least `MIN_LIMIT_MIB`).
pub fn set_limit(mib: u64) {
    let mib = mib.clamp(MIN_LIMIT_MIB, MAX_LIMIT_MIB);
    LIMIT_MIB.store(mib as usize, Ordering::Relaxed);
    BUDGET.store(((mib - FIXED_MIB) as usize).saturating_mul(MIB), Ordering::Relaxed);
}

/// Bytes charged to the budget by one holder, given back when it is dropped.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Charge(usize);

impl Charge {
    /// Charges `bytes` more, unless the budget would be exceeded; `what` names what was to
    /// be kept, for the message.
    pub fn add(&mut self, bytes: usize, what: impl FnOnce() -> String) -> Result<(), OverBudget> {
        let budget = BUDGET.load(Ordering::Relaxed);
        let taken = KEPT.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |kept| {
            kept.checked_add(bytes).filter(|&after| after <= budget)
        });
        match taken {
            Ok(_) => {
                self.0 += bytes;
                Ok(())
            }
            Err(_) => {
                Err(OverBudget { what: what(), limit_mib: LIMIT_MIB.load(Ordering::Relaxed) })
            }
        }
    }

    /// Gives `bytes` of this charge back.
    pub fn release(&mut self, bytes: usize) {
        let bytes = bytes.min(self.0);
        self.0 -= bytes;
        KEPT.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// The bytes charged.
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.0
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.release(self.0);
    }
}

/// What a sync would keep past its `--memory-limit`: an organization larger than the limit
/// allows, or a server that sends rows without end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverBudget {
    what: String,
    limit_mib: usize,
}

impl fmt::Display for OverBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let setting = &settings::MEMORY_LIMIT;
        write!(
            f,
            "{} would take the sync past its memory limit of {} MiB: raise {setting} if the organization is that large (no ZITADEL sends rows without end)",
            self.what, self.limit_mib
        )
    }
}

impl std::error::Error for OverBudget {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_charge_past_the_budget_is_refused_and_a_dropped_one_given_back() {
        // Other tests charge the same budget meanwhile, so only what cannot fit is asked for.
        let mut charge = Charge::default();
        let err = charge.add(usize::MAX / 2, || "the users".to_string()).unwrap_err();
        assert_eq!(charge.bytes(), 0);
        let message = err.to_string();
        assert!(message.starts_with("the users would take the sync past its memory limit of "));
        assert!(message.contains("raise --memory-limit (BATON_MEMORY_LIMIT)"), "{message}");
        charge.add(1000, String::new).unwrap();
        charge.release(400);
        assert_eq!(charge.bytes(), 600);
        drop(charge);
    }
}
