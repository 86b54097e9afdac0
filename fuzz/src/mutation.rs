//! Seeded mutations of an input, the same on every machine: what CI's replay
//! test (`fuzz/tests/replay.rs`) feeds each target and what the CLI's
//! mutated-image test (`tests/cli/faults.rs`) feeds `edgegan upscale`.

/// SplitMix64: a tiny generator whose sequence depends only on its seed.
pub struct Mix(pub u64);

impl Mix {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// One mutation of `seed`: bit flips, a byte set to an edge value, a
/// truncation, a splice with `other`'s tail, edited PNG dimensions (huge,
/// zero or odd) or inserted junk.
///
/// ```
/// use edgegan_fuzz::mutation::{mutate, Mix};
/// let (a, b) = (mutate(b"abcdef", b"xyz", &mut Mix(1)), mutate(b"abcdef", b"xyz", &mut Mix(1)));
/// assert_eq!(a, b); // seeded: the same bytes every time
/// ```
pub fn mutate(seed: &[u8], other: &[u8], m: &mut Mix) -> Vec<u8> {
    let mut v = seed.to_vec();
    match m.below(6) {
        0 => {
            for _ in 0..1 + m.below(8) {
                let i = m.below(v.len());
                if let Some(b) = v.get_mut(i) {
                    *b ^= 1 << m.below(8);
                }
            }
        }
        1 => {
            let i = m.below(v.len());
            if let Some(b) = v.get_mut(i) {
                *b = [0u8, 0xff, 0x7f, 0x80][m.below(4)];
            }
        }
        2 => v.truncate(m.below(v.len())),
        3 => {
            let cut = m.below(v.len());
            let from = m.below(other.len());
            v.truncate(cut);
            v.extend_from_slice(other.get(from..).unwrap_or_default());
        }
        4 if v.starts_with(b"\x89PNG") && v.len() >= 24 => {
            let w = [0u32, 1, 65535, 0x7fff_ffff, 60000][m.below(5)];
            let h = [0u32, 1, 65535, 0x7fff_ffff, 60000][m.below(5)];
            v[16..20].copy_from_slice(&w.to_be_bytes());
            v[20..24].copy_from_slice(&h.to_be_bytes());
        }
        _ => {
            let i = m.below(v.len());
            let n = m.below(64);
            let junk: Vec<u8> = (0..n).map(|_| m.next_u64() as u8).collect();
            v.splice(i..i, junk);
        }
    }
    v
}
