//! Stage-1 (PSNR-oriented) training of the SR generator: L1 loss, Adam with a
//! step-decayed learning rate, validation through the real runtime (the
//! generator is exported to ONNX and run by tract on held-out photos), and
//! selection of the best checkpoint by validation PSNR-Y, not by loss.

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::TensorData;
use edgegan_runtime::eval::{evaluate_image, SrReport};
use edgegan_runtime::{Model, Precision, RuntimeError, UpscaleOptions, Upscaler};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crate::data::{PhotoSet, Rng};
use crate::export::sr_card;
use crate::net::{Generator, GeneratorShape};
use crate::sr_export::generator_onnx;

/// Settings of a training run.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    /// Network shape (includes the scale).
    pub shape: GeneratorShape,
    /// Optimizer steps.
    pub steps: usize,
    /// Patches per step.
    pub batch: usize,
    /// LR patch side.
    pub lr_patch: usize,
    /// Initial learning rate (halved at 50 %, 75 % and 90 % of the steps).
    pub learning_rate: f64,
    /// Seed of weights and patch sampling.
    pub seed: u64,
    /// Validate every this many steps (and at the end).
    pub val_every: usize,
    /// ONNX bytes of a generator to start from (same shape), instead of a fresh one.
    pub init: Option<Vec<u8>>,
    /// Wall-clock budget for the training steps in seconds (`None`: none).
    /// The learning-rate schedule then follows whichever of steps and time
    /// runs out first, and training stops there.
    pub time_limit: Option<f64>,
}

/// One validation point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValPoint {
    /// Step after which it was measured.
    pub step: usize,
    /// Mean L1 training loss since the last point.
    pub loss: f64,
    /// Mean validation PSNR-Y of the model.
    pub psnr_y: f64,
    /// Mean validation PSNR-Y of bicubic.
    pub bicubic_psnr_y: f64,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// Validation history.
    pub history: Vec<ValPoint>,
    /// The selected point (best validation PSNR-Y).
    pub best: ValPoint,
    /// The selected generator as ONNX bytes.
    pub onnx: Vec<u8>,
    /// Wall seconds per training step (excluding validation).
    pub seconds_per_step: f64,
    /// Steps actually run.
    pub steps: usize,
    /// Trainable parameters.
    pub parameters: usize,
}

fn tensor(data: Vec<f32>, shape: [usize; 4], device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(data, shape), device)
}

/// Learning rate at training progress `f` in [0, 1].
pub fn learning_rate(cfg: &TrainConfig, f: f64) -> f64 {
    let halvings = [0.5, 0.75, 0.9].iter().filter(|&&m| f >= m).count();
    cfg.learning_rate / (1 << halvings) as f64
}

/// Validate ONNX bytes on `val` photos through the runtime.
pub fn validate(
    onnx: &[u8],
    shape: GeneratorShape,
    val: &[PathBuf],
) -> Result<SrReport, RuntimeError> {
    let card = sr_card("validation", shape.scale, shape.receptive_field(), "");
    let model = Model::from_bytes(card, Precision::F32, PathBuf::from("validation.onnx"), onnx)?;
    let threads = edgegan_runtime::upscale::available_threads();
    let up = Upscaler::new(
        Arc::new(model),
        UpscaleOptions {
            tile: Some(128),
            threads,
        },
    );
    let scores = val
        .iter()
        .map(|p| evaluate_image(&up, p, &p.display().to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SrReport::new("validation", shape.scale, scores))
}

/// Train on `photos`, validating on `val`; `progress(step, loss)` is called
/// after every step and `on_val` after every validation.
pub fn train_sr(
    cfg: &TrainConfig,
    photos: &PhotoSet,
    val: &[PathBuf],
    mut progress: impl FnMut(usize, f64),
    mut on_val: impl FnMut(&ValPoint),
) -> Result<TrainOutcome, RuntimeError> {
    let device = Device::flex().autodiff();
    device.seed(cfg.seed);
    let mut generator = match &cfg.init {
        Some(bytes) => crate::sr_export::generator_from_onnx(bytes, &device).map_err(|e| {
            RuntimeError::Onnx {
                path: "init".into(),
                reason: e,
            }
        })?,
        None => Generator::new(cfg.shape, &device),
    };
    if generator.shape() != cfg.shape {
        return Err(RuntimeError::Onnx {
            path: "init".into(),
            reason: format!(
                "initial generator is {:?}, training asks for {:?}",
                generator.shape(),
                cfg.shape
            ),
        });
    }
    let parameters = generator.parameters();
    let mut optim = AdamConfig::new().with_epsilon(1e-8).init();
    let mut rng = Rng(cfg.seed ^ 0x5eed);
    let (s, p, n) = (cfg.shape.scale, cfg.lr_patch, cfg.batch);
    let mut history = Vec::new();
    let mut best: Option<(ValPoint, Vec<u8>)> = None;
    let (mut loss_sum, mut loss_n, mut train_secs) = (0.0, 0usize, 0.0);
    let started = Instant::now();
    let mut step = 0;
    loop {
        step += 1;
        let by_time = cfg
            .time_limit
            .map_or(0.0, |l| started.elapsed().as_secs_f64() / l);
        let progress_f = (step as f64 / cfg.steps.max(1) as f64).max(by_time);
        let last = progress_f >= 1.0;
        let t = Instant::now();
        let b = photos.batch(&mut rng, n, p, s);
        let lr = tensor(b.lr, [n, 3, p, p], &device);
        let bic = tensor(b.bicubic, [n, 3, p * s, p * s], &device);
        let hr = tensor(b.hr, [n, 3, p * s, p * s], &device);
        let loss = (generator.forward(lr, bic) - hr).abs().mean();
        let grads = GradientsParams::from_grads(loss.backward(), &generator);
        let value: f64 = loss.into_scalar::<f32>() as f64;
        generator = optim.step(learning_rate(cfg, progress_f), generator, grads);
        train_secs += t.elapsed().as_secs_f64();
        loss_sum += value;
        loss_n += 1;
        progress(step, value);
        if step % cfg.val_every == 0 || last {
            let onnx = generator_onnx(&generator, "sr").encode();
            let report = validate(&onnx, cfg.shape, val)?;
            let point = ValPoint {
                step,
                loss: loss_sum / loss_n as f64,
                psnr_y: report.mean.psnr_y,
                bicubic_psnr_y: report.mean.bicubic_psnr_y,
            };
            (loss_sum, loss_n) = (0.0, 0);
            on_val(&point);
            history.push(point);
            if best.as_ref().is_none_or(|(b, _)| point.psnr_y > b.psnr_y) {
                best = Some((point, onnx));
            }
        }
        if last {
            break;
        }
    }
    let (best, onnx) = best.expect("at least one validation");
    Ok(TrainOutcome {
        history,
        best,
        onnx,
        seconds_per_step: train_secs / step as f64,
        steps: step,
        parameters,
    })
}
