//! Training of the inpainting generator (DeepFill v2's recipe at edge size):
//! a hole loss ([`HoleLoss`]: L1, L2 or per-sample PSNR) plus an optional
//! hinge adversarial loss from a spectrally normalized PatchGAN that sees
//! the composite and the mask (SN-PatchGAN), two Adam optimizers, an EMA of
//! the generator weights (what is validated and exported), validation on
//! fixed protocol crops and masks, evolution grids, and checkpoints that
//! resume a run. Settings: [`InpaintConfig`]; samples (crops, masks,
//! augmentations, prefill): [`crate::inpaint::data`].

use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::TensorData;
use edgegan_runtime::inpaint::EVAL_SIZE;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;

use crate::common::disc::Discriminator;
use crate::common::gan::TooGoodDetector;
use crate::common::params::{ema_update, values};
use crate::common::Rng;
use crate::error::TrainError;
use crate::inpaint::checkpoint::{load, save, InpaintState};
pub use crate::inpaint::config::{HoleLoss, InpaintConfig};
pub use crate::inpaint::data::{network_input, Augment, InpaintBatch, InpaintPhotos, InpaintVal};
use crate::inpaint::model::InpaintGenerator;

/// Discriminator layers (in, out, kernel, stride): RGB + mask in, five 5×5
/// stride-2 convs, a 1/32-resolution map of patch logits out.
pub const D_LAYERS: [(usize, usize, usize, usize); 5] = [
    (4, 32, 5, 2),
    (32, 64, 5, 2),
    (64, 128, 5, 2),
    (128, 128, 5, 2),
    (128, 1, 5, 2),
];

/// One validation point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InpaintPoint {
    /// Step.
    pub step: usize,
    /// Mean hole L1 of the steps since the last point.
    pub l1: f64,
    /// Mean generator hinge loss.
    pub g_adv: f64,
    /// Mean discriminator hinge loss.
    pub d_loss: f64,
    /// Mean D logit on real composites minus on generated ones.
    pub d_margin: f64,
    /// Mean share of patches D classifies right (real > 0, generated < 0).
    #[serde(default)]
    pub d_accuracy: f64,
    /// The too-good-discriminator detector fired since the last point.
    #[serde(default)]
    pub too_good: bool,
    /// Validation: mean in-hole PSNR of the EMA generator.
    pub hole_psnr: f64,
    /// Validation: the same for the prefill alone.
    pub prefill_hole_psnr: f64,
    /// Share of the wall time since the last point spent waiting for the
    /// CPU sampler (0 when the steps hide it).
    #[serde(default)]
    pub data_wait: f64,
}

/// The nets and optimizers of a run.
pub struct InpaintNets {
    /// Generator being trained.
    pub generator: InpaintGenerator,
    /// Its exponential moving average.
    pub ema: InpaintGenerator,
    /// SN-PatchGAN discriminator.
    pub disc: Discriminator,
    pub(crate) optim_g: ModuleOptimizer,
    pub(crate) optim_d: ModuleOptimizer,
}

impl InpaintNets {
    /// Fresh nets from `seed`, the generator with encoder channels
    /// `channels` and, with `attention`, a bottleneck attention block.
    pub fn new(seed: u64, channels: [usize; 4], attention: bool, device: &Device) -> InpaintNets {
        let mut rng = Rng(seed);
        let mut generator = InpaintGenerator::with_channels(channels, &mut rng, device);
        if attention {
            generator = generator.with_attention(&mut Rng(seed ^ 0xa77e));
        }
        let adam = AdamConfig::new().with_beta_1(0.5).with_epsilon(1e-8);
        InpaintNets {
            ema: generator.clone(),
            disc: Discriminator::with_layers(&D_LAYERS, &mut rng, device),
            generator,
            optim_g: adam.init(),
            optim_d: adam.init(),
        }
    }
}

/// Loss values of one step.
#[derive(Debug, Clone, Copy, Default)]
pub struct InpaintStep {
    /// Hole L1 (logged whichever [`HoleLoss`] trains).
    pub l1: f64,
    /// Generator hinge loss −E[D(fake)].
    pub g_adv: f64,
    /// Discriminator hinge loss.
    pub d_loss: f64,
    /// E[D(real)] − E[D(fake)].
    pub d_margin: f64,
    /// Share of patch logits on the right side of 0.
    pub d_accuracy: f64,
}

