//! `edgegan quantize` for an inpainting model directory: its f32 graph read
//! back into the generator ([`super::import`]), both graphs written again by
//! the current export (the f32 one must come out byte for byte as shipped,
//! which proves the read-back), the int8 one calibrated on training crops of
//! the given photos, the card's metrics measured again through the runtime
//! on the folder they were measured on, and `model.int8.onnx` and the card
//! replaced atomically once the new graph loads.

use edgegan_runtime::card::{sha256_hex, FileSpec, ModelCard};
use edgegan_runtime::inpaint::{Inpainter, EVAL_SIZE};
use edgegan_runtime::Precision;
use std::path::{Path, PathBuf};

use super::card::measure;
use super::data::{Augment, InpaintPhotos};
use super::import::import_bytes;
use super::training::{export_graphs, CALIBRATION_CROPS};
use crate::error::TrainError;
use crate::quant::model_dir::{replace, Quantized};

/// How the int8 graph quantizes, as its card records it.
pub const SCHEME: &str = "QOperator: every conv a ConvInteger (u8 activations per-tensor asymmetric, percentile ranges; per-channel symmetric int8 weights without zero point, each pair of input channels of a tap within |q0| + |q1| <= 128) + f32 per-channel rescale and bias; input scale 1/255; gating, skips, the attention block and the residual add f32";

/// Re-quantize the inpainting model in `dir` (whose card is `card`) on
/// crops of the photos under `calib` drawn with `seed`.
pub fn quantize_inpaint_dir(
    dir: &Path,
    mut card: ModelCard,
    calib: &Path,
    seed: u64,
) -> Result<Quantized, TrainError> {
    let f32_path = dir.join(&card.files.f32.path);
    let shipped = std::fs::read(&f32_path).map_err(|source| TrainError::Io {
        path: f32_path.clone(),
        source,
    })?;
    let data = card
        .metrics
        .get("data")
        .and_then(|d| d.as_str())
        .map(PathBuf::from)
        .filter(|d| d.is_dir())
        .ok_or_else(|| {
            TrainError::Config(format!(
                "{}: the card's metrics.data (the folder its metrics were measured on) is not here, so the int8 metrics could not be measured again; nothing replaced",
                dir.join("card.toml").display()
            ))
        })?;
    let device = burn::prelude::Device::flex();
    let generator = import_bytes(&shipped, &f32_path, &device)?;
    let scales = card
        .training
        .get("scales")
        .and_then(|s| s.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_float()).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| vec![1.0]);
    let patch = EVAL_SIZE as usize;
    let photos = InpaintPhotos::load_at(calib, patch, &scales, Augment::default())?;
    if photos.photos == 0 {
        return Err(TrainError::Config(format!(
            "{}: no calibration photo",
            calib.display()
        )));
    }
    let (f32_bytes, int8) = export_graphs(&generator, &photos, patch, seed);
    if f32_bytes != shipped {
        return Err(TrainError::Config(format!(
            "{}: written again from its own weights it is not the same graph (another exporter's?); nothing replaced",
            f32_path.display()
        )));
    }
    let spec = FileSpec {
        path: "model.int8.onnx".into(),
        sha256: sha256_hex(&int8),
    };
    card.files.int8 = Some(spec.clone());
    let mut q = toml::Table::new();
    q.insert("method".into(), "percentile".into());
    q.insert(
        "calibration_data".into(),
        calib.display().to_string().into(),
    );
    q.insert("photos".into(), (photos.photos as i64).into());
    q.insert("crops".into(), (CALIBRATION_CROPS as i64).into());
    q.insert("seed".into(), (seed as i64).into());
    q.insert("scheme".into(), SCHEME.into());
    card.training.insert("quantization".into(), q.into());
    card.training.insert(
        "calibration".into(),
        format!("int8: percentile ranges on {CALIBRATION_CROPS} training crops (see quantization)")
            .into(),
    );
    let before = card.metrics.clone();
    measure(&mut card, &data, &f32_bytes, &int8)?;
    // The OpenCV baselines do not depend on the model: where OpenCV is not
    // set up here, the card keeps the ones it had.
    for key in ["opencv_telea", "opencv_ns"] {
        if let (None, Some(v)) = (card.metrics.get(key), before.get(key)) {
            card.metrics.insert(key.into(), v.clone());
        }
    }
    // Prove the new graph loads with the new card before touching the directory.
    Inpainter::from_embedded("quantized", &card.to_toml(), &int8, Precision::Int8)?;
    let int8_path = dir.join(&spec.path);
    replace(&int8_path, &int8)?;
    replace(&dir.join("card.toml"), card.to_toml().as_bytes())?;
    Ok(Quantized {
        path: int8_path,
        bytes: int8.len(),
        pixels: CALIBRATION_CROPS * patch * patch,
        photos: photos.photos,
    })
}
