//! `edgegan quantize`: post-training static quantization of a model
//! directory's f32 generator into `model.int8.onnx` (QOperator), calibrated on
//! a folder of photos, recorded in the card with its sha256 and calibration
//! summary ([`quantize_model_dir`]). The existing files are replaced only
//! once the new graph loads.

use anyhow::Result;
use clap::Args;
use edgegan_trainer::quant::{quantize_model_dir, Method};
use std::path::PathBuf;
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

pub fn run(a: QuantizeArgs) -> Result<ExitCode> {
    let q = quantize_model_dir(&a.model, &a.calib, a.patches, a.seed, a.method)?;
    eprintln!(
        "wrote {} ({} bytes, {} calibration, {} LR pixels from {} photos); compare: edgegan eval --model {} --precision int8 --data DIR",
        q.path.display(),
        q.bytes,
        format!("{:?}", a.method).to_lowercase(),
        q.pixels,
        q.photos,
        a.model.display()
    );
    Ok(ExitCode::SUCCESS)
}
