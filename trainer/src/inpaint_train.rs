//! Training of the inpainting generator (DeepFill v2's recipe at edge size):
//! L1 inside the hole plus a hinge adversarial loss from a spectrally
//! normalized PatchGAN that sees the composite and the mask (SN-PatchGAN),
//! two Adam optimizers, an EMA of the generator weights (what is validated
//! and exported), validation on fixed protocol crops and masks, evolution
//! grids, and checkpoints that resume a run.
//!
//! Samples: a random photo at one of three scales (short side 1, 1.5 or 2
//! patches), a random `patch`² crop, flipped half the time, a free-form mask
//! of a random hole-ratio bin, and the runtime's push-pull prefill.

use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::TensorData;
use edgegan_runtime::fill::prefill;
use edgegan_runtime::inpaint_eval::{eval_mask, protocol_crop, score, EVAL_SIZE};
use edgegan_runtime::io::{image_files, read_image, ImageLimits};
use edgegan_runtime::mask::{free_form, HoleBin, Mask};
use edgegan_runtime::RuntimeError;
use image::imageops::{resize, FilterType};
use image::RgbImage;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::data::Rng;
use crate::disc::Discriminator;
use crate::inpaint_net::InpaintGenerator;
use crate::params::{ema_update, values};
use crate::train::TrainError;

/// Discriminator layers (in, out, kernel, stride): RGB + mask in, five 5×5
/// stride-2 convs, a 1/32-resolution map of patch logits out.
pub const D_LAYERS: [(usize, usize, usize, usize); 5] = [
    (4, 32, 5, 2),
    (32, 64, 5, 2),
    (64, 128, 5, 2),
    (128, 128, 5, 2),
    (128, 1, 5, 2),
];

/// Settings of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InpaintConfig {
    /// Optimizer steps.
    pub steps: usize,
    /// Samples per step.
    pub batch: usize,
    /// Training crop side (multiple of 32).
    pub patch: usize,
    /// Generator learning rate (Adam, β = 0.5, 0.999).
    pub learning_rate: f64,
    /// Discriminator learning rate.
    pub d_learning_rate: f64,
    /// Weight of the hinge adversarial loss next to hole L1.
    pub adv_weight: f64,
    /// EMA decay of the exported weights.
    pub ema: f64,
    /// Validate (and checkpoint) every this many steps.
    pub val_every: usize,
    /// Seed of weights and sampling.
    pub seed: u64,
    /// Stop after this many seconds (checkpointed, resumable).
    pub time_limit: Option<f64>,
}

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
    /// Validation: mean in-hole PSNR of the EMA generator.
    pub hole_psnr: f64,
    /// Validation: the same for the push-pull prefill alone.
    pub prefill_hole_psnr: f64,
}

/// Photos at three scales, sampled into batches.
pub struct InpaintPhotos {
    scaled: Vec<RgbImage>,
    /// Photos read.
    pub photos: usize,
}

/// One batch: network input (`n`×4×p×p), truth (`n`×3×p×p), mask (`n`×1×p×p).
pub struct InpaintBatch {
    /// Prefilled RGB + mask.
    pub input: Vec<f32>,
    /// Ground-truth RGB.
    pub truth: Vec<f32>,
    /// 1 = hole.
    pub mask: Vec<f32>,
}

fn planar(img: &RgbImage) -> Vec<f32> {
    let n = (img.width() * img.height()) as usize;
    let mut v = vec![0.0; 3 * n];
    for (i, p) in img.pixels().enumerate() {
        for c in 0..3 {
            v[c * n + i] = p[c] as f32 / 255.0;
        }
    }
    v
}

/// Append `img`'s prefilled RGB and `mask` as 4 planes to `input`.
pub fn network_input(img: &RgbImage, mask: &Mask, input: &mut Vec<f32>) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let hole: Vec<bool> = (0..w * h)
        .map(|i| mask.is_hole((i % w) as u32, (i / w) as u32))
        .collect();
    let mut rgb = planar(img);
    prefill(&mut rgb, 3, w, h, &hole);
    input.extend(rgb);
    input.extend(hole.iter().map(|&o| o as u8 as f32));
}

