//! Precision `auto` for inpainting: int8 only where its card measured the
//! int8 fill within [`MAX_INT8_HOLE_DROP_DB`] of f32's in every hole-ratio
//! bin and it runs clearly faster here (the measured, cached choice SR's
//! `auto` makes too: one S×S window through the network, single-threaded,
//! the best of 3 runs after one warm-up).

use crate::card::ModelCard;
use crate::engine::choice;
use crate::inpaint::Inpainter;

/// The largest drop of mean in-hole PSNR, int8 against f32, in any
/// hole-ratio bin of the card's metrics, for which `auto` may run int8
/// (dB). The shipped model's is 0.021.
pub const MAX_INT8_HOLE_DROP_DB: f64 = 0.3;

/// Whether the card's int8 metrics are within [`MAX_INT8_HOLE_DROP_DB`] of
/// its f32 ones in every bin the f32 metrics list (and list any).
fn quality_ok(card: &ModelCard) -> bool {
    let table = |p: &str| card.metrics.get(p).and_then(|t| t.as_table());
    let (Some(f), Some(q)) = (table("f32"), table("int8")) else {
        return false;
    };
    let psnr = |t: &toml::Table, bin: &str| {
        t.get(bin)?
            .as_table()?
            .get("hole_psnr")
            .and_then(|v| v.as_float().or(v.as_integer().map(|i| i as f64)))
    };
    !f.is_empty()
        && f.keys().all(|bin| {
            matches!((psnr(f, bin), psnr(q, bin)), (Some(a), Some(b)) if a - b <= MAX_INT8_HOLE_DROP_DB)
        })
}

/// The best of 3 runs (after one warm-up) of the network on one window: a
/// fixed pattern with a square hole, as the graph takes it.
fn ms_per_run(m: Inpainter) -> (f64, Inpainter) {
    let s = m.size();
    let input: Vec<f32> = (0..4 * s * s)
        .map(|i| {
            let (c, y, x) = (i / (s * s), (i / s) % s, i % s);
            match c {
                3 => (y / (s / 4).max(1) == 1 && x / (s / 4).max(1) == 1) as u8 as f32,
                _ => ((x * 7 + y * 3 + c) % 255) as f32 / 255.0,
            }
        })
        .collect();
    (choice::best_ms(|| m.cpu_net(&input).is_ok()), m)
}

/// The model to run: the int8 one only if its card's fill quality allows
/// it and it is faster here.
pub fn choose_precision(f32_model: Inpainter, int8_model: Inpainter) -> Inpainter {
    if !quality_ok(int8_model.card()) {
        tracing::info!(
            "auto precision: f32 (the card states no int8 fill within {MAX_INT8_HOLE_DROP_DB} dB of f32's)"
        );
        return f32_model;
    }
    let files = f32_model.card().files.clone();
    choice::choose(&files, f32_model, int8_model, "window", ms_per_run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::Precision;

    #[test]
    fn the_shipped_card_allows_int8_and_a_bound_it_breaks_refuses_it() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/inpaint");
        let m = Inpainter::load(std::path::Path::new(dir), Precision::Int8).unwrap();
        assert!(
            quality_ok(m.card()),
            "the shipped int8 fill is 0.021 dB from f32's at most"
        );
        // One bin's int8 fill `drop` dB under f32's.
        let mut card = m.card().clone();
        let f = card.metrics["f32"]["20-30"]["hole_psnr"]
            .as_float()
            .unwrap();
        let mut with_drop = |drop: f64| {
            let int8 = card
                .metrics
                .get_mut("int8")
                .unwrap()
                .as_table_mut()
                .unwrap();
            let bin = int8.get_mut("20-30").unwrap().as_table_mut().unwrap();
            bin.insert("hole_psnr".into(), (f - drop).into());
            quality_ok(&card)
        };
        assert!(!with_drop(0.31), "over the bound");
        assert!(with_drop(0.29), "within it");
        // No int8 metrics at all: refused.
        card.metrics.remove("int8");
        assert!(!quality_ok(&card));
    }
}
