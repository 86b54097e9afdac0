//! Precision `auto`'s measured choice, shared by the tasks that offer it
//! (SR: `crate::sr::choose_precision`; inpainting:
//! `crate::inpaint::choose_precision`): int8 only where it runs clearly
//! faster (under 0.9× the f32 time) on this machine, the choice cached per
//! machine, build profile, engine and model pair in
//! `$XDG_CACHE_HOME/edgegan/precision.toml` (or `~/.cache/...`).

use std::path::PathBuf;

use crate::card::{Files, Precision};
use crate::error::RuntimeError;

/// The inference engine a cached choice was measured with; bump the tag
/// when vendor/'s tract patches change what int8 or f32 cost (patch-2:
/// the f32 direct convolution of vendor/README.md patches 7–9; patch-3:
/// strided rows direct, one-pass moves, patches 10–11; qconv: the fused
/// int8 direct convolution of `engine::qconv`).
const ENGINE: &str = "tract-0.23.9-edgegan-patch-3-qconv";

fn cache_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("edgegan").join("precision.toml"))
}

/// The cache file's choices (key → `"f32"` / `"int8"`); a file that is not
/// TOML (corrupt, half-written by an older version) counts as empty, and is
/// rewritten whole by the next choice.
pub fn read_precision_cache(text: &str) -> toml::Table {
    text.parse().unwrap_or_default()
}

/// The fastest of 3 runs of `run` after one warm-up (ms); infinite if a
/// run fails (`run` returns false), so that a failing model is never picked.
pub(crate) fn best_ms(mut run: impl FnMut() -> bool) -> f64 {
    let mut best = f64::INFINITY;
    for i in 0..4 {
        let t = std::time::Instant::now();
        if !run() {
            return f64::INFINITY;
        }
        if i > 0 {
            best = best.min(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    best
}

/// `int8` if it is cached as this machine's choice for the pair of graphs
/// `files`, or else measured (`ms_per_run` times a model and hands it
/// back) under 0.9× `f32`'s time; `f32` otherwise. `what` names the unit
/// timed in the log line ("tile", "window").
pub(crate) fn choose<M>(
    files: &Files,
    f32: M,
    int8: M,
    what: &str,
    ms_per_run: impl Fn(M) -> (f64, M),
) -> M {
    // Debug builds time differently: never share their decision with release.
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    // The engine too: a choice measured with another tract (the unpatched
    // int8 path was slower than f32 where the patched one is faster) must
    // not outlive it.
    let key = format!(
        "{build}-{ENGINE}-{}-{}",
        &files.f32.sha256,
        files.int8.as_ref().map(|f| f.sha256.as_str()).unwrap_or("")
    );
    let path = cache_path();
    let mut cache = path
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|s| read_precision_cache(&s))
        .unwrap_or_default();
    if let Some(v) = cache.get(&key).and_then(|v| v.as_str()) {
        return if v == "int8" { int8 } else { f32 };
    }
    let (f, f32) = ms_per_run(f32);
    let (q, int8) = ms_per_run(int8);
    // A clear margin, so that timing noise does not flip the choice.
    let pick = if q < 0.9 * f {
        Precision::Int8
    } else {
        Precision::F32
    };
    tracing::info!("auto precision: f32 {f:.1} ms, int8 {q:.1} ms per {what}: {pick}");
    cache.insert(key, pick.to_string().into());
    if let Some(p) = path {
        let text = toml::to_string(&cache).unwrap_or_default();
        let written = crate::io::write_atomic(&p, true, |w| {
            std::io::Write::write_all(w, text.as_bytes()).map_err(|e| RuntimeError::io(&p, e))
        });
        if let Err(e) = written {
            tracing::warn!("auto precision: choice not cached: {e}");
        }
    }
    match pick {
        Precision::Int8 => int8,
        Precision::F32 => f32,
    }
}
