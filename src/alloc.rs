//! The process allocator: mimalloc, told to keep the memory it frees.
//!
//! glibc malloc raises its mmap threshold each time a large block is freed,
//! after which tract's per-tile buffers come from per-thread heaps that are
//! never given back (a 24 MP upscale, 2 threads, 256 px tiles peaked at 219 MB
//! for 90 MB of image buffers); pinning glibc's threshold bounds memory but
//! made a batch 1.6x slower in page faults. mimalloc bounds it (README,
//! "Memory").
//!
//! By default mimalloc also *purges* freed pages 10 ms after a free (gives
//! them back to the kernel), so every run of a model at 1024² pays the page
//! faults and zeroing of its tensors again: `sr-x2` at 1024², one thread,
//! 1007 ms a run with purging and 680 ms without (benches/edge_speed, the
//! 2-core Xeon with avx512f). Resident memory stays at the peak of the
//! largest run, which a batch reaches on every image anyway.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in the `mi_option_e` enum of the mimalloc that
/// libmimalloc-sys 0.1.49 bundles (v3 `include/mimalloc.h`: the 16th entry);
/// libmimalloc-sys has no constant for it. The test below proves the index
/// through mimalloc's own reading of `MIMALLOC_PURGE_DELAY`.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Never purge freed memory, unless `MIMALLOC_PURGE_DELAY` says otherwise
/// (the environment still decides, as mimalloc documents it).
pub fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: mi_option_set stores a value in mimalloc's option table;
        // any index below _mi_option_last is valid.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run in a child process with `MIMALLOC_PURGE_DELAY` set: mimalloc reads
    /// the variable into the option at index 15 only if 15 is purge_delay.
    #[test]
    fn the_purge_delay_index_is_the_one_mimalloc_reads_from_its_variable() {
        if let Ok(v) = std::env::var("EDGEGAN_ALLOC_CHILD") {
            let got = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
            assert_eq!(got.to_string(), v);
            keep_freed_memory();
            let kept = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
            assert_eq!(kept.to_string(), v, "the environment still decides");
            return;
        }
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "alloc::tests::the_purge_delay_index_is_the_one_mimalloc_reads_from_its_variable",
            ])
            .env("EDGEGAN_ALLOC_CHILD", "4321")
            .env("MIMALLOC_PURGE_DELAY", "4321")
            .output()
            .unwrap();
        // The child's own test report stays in `out`, shown only on failure.
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn without_the_variable_freed_memory_is_kept() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        keep_freed_memory();
        assert_eq!(
            unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) },
            -1
        );
    }
}
