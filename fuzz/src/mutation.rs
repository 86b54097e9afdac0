//! Seeded mutations of an input, the same on every machine: what CI's replay
//! test (`fuzz/tests/replay.rs`) feeds each target and what the CLI's
//! mutated-image test (`tests/cli/faults.rs`) feeds `edgegan upscale`.

/// The generator: the runtime's SplitMix64 (`edgegan_runtime::noise::Rng`),
/// whose sequence depends only on its seed.
pub use edgegan_runtime::noise::Rng as Mix;

/// A number in `0..n`, 0 when `n` is 0 (an emptied input).
fn below(m: &mut Mix, n: usize) -> usize {
    m.below(n.max(1))
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
    match below(m, 6) {
        0 => {
            for _ in 0..1 + below(m, 8) {
                let i = below(m, v.len());
                if let Some(b) = v.get_mut(i) {
                    *b ^= 1 << below(m, 8);
                }
            }
        }
        1 => {
            let i = below(m, v.len());
            if let Some(b) = v.get_mut(i) {
                *b = [0u8, 0xff, 0x7f, 0x80][below(m, 4)];
            }
        }
        2 => v.truncate(below(m, v.len())),
        3 => {
            let cut = below(m, v.len());
            let from = below(m, other.len());
            v.truncate(cut);
            v.extend_from_slice(other.get(from..).unwrap_or_default());
        }
        4 if v.starts_with(b"\x89PNG") && v.len() >= 24 => {
            let w = [0u32, 1, 65535, 0x7fff_ffff, 60000][below(m, 5)];
            let h = [0u32, 1, 65535, 0x7fff_ffff, 60000][below(m, 5)];
            v[16..20].copy_from_slice(&w.to_be_bytes());
            v[20..24].copy_from_slice(&h.to_be_bytes());
        }
        _ => {
            let i = below(m, v.len());
            let n = below(m, 64);
            let junk: Vec<u8> = (0..n).map(|_| m.next_u64() as u8).collect();
            v.splice(i..i, junk);
        }
    }
    v
}
