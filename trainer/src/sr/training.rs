//! Training loops of the SR generator.
//!
//! * Stage 1 (`Stage::L1`, PSNR-oriented): L1 loss, Adam; `Stage::L2`
//!   fine-tunes it with the mean squared error, the loss PSNR measures.
//! * Stage 2 (`Stage::Gan`): fine-tune from a stage-1 generator with
//!   L1 + relativistic-average adversarial loss against a spectrally
//!   normalized PatchGAN discriminator (ESRGAN's recipe without its VGG
//!   term), two Adam optimizers, the discriminator updated after the
//!   generator on the same batch.
//!
//! Both: learning rate halved at 50/75/90 % of the run, an optional EMA of
//! the generator weights (what gets validated and exported), validation
//! through the real runtime (the generator exported to ONNX and run by tract
//! on held-out photos) with an evolution grid per validation, checkpoint
//! selection by a validation metric (never by loss), checkpoints that resume
//! exactly, and a fixed seed that makes a CPU run reproducible bit for bit.

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::TensorData;
use edgegan_runtime::sr::degrade::EvalDegrade;
use edgegan_runtime::sr::{evaluate_image, SrReport};
use edgegan_runtime::{Model, Precision, RuntimeError, UpscaleOptions, Upscaler};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crate::common::device::TrainDevice;
use crate::common::disc::Discriminator;
use crate::common::gan::{self, DStats, TooGoodDetector};
use crate::common::params::{ema_update, grad_norm, values};
use crate::common::Rng;
use crate::error::TrainError;
use crate::onnx::export::sr_card;
use crate::sr::checkpoint::{self, LoopState, Nets};
use crate::sr::data::{PatchSpec, PhotoSet};
use crate::sr::degrade::Degradations;
use crate::sr::evolution::EvolutionCrops;
use crate::sr::export::generator_onnx;
use crate::sr::model::{Generator, GeneratorShape};

/// The f32 graph of the model directory `dir` to start a run from, and the
/// steps its card says it was trained for.
pub fn read_init(dir: &Path) -> Result<(Vec<u8>, i64), TrainError> {
    let model = Model::load(dir, Precision::F32)?;
    let steps = model
        .card()
        .training
        .get("steps")
        .and_then(|v| v.as_integer());
    let path = model.onnx_path().to_path_buf();
    let onnx = std::fs::read(&path).map_err(|source| TrainError::Io { path, source })?;
    Ok((onnx, steps.unwrap_or(0)))
}

/// Every `stride`-th photo under `dir` (validation during training) and how
/// many photos `dir` holds; an error if that leaves none.
pub fn validation_photos(dir: &Path, stride: usize) -> Result<(Vec<PathBuf>, usize), TrainError> {
    let all = edgegan_runtime::io::image_files(dir)?;
    let val: Vec<PathBuf> = all.iter().step_by(stride.max(1)).cloned().collect();
    if val.is_empty() {
        let why = format!("{}: folder holds no validation photos", dir.display());
        return Err(TrainError::Config(why));
    }
    Ok((val, all.len()))
}

impl ValPoint {
    /// The training log's line for this point (`gan`: with the adversarial
    /// numbers).
    pub fn line(&self, gan: bool) -> String {
        let p = self;
        let d = if gan && p.step > 0 {
            format!(
                "  adv {:.3} D {:.3} D(real) {:.3} D(fake) {:.3} acc {:.3} |gG| {:.3} |gD| {:.3}",
                p.g_adv, p.d_loss, p.d_real, p.d_fake, p.d_accuracy, p.g_grad_norm, p.d_grad_norm
            )
        } else {
            format!("  |gG| {:.3}", p.g_grad_norm)
        };
        format!(
            "step {:>6}  L1 {:.5}{d}  val PSNR-Y {:.3} dB (bicubic {:.3}, gain {:+.3}) SSIM {:.4} sharpness {:.3}",
            p.step,
            p.l1,
            p.psnr_y,
            p.bicubic_psnr_y,
            p.psnr_y - p.bicubic_psnr_y,
            p.ssim_y,
            p.sharpness_y
        )
    }
}