impl InpaintPhotos {
    /// Read every photo under `dir` and keep it at short sides 1, 1.5 and 2 × `patch`.
    pub fn load(dir: &Path, patch: usize) -> Result<InpaintPhotos, RuntimeError> {
        let paths = image_files(dir)?;
        let mut scaled = Vec::new();
        for p in &paths {
            let img = read_image(p, &ImageLimits::input())?.to_rgb8();
            let (w, h) = img.dimensions();
            for f in [1.0, 1.5, 2.0] {
                let s = patch as f64 * f / w.min(h) as f64;
                let (nw, nh) = ((w as f64 * s).round() as u32, (h as f64 * s).round() as u32);
                scaled.push(resize(
                    &img,
                    nw.max(patch as u32),
                    nh.max(patch as u32),
                    FilterType::CatmullRom,
                ));
            }
        }
        Ok(InpaintPhotos {
            scaled,
            photos: paths.len(),
        })
    }

    /// `n` random samples of side `p`, drawn in parallel (each sample from
    /// its own seed, taken in order from `rng`: the batch does not depend on
    /// the thread count).
    pub fn batch(&self, rng: &mut Rng, n: usize, p: usize) -> InpaintBatch {
        let seeds: Vec<u64> = (0..n).map(|_| rng.next_u64()).collect();
        let samples: Vec<(Vec<f32>, Vec<f32>)> = std::thread::scope(|s| {
            let handles: Vec<_> = seeds
                .iter()
                .map(|&seed| s.spawn(move || self.sample(seed, p)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("sampling thread"))
                .collect()
        });
        let mut b = InpaintBatch {
            input: Vec::with_capacity(4 * n * p * p),
            truth: Vec::with_capacity(3 * n * p * p),
            mask: Vec::with_capacity(n * p * p),
        };
        for (input, truth) in samples {
            b.mask.extend_from_slice(&input[3 * p * p..]);
            b.input.extend(input);
            b.truth.extend(truth);
        }
        b
    }

    /// One sample from `seed`: (network input 4×p×p, truth 3×p×p).
    fn sample(&self, seed: u64, p: usize) -> (Vec<f32>, Vec<f32>) {
        let mut rng = Rng(seed);
        let img = &self.scaled[rng.below(self.scaled.len())];
        let x = rng.below((img.width() as usize - p) + 1) as u32;
        let y = rng.below((img.height() as usize - p) + 1) as u32;
        let mut crop = image::imageops::crop_imm(img, x, y, p as u32, p as u32).to_image();
        if rng.below(2) == 1 {
            crop = image::imageops::flip_horizontal(&crop);
        }
        let bin = HoleBin::ALL[rng.below(HoleBin::ALL.len())];
        let mask = free_form(p as u32, p as u32, rng.next_u64(), bin);
        let mut input = Vec::with_capacity(4 * p * p);
        network_input(&crop, &mask, &mut input);
        (input, planar(&crop))
    }
}

/// Validation crops with their fixed masks (bins 10–40 %).
pub struct InpaintVal {
    items: Vec<(RgbImage, Mask)>,
}

impl InpaintVal {
    /// Protocol crops of `photos` (each with masks of bins 10, 20 and 30 %).
    pub fn load(photos: &[PathBuf]) -> Result<InpaintVal, RuntimeError> {
        let mut items = Vec::new();
        for (i, p) in photos.iter().enumerate() {
            let crop = protocol_crop(&read_image(p, &ImageLimits::input())?, EVAL_SIZE);
            for lo in [10, 20, 30] {
                items.push((crop.clone(), eval_mask(i, HoleBin::new(lo), EVAL_SIZE)));
            }
        }
        Ok(InpaintVal { items })
    }

