//! Keyed 64-bit hashes of ids, and the compact set that keeps them: what a sync remembers of
//! the rows and ids it has seen (8 bytes each), instead of their text; and the map of the
//! few strings it must keep as text, charged to the memory budget as the sets are.
//!
//! The hash is a multiply-mix (each 8 bytes folded into the state with a 64 × 64 → 128-bit
//! multiply, as foldhash and wyhash do), about four times cheaper than the standard library's
//! SipHash on short ids. It is keyed with random keys drawn per run (per walk, for a list's
//! rows): ids are chosen by a server, and without the keys, which never leave the process, it
//! cannot choose ids whose hashes collide, neither to make a set's probes long nor to make
//! two ids count as one.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};

use crate::budget::{Charge, OverBudget};

/// Odd constants from the digits of pi, as foldhash's, mixed into the keys.
const PI: [u64; 3] = [0x243f_6a88_85a3_08d3, 0x1319_8a2e_0370_7344, 0xa409_3822_299f_31d0];

/// The keys of one hash function, drawn at random; `Default` draws new ones.
#[derive(Debug, Clone, Copy)]
pub struct Keyed {
    keys: [u64; 3],
}

impl Default for Keyed {
    fn default() -> Keyed {
        // The standard library's random keys, seeded by the OS once per thread and
        // different for every `RandomState`.
        let random = RandomState::new();
        let keys = PI.map(|pi| random.hash_one(pi) | 1);
        Keyed { keys }
    }
}

impl BuildHasher for Keyed {
    type Hasher = MixHasher;

    fn build_hasher(&self) -> MixHasher {
        MixHasher { keys: self.keys, state: self.keys[2], tail: 0, tail_len: 0 }
    }
}

/// The multiply-mix hasher. Bytes are taken 8 at a time across `write` calls, so that the
/// pieces of an id written one after another hash as the whole id does.
#[derive(Debug, Clone)]
pub struct MixHasher {
    keys: [u64; 3],
    state: u64,
    /// The bytes of an unfinished word, little-endian, and how many there are (0 to 7).
    tail: u64,
    tail_len: u32,
}

/// The 128-bit product of `a` and `b`, its halves folded together.
fn folded_multiply(a: u64, b: u64) -> u64 {
    let full = u128::from(a) * u128::from(b);
    (full as u64) ^ ((full >> 64) as u64)
}

impl MixHasher {
    fn mix(&mut self, word: u64) {
        self.state = folded_multiply(word ^ self.keys[0], self.state ^ self.keys[1]);
    }
}

impl Hasher for MixHasher {
    fn write(&mut self, mut bytes: &[u8]) {
        if self.tail_len > 0 {
            while self.tail_len < 8 {
                let Some((&byte, rest)) = bytes.split_first() else { return };
                self.tail |= u64::from(byte) << (8 * self.tail_len);
                self.tail_len += 1;
                bytes = rest;
            }
            let word = std::mem::take(&mut self.tail);
            self.tail_len = 0;
            self.mix(word);
        }
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            self.mix(u64::from_le_bytes(word.try_into().unwrap_or_default()));
        }
        for (i, &byte) in words.remainder().iter().enumerate() {
            self.tail |= u64::from(byte) << (8 * i);
        }
        self.tail_len = words.remainder().len() as u32;
    }

    fn write_u8(&mut self, byte: u8) {
        self.write(&[byte]);
    }

    fn finish(&self) -> u64 {
        // The unfinished word carries its length in its top byte, which its bytes leave free.
        let last = self.tail | u64::from(self.tail_len) << 56;
        folded_multiply(last ^ self.keys[2], self.state ^ self.keys[0])
    }
}

/// A set of 64-bit hashes: open addressing with linear probing in a power-of-two table of
/// bare hashes, at most seven eighths full, as the standard library's set is (8 bytes a slot,
/// 9 to 18 bytes a hash with the room it leaves, against 10 to 21 for the standard library's
/// 9-byte slots); its slots are charged to the memory budget. Full to seven eighths, a lookup
/// that finds its hash probes 4.5 slots on average and one that does not 32 (four cache
/// lines, read in order); a table is that full only just before it grows. The hash 0 marks an empty slot, so it is stored as 1: two
/// ids merge only when their keyed hashes are 0 and 1, a chance of one in 2^63.
#[derive(Debug)]
pub struct HashTable {
    slots: Vec<u64>,
    len: usize,
    charge: Charge,
    /// What the set holds, for the message when it would outgrow the budget.
    what: &'static str,
}