/// Adversarial fine-tuning settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GanConfig {
    /// Weight of the adversarial loss (L1 has weight 1).
    pub adv_weight: f64,
    /// Discriminator learning rate.
    pub d_learning_rate: f64,
    /// Selection keeps points whose PSNR-Y is at most this far below the
    /// starting generator's, and among them picks the sharpest-but-not-
    /// oversharp one (sharpness ratio closest to 1).
    pub max_psnr_drop: f64,
    /// Window (steps) and accuracy of the too-good-discriminator detector.
    pub too_good: (usize, f64),
}

/// Which loss to train with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stage {
    /// PSNR-oriented L1.
    L1,
    /// Mean squared error, PSNR's own loss: to fine-tune an L1-trained
    /// generator (the logged `l1` stays the L1 of the batch).
    L2,
    /// L1 + RaGAN fine-tuning.
    Gan(GanConfig),
}

/// Settings of a training run.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    /// Network shape (includes the scale).
    pub shape: GeneratorShape,
    /// Loss and selection rule.
    pub stage: Stage,
    /// Optimizer steps.
    pub steps: usize,
    /// Patches per step.
    pub batch: usize,
    /// LR patch side.
    pub lr_patch: usize,
    /// Initial generator learning rate (halved at 50 %, 75 % and 90 %).
    pub learning_rate: f64,
    /// Seed of weights and patch sampling.
    pub seed: u64,
    /// Validate (and checkpoint) every this many steps, and at the end.
    pub val_every: usize,
    /// EMA decay of the generator weights (0: off, validate the raw weights).
    pub ema: f64,
    /// Degradations of the training inputs.
    pub degrade: Degradations,
    /// ONNX bytes of a generator to start from instead of a fresh one: the
    /// same shape, or the same but for fewer body convs (then deepened by
    /// [`Generator::deepened`]).
    pub init: Option<Vec<u8>>,
    /// Wall-clock budget in seconds (`None`: none). The learning-rate
    /// schedule then follows whichever of steps and time runs out first.
    pub time_limit: Option<f64>,
    /// Folder for checkpoints, evolution grids and the log (`None`: keep nothing).
    pub work: Option<PathBuf>,
    /// Where the steps run (validation always runs the exported ONNX in tract).
    pub device: TrainDevice,
}

impl TrainConfig {
    /// The settings a checkpoint must share to be resumed by this config.
    pub fn fingerprint(&self) -> String {
        format!(
            "{:?} {:?} steps={} batch={} patch={} lr={} seed={} ema={} degrade={:?}",
            self.shape,
            self.stage,
            self.steps,
            self.batch,
            self.lr_patch,
            self.learning_rate,
            self.seed,
            self.ema,
            self.degrade
        )
    }
}

/// Means of the training statistics since the previous validation, and the
/// validation metrics after it.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ValPoint {
    /// Step after which it was measured (0: the starting generator).
    pub step: usize,
    /// Mean L1 loss.
    pub l1: f64,
    /// Mean generator adversarial loss (GAN stage).
    pub g_adv: f64,
    /// Mean discriminator loss (GAN stage).
    pub d_loss: f64,
    /// Mean D_Ra(real, fake).
    pub d_real: f64,
    /// Mean D_Ra(fake, real).
    pub d_fake: f64,
    /// Mean discriminator accuracy.
    pub d_accuracy: f64,
    /// Mean generator gradient norm.
    pub g_grad_norm: f64,
    /// Mean discriminator gradient norm.
    pub d_grad_norm: f64,
    /// Validation PSNR-Y of the model.
    pub psnr_y: f64,
    /// Validation SSIM-Y of the model.
    pub ssim_y: f64,
    /// Validation sharpness ratio of the model (1 = as sharp as the truth).
    pub sharpness_y: f64,
    /// Validation PSNR-Y of bicubic.
    pub bicubic_psnr_y: f64,
}

