//! Precision `auto`: pick int8 only where it is measured clearly faster
//! (under 0.9× the f32 time) than f32 on the running machine and its card's
//! measured quality loss is within the card's bound. The measurement (3
//! timed runs of one 128-pixel tile each, single-threaded) is cached per
//! machine, build profile and model pair in
//! `$XDG_CACHE_HOME/edgegan/precision.toml` (or `~/.cache/...`).

use crate::card::Precision;
use crate::error::RuntimeError;
use crate::sr::{Model, UpscaleOptions, Upscaler};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

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

/// Whether the card allows int8: its measured PSNR-Y drop is within its bound.
fn quality_ok(m: &Model) -> bool {
    let t = m.card().metrics.get("int8");
    let get = |k: &str| t.and_then(|t| t.get(k)).and_then(|v| v.as_float());
    matches!((get("drop_psnr_y"), get("max_drop_psnr_y")), (Some(d), Some(b)) if d <= b)
}

fn ms_per_run(m: Model) -> (f64, Model) {
    let model = Arc::new(m);
    let up = Upscaler::new(
        model.clone(),
        UpscaleOptions {
            tile: Some(128),
            threads: 1,
        },
    );
    let img = image::RgbImage::from_fn(128, 128, |x, y| {
        image::Rgb([(x * 2) as u8, (y * 2) as u8, ((x ^ y) * 2) as u8])
    });
    let mut best = f64::INFINITY;
    for i in 0..4 {
        let t = Instant::now();
        if up.run(&img).is_err() {
            best = f64::INFINITY;
            break;
        }
        if i > 0 {
            best = best.min(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    drop(up);
    let model = Arc::try_unwrap(model).unwrap_or_else(|_| unreachable!("the upscaler is dropped"));
    (best, model)
}

/// The model to run: the int8 one only if its card allows it and it is
/// faster here.
pub fn choose_precision(f32_model: Model, int8_model: Model) -> Model {
    if !quality_ok(&int8_model) {
        tracing::info!("auto precision: f32 (the card states no int8 quality within its bound)");
        return f32_model;
    }
    let files = &f32_model.card().files;
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
        return if v == "int8" { int8_model } else { f32_model };
    }
    let (f, f32_model) = ms_per_run(f32_model);
    let (q, int8_model) = ms_per_run(int8_model);
    // A clear margin, so that timing noise does not flip the choice.
    let pick = if q < 0.9 * f {
        Precision::Int8
    } else {
        Precision::F32
    };
    tracing::info!("auto precision: f32 {f:.1} ms, int8 {q:.1} ms per tile: {pick}");
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
        Precision::Int8 => int8_model,
        Precision::F32 => f32_model,
    }
}
