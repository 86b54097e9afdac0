//! `edgegan quantize`: post-training static quantization of a model
//! directory's f32 generator into `model.int8.onnx` (QOperator), calibrated on
//! a folder of photos, recorded in the card with its sha256 and calibration
//! summary. The existing files are replaced only once the new graph loads.

use anyhow::{bail, Context, Result};
use clap::Args;
use edgegan_runtime::card::sha256_hex;
use edgegan_runtime::card::FileSpec;
use edgegan_runtime::{Model, Precision};
use edgegan_trainer::quant::{quantize_generator, Method};
use edgegan_trainer::sr::data::PhotoSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `edgegan quantize`.
#[derive(Debug, Args)]
pub struct QuantizeArgs {
    /// Model directory holding model.onnx and card.toml.
    #[arg(value_name = "MODEL_DIR")]
    pub model: PathBuf,
    /// Folder of calibration photos (HR; LR patches are made as in training).
    #[arg(long, value_name = "DIR")]
    pub calib: PathBuf,
    /// Activation range rule: minmax, percentile or mse.
    #[arg(long, default_value = "mse")]
    pub method: Method,
    /// Calibration patches (64x64 LR each).
    #[arg(long, default_value_t = 64)]
    pub patches: usize,
    /// Seed of the patch sampler.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

fn write_replacing(path: &Path, data: &[u8]) -> Result<()> {
    let tmp = path.with_extension("part");
    std::fs::write(&tmp, data).with_context(|| format!("{}: cannot write", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("{}: cannot replace", path.display()))
}

pub fn run(a: QuantizeArgs) -> Result<ExitCode> {
    if !a.model.is_dir() {
        bail!("{}: not a model directory", a.model.display());
    }
    let f32_model = Model::load(&a.model, Precision::F32)?;
    let mut card = f32_model.card().clone();
    let bytes = std::fs::read(f32_model.onnx_path())
        .with_context(|| format!("{}: cannot read", f32_model.onnx_path().display()))?;
    let scale = card.scale;
    let side = 64;
    let photos = PhotoSet::load(&a.calib, 1, (side * scale) as u32)?;
    if photos.images.is_empty() {
        bail!(
            "{}: no calibration photo of at least {} px",
            a.calib.display(),
            side * scale
        );
    }
    let (int8, cal) = quantize_generator(&bytes, &photos, a.patches, a.seed, a.method, &card.name)
        .map_err(|e| {
            anyhow::anyhow!(
                "{}: not an edgegan SR generator graph ({e})",
                f32_model.onnx_path().display()
            )
        })?;
    let spec = FileSpec {
        path: "model.int8.onnx".into(),
        sha256: sha256_hex(&int8),
    };
    card.files.int8 = Some(spec.clone());
    let mut q = toml::Table::new();
    q.insert(
        "method".into(),
        format!("{:?}", a.method).to_lowercase().into(),
    );
    q.insert(
        "calibration_data".into(),
        a.calib.display().to_string().into(),
    );
    q.insert("photos".into(), (photos.images.len() as i64).into());
    q.insert(
        "patches".into(),
        ((cal.pixels / (side * side)) as i64).into(),
    );
    q.insert("lr_pixels".into(), (cal.pixels as i64).into());
    q.insert(
        "scheme".into(),
        "QOperator: ConvInteger (u8 activations per-tensor asymmetric, per-channel symmetric int8 weights without zero point) + f32 per-channel rescale and bias; input scale 1/255; bicubic skip f32".into(),
    );
    card.training.insert("quantization".into(), q.into());
    // Prove the new graph loads with the new card before touching the directory.
    let int8_path = a.model.join(&spec.path);
    Model::from_bytes(card.clone(), Precision::Int8, int8_path.clone(), &int8)?;
    write_replacing(&int8_path, &int8)?;
    write_replacing(&a.model.join("card.toml"), card.to_toml().as_bytes())?;
    eprintln!(
        "wrote {} ({} bytes, {} calibration, {} LR pixels from {} photos); compare: edgegan eval --model {} --precision int8 --data DIR",
        int8_path.display(),
        int8.len(),
        format!("{:?}", a.method).to_lowercase(),
        cal.pixels,
        photos.images.len(),
        a.model.display()
    );
    Ok(ExitCode::SUCCESS)
}