/// Statistics of one step.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StepStats {
    /// L1 loss.
    pub l1: f64,
    /// Generator adversarial loss.
    pub g_adv: f64,
    /// Discriminator loss.
    pub d_loss: f64,
    /// Discriminator outputs.
    pub d: DStats,
    /// Generator gradient norm.
    pub g_grad_norm: f64,
    /// Discriminator gradient norm.
    pub d_grad_norm: f64,
    /// Set when the too-good-discriminator detector fired: its window mean accuracy.
    pub too_good: Option<f64>,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// Validation history (from step 0, the starting generator).
    pub history: Vec<ValPoint>,
    /// The selected point.
    pub best: ValPoint,
    /// The selected generator as ONNX bytes.
    pub onnx: Vec<u8>,
    /// Wall seconds per training step (excluding validation).
    pub seconds_per_step: f64,
    /// Steps run in total (including those before a resume).
    pub steps: usize,
    /// Steps at which the too-good-discriminator detector fired.
    pub too_good: Vec<usize>,
    /// Generator parameters.
    pub parameters: usize,
    /// Discriminator parameters (GAN stage).
    pub disc_parameters: Option<usize>,
}

fn tensor(data: Vec<f32>, shape: [usize; 4], device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(data, shape), device)
}

/// Learning rate `base` at training progress `f` in [0, 1].
pub fn learning_rate(base: f64, f: f64) -> f64 {
    let halvings = [0.5, 0.75, 0.9].iter().filter(|&&m| f >= m).count();
    base / (1 << halvings) as f64
}

/// A runtime upscaler for generator ONNX bytes.
pub fn upscaler(onnx: &[u8], shape: GeneratorShape) -> Result<Upscaler, RuntimeError> {
    let card = sr_card("validation", shape.scale, shape.receptive_field(), "");
    let model = Model::from_bytes(card, Precision::F32, PathBuf::from("validation.onnx"), onnx)?;
    let threads = edgegan_runtime::sr::available_threads();
    let options = UpscaleOptions {
        tile: Some(128),
        threads,
    };
    Ok(Upscaler::new(Arc::new(model), options))
}

/// Validate ONNX bytes on `val` photos through the runtime, their inputs
/// degraded by `degrade` (a run trained on degraded inputs is validated,
/// and its checkpoint chosen, on degraded inputs: seed 1, as
/// `edgegan eval --degrade`).
pub fn validate(
    onnx: &[u8],
    shape: GeneratorShape,
    val: &[PathBuf],
    degrade: Degradations,
) -> Result<SrReport, RuntimeError> {
    validate_with(&upscaler(onnx, shape)?, val, degrade)
}

fn validate_with(
    up: &Upscaler,
    val: &[PathBuf],
    degrade: Degradations,
) -> Result<SrReport, RuntimeError> {
    let degrade = EvalDegrade {
        kinds: degrade,
        seed: 1,
    };
    let scores = val
        .iter()
        .map(|p| evaluate_image(up, p, &p.display().to_string(), &degrade))
        .collect::<Result<Vec<_>, _>>()?;
    let mut report = SrReport::new("validation", up.model().scale(), scores);
    report.degraded = degrade.kinds.any().then_some(degrade);
    Ok(report)
}

/// Running sums of step statistics.
#[derive(Default)]
struct Sums {
    n: usize,
    s: StepStats,
}

impl Sums {
    fn add(&mut self, x: &StepStats) {
        let s = &mut self.s;
        self.n += 1;
        s.l1 += x.l1;
        s.g_adv += x.g_adv;
        s.d_loss += x.d_loss;
        s.d.real += x.d.real;
        s.d.fake += x.d.fake;
        s.d.accuracy += x.d.accuracy;
        s.g_grad_norm += x.g_grad_norm;
        s.d_grad_norm += x.d_grad_norm;
    }

    fn point(&mut self, step: usize, r: &SrReport) -> ValPoint {
        let n = self.n.max(1) as f64;
        let s = std::mem::take(self).s;
        ValPoint {
            step,
            l1: s.l1 / n,
            g_adv: s.g_adv / n,
            d_loss: s.d_loss / n,
            d_real: s.d.real / n,
            d_fake: s.d.fake / n,
            d_accuracy: s.d.accuracy / n,
            g_grad_norm: s.g_grad_norm / n,
            d_grad_norm: s.d_grad_norm / n,
            psnr_y: r.mean.psnr_y,
            ssim_y: r.mean.ssim_y,
            sharpness_y: r.mean.sharpness_y,
            bicubic_psnr_y: r.mean.bicubic_psnr_y,
        }
    }
}