fn tensor(v: Vec<f32>, dims: [usize; 4], device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(v, dims), device)
}

/// The `k`-th (mod 8) of the eight flips and transposes of square images:
/// bit 0 flips columns, bit 1 flips rows, bit 2 transposes.
pub fn dihedral(x: Tensor<4>, k: usize) -> Tensor<4> {
    let x = if k & 1 == 1 { x.flip([3]) } else { x };
    let x = if k & 2 == 2 { x.flip([2]) } else { x };
    if k & 4 == 4 {
        x.swap_dims(2, 3)
    } else {
        x
    }
}

/// A batch on the training device, uploaded once however many steps use it.
#[derive(Debug, Clone)]
pub struct DeviceBatch {
    x: Tensor<4>,
    truth: Tensor<4>,
    m: Tensor<4>,
}

impl DeviceBatch {
    /// `b`, `n` samples of side `p`, on `device`.
    pub fn new(b: InpaintBatch, n: usize, p: usize, device: &Device) -> DeviceBatch {
        DeviceBatch {
            x: tensor(b.input, [n, 4, p, p], device),
            truth: tensor(b.truth, [n, 3, p, p], device),
            m: tensor(b.mask, [n, 1, p, p], device),
        }
    }
}

/// One step of D then G on `b` under the `k`-th [`dihedral`] transform,
/// learning rates scaled by `lr_scale`.
pub fn step(
    cfg: &InpaintConfig,
    mut nets: InpaintNets,
    b: &DeviceBatch,
    k: usize,
    lr_scale: f64,
) -> (InpaintNets, InpaintStep) {
    let (n, p) = (cfg.batch, cfg.patch);
    let x = dihedral(b.x.clone(), k);
    let truth = dihedral(b.truth.clone(), k);
    let m = dihedral(b.m.clone(), k);
    let out = nets.generator.forward(x);
    let m3 = m.clone().expand([n, 3, p, p]);
    let composite = out.clone() * m3.clone() + truth.clone() * (m3.clone().neg().add_scalar(1.0));
    let with_mask = |img: Tensor<4>| Tensor::cat(vec![img, m.clone()], 1);
    // Discriminator: hinge on real and detached fake composites.
    let d_real = nets.disc.forward(with_mask(truth.clone()));
    let d_fake = nets.disc.forward(with_mask(composite.clone().detach()));
    let margin =
        d_real.clone().mean().into_scalar::<f32>() - d_fake.clone().mean().into_scalar::<f32>();
    let (real, fake) = (
        values(d_real.clone().detach()),
        values(d_fake.clone().detach()),
    );
    let right =
        real.iter().filter(|&&v| v > 0.0).count() + fake.iter().filter(|&&v| v < 0.0).count();
    let d_loss = (d_real.neg().add_scalar(1.0)).clamp_min(0.0).mean()
        + d_fake.add_scalar(1.0).clamp_min(0.0).mean();
    let mut stats = InpaintStep {
        d_loss: d_loss.clone().into_scalar::<f32>() as f64,
        d_margin: margin as f64,
        d_accuracy: right as f64 / (real.len() + fake.len()).max(1) as f64,
        ..Default::default()
    };
    let grads = GradientsParams::from_grads(d_loss.backward(), &nets.disc);
    nets.disc = nets
        .optim_d
        .step(cfg.d_learning_rate * lr_scale, nets.disc, grads)
        .refreshed();
    // Generator: hole L1 + hinge adversarial through a frozen D.
    let holes = m3.clone().sum().add_scalar(1.0);
    let diff = out - truth;
    let l1 = (diff.clone().abs() * m3.clone()).sum() / holes.clone();
    let rec = match cfg.hole_loss {
        HoleLoss::L1 => l1.clone(),
        HoleLoss::L2 => (diff.powi_scalar(2) * m3).sum() / holes,
        HoleLoss::Psnr => {
            let per = |t: Tensor<4>| t.sum_dim(1).sum_dim(2).sum_dim(3);
            let mse = per(diff.powi_scalar(2) * m3.clone()) / per(m3).add_scalar(1.0);
            mse.add_scalar(1e-6)
                .log()
                .mean()
                .mul_scalar(10.0 / std::f64::consts::LN_10)
        }
    };
    let adv = nets
        .disc
        .clone()
        .no_grad()
        .forward(with_mask(composite))
        .mean()
        .neg();
    stats.l1 = l1.clone().into_scalar::<f32>() as f64;
    stats.g_adv = adv.clone().into_scalar::<f32>() as f64;
    let total = rec + adv.mul_scalar(cfg.adv_weight);
    let grads = GradientsParams::from_grads(total.backward(), &nets.generator);
    nets.generator = nets
        .optim_g
        .step(cfg.learning_rate * lr_scale, nets.generator, grads);
    nets.ema = ema_update(nets.ema, &nets.generator, cfg.ema);
    (nets, stats)
}