    /// Mean in-hole PSNR of `g` and of the prefill alone, plus the first
    /// three fills side by side with their inputs (an evolution frame).
    pub fn run(&self, g: &InpaintGenerator, device: &Device) -> (f64, f64, RgbImage) {
        let s = EVAL_SIZE as usize;
        let mut frame = RgbImage::new(2 * s as u32, 3 * s as u32);
        let (mut model, mut prefill) = (0.0, 0.0);
        for (k, (crop, mask)) in self.items.iter().enumerate() {
            let mut input = Vec::new();
            network_input(crop, mask, &mut input);
            let x = Tensor::<4>::from_data(TensorData::new(input.clone(), [1, 4, s, s]), device);
            let out = to_image(&values(g.forward(x)), s);
            let pre = to_image(&input, s);
            let composite = |f: &RgbImage| {
                RgbImage::from_fn(EVAL_SIZE, EVAL_SIZE, |x, y| {
                    *(if mask.is_hole(x, y) { f } else { crop }).get_pixel(x, y)
                })
            };
            let (out, pre) = (composite(&out), composite(&pre));
            model += score(crop, &out, mask).hole_psnr;
            prefill += score(crop, &pre, mask).hole_psnr;
            if k < 3 {
                let masked =
                    RgbImage::from_fn(EVAL_SIZE, EVAL_SIZE, |x, y| match mask.is_hole(x, y) {
                        true => image::Rgb([255, 255, 255]),
                        false => *crop.get_pixel(x, y),
                    });
                let y = (k * s) as i64;
                image::imageops::replace(&mut frame, &masked, 0, y);
                image::imageops::replace(&mut frame, &out, s as i64, y);
            }
        }
        let n = self.items.len().max(1) as f64;
        (model / n, prefill / n, frame)
    }
}

fn to_image(planes: &[f32], s: usize) -> RgbImage {
    let n = s * s;
    RgbImage::from_fn(s as u32, s as u32, |x, y| {
        let i = y as usize * s + x as usize;
        image::Rgb(std::array::from_fn(|c| {
            (planes[c * n + i] * 255.0).round().clamp(0.0, 255.0) as u8
        }))
    })
}

/// The nets and optimizers of a run.
pub struct InpaintNets {
    /// Generator being trained.
    pub generator: InpaintGenerator,
    /// Its exponential moving average.
    pub ema: InpaintGenerator,
    /// SN-PatchGAN discriminator.
    pub disc: Discriminator,
    optim_g: ModuleOptimizer,
    optim_d: ModuleOptimizer,
}

impl InpaintNets {
    /// Fresh nets from `seed`.
    pub fn new(seed: u64, device: &Device) -> InpaintNets {
        let mut rng = Rng(seed);
        let generator = InpaintGenerator::new(&mut rng, device);
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
    /// Hole L1.
    pub l1: f64,
    /// Generator hinge loss −E[D(fake)].
    pub g_adv: f64,
    /// Discriminator hinge loss.
    pub d_loss: f64,
    /// E[D(real)] − E[D(fake)].
    pub d_margin: f64,
}

fn tensor(v: Vec<f32>, dims: [usize; 4], device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(v, dims), device)
}

/// One step of D then G on `b`.
pub fn step(
    cfg: &InpaintConfig,
    mut nets: InpaintNets,
    b: InpaintBatch,
    device: &Device,
) -> (InpaintNets, InpaintStep) {
    let (n, p) = (cfg.batch, cfg.patch);
    let x = tensor(b.input, [n, 4, p, p], device);
    let truth = tensor(b.truth, [n, 3, p, p], device);
    let m = tensor(b.mask, [n, 1, p, p], device);
    let out = nets.generator.forward(x);
    let m3 = m.clone().expand([n, 3, p, p]);
    let composite = out.clone() * m3.clone() + truth.clone() * (m3.clone().neg().add_scalar(1.0));
    let with_mask = |img: Tensor<4>| Tensor::cat(vec![img, m.clone()], 1);
    // Discriminator: hinge on real and detached fake composites.
    let d_real = nets.disc.forward(with_mask(truth.clone()));
    let d_fake = nets.disc.forward(with_mask(composite.clone().detach()));
    let margin =
        d_real.clone().mean().into_scalar::<f32>() - d_fake.clone().mean().into_scalar::<f32>();
    let d_loss = (d_real.neg().add_scalar(1.0)).clamp_min(0.0).mean()
        + d_fake.add_scalar(1.0).clamp_min(0.0).mean();
    let mut stats = InpaintStep {
        d_loss: d_loss.clone().into_scalar::<f32>() as f64,
        d_margin: margin as f64,
        ..Default::default()
    };
    let grads = GradientsParams::from_grads(d_loss.backward(), &nets.disc);
    nets.disc = nets
        .optim_d
        .step(cfg.d_learning_rate, nets.disc, grads)
        .refreshed();
    // Generator: hole L1 + hinge adversarial through a frozen D.
    let holes = m3.clone().sum().add_scalar(1.0);
    let l1 = ((out - truth).abs() * m3).sum() / holes;
    let adv = nets
        .disc
        .clone()
        .no_grad()
        .forward(with_mask(composite))
        .mean()
        .neg();
    stats.l1 = l1.clone().into_scalar::<f32>() as f64;
    stats.g_adv = adv.clone().into_scalar::<f32>() as f64;
    let total = l1 + adv.mul_scalar(cfg.adv_weight);
    let grads = GradientsParams::from_grads(total.backward(), &nets.generator);
    nets.generator = nets.optim_g.step(cfg.learning_rate, nets.generator, grads);
    nets.ema = ema_update(nets.ema, &nets.generator, cfg.ema);
    (nets, stats)
}

/// Checkpoint state besides the nets.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct InpaintState {
    /// Steps done.
    pub step: usize,
    /// Sampling RNG, hex.
    pub rng: String,
    /// Seconds trained so far.
    pub seconds: f64,
    /// Validation history.
    pub history: Vec<InpaintPoint>,
}