/// Index of the point to ship: best PSNR-Y for L1; for GAN, among points
/// within `max_psnr_drop` of the start, the sharpness closest to the truth's.
pub fn select(stage: &Stage, history: &[ValPoint]) -> Option<usize> {
    let by = |key: &dyn Fn(&ValPoint) -> f64, ok: &dyn Fn(&ValPoint) -> bool| {
        (0..history.len())
            .filter(|&i| ok(&history[i]))
            .max_by(|&a, &b| key(&history[a]).total_cmp(&key(&history[b])))
    };
    match stage {
        Stage::L1 | Stage::L2 => by(&|p| p.psnr_y, &|_| true),
        Stage::Gan(g) => {
            let floor = history.first()?.psnr_y - g.max_psnr_drop;
            by(&|p| -p.sharpness_y.ln().abs(), &|p| p.psnr_y >= floor)
        }
    }
}

fn fresh_nets(cfg: &TrainConfig, device: &Device) -> Result<Nets, TrainError> {
    let mut rng = Rng(cfg.seed);
    let generator = match &cfg.init {
        Some(bytes) => {
            let g = crate::sr::export::generator_from_onnx(bytes, device)
                .map_err(|e| TrainError::Config(format!("initial generator: {e}")))?;
            // A shallower generator of the same width grows by identity convs.
            let deeper = GeneratorShape {
                body: cfg.shape.body,
                ..g.shape()
            };
            match deeper == cfg.shape && g.shape().body < cfg.shape.body {
                true => g.deepened(cfg.shape.body, device),
                false => g,
            }
        }
        None => Generator::new(cfg.shape, &mut rng, device),
    };
    if generator.shape() != cfg.shape {
        return Err(TrainError::Config(format!(
            "initial generator is {:?}, training asks for {:?}",
            generator.shape(),
            cfg.shape
        )));
    }
    let gan = matches!(cfg.stage, Stage::Gan(_));
    // ESRGAN's Adam for the adversarial stage: β2 = 0.99.
    let adam = AdamConfig::new()
        .with_epsilon(1e-8)
        .with_beta_2(if gan { 0.99 } else { 0.999 });
    Ok(Nets {
        ema: (cfg.ema > 0.0).then(|| generator.clone()),
        disc: gan.then(|| Discriminator::new(&mut rng, device)),
        generator,
        optim_g: adam.init(),
        optim_d: adam.init(),
    })
}

/// A batch on the device, in the form its stage's step reads.
struct DeviceBatch {
    /// The LR input.
    lr: Tensor<4>,
    /// L1 and L2: the residual the generator should add to the bicubic
    /// upscale (HR − bicubic, made on the host: one HR-sized tensor to
    /// copy instead of two). GAN: the HR image.
    target: Tensor<4>,
    /// GAN only: the bicubic upscale (the discriminator sees whole images).
    bicubic: Option<Tensor<4>>,
}

impl DeviceBatch {
    /// Copy `batch` to `device` for a step of `stage` (run on the thread
    /// that made the batch, while the previous step runs: on a GPU the
    /// host-to-device copies were most of a step).
    fn upload(batch: crate::sr::data::Batch, stage: &Stage, device: &Device) -> Self {
        let (p, sp) = (batch.lr_side, batch.lr_side * batch.scale);
        let (lr_shape, hr_shape) = ([batch.n, 3, p, p], [batch.n, 3, sp, sp]);
        let lr = tensor(batch.lr, lr_shape, device);
        let (mut target, bicubic) = (batch.hr, batch.bicubic);
        let bicubic = match stage {
            Stage::L1 | Stage::L2 => {
                target.iter_mut().zip(&bicubic).for_each(|(h, b)| *h -= b);
                None
            }
            Stage::Gan(_) => Some(tensor(bicubic, hr_shape, device)),
        };
        let target = tensor(target, hr_shape, device);
        DeviceBatch {
            lr,
            target,
            bicubic,
        }
    }
}