/// The generator in `p`: an exported f32 graph (`*.onnx`,
/// [`crate::inpaint::import::import`]) or a burnpack of the widths its
/// checkpoint's `state.toml` names (else `cfg.channels`); widened to
/// `cfg.channels` ([`crate::inpaint::widen::widen`]) when narrower.
fn initial_generator(
    p: &Path,
    cfg: &InpaintConfig,
    device: &Device,
) -> Result<InpaintGenerator, TrainError> {
    let mut rng = Rng(cfg.seed ^ 0x51de);
    let onnx = p.extension().is_some_and(|e| e == "onnx");
    let g = match onnx {
        true => crate::inpaint::import::import(p, device)?,
        false => burnpack_generator(p, cfg, &mut rng, device)?,
    };
    let from = g.channels();
    let refuse = |why: String| Err(TrainError::Config(format!("{}: {why}", p.display())));
    if from.iter().zip(&cfg.channels).any(|(f, c)| f > c) {
        return refuse(format!(
            "a generator of channels {from:?} cannot start one of {:?} (only wider)",
            cfg.channels
        ));
    }
    let has = g.attention.is_some();
    if has && (!cfg.attention || from != cfg.channels) {
        return refuse(
            "its generator has an attention block: pass --attention and its own --channels".into(),
        );
    }
    let g = match from == cfg.channels {
        true => g,
        false => crate::inpaint::widen::widen(&g, cfg.channels, &mut rng),
    };
    Ok(match cfg.attention && !has {
        true => g.with_attention(&mut rng),
        false => g,
    })
}

/// The generator in the burnpack `p` (see [`initial_generator`]).
fn burnpack_generator(
    p: &Path,
    cfg: &InpaintConfig,
    rng: &mut Rng,
    device: &Device,
) -> Result<InpaintGenerator, TrainError> {
    let dir = p.parent().unwrap_or(Path::new("."));
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let (from, attention) = match dir.join("state.toml").exists() {
        true => {
            let s = crate::common::checkpoint::read_state::<InpaintState>(dir)?;
            (s.channels, s.attention)
        }
        false => (cfg.channels, cfg.attention),
    };
    let mut g = InpaintGenerator::with_channels(from, rng, device);
    if attention {
        g = g.with_attention(rng);
    }
    crate::common::checkpoint::load_module(g, dir, name)
}

/// The mean, parameter by parameter, of the generators in `paths` (each
/// read by [`initial_generator`]).
fn soup(
    paths: &[std::path::PathBuf],
    cfg: &InpaintConfig,
    device: &Device,
) -> Result<InpaintGenerator, TrainError> {
    let mut mean = initial_generator(&paths[0], cfg, device)?;
    for (k, p) in paths.iter().enumerate().skip(1) {
        let g = initial_generator(p, cfg, device)?;
        mean = crate::common::params::ema_update(mean, &g, k as f64 / (k + 1) as f64);
    }
    Ok(crate::common::params::trainable(mean))
}

