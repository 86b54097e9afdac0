//! CI's share of the fuzzing: every committed input of every target (the
//! seed corpora and the regressions, inputs that once crashed a loader),
//! then a short, seeded mutation run of each target over its corpus (bit
//! flips, byte edits, truncations, splices, edited PNG dimensions). A
//! panic fails the test; so does an abort, which takes the test binary down.
//! `EDGEGAN_FUZZ_ITERS` sets the mutations per target (default 300).

use std::path::{Path, PathBuf};

fn inputs(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .map(|r| r.flatten().map(|e| e.path()).collect())
        .unwrap_or_else(|_| Vec::new());
    out.sort();
    out.into_iter()
        .filter(|p| p.is_file())
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect()
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// SplitMix64: the same mutations on every machine.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One mutation of `seed` (`other`: another input to splice from).
fn mutate(seed: &[u8], other: &[u8], m: &mut Mix) -> Vec<u8> {
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
            v.extend_from_slice(&other[from..]);
        }
        4 if v.starts_with(b"\x89PNG") && v.len() >= 24 => {
            // IHDR width and height: huge, zero or odd sizes.
            let w = [0u32, 1, 65535, 0x7fff_ffff, 60000][m.below(5)];
            let h = [0u32, 1, 65535, 0x7fff_ffff, 60000][m.below(5)];
            v[16..20].copy_from_slice(&w.to_be_bytes());
            v[20..24].copy_from_slice(&h.to_be_bytes());
        }
        _ => {
            let i = m.below(v.len());
            let n = m.below(64);
            let junk: Vec<u8> = (0..n).map(|_| m.next() as u8).collect();
            v.splice(i..i, junk);
        }
    }
    v
}

#[test]
fn every_target_survives_its_corpus_regressions_and_mutations() {
    let iters: usize = std::env::var("EDGEGAN_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    for &(name, target) in edgegan_fuzz::TARGETS {
        let corpus = inputs(&root().join("corpus").join(name));
        assert!(!corpus.is_empty(), "{name}: no seed corpus");
        for (path, bytes) in corpus
            .iter()
            .chain(&inputs(&root().join("regressions").join(name)))
        {
            eprintln!("{name}: {}", path.display());
            target(bytes);
        }
        let mut m = Mix(name.len() as u64 * 7919);
        for i in 0..iters {
            let seed = &corpus[i % corpus.len()].1;
            let other = &corpus[m.below(corpus.len())].1;
            let input = mutate(seed, other, &mut m);
            let ok = std::panic::catch_unwind(|| target(&input)).is_ok();
            if !ok {
                let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
                let saved = dir.join(format!("fuzz-{name}-{i}.bin"));
                std::fs::write(&saved, &input).unwrap();
                panic!(
                    "{name}: mutation {i} panicked; input saved as {}",
                    saved.display()
                );
            }
        }
    }
}