/// Save nets and state under `work/checkpoint` (written aside, then renamed).
pub fn save(work: &Path, nets: &InpaintNets, state: &InpaintState) -> Result<(), TrainError> {
    let err = |p: &Path, e: &dyn std::fmt::Display| TrainError::Checkpoint {
        path: p.to_path_buf(),
        reason: e.to_string(),
    };
    let part = work.join("checkpoint.part");
    let _ = std::fs::remove_dir_all(&part);
    std::fs::create_dir_all(&part).map_err(|e| err(&part, &e))?;
    let files: [(&str, Box<dyn Fn(&Path) -> Result<(), String>>); 5] = [
        (
            "generator.bpk",
            Box::new(|p| {
                nets.generator
                    .clone()
                    .save_file(p)
                    .map_err(|e| e.to_string())
            }),
        ),
        (
            "ema.bpk",
            Box::new(|p| nets.ema.clone().save_file(p).map_err(|e| e.to_string())),
        ),
        (
            "disc.bpk",
            Box::new(|p| nets.disc.clone().save_file(p).map_err(|e| e.to_string())),
        ),
        (
            "optim_g.bpk",
            Box::new(|p| nets.optim_g.to_record().save(p).map_err(|e| e.to_string())),
        ),
        (
            "optim_d.bpk",
            Box::new(|p| nets.optim_d.to_record().save(p).map_err(|e| e.to_string())),
        ),
    ];
    for (name, write) in files {
        let p = part.join(name);
        write(&p).map_err(|e| err(&p, &e))?;
    }
    let p = part.join("state.toml");
    let text = toml::to_string(state).map_err(|e| err(&p, &e))?;
    std::fs::write(&p, text).map_err(|e| err(&p, &e))?;
    let cur = work.join("checkpoint");
    let _ = std::fs::remove_dir_all(&cur);
    std::fs::rename(&part, &cur).map_err(|e| err(&cur, &e))
}

