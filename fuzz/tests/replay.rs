//! CI's share of the fuzzing: every committed input of every target (the
//! seed corpora and the regressions, inputs that once crashed a loader),
//! then a short, seeded mutation run of each target over its corpus (bit
//! flips, byte edits, truncations, splices, edited PNG dimensions). A
//! panic fails the test; so does an abort, which takes the test binary down.
//! `EDGEGAN_FUZZ_ITERS` sets the mutations per target (default 300).

use edgegan_fuzz::mutation::{mutate, Mix};
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

/// The `checkpoint` seeds are valid checkpoints (the tiny DCGAN's state and
/// each of its burnpack files) that the loader takes, and a checkpoint
/// with one file cut short is refused.
#[test]
fn checkpoint_seeds_load_and_a_truncated_file_is_refused() {
    let corpus = inputs(&root().join("corpus").join("checkpoint"));
    assert_eq!(corpus.len(), edgegan_fuzz::CHECKPOINT_FILES.len());
    for (path, bytes) in &corpus {
        assert!(edgegan_fuzz::checkpoint_loads(bytes), "{}", path.display());
        assert!(!edgegan_fuzz::checkpoint_loads(&bytes[..bytes.len() - 9]));
    }
}

/// Writes `corpus/checkpoint/` from the template checkpoint:
/// `cargo test -p edgegan-fuzz -- --ignored write_checkpoint_corpus`.
#[test]
#[ignore]
fn write_checkpoint_corpus() {
    let dir = root().join("corpus").join("checkpoint");
    std::fs::create_dir_all(&dir).unwrap();
    for (i, name) in edgegan_fuzz::CHECKPOINT_FILES.iter().enumerate() {
        let stem = name.trim_end_matches(".bpk");
        std::fs::write(
            dir.join(format!("{stem}.bin")),
            edgegan_fuzz::checkpoint_seed(i),
        )
        .unwrap();
    }
}