impl HashTable {
    pub fn new(what: &'static str) -> HashTable {
        HashTable { slots: Vec::new(), len: 0, charge: Charge::default(), what }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// The slots of the table, each an 8-byte hash.
    #[cfg(test)]
    pub fn slots(&self) -> usize {
        self.slots.len()
    }

    pub fn contains(&self, hash: u64) -> bool {
        let hash = hash.max(1);
        if self.slots.is_empty() {
            return false;
        }
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            match self.slots[i] {
                0 => return false,
                slot if slot == hash => return true,
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Asks the processor to bring the slot where a lookup of `hash` starts into its cache,
    /// so that a `contains` of the same hash a little later does not wait for memory: a
    /// large table (1 MiB at 100,000 ids) is evicted by the pages read between two lookups.
    /// A hint only, which changes nothing the table holds.
    pub fn prefetch(&self, hash: u64) {
        let Some(slot) = self.slots.get(hash.max(1) as usize & self.slots.len().wrapping_sub(1))
        else {
            return;
        };
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            // SAFETY: SSE, which the intrinsic needs, is part of every x86_64 processor, and a
            // prefetch reads nothing the program sees, of an address inside the table anyway.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(slot).cast()) };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = slot;
    }

    /// Adds `hash`; false if it was there already. Fails when the table would have to grow
    /// past the memory budget.
    pub fn insert(&mut self, hash: u64) -> Result<bool, OverBudget> {
        if (self.len + 1) * 8 > self.slots.len() * MAX_LOAD_EIGHTHS {
            self.resize((self.slots.len() * 2).max(8))?;
        }
        let hash = hash.max(1);
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            match self.slots[i] {
                0 => break,
                slot if slot == hash => return Ok(false),
                _ => i = (i + 1) & mask,
            }
        }
        self.slots[i] = hash;
        self.len += 1;
        Ok(true)
    }

    /// Makes room for `rows` hashes in all, as far as the budget allows: a hint, never an
    /// error (the inserts say when the rows themselves do not fit).
    pub fn reserve(&mut self, rows: usize) {
        let slots = Self::slots_for(rows);
        if slots > self.slots.len() {
            let _ = self.resize(slots);
        }
    }

    /// Shrinks the table to what its hashes need (it was sized for more rows than came).
    pub fn shrink_to_fit(&mut self) {
        let slots = Self::slots_for(self.len);
        if slots < self.slots.len() {
            let _ = self.resize(slots);
        }
    }

    /// The slots for `rows` hashes: a power of two, at most seven eighths full.
    fn slots_for(rows: usize) -> usize {
        match rows {
            0 => 0,
            _ => rows
                .saturating_mul(8)
                .div_ceil(MAX_LOAD_EIGHTHS)
                .checked_next_power_of_two()
                .unwrap_or(1 << 62)
                .max(8),
        }
    }

    /// Moves the hashes into a table of `slots` slots, charging it (while both tables live)
    /// before it is allocated.
    fn resize(&mut self, slots: usize) -> Result<(), OverBudget> {
        let bytes = slots.saturating_mul(8);
        let (what, len) = (self.what, self.len);
        self.charge.add(bytes, || format!("{what} ({len} ids, {} KiB of hashes)", bytes >> 10))?;
        let old = std::mem::replace(&mut self.slots, vec![0; slots]);
        let mask = slots - 1;
        for hash in old.iter().copied().filter(|&hash| hash != 0) {
            let mut i = hash as usize & mask;
            while self.slots[i] != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = hash;
        }
        self.charge.release(old.len() * 8);
        Ok(())
    }
}

/// How full a table may be, in eighths.
const MAX_LOAD_EIGHTHS: usize = 7;

/// A set of ids kept as keyed 8-byte hashes: the rows a walk used, or the users and
/// organizations a sync printed.
#[derive(Debug)]
pub struct IdSet {
    hasher: Keyed,
    hashes: HashTable,
}

impl IdSet {
    pub fn new(what: &'static str) -> IdSet {
        IdSet::of(Keyed::default(), HashTable::new(what))
    }

    /// The set of the hashes in `hashes`, made with `hasher`.
    pub fn of(hasher: Keyed, hashes: HashTable) -> IdSet {
        IdSet { hasher, hashes }
    }

    pub fn contains(&self, id: &str) -> bool {
        self.hashes.contains(self.hasher.hash_one(id))
    }

    /// Brings where a lookup of `id` starts into the cache (`HashTable::prefetch`).
    pub fn prefetch(&self, id: &str) {
        self.hashes.prefetch(self.hasher.hash_one(id));
    }

    /// Adds `id` (a `str`, or what hashes as one, such as a grant's id); false if it was
    /// there already.
    pub fn insert<I: Hash + ?Sized>(&mut self, id: &I) -> Result<bool, OverBudget> {
        self.hashes.insert(self.hasher.hash_one(id))
    }
}

/// Strings a sync must keep as text across pages (a project's role keys with their
/// entitlement ids, a resource's manager roles, the names of other organizations), keyed
/// per run as the sets are; each entry is charged to the memory budget before it is kept,
/// since a server could send entries without end.
#[derive(Debug, Default)]
pub struct KeptMap {
    entries: HashMap<String, String, Keyed>,
    charge: Charge,
}

/// What an entry costs besides its strings' bytes: two `String`s, the heap blocks' headers
/// and the map's slot with its room to spare.
const ENTRY_BYTES: usize = 2 * 24 + 2 * 16 + 64;

impl KeptMap {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.get(key).map(String::as_str)
    }

    /// Keeps `value` under `key` (a key kept already keeps its value), unless that would
    /// take the sync past its memory limit; `what`, given how many entries there are, names
    /// what the map holds for that message.
    pub fn insert(
        &mut self,
        key: &str,
        value: String,
        what: impl FnOnce(usize) -> String,
    ) -> Result<(), OverBudget> {
        if self.entries.contains_key(key) {
            return Ok(());
        }
        let count = self.entries.len();
        self.charge.add(key.len() + value.len() + ENTRY_BYTES, || what(count))?;
        self.entries.insert(key.to_string(), value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_hash_as_their_whole_and_keys_differ_per_hasher() {
        let keyed = Keyed::default();
        let whole = keyed.hash_one("project:300:viewer:user:a%3Auser%3Ab");
        let mut pieces = keyed.build_hasher();
        for piece in ["project:", "300", ":viewer:u", "ser:a%3Auser%3Ab"] {
            pieces.write(piece.as_bytes());
        }
        pieces.write_u8(0xff);
        assert_eq!(pieces.finish(), whole);
        assert_ne!(Keyed::default().hash_one("1"), Keyed::default().hash_one("1"));
        // A byte more or less, even a zero byte, is another hash.
        let ids = ["", "\0", "\0\0", "a", "a\0", "12345678", "12345678\0", "123456789"];
        let hashes: std::collections::HashSet<u64> =
            ids.iter().map(|id| keyed.hash_one(id.as_bytes())).collect();
        assert_eq!(hashes.len(), ids.len());
    }

    #[test]
    fn a_kept_map_keeps_the_first_value_of_a_key_and_charges_each_entry_once()
    -> Result<(), OverBudget> {
        let mut map = KeptMap::default();
        map.insert("viewer", "project:300:viewer".to_string(), |_| unreachable!())?;
        map.insert("viewer", "another".to_string(), |_| unreachable!())?;
        map.insert("editor", "project:300:editor".to_string(), |_| unreachable!())?;
        assert_eq!(map.get("viewer"), Some("project:300:viewer"));
        assert_eq!(map.get("admin"), None);
        let entries = ["viewer", "editor"].map(|key| 2 * key.len() + 12 + ENTRY_BYTES);
        assert_eq!(map.charge.bytes(), entries.iter().sum::<usize>());
        Ok(())
    }

    #[test]
    fn the_table_holds_each_hash_once_and_grows() -> Result<(), OverBudget> {
        let mut table = HashTable::new("test hashes");
        table.prefetch(5);
        assert!(!table.contains(5), "a prefetch, even of an empty table, adds nothing");
        for hash in 0..10_000u64 {
            // Spread and clustered alike: multiples of the table size all probe one slot.
            assert!(table.insert(hash << 20)?, "{hash}");
        }
        assert!(!table.insert(0)?, "0 is stored as 1, 1 << 20 times 0 as 0");
        assert!(table.insert(1 << 63 | 7)?);
        assert_eq!(table.len(), 10_001);
        (0..10_000u64).for_each(|hash| table.prefetch(hash << 20 | 1));
        assert!((0..10_000u64).all(|hash| table.contains(hash << 20)));
        assert!(!table.contains(3 << 40));
        assert_eq!(table.slots.len(), 16_384, "at most seven eighths full");
        table.reserve(100_000);
        assert_eq!(table.slots.len(), 131_072, "100,000 fill 131,072 slots to 0.76");
        table.shrink_to_fit();
        assert_eq!(table.slots.len(), 16_384, "10,001 hashes would fill 8,192 slots too much");
        for hash in 10_000..14_336u64 {
            table.insert(hash << 20)?;
        }
        assert_eq!((table.len(), table.slots.len()), (14_337, 32_768), "14,337 > 7/8 of 16,384");
        assert!(table.contains(1 << 63 | 7) && table.contains(9_999 << 20));
        Ok(())
    }
}