/// Load a checkpoint written by [`save`] into `nets`.
pub fn load(dir: &Path, mut nets: InpaintNets) -> Result<(InpaintNets, InpaintState), TrainError> {
    use burn::optim::record::OptimizerRecord;
    let err = |p: &Path, e: String| TrainError::Checkpoint {
        path: p.to_path_buf(),
        reason: e,
    };
    let p = dir.join("state.toml");
    let text = std::fs::read_to_string(&p).map_err(|e| err(&p, e.to_string()))?;
    let state: InpaintState = toml::from_str(&text).map_err(|e| err(&p, e.to_string()))?;
    let module = |name: &str| dir.join(name);
    nets.generator = nets
        .generator
        .try_load_file(module("generator.bpk"))
        .map_err(|e| err(&module("generator.bpk"), e.to_string()))?;
    nets.ema = nets
        .ema
        .try_load_file(module("ema.bpk"))
        .map_err(|e| err(&module("ema.bpk"), e.to_string()))?;
    nets.disc = nets
        .disc
        .try_load_file(module("disc.bpk"))
        .map_err(|e| err(&module("disc.bpk"), e.to_string()))?;
    for (name, optim) in [
        ("optim_g.bpk", &mut nets.optim_g),
        ("optim_d.bpk", &mut nets.optim_d),
    ] {
        let p = dir.join(name);
        let r = OptimizerRecord::load(&p).map_err(|e| err(&p, e.to_string()))?;
        *optim = optim.clone().load_record(r);
    }
    Ok((nets, state))
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
    let device = Device::flex().autodiff();
    let mut nets = InpaintNets::new(cfg.seed, &device);
    let mut state = InpaintState {
        rng: format!("{:016x}", cfg.seed ^ 0x1a9a17),
        ..Default::default()
    };
    let ck = work.join("checkpoint");
    if ck.join("state.toml").is_file() {
        (nets, state) = load(&ck, nets)?;
        tracing::info!("resumed {} at step {}", ck.display(), state.step);
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
    while state.step < cfg.steps {
        let b = photos.batch(&mut rng, cfg.batch, cfg.patch);
        let (n, s) = step(cfg, nets, b, &device);
        nets = n;
        state.step += 1;
        sums.0 += 1;
        sums.1.l1 += s.l1;
        sums.1.g_adv += s.g_adv;
        sums.1.d_loss += s.d_loss;
        sums.1.d_margin += s.d_margin;
        state.seconds = before + started.elapsed().as_secs_f64();
        let out_of_time = cfg.time_limit.is_some_and(|t| state.seconds >= t);
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
                hole_psnr,
                prefill_hole_psnr,
            };
            sums = (0, InpaintStep::default());
            let p = evolution.join(format!("step_{:06}.png", state.step));
            frame.save(&p).map_err(|e| TrainError::Checkpoint {
                path: p,
                reason: e.to_string(),
            })?;
            report(&point);
            state.history.push(point);
            state.rng = format!("{:016x}", rng.0);
            save(work, &nets, &state)?;
            if out_of_time {
                break;
            }
        }
    }
    Ok(InpaintOutcome {
        generator: nets.ema,
        history: state.history,
        steps: state.step,
        seconds: state.seconds,
    })
}

/// Calibration inputs for int8 export: 4 batches of 8 training samples
/// (never the validation photos), drawn from `seed`.
pub fn calibration_batches(
    photos: &InpaintPhotos,
    patch: usize,
    seed: u64,
    device: &Device,
) -> Vec<Tensor<4>> {
    let mut rng = Rng(seed);
    (0..4)
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
    use crate::inpaint_export::{calibrate, inpaint_onnx};
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
                let v = if (x + 3 * i as u32) / 4 % 2 == 0 {
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

    #[test]
    fn a_fixed_batch_is_learned() {
        let device = Device::flex().autodiff();
        let cfg = InpaintConfig {
            steps: 40,
            batch: 4,
            patch: 32,
            learning_rate: 2e-3,
            d_learning_rate: 2e-3,
            adv_weight: 0.0,
            ema: 0.9,
            val_every: 1000,
            seed: 3,
            time_limit: None,
        };
        let mut nets = InpaintNets::new(cfg.seed, &device);
        let mut l1 = Vec::new();
        for _ in 0..cfg.steps {
            let (n, s) = step(&cfg, nets, batch(cfg.batch, cfg.patch), &device);
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
