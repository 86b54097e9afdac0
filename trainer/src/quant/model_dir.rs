//! `edgegan quantize` as a library call: calibrate a model directory's f32
//! SR generator on photos, write `model.int8.onnx` beside it and record it
//! (sha256, calibration, scheme) in the card. Both files are replaced
//! atomically, and only once the new graph loads with the new card.

use edgegan_runtime::card::{sha256_hex, FileSpec};
use edgegan_runtime::io::write_atomic;
use edgegan_runtime::{Model, Precision, RuntimeError};
use std::path::{Path, PathBuf};

use super::{quantize_generator, Method};
use crate::error::TrainError;
use crate::sr::data::PhotoSet;

/// What [`quantize_model_dir`] wrote.
#[derive(Debug, Clone)]
pub struct Quantized {
    /// The int8 graph's path.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: usize,
    /// LR pixels the ranges were calibrated on.
    pub pixels: usize,
    /// Calibration photos used.
    pub photos: usize,
}

/// Quantize the generator in `dir` with `method` on `patches` 64×64 LR
/// patches (drawn with `seed`) of the photos under `calib`.
pub fn quantize_model_dir(
    dir: &Path,
    calib: &Path,
    patches: usize,
    seed: u64,
    method: Method,
) -> Result<Quantized, TrainError> {
    if !dir.is_dir() {
        return Err(TrainError::Config(format!(
            "{}: not a model directory",
            dir.display()
        )));
    }
    let f32_model = Model::load(dir, Precision::F32)?;
    let mut card = f32_model.card().clone();
    let onnx_path = f32_model.onnx_path().to_path_buf();
    let bytes = std::fs::read(&onnx_path).map_err(|source| TrainError::Io {
        path: onnx_path.clone(),
        source,
    })?;
    let side = 64;
    let photos = PhotoSet::load(calib, 1, (side * card.scale) as u32)?;
    if photos.images.is_empty() {
        return Err(TrainError::Config(format!(
            "{}: no calibration photo of at least {} px",
            calib.display(),
            side * card.scale
        )));
    }
    let (int8, cal) = quantize_generator(&bytes, &photos, patches, seed, method, &card.name)
        .map_err(|e| {
            TrainError::Config(format!(
                "{}: not an edgegan SR generator graph ({e})",
                onnx_path.display()
            ))
        })?;
    let spec = FileSpec {
        path: "model.int8.onnx".into(),
        sha256: sha256_hex(&int8),
    };
    card.files.int8 = Some(spec.clone());
    let mut q = toml::Table::new();
    q.insert("method".into(), format!("{method:?}").to_lowercase().into());
    q.insert(
        "calibration_data".into(),
        calib.display().to_string().into(),
    );
    q.insert("photos".into(), (photos.images.len() as i64).into());
    q.insert(
        "patches".into(),
        ((cal.pixels / (side * side)) as i64).into(),
    );
    q.insert("lr_pixels".into(), (cal.pixels as i64).into());
    q.insert(
        "scheme".into(),
        "QOperator: ConvInteger (u8 activations per-tensor asymmetric, per-channel symmetric int8 weights without zero point, each pair of input channels of a tap within |q0| + |q1| <= 128) + f32 per-channel rescale and bias; input scale 1/255; bicubic skip f32".into(),
    );
    card.training.insert("quantization".into(), q.into());
    // Prove the new graph loads with the new card before touching the directory.
    let int8_path = dir.join(&spec.path);
    Model::from_bytes(card.clone(), Precision::Int8, int8_path.clone(), &int8)?;
    replace(&int8_path, &int8)?;
    replace(&dir.join("card.toml"), card.to_toml().as_bytes())?;
    Ok(Quantized {
        path: int8_path,
        bytes: int8.len(),
        pixels: cal.pixels,
        photos: photos.images.len(),
    })
}

/// Replace `path` with `data` atomically.
pub(crate) fn replace(path: &Path, data: &[u8]) -> Result<(), TrainError> {
    write_atomic(path, true, |w| {
        std::io::Write::write_all(w, data).map_err(|e| RuntimeError::Write {
            path: path.into(),
            what: "write failed",
            error: e,
        })
    })?;
    Ok(())
}