/// One optimizer step; returns the updated nets and the step's statistics.
fn step(cfg: &TrainConfig, mut nets: Nets, batch: DeviceBatch, lr_f: f64) -> (Nets, StepStats) {
    let g_lr = learning_rate(cfg.learning_rate, lr_f);
    let DeviceBatch {
        lr,
        target,
        bicubic,
    } = batch;
    let (bicubic, hr) = match bicubic {
        None => {
            let diff = nets.generator.residual(lr) - target;
            let l1 = diff.clone().abs().mean();
            let mut stats = StepStats {
                l1: l1.clone().into_scalar::<f32>() as f64,
                ..StepStats::default()
            };
            let loss = match cfg.stage {
                Stage::L2 => diff.powi_scalar(2).mean(),
                _ => l1,
            };
            let (nets, norm) = generator_step(nets, loss, g_lr);
            stats.g_grad_norm = norm;
            return (nets, stats);
        }
        Some(bicubic) => (bicubic, target),
    };
    let fake = nets.generator.forward(lr, bicubic);
    let l1 = (fake.clone() - hr.clone()).abs().mean();
    let mut stats = StepStats {
        l1: l1.clone().into_scalar::<f32>() as f64,
        ..StepStats::default()
    };
    let (Stage::Gan(g), Some(disc)) = (cfg.stage, nets.disc.take()) else {
        // Whole images without a discriminator: L1 alone.
        let (nets, norm) = generator_step(nets, l1, g_lr);
        stats.g_grad_norm = norm;
        return (nets, stats);
    };
    // Generator: L1 + adversarial, the discriminator frozen.
    let frozen = disc.clone().no_grad();
    let real_logits = frozen.forward(hr.clone()).detach();
    let adv = gan::g_loss(real_logits, frozen.forward(fake.clone()));
    stats.g_adv = adv.clone().into_scalar::<f32>() as f64;
    let total = l1 + adv.mul_scalar(g.adv_weight);
    let (mut nets, norm) = generator_step(nets, total, g_lr);
    stats.g_grad_norm = norm;
    // Discriminator on the same batch, generated images detached.
    let real = disc.forward(hr);
    let fake = disc.forward(fake.detach());
    stats.d = DStats::of(
        &values(real.clone().detach()),
        &values(fake.clone().detach()),
    );
    let d_loss = gan::d_loss(real, fake);
    stats.d_loss = d_loss.clone().into_scalar::<f32>() as f64;
    let grads = GradientsParams::from_grads(d_loss.backward(), &disc);
    stats.d_grad_norm = grad_norm(&disc, &grads);
    let d_lr = learning_rate(g.d_learning_rate, lr_f);
    nets.disc = Some(nets.optim_d.step(d_lr, disc, grads).refreshed());
    (nets, stats)
}

/// An Adam step of the generator down `loss` at learning rate `lr`;
/// returns the gradient norm.
fn generator_step(mut nets: Nets, loss: Tensor<1>, lr: f64) -> (Nets, f64) {
    let grads = GradientsParams::from_grads(loss.backward(), &nets.generator);
    let norm = grad_norm(&nets.generator, &grads);
    nets.generator = nets.optim_g.step(lr, nets.generator, grads);
    (nets, norm)
}

/// What a validation needs besides the loop state.
struct Validation<'a> {
    cfg: &'a TrainConfig,
    val: &'a [PathBuf],
    crops: Option<&'a EvolutionCrops>,
}

impl Validation<'_> {
    /// Validate the current (EMA) generator, draw its evolution grid, append
    /// the point to the history and keep the ONNX if it is the new selection.
    fn run(
        &self,
        nets: &Nets,
        state: &mut LoopState,
        sums: &mut Sums,
        best_onnx: &mut Vec<u8>,
        observer: &mut dyn Observer,
    ) -> Result<(), TrainError> {
        let g = nets.ema.as_ref().unwrap_or(&nets.generator);
        let onnx = generator_onnx(g, "sr").encode();
        let up = upscaler(&onnx, self.cfg.shape)?;
        let report = validate_with(&up, self.val, self.cfg.degrade)?;
        let point = sums.point(state.step, &report);
        if let (Some(crops), Some(work)) = (self.crops, &self.cfg.work) {
            let dir = work.join("evolution");
            let path = dir.join(format!("step_{:06}.png", state.step));
            let grid = crops.render(&up)?;
            std::fs::create_dir_all(&dir)
                .map_err(|e| e.to_string())
                .and_then(|_| grid.save(&path).map_err(|e| e.to_string()))
                .map_err(|reason| TrainError::Checkpoint { path, reason })?;
        }
        observer.validated(&point);
        state.history.push(point);
        let best = select(&self.cfg.stage, &state.history);
        if best == Some(state.history.len() - 1) {
            *best_onnx = onnx;
        }
        state.best = best;
        Ok(())
    }
}

