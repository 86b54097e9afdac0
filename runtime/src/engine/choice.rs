//! Measured choices, cached per machine, build profile, engine and model in
//! `$XDG_CACHE_HOME/edgegan/precision.toml` (or `~/.cache/...`): precision
//! `auto`, shared by the tasks that offer it (SR:
//! `crate::sr::choose_precision`; inpainting:
//! `crate::inpaint::choose_precision`), int8 only where it runs clearly
//! faster (under 0.9× the f32 time); and an SR model's conv path `auto`
//! (`crate::sr::Model`), so that a machine keeps the lowering, and so the
//! output bits, it measured once instead of re-timing two close plans on
//! every run.

use std::path::PathBuf;

use crate::card::{Files, Precision};
use crate::error::RuntimeError;

/// The inference engine a cached choice was measured with; bump the tag
/// when vendor/'s tract patches change what int8 or f32 cost (patch-2:
/// the f32 direct convolution of vendor/README.md patches 7–9; patch-3:
/// strided rows direct, one-pass moves, patches 10–11; qconv: the fused
/// int8 direct convolution of `engine::qconv`; patch-4: direct convs for
/// short rows and the f32 gated product as one pass, patch 13 and
/// `engine::gate`).
const ENGINE: &str = "tract-0.23.9-edgegan-patch-4-qconv";

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

/// The cache key of a choice: the build profile and the engine (a choice
/// measured by a debug build, or with another tract, must not outlive it),
/// then `parts`.
pub(crate) fn key(parts: &[&str]) -> String {
    // Debug builds time differently: never share their decision with release.
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let mut key = format!("{build}-{ENGINE}");
    for p in parts {
        key.push('-');
        key.push_str(p);
    }
    key
}

fn read_cache() -> toml::Table {
    cache_path()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|s| read_precision_cache(&s))
        .unwrap_or_default()
}

/// The value cached under `key`, if any.
pub(crate) fn cached(key: &str) -> Option<String> {
    read_cache().get(key)?.as_str().map(str::to_owned)
}

/// Cache `value` under `key` (read, updated and replaced whole; a failure
/// is a warning: the choice is only measured again next time).
pub(crate) fn remember(key: &str, value: &str) {
    let Some(p) = cache_path() else { return };
    let mut cache = read_cache();
    cache.insert(key.to_owned(), value.into());
    let text = toml::to_string(&cache).unwrap_or_default();
    let written = crate::io::write_atomic(&p, true, |w| {
        std::io::Write::write_all(w, text.as_bytes()).map_err(|e| RuntimeError::io(&p, e))
    });
    if let Err(e) = written {
        tracing::warn!("measured choice not cached: {e}");
    }
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
    let int8_sha = files.int8.as_ref().map(|f| f.sha256.as_str()).unwrap_or("");
    let key = key(&[&files.f32.sha256, int8_sha]);
    if let Some(v) = cached(&key) {
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
    remember(&key, &pick.to_string());
    match pick {
        Precision::Int8 => int8,
        Precision::F32 => f32,
    }
}
