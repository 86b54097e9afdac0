//! `edgegan quantize`: post-training static quantization of a model
//! directory's f32 generator into `model.int8.onnx` (QOperator), calibrated on
//! a folder of photos, recorded in the card with its sha256 and calibration
//! summary: SR models by [`quantize_model_dir`], inpainting models by
//! [`quantize_inpaint_dir`] (which also measures the card's metrics again).
//! The existing files are replaced only once the new graph loads.

use anyhow::Result;
use clap::Args;
use edgegan_runtime::card::{ModelCard, Task};
use edgegan_trainer::inpaint::quantize::quantize_inpaint_dir;
use edgegan_trainer::quant::{quantize_model_dir, Method};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `edgegan quantize`.
#[derive(Debug, Args)]
pub struct QuantizeArgs {
    /// Model directory holding model.onnx and card.toml.
    #[arg(value_name = "MODEL_DIR")]
    pub model: PathBuf,
    /// Folder of calibration photos (HR; LR patches are made as in training;
    /// for an inpainting model, 32 training crops of 256², percentile ranges,
    /// as its trainer exports).
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
    let card_path = a.model.join("card.toml");
    let card = a
        .model
        .is_dir()
        .then(|| ModelCard::load(&card_path))
        .transpose()?;
    if let Some(card) = card.filter(|c| c.task == Task::Inpainting) {
        let q = quantize_inpaint_dir(&a.model, card, &a.calib, a.seed)?;
        eprintln!(
            "wrote {} ({} bytes, percentile calibration, {} pixels from {} photos) and the card's metrics, measured again",
            q.path.display(),
            q.bytes,
            q.pixels,
            q.photos
        );
        return Ok(ExitCode::SUCCESS);
    }
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