/// Callbacks of a run.
pub trait Observer {
    /// After every step.
    fn step(&mut self, _step: usize, _stats: &StepStats) {}
    /// After every validation.
    fn validated(&mut self, _point: &ValPoint) {}
    /// Asked after every checkpoint: `true` ends the run there (resumable).
    fn stop(&mut self) -> bool {
        false
    }
}

impl Observer for () {}

/// Train on `photos`, validating on `val`. With `cfg.work` set, a checkpoint
/// there is resumed when `resume` is true (and refused otherwise).
pub fn train_sr(
    cfg: &TrainConfig,
    photos: &PhotoSet,
    val: &[PathBuf],
    resume: bool,
    observer: &mut dyn Observer,
) -> Result<TrainOutcome, TrainError> {
    let device = cfg.device.device()?.autodiff();
    let mut nets = fresh_nets(cfg, &device)?;
    let parameters = nets.generator.parameters();
    let disc_parameters = nets.disc.as_ref().map(Discriminator::parameters);
    let too_good = match cfg.stage {
        Stage::Gan(g) => g.too_good,
        Stage::L1 | Stage::L2 => (1, f64::INFINITY),
    };
    let mut detector = TooGoodDetector::new(too_good.0, too_good.1);
    let mut state = LoopState {
        fingerprint: cfg.fingerprint(),
        step: 0,
        rng: format!("{:016x}", cfg.seed ^ 0x5eed),
        train_seconds: 0.0,
        wall_seconds: 0.0,
        too_good: Vec::new(),
        best: None,
        history: Vec::new(),
    };
    let mut best_onnx = Vec::new();
    let work = cfg.work.as_deref();
    if let Some(dir) = crate::common::checkpoint::to_resume(work, resume)? {
        let (n, s, b) = checkpoint::load(&dir, nets)?;
        if s.fingerprint != state.fingerprint {
            return Err(TrainError::Checkpoint {
                path: dir,
                reason: format!(
                    "was written by another configuration ({}), not ({})",
                    s.fingerprint, state.fingerprint
                ),
            });
        }
        (nets, state, best_onnx) = (n, s, b);
        detector.fired = state.too_good.clone();
        tracing::info!("resumed {} at step {}", dir.display(), state.step);
    }
    let mut rng =
        Rng(u64::from_str_radix(&state.rng, 16).map_err(|e| TrainError::Config(e.to_string()))?);
    let crops = match work {
        Some(_) => Some(EvolutionCrops::new(
            &val[..val.len().min(4)],
            cfg.shape.scale,
            32,
        )?),
        None => None,
    };
    let mut sums = Sums::default();
    let started = Instant::now();
    let wall_before = state.wall_seconds;
    let v = Validation {
        cfg,
        val,
        crops: crops.as_ref(),
    };
    if state.history.is_empty() {
        v.run(&nets, &mut state, &mut sums, &mut best_onnx, observer)?;
    }
    // The next step's batch is made on other threads while this step runs
    // on the device; `rng_now` is the generator as if it had not been drawn
    // yet (what a checkpoint keeps, so a resumed run draws it again).
    let mut prefetched = None;
    let spec = PatchSpec {
        lr_side: cfg.lr_patch,
        scale: cfg.shape.scale,
        degrade: cfg.degrade,
    };
    while state.step < cfg.steps {
        state.wall_seconds = wall_before + started.elapsed().as_secs_f64();
        let by_time = cfg.time_limit.map_or(0.0, |l| state.wall_seconds / l);
        if by_time >= 1.0 {
            break;
        }
        state.step += 1;
        let f = (state.step as f64 / cfg.steps as f64).max(by_time);
        let t = Instant::now();
        let upload = |b| DeviceBatch::upload(b, &cfg.stage, &device);
        let batch = match prefetched.take() {
            Some(b) => b,
            None => upload(photos.batch(&mut rng, cfg.batch, &spec)),
        };
        let rng_now = rng.0;
        let next = (state.step < cfg.steps).then(|| photos.draw(&mut rng, cfg.batch, &spec));
        let ((mut n, mut stats), next) = std::thread::scope(|scope| {
            let making = next.map(|d| scope.spawn(move || upload(photos.make(&d))));
            let stepped = step(cfg, nets, batch, f);
            (
                stepped,
                making.map(|h| h.join().expect("patch making does not panic")),
            )
        });
        prefetched = next;
        if let Some(ema) = n.ema.take() {
            n.ema = Some(ema_update(ema, &n.generator, cfg.ema));
        }
        nets = n;
        stats.too_good = detector.observe(state.step, stats.d.accuracy);
        state.train_seconds += t.elapsed().as_secs_f64();
        sums.add(&stats);
        observer.step(state.step, &stats);
        if state.step.is_multiple_of(cfg.val_every) || state.step == cfg.steps {
            v.run(&nets, &mut state, &mut sums, &mut best_onnx, observer)?;
            state.rng = format!("{:016x}", rng_now);
            state.too_good = detector.fired.clone();
            if let Some(w) = work {
                checkpoint::save(w, &nets, &state, &best_onnx)?;
            }
            if observer.stop() {
                break;
            }
        }
    }
    if sums.n > 0 {
        // Stopped by time between validations: validate what there is.
        v.run(&nets, &mut state, &mut sums, &mut best_onnx, observer)?;
    }
    let best = state.best.expect("at least one validation");
    Ok(TrainOutcome {
        best: state.history[best],
        history: state.history,
        onnx: best_onnx,
        seconds_per_step: state.train_seconds / state.step.max(1) as f64,
        steps: state.step,
        too_good: detector.fired,
        parameters,
        disc_parameters,
    })
}