/// What a finished run hands back.
pub struct InpaintOutcome {
    /// The EMA generator at the end of the run.
    pub generator: InpaintGenerator,
    /// Validation history.
    pub history: Vec<InpaintPoint>,
    /// Steps done in all.
    pub steps: usize,
    /// Seconds trained in all.
    pub seconds: f64,
    /// Backend of the run that took the latest steps.
    pub backend: String,
}

/// Train (resuming `work/checkpoint` when present), writing evolution frames
/// and the JSONL log under `work`; `report` sees each validation point.
pub fn train_inpaint(
    cfg: &InpaintConfig,
    photos: &InpaintPhotos,
    val: &InpaintVal,
    work: &Path,
    report: &mut dyn FnMut(&InpaintPoint),
) -> Result<InpaintOutcome, TrainError> {
    let device = cfg.device.device()?.autodiff();
    let mut nets = InpaintNets::new(cfg.seed, cfg.channels, cfg.attention, &device);
    let mut state = InpaintState {
        rng: format!("{:016x}", cfg.seed ^ 0x1a9a17),
        channels: cfg.channels,
        attention: cfg.attention,
        ..Default::default()
    };
    if let Some(ck) = crate::common::checkpoint::existing(work) {
        (nets, state) = load(&ck, nets, cfg.channels, cfg.attention)?;
        tracing::info!("resumed {} at step {}", ck.display(), state.step);
    } else if !cfg.init_from.is_empty() {
        nets.generator = soup(&cfg.init_from, cfg, &device)?;
        nets.ema = nets.generator.clone();
        tracing::info!("generator initialized from {:?}", cfg.init_from);
    }
    let mut rng =
        Rng(u64::from_str_radix(&state.rng, 16).map_err(|e| TrainError::Config(e.to_string()))?);
    let evolution = work.join("evolution");
    std::fs::create_dir_all(&evolution).map_err(|e| TrainError::Checkpoint {
        path: evolution.clone(),
        reason: e.to_string(),
    })?;
    let started = Instant::now();
    let before = state.seconds;
    let mut sums = (0usize, InpaintStep::default());
    // The SR trainer's detector: D right on 95 % of patches over 50 steps.
    let mut detector = TooGoodDetector::new(50, 0.95);
    let mut fired = false;
    if state.step < cfg.steps {
        // This run takes the next steps: the card names its backend.
        state.backend = cfg.device.backend();
    }
    // The next batch is sampled on CPU threads while the steps on this one
    // run; the checkpoint keeps the sampler's state from before that draw,
    // so a resumed run takes the same batches (with --reuse, from the next
    // fresh batch on).
    let reuse = cfg.reuse.max(1);
    let mut waited = 0.0;
    let mut interval = Instant::now();
    nets = std::thread::scope(|scope| -> Result<InpaintNets, TrainError> {
        let mut next: Option<std::thread::ScopedJoinHandle<'_, InpaintBatch>> = None;
        let mut current: Option<(DeviceBatch, usize)> = None;
        let mut after_this = rng.0;
        while state.step < cfg.steps {
            if current.as_ref().is_none_or(|c| c.1 == reuse) {
                let wait = Instant::now();
                let b = match next.take() {
                    Some(h) => h.join().expect("sampling thread"),
                    None => photos.batch(&mut rng, cfg.batch, cfg.patch),
                };
                waited += wait.elapsed().as_secs_f64();
                current = Some((DeviceBatch::new(b, cfg.batch, cfg.patch, &device), 0));
                after_this = rng.0;
                if state.step + reuse < cfg.steps {
                    let seeds = InpaintPhotos::seeds(&mut rng, cfg.batch);
                    next = Some(scope.spawn(move || photos.batch_of(&seeds, cfg.patch)));
                }
            }
            let (b, used) = current.as_mut().expect("a batch was just drawn");
            let (n, s) = step(cfg, nets, b, *used, cfg.lr_scale(state.step));
            *used += 1;
            nets = n;
            state.step += 1;
            sums.0 += 1;
            sums.1.l1 += s.l1;
            sums.1.g_adv += s.g_adv;
            sums.1.d_loss += s.d_loss;
            sums.1.d_margin += s.d_margin;
            sums.1.d_accuracy += s.d_accuracy;
            if let Some(mean) = detector.observe(state.step, s.d_accuracy) {
                tracing::warn!(
                "step {}: the discriminator is right on {:.1} % of patches (50-step mean): too good for the generator to learn from",
                state.step,
                100.0 * mean
            );
                fired = true;
            }
            state.seconds = before + started.elapsed().as_secs_f64();
            let out_of_time = cfg
                .time_limit
                .is_some_and(|t| started.elapsed().as_secs_f64() >= t);
            if state.step.is_multiple_of(cfg.val_every) || state.step == cfg.steps || out_of_time {
                let (hole_psnr, prefill_hole_psnr, frame) =
                    val.run(&nets.ema.clone().no_grad(), &device);
                let k = sums.0.max(1) as f64;
                let point = InpaintPoint {
                    step: state.step,
                    l1: sums.1.l1 / k,
                    g_adv: sums.1.g_adv / k,
                    d_loss: sums.1.d_loss / k,
                    d_margin: sums.1.d_margin / k,
                    d_accuracy: sums.1.d_accuracy / k,
                    too_good: std::mem::take(&mut fired),
                    hole_psnr,
                    prefill_hole_psnr,
                    data_wait: waited / interval.elapsed().as_secs_f64().max(1e-9),
                };
                sums = (0, InpaintStep::default());
                (waited, interval) = (0.0, Instant::now());
                let p = evolution.join(format!("step_{:06}.png", state.step));
                frame.save(&p).map_err(|e| TrainError::Checkpoint {
                    path: p,
                    reason: e.to_string(),
                })?;
                report(&point);
                state.history.push(point);
                state.rng = format!("{:016x}", after_this);
                save(work, &nets, &state)?;
                if out_of_time {
                    break;
                }
            }
        }
        Ok(nets)
    })?;
    // A run resumed at its last step still leaves the final frame.
    let last = evolution.join(format!("step_{:06}.png", state.step));
    if !last.exists() {
        let (_, _, frame) = val.run(&nets.ema.clone().no_grad(), &device);
        frame.save(&last).map_err(|e| TrainError::Checkpoint {
            path: last,
            reason: e.to_string(),
        })?;
    }
    Ok(InpaintOutcome {
        generator: nets.ema,
        history: state.history,
        steps: state.step,
        seconds: state.seconds,
        backend: state.backend,
    })
}

