//! Precision `auto`: pick int8 only where it is measured clearly faster
//! (under 0.9× the f32 time) than f32 on the running machine and its card's
//! measured quality loss is within the card's bound. The measurement (3
//! timed runs of one 128-pixel tile each, single-threaded) is cached per
//! machine, build profile and model pair in
//! `$XDG_CACHE_HOME/edgegan/precision.toml` (or `~/.cache/...`).

use crate::engine::choice;
use crate::sr::{Model, UpscaleOptions, Upscaler};
use std::sync::Arc;

pub use choice::read_precision_cache;

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
    let best = choice::best_ms(|| up.run(&img).is_ok());
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
    let files = f32_model.card().files.clone();
    choice::choose(&files, f32_model, int8_model, "tile", ms_per_run)
}