/// Write `history` as CSV (one row per validation) to `path`.
pub fn write_log(path: &Path, history: &[ValPoint]) -> std::io::Result<()> {
    let mut s = String::from("step,l1,g_adv,d_loss,d_real,d_fake,d_accuracy,g_grad_norm,d_grad_norm,psnr_y,ssim_y,sharpness_y,bicubic_psnr_y\n");
    for p in history {
        s += &format!(
            "{},{:.6},{:.6},{:.6},{:.4},{:.4},{:.4},{:.5},{:.5},{:.4},{:.5},{:.4},{:.4}\n",
            p.step,
            p.l1,
            p.g_adv,
            p.d_loss,
            p.d_real,
            p.d_fake,
            p.d_accuracy,
            p.g_grad_norm,
            p.d_grad_norm,
            p.psnr_y,
            p.ssim_y,
            p.sharpness_y,
            p.bicubic_psnr_y
        );
    }
    std::fs::write(path, s)
}

/// Write the loss/metric plot of `history` as SVG to `path`.
pub fn write_plot(path: &Path, history: &[ValPoint], gan: bool) -> Result<(), String> {
    let trained: Vec<&ValPoint> = history.iter().filter(|p| p.step > 0).collect();
    let series = |f: fn(&ValPoint) -> f64| -> Vec<(f64, f64)> {
        trained.iter().map(|p| (p.step as f64, f(p))).collect()
    };
    let all = |f: fn(&ValPoint) -> f64| -> Vec<(f64, f64)> {
        history.iter().map(|p| (p.step as f64, f(p))).collect()
    };
    let mut losses = vec![("L1", series(|p| p.l1))];
    if gan {
        losses.push(("G adversarial", series(|p| p.g_adv)));
        losses.push(("D loss", series(|p| p.d_loss)));
        losses.push(("D accuracy", series(|p| p.d_accuracy)));
    }
    let metrics = [
        ("model", all(|p| p.psnr_y)),
        ("bicubic", all(|p| p.bicubic_psnr_y)),
    ];
    crate::common::plot::write_svg(path, &losses, &metrics)
}