/// Training crops the int8 export's ranges are calibrated on.
pub const CALIBRATION_CROPS: usize = 32;

/// Calibration inputs for int8 export: [`CALIBRATION_CROPS`] training
/// samples in batches of 8 (never the validation photos), drawn from `seed`.
pub fn calibration_batches(
    photos: &InpaintPhotos,
    patch: usize,
    seed: u64,
    device: &Device,
) -> Vec<Tensor<4>> {
    let mut rng = Rng(seed);
    (0..CALIBRATION_CROPS / 8)
        .map(|_| {
            tensor(
                photos.batch(&mut rng, 8, patch).input,
                [8, 4, patch, patch],
                device,
            )
        })
        .collect()
}

/// The exported graphs of a trained generator at the protocol's working
/// size: (f32 ONNX, int8 ONNX calibrated on training crops from `seed`).
pub fn export_graphs(
    g: &InpaintGenerator,
    photos: &InpaintPhotos,
    patch: usize,
    seed: u64,
) -> (Vec<u8>, Vec<u8>) {
    use crate::inpaint::export::{calibrate, inpaint_onnx};
    let device = Device::flex();
    let g = g.clone().valid().to_device(&device);
    let ranges = calibrate(
        &g,
        &calibration_batches(photos, patch, seed, &device),
        crate::quant::Method::Percentile,
    );
    let size = EVAL_SIZE as usize;
    (
        inpaint_onnx(&g, size, None).encode(),
        inpaint_onnx(&g, size, Some(&ranges)).encode(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::device::TrainDevice;
    use crate::common::params::{flat_params, max_abs_diff};
    use crate::inpaint::data::planar;
    use crate::inpaint::model::CHANNELS;
    use edgegan_runtime::inpaint::{free_form, HoleBin};
    use image::RgbImage;

    /// Stripes whose phase the hole hides: only a model that looks at the
    /// border's context can bring the hole L1 down.
    fn batch(n: usize, p: usize) -> InpaintBatch {
        let mut b = InpaintBatch {
            input: Vec::new(),
            truth: Vec::new(),
            mask: Vec::new(),
        };
        for i in 0..n {
            let img = RgbImage::from_fn(p as u32, p as u32, |x, y| {
                let v = if ((x + 3 * i as u32) / 4).is_multiple_of(2) {
                    200
                } else {
                    40
                };
                image::Rgb([v, (y * 4) as u8, 255 - v])
            });
            let mask = free_form(p as u32, p as u32, i as u64, HoleBin::new(20));
            network_input(&img, &mask, &mut b.input);
            b.truth.extend(planar(&img));
            b.mask.extend_from_slice(&b.input[b.input.len() - p * p..]);
        }
        b
    }

    /// A fixed 1×4×16×16 input (values `(i mod m) / m`) to compare generators on.
    fn probe(m: usize) -> Tensor<4> {
        let v: Vec<f32> = (0..4 * 16 * 16)
            .map(|i| (i % m) as f32 / m as f32)
            .collect();
        tensor(v, [1, 4, 16, 16], &Device::flex())
    }

    #[test]
    fn the_eight_dihedral_transforms_are_the_flips_and_transposes() {
        let device = Device::flex();
        // 2×2 image [[1, 2], [3, 4]].
        let x = tensor(vec![1.0, 2.0, 3.0, 4.0], [1, 1, 2, 2], &device);
        let all: Vec<Vec<f32>> = (0..8).map(|k| values(dihedral(x.clone(), k))).collect();
        assert_eq!(all[0], vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(all[1], vec![2.0, 1.0, 4.0, 3.0]);
        assert_eq!(all[2], vec![3.0, 4.0, 1.0, 2.0]);
        assert_eq!(all[3], vec![4.0, 3.0, 2.0, 1.0]);
        assert_eq!(all[4], vec![1.0, 3.0, 2.0, 4.0]);
        assert_eq!(all[5], vec![2.0, 4.0, 1.0, 3.0]);
        assert_eq!(all[6], vec![3.0, 1.0, 4.0, 2.0]);
        assert_eq!(all[7], vec![4.0, 2.0, 3.0, 1.0]);
        assert_eq!(values(dihedral(x.clone(), 8)), all[0]);
    }

    /// A run stopped by its time limit after one step (with the next batch
    /// already being sampled) and resumed takes the same batches and ends
    /// with the same generator as one unbroken run.
    #[test]
    fn a_resumed_run_ends_where_an_unbroken_one_does() {
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
        let photos = InpaintPhotos::load(&examples, 32).unwrap();
        let val = InpaintVal::load(&[examples.join("astronaut.png")]).unwrap();
        let cfg = InpaintConfig {
            steps: 4,
            batch: 2,
            patch: 32,
            learning_rate: 2e-3,
            d_learning_rate: 2e-3,
            lr_decay_start: 0.5,
            reuse: 1,
            init_from: Vec::new(),
            channels: CHANNELS,
            attention: false,
            hole_loss: HoleLoss::L1,
            adv_weight: 0.01,
            ema: 0.9,
            val_every: 2,
            seed: 5,
            time_limit: None,
            device: TrainDevice::Cpu,
        };
        let dir = tempfile::tempdir().unwrap();
        let (whole, split) = (dir.path().join("whole"), dir.path().join("split"));
        let a = train_inpaint(&cfg, &photos, &val, &whole, &mut |_| {}).unwrap();
        let stop = InpaintConfig {
            time_limit: Some(0.0),
            ..cfg.clone()
        };
        let cut = train_inpaint(&stop, &photos, &val, &split, &mut |_| {}).unwrap();
        assert_eq!(cut.steps, 1);
        let b = train_inpaint(&cfg, &photos, &val, &split, &mut |_| {}).unwrap();
        assert_eq!((a.steps, b.steps), (4, 4));
        // The split run also validated at step 1; steps 2 and 4 must agree.
        let psnr = |h: &[InpaintPoint]| -> Vec<(usize, f64)> {
            h.iter()
                .filter(|p| p.step % 2 == 0)
                .map(|p| (p.step, p.hole_psnr))
                .collect()
        };
        assert_eq!(
            psnr(&a.history),
            vec![(2, a.history[0].hole_psnr), (4, a.history[1].hole_psnr)]
        );
        assert_eq!(psnr(&a.history), psnr(&b.history));
        assert_eq!(
            values(a.generator.forward(probe(11))),
            values(b.generator.forward(probe(11)))
        );
    }

    /// One CPU step of a narrow generator on 32² crops of the examples.
    fn tiny_run() -> (InpaintConfig, InpaintPhotos, InpaintVal) {
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
        let photos = InpaintPhotos::load(&examples, 32).unwrap();
        let val = InpaintVal::load(&[examples.join("astronaut.png")]).unwrap();
        let cfg = InpaintConfig {
            steps: 1,
            batch: 1,
            patch: 32,
            learning_rate: 1e-3,
            d_learning_rate: 1e-3,
            lr_decay_start: 1.0,
            reuse: 1,
            init_from: Vec::new(),
            channels: [8, 8, 16, 16],
            attention: false,
            hole_loss: HoleLoss::L2,
            adv_weight: 0.0,
            ema: 0.9,
            val_every: 1,
            seed: 2,
            time_limit: None,
            device: TrainDevice::Cpu,
        };
        (cfg, photos, val)
    }

    /// A checkpoint is resumed only by a run of the same generator widths,
    /// and a fresh run started from a generator's weights starts where they are.
    #[test]
    fn checkpoints_keep_their_widths_and_weights_can_start_a_fresh_run() {
        let (cfg, photos, val) = tiny_run();
        let dir = tempfile::tempdir().unwrap();
        let a = train_inpaint(&cfg, &photos, &val, &dir.path().join("a"), &mut |_| {}).unwrap();
        let other = InpaintConfig {
            channels: CHANNELS,
            ..cfg.clone()
        };
        let e = train_inpaint(&other, &photos, &val, &dir.path().join("a"), &mut |_| {});
        let msg = e.err().expect("other widths are refused").to_string();
        assert!(
            msg.contains("[8, 8, 16, 16]") && msg.contains("[16, 32, 64, 96]"),
            "{msg}"
        );
        // Zero steps from the EMA's weights: the outcome is exactly those weights.
        let warm = InpaintConfig {
            steps: 0,
            init_from: vec![dir.path().join("a/checkpoint/ema.bpk")],
            ..cfg.clone()
        };
        let b = train_inpaint(&warm, &photos, &val, &dir.path().join("b"), &mut |_| {}).unwrap();
        assert_eq!(
            values(a.generator.forward(probe(13))),
            values(b.generator.forward(probe(13)))
        );
        // From a narrower checkpoint: widened, the same output.
        let wide = InpaintConfig {
            channels: [12, 8, 24, 16],
            ..warm
        };
        let c = train_inpaint(&wide, &photos, &val, &dir.path().join("c"), &mut |_| {}).unwrap();
        assert_eq!(c.generator.parameters(), {
            let g = InpaintGenerator::with_channels([12, 8, 24, 16], &mut Rng(1), &Device::flex());
            g.parameters()
        });
        let worst = max_abs_diff(
            &values(a.generator.forward(probe(13))),
            &values(c.generator.forward(probe(13))),
        );
        assert!(worst < 1e-5, "{worst}");
        let narrow = InpaintConfig {
            channels: [4, 8, 16, 16],
            ..wide
        };
        let e = train_inpaint(&narrow, &photos, &val, &dir.path().join("d"), &mut |_| {});
        let msg = e.err().expect("narrowing is refused").to_string();
        assert!(msg.contains("only wider"), "{msg}");
        // Two starts: their mean, parameter by parameter, and it trains.
        let e = InpaintConfig {
            seed: 3,
            ..cfg.clone()
        };
        let e = train_inpaint(&e, &photos, &val, &dir.path().join("e"), &mut |_| {}).unwrap();
        let soup = InpaintConfig {
            init_from: vec![
                dir.path().join("a/checkpoint/ema.bpk"),
                dir.path().join("e/checkpoint/ema.bpk"),
            ],
            steps: 0,
            ..cfg
        };
        let s = train_inpaint(&soup, &photos, &val, &dir.path().join("s"), &mut |_| {}).unwrap();
        let (pa, pe, ps) = (
            flat_params(&a.generator),
            flat_params(&e.generator),
            flat_params(&s.generator),
        );
        let mean: Vec<f32> = pa.iter().zip(&pe).map(|(x, y)| (x + y) / 2.0).collect();
        assert!(max_abs_diff(&ps, &mean) < 1e-6);
        assert!(max_abs_diff(&pa, &pe) > 1e-3, "different starts");
        let trained = InpaintConfig { steps: 1, ..soup };
        let t = train_inpaint(&trained, &photos, &val, &dir.path().join("t"), &mut |_| {});
        assert_eq!(t.unwrap().steps, 1);
    }

    #[test]
    fn attention_starts_silent_and_its_checkpoints_keep_it() {
        let (cfg, photos, val) = tiny_run();
        let dir = tempfile::tempdir().unwrap();
        let run = |c: &InpaintConfig, w: &str| {
            train_inpaint(c, &photos, &val, &dir.path().join(w), &mut |_| {})
        };
        let a = run(&cfg, "a").unwrap();
        // A plain model's weights with --attention: a new block, the same output.
        let silent = InpaintConfig {
            steps: 0,
            attention: true,
            init_from: vec![dir.path().join("a/checkpoint/ema.bpk")],
            ..cfg.clone()
        };
        let b = run(&silent, "b").unwrap();
        assert!(b.generator.attention.is_some());
        assert_eq!(
            b.generator.parameters(),
            a.generator.parameters() + 2 * (16 * 32 + 32) + 2 * (16 * 16 + 16)
        );
        assert_eq!(
            values(a.generator.forward(probe(13))),
            values(b.generator.forward(probe(13)))
        );
        let c = run(
            &InpaintConfig {
                steps: 2,
                ..silent.clone()
            },
            "c",
        )
        .unwrap();
        // Its checkpoint has the block: without --attention it is refused,
        // whether resumed or used as a start.
        let plain = InpaintConfig {
            steps: 3,
            ..cfg.clone()
        };
        let msg = run(&plain, "c").err().expect("resume refused").to_string();
        assert!(msg.contains("attention: true"), "{msg}");
        let from_c = InpaintConfig {
            steps: 0,
            init_from: vec![dir.path().join("c/checkpoint/ema.bpk")],
            ..cfg
        };
        let msg = run(&from_c, "d").err().expect("start refused").to_string();
        assert!(msg.contains("pass --attention"), "{msg}");
        let d = run(
            &InpaintConfig {
                attention: true,
                ..from_c
            },
            "d",
        )
        .unwrap();
        assert_eq!(flat_params(&d.generator), flat_params(&c.generator));
    }

    #[test]
    fn a_fixed_batch_is_learned() {
        let device = Device::flex().autodiff();
        let cfg = InpaintConfig {
            steps: 40,
            batch: 4,
            patch: 32,
            learning_rate: 2e-3,
            d_learning_rate: 2e-3,
            lr_decay_start: 1.0,
            reuse: 1,
            init_from: Vec::new(),
            channels: CHANNELS,
            attention: false,
            hole_loss: HoleLoss::L1,
            adv_weight: 0.0,
            ema: 0.9,
            val_every: 1000,
            seed: 3,
            time_limit: None,
            device: TrainDevice::Cpu,
        };
        let mut nets = InpaintNets::new(cfg.seed, cfg.channels, cfg.attention, &device);
        let mut l1 = Vec::new();
        for _ in 0..cfg.steps {
            let b = DeviceBatch::new(batch(cfg.batch, cfg.patch), cfg.batch, cfg.patch, &device);
            let (n, s) = step(&cfg, nets, &b, 0, 1.0);
            nets = n;
            l1.push(s.l1);
        }
        let (first, last) = (l1[0], l1[l1.len() - 1]);
        assert!(
            last < 0.6 * first,
            "hole L1 {first:.4} -> {last:.4}: {l1:?}"
        );
    }
}
