//! DCGAN training with the talk's failure detectors. Each epoch reports the
//! losses, D's accuracy on real and generated images, G's gradient norm and,
//! judged on a fixed batch of generated samples, their diversity against real
//! images, their class histogram under the trainer's own digit classifier,
//! and the KID to held-out real digits. Three detectors turn these into
//! warnings:
//!
//! After `warmup` epochs:
//!
//! * **too-good discriminator**: D's accuracy on real and fake at or above
//!   `d_accuracy` for the epoch, or G's gradient norm below `g_grad_ratio`
//!   of its first epoch's;
//! * **mode collapse**: diversity below `diversity_ratio` of the real
//!   images', or (labelled data) fewer than `min_classes` classes or an
//!   entropy below `min_entropy` nats;
//! * **plateau** (when to stop): KID has not improved by 1 % for `patience` epochs.
//!
//! The generator of the epoch with the lowest KID is kept (the last one
//! without a classifier).

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::TensorData;
use edgegan_runtime::noise::latents;
use image::RgbImage;
use std::path::Path;

use crate::common::params::{grad_norm, values};
use crate::common::Rng;
use crate::dcgan::checkpoint::{self, fingerprint, DcganNets, DcganState};
use crate::dcgan::classifier::{batch, shuffle, Classifier, CLASSES, FEATURES};
use crate::dcgan::imageset::ImageSet;
use crate::dcgan::model::{d_loss, g_loss, DcDiscriminator, DcGenerator, DcganShape};
use crate::dcgan::sample_stats::{coverage, entropy, histogram, kid, mean_pairwise_distance};
use crate::error::TrainError;

/// Detector thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// D accuracy (real and fake) at or above this: too good.
    pub d_accuracy: f64,
    /// G gradient norm below this share of epoch 1's: collapsed.
    pub g_grad_ratio: f64,
    /// Generated / real mean pairwise distance below this: mode collapse.
    pub diversity_ratio: f64,
    /// Class-histogram entropy below this (nats): mode collapse.
    pub min_entropy: f64,
    /// Fewer classes than this among the judged samples: mode collapse.
    pub min_classes: usize,
    /// Epochs without a better KID before the plateau warning.
    pub patience: usize,
    /// Epochs before the too-good and mode-collapse detectors judge (a
    /// fresh generator is neither varied nor a match for D yet).
    pub warmup: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            d_accuracy: 0.95,
            g_grad_ratio: 0.1,
            diversity_ratio: 0.6,
            min_entropy: 1.5,
            min_classes: 8,
            patience: 6,
            warmup: 4,
        }
    }
}

/// Training settings (defaults: the talk's demo).
#[derive(Debug, Clone, PartialEq)]
pub struct DcganConfig {
    /// Network sizes.
    pub shape: DcganShape,
    /// Passes over the training images.
    pub epochs: usize,
    /// Images per step.
    pub batch: usize,
    /// Generator learning rate (Adam, β1 = 0.5).
    pub lr_g: f64,
    /// Discriminator learning rate (two-timescale when it differs from `lr_g`).
    pub lr_d: f64,
    /// Discriminator steps per generator step.
    pub d_steps: usize,
    /// Target for real images in D's loss (1; 0.9 is one-sided label smoothing).
    pub real_label: f64,
    /// Spectral norm on D's convolutions.
    pub spectral: bool,
    /// Dropout after D's convolutions.
    pub dropout: f64,
    /// Seed of weights, batches and the fixed noise.
    pub seed: u64,
    /// Generated samples judged per epoch.
    pub judge_samples: usize,
    /// Detector thresholds.
    pub thresholds: Thresholds,
}

impl DcganConfig {
    /// The talk's settings for `side`-pixel images of `channels` channels.
    pub fn new(side: usize, channels: usize) -> DcganConfig {
        DcganConfig {
            shape: DcganShape::new(side, channels),
            epochs: 40,
            batch: 64,
            lr_g: 3e-4,
            lr_d: 3e-4,
            d_steps: 1,
            real_label: 1.0,
            spectral: false,
            dropout: 0.3,
            seed: 1,
            judge_samples: 1000,
            thresholds: Thresholds::default(),
        }
    }
}

/// A detector's warning.
#[derive(Debug, Clone, PartialEq)]
pub enum Warning {
    /// D separates real from generated too well for G to learn.
    TooGoodDiscriminator {
        /// Mean of D's accuracies on real and on generated images.
        accuracy: f64,
        /// G's gradient norm over epoch 1's.
        grad_ratio: f64,
    },
    /// The generated samples are less varied than the data.
    ModeCollapse {
        /// Generated / real mean pairwise distance.
        diversity: f64,
        /// Classes seen (labelled data).
        coverage: Option<usize>,
        /// Histogram entropy, nats (labelled data).
        entropy: Option<f64>,
    },
    /// KID has stopped improving.
    Plateau {
        /// Epoch of the best KID so far.
        best_epoch: usize,
        /// That KID.
        best_kid: f64,
    },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::TooGoodDiscriminator { accuracy, grad_ratio } => write!(
                f,
                "too-good discriminator: D accuracy {accuracy:.3}, G gradient norm {grad_ratio:.3}x epoch 1's"
            ),
            Warning::ModeCollapse { diversity, coverage, entropy } => {
                write!(f, "mode collapse: diversity {diversity:.3} of the real images'")?;
                if let (Some(c), Some(e)) = (coverage, entropy) {
                    write!(f, ", {c}/10 classes, entropy {e:.3} nats")?;
                }
                Ok(())
            }
            Warning::Plateau { best_epoch, best_kid } => write!(
                f,
                "plateau: KID has not improved since epoch {best_epoch} ({best_kid:.4}); more epochs are unlikely to help"
            ),
        }
    }
}

/// One epoch's numbers.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpochReport {
    /// Epoch, from 1.
    pub epoch: usize,
    /// Mean D loss.
    pub d_loss: f64,
    /// Mean G loss.
    pub g_loss: f64,
    /// D accuracy on real images (logit > 0).
    pub d_real_accuracy: f64,
    /// D accuracy on generated images (logit < 0).
    pub d_fake_accuracy: f64,
    /// Mean G gradient norm.
    pub g_grad_norm: f64,
    /// Generated / real mean pairwise distance.
    pub diversity: f64,
    /// Class histogram of the judged samples (labelled data).
    pub histogram: Option<Vec<usize>>,
    /// Classes covered.
    pub coverage: Option<usize>,
    /// Histogram entropy, nats.
    pub entropy: Option<f64>,
    /// KID to held-out real images in the classifier's feature space.
    pub kid: Option<f64>,
    /// Detector warnings, as printed.
    pub warnings: Vec<String>,
}

/// Judges generated images: the trained classifier and held-out real images.
pub struct Judge {
    classifier: Option<Classifier>,
    real_features: Vec<f32>,
    real_diversity: f64,
}

/// At most this many images enter the pairwise-distance mean.
const DIVERSITY_IMAGES: usize = 400;

impl Judge {
    /// A judge with `classifier` (labelled data) comparing to `held_out`.
    pub fn new(classifier: Option<Classifier>, held_out: &ImageSet) -> Judge {
        let device = Device::flex();
        let all: Vec<usize> = (0..held_out.len()).collect();
        let real_features = match &classifier {
            Some(c) => values(c.features(batch(held_out, &all, &device))),
            None => Vec::new(),
        };
        let k = held_out.len().min(DIVERSITY_IMAGES);
        let real_diversity = mean_pairwise_distance(
            &held_out.pixels[..k * held_out.image_len()],
            held_out.image_len(),
        );
        Judge {
            classifier,
            real_features,
            real_diversity,
        }
    }

    /// The classifier, if any.
    pub fn classifier(&self) -> Option<&Classifier> {
        self.classifier.as_ref()
    }

    /// Diversity ratio, histogram and KID of generated images `x` (in [−1, 1]).
    pub fn judge(&self, x: Tensor<4>) -> (f64, Option<Vec<usize>>, Option<f64>) {
        let [n, c, h, w] = x.dims();
        let len = c * h * w;
        let v = values(x.clone());
        let k = n.min(DIVERSITY_IMAGES);
        let diversity = mean_pairwise_distance(&v[..k * len], len) / self.real_diversity.max(1e-12);
        let Some(cls) = &self.classifier else {
            return (diversity, None, None);
        };
        let hist = histogram(&cls.predict(x.clone()), CLASSES);
        let kid = kid(&values(cls.features(x)), &self.real_features, FEATURES);
        (diversity, Some(hist), Some(kid))
    }
}

/// The outcome of a run.
pub struct DcganRun {
    /// The selected generator (lowest KID; the last without a classifier), for a plain device.
    pub best: DcGenerator,
    /// Its epoch.
    pub best_epoch: usize,
    /// Every epoch's report.
    pub reports: Vec<EpochReport>,
}

/// Fixed noise of the evolution grid: 64 vectors from the run's seed.
pub fn grid_noise(cfg: &DcganConfig, device: &Device) -> Tensor<2> {
    noise(cfg.seed ^ 0x6772_6964, 64, cfg.shape.latent, device)
}

fn noise(seed: u64, n: usize, dim: usize, device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(latents(seed, n, dim), [n, dim]), device)
}

/// Tile images (N×C×s×s in [−1, 1]) into a `cols`-wide RGB grid, each pixel
/// repeated `zoom` times, 2-pixel gaps (the runtime's `generate` layout).
pub fn grid(x: Tensor<4>, cols: usize, zoom: usize) -> RgbImage {
    let [n, c, s, _] = x.dims();
    let unit: Vec<f32> = values(x).iter().map(|p| (p + 1.0) / 2.0).collect();
    edgegan_runtime::generate::tile(&unit, n, c, s, cols, zoom)
}

/// Train on `data`; `judge` scores every epoch; `on_epoch` gets each report
/// and the fixed-noise grid as they come (no grid for the epochs a resumed
/// run restores: the earlier run had them). With `work`, a checkpoint is
/// saved there after every epoch; one already there is resumed when
/// `resume` is true and refused otherwise. A resumed run ends exactly where
/// an unbroken one does, and may ask for more epochs than the first did.
pub fn train(
    data: &ImageSet,
    judge: &Judge,
    cfg: &DcganConfig,
    work: Option<&Path>,
    resume: bool,
    on_epoch: &mut dyn FnMut(&EpochReport, Option<&RgbImage>),
) -> Result<DcganRun, TrainError> {
    let device = Device::flex().autodiff();
    let plain = Device::flex();
    let mut rng = Rng(cfg.seed);
    let g = DcGenerator::new(cfg.shape, &mut rng, &device);
    let d = DcDiscriminator::new(cfg.shape, cfg.spectral, cfg.dropout, &mut rng, &device);
    let adam = AdamConfig::new().with_beta_1(0.5).with_beta_2(0.999);
    let mut nets = DcganNets {
        best: g.clone().valid(),
        g,
        d,
        opt_g: adam.init(),
        opt_d: adam.init(),
    };
    let mut state = DcganState {
        fingerprint: fingerprint(cfg, data),
        epoch: 0,
        rng: String::new(),
        first_grad: None,
        best_epoch: 0,
        best_kid: None,
        plateau_warned: false,
        reports: Vec::new(),
    };
    if let Some(dir) = crate::common::checkpoint::to_resume(work, resume)? {
        let refuse = |reason: String| TrainError::Checkpoint {
            path: dir.clone(),
            reason,
        };
        let (n, s) = checkpoint::load(&dir, nets)?;
        if s.fingerprint != state.fingerprint {
            return Err(refuse(format!(
                "was written by another configuration or data ({}), not ({})",
                s.fingerprint, state.fingerprint
            )));
        }
        rng = Rng(u64::from_str_radix(&s.rng, 16)
            .map_err(|e| refuse(format!("state.toml: rng {:?}: {e}", s.rng)))?);
        (nets, state) = (n, s);
        tracing::info!("resumed {} after epoch {}", dir.display(), state.epoch);
        for r in &state.reports {
            on_epoch(r, None);
        }
    }
    let fixed = grid_noise(cfg, &plain);
    let judged = noise(
        cfg.seed ^ 0x6a75_6467,
        cfg.judge_samples,
        cfg.shape.latent,
        &plain,
    );
    let t = cfg.thresholds;
    for epoch in state.epoch + 1..=cfg.epochs {
        // Each epoch's order depends on the RNG alone (what a resume restores).
        let mut order: Vec<usize> = (0..data.len()).collect();
        shuffle(&mut order, &mut rng);
        let mut sums = [0.0f64; 5];
        let mut steps = 0usize;
        let per_step = cfg.batch * cfg.d_steps;
        for chunk in order.chunks_exact(per_step.min(order.len())) {
            let n = cfg.batch.min(chunk.len());
            for k in 0..cfg.d_steps {
                let real = batch(data, &chunk[k * n..(k + 1) * n], &device);
                let z = noise(rng.next_u64(), n, cfg.shape.latent, &device);
                let fake = nets.g.forward(z).detach();
                let (lr_, lf) = (
                    nets.d.forward_train(real, &mut rng),
                    nets.d.forward_train(fake, &mut rng),
                );
                let (vr, vf) = (values(lr_.clone().detach()), values(lf.clone().detach()));
                sums[2] +=
                    vr.iter().filter(|&&v| v > 0.0).count() as f64 / n as f64 / cfg.d_steps as f64;
                sums[3] +=
                    vf.iter().filter(|&&v| v < 0.0).count() as f64 / n as f64 / cfg.d_steps as f64;
                let loss = d_loss(lr_, lf, cfg.real_label);
                sums[0] += loss.clone().into_scalar::<f32>() as f64 / cfg.d_steps as f64;
                let grads = GradientsParams::from_grads(loss.backward(), &nets.d);
                nets.d = nets.opt_d.step(cfg.lr_d, nets.d, grads).refreshed();
            }
            let z = noise(rng.next_u64(), n, cfg.shape.latent, &device);
            let frozen = nets.d.clone().no_grad();
            let loss = g_loss(frozen.forward_train(nets.g.forward(z), &mut rng));
            sums[1] += loss.clone().into_scalar::<f32>() as f64;
            let grads = GradientsParams::from_grads(loss.backward(), &nets.g);
            sums[4] += grad_norm(&nets.g, &grads);
            nets.g = nets.opt_g.step(cfg.lr_g, nets.g, grads);
            steps += 1;
        }
        let s = steps.max(1) as f64;
        let inference = nets.g.clone().valid();
        let (diversity, hist, kid) = judge.judge(inference.forward(judged.clone()));
        let mut r = EpochReport {
            epoch,
            d_loss: sums[0] / s,
            g_loss: sums[1] / s,
            d_real_accuracy: sums[2] / s,
            d_fake_accuracy: sums[3] / s,
            g_grad_norm: sums[4] / s,
            diversity,
            coverage: hist.as_deref().map(coverage),
            entropy: hist.as_deref().map(entropy),
            histogram: hist,
            kid,
            warnings: Vec::new(),
        };
        // Detectors.
        let first = *state.first_grad.get_or_insert(r.g_grad_norm);
        let accuracy = (r.d_real_accuracy + r.d_fake_accuracy) / 2.0;
        let grad_ratio = r.g_grad_norm / first.max(1e-12);
        let judging = epoch > t.warmup;
        if judging && (accuracy >= t.d_accuracy || grad_ratio < t.g_grad_ratio) {
            r.warnings.push(
                Warning::TooGoodDiscriminator {
                    accuracy,
                    grad_ratio,
                }
                .to_string(),
            );
        }
        let few_classes = r.coverage.is_some_and(|c| c < t.min_classes)
            || r.entropy.is_some_and(|e| e < t.min_entropy);
        if judging && (diversity < t.diversity_ratio || few_classes) {
            let w = Warning::ModeCollapse {
                diversity,
                coverage: r.coverage,
                entropy: r.entropy,
            };
            r.warnings.push(w.to_string());
        }
        let best_kid = state.best_kid.unwrap_or(f64::INFINITY);
        match kid {
            // Less than 1 % better is noise (batch-norm statistics drift).
            Some(k) if k < best_kid * 0.99 => {
                (nets.best, state.best_epoch, state.best_kid) = (inference.clone(), epoch, Some(k));
            }
            Some(_) if epoch - state.best_epoch >= t.patience && !state.plateau_warned => {
                state.plateau_warned = true;
                r.warnings.push(
                    Warning::Plateau {
                        best_epoch: state.best_epoch,
                        best_kid,
                    }
                    .to_string(),
                );
            }
            Some(_) => {}
            None => (nets.best, state.best_epoch) = (inference.clone(), epoch),
        }
        on_epoch(&r, Some(&grid(inference.forward(fixed.clone()), 8, 4)));
        state.reports.push(r);
        state.epoch = epoch;
        state.rng = format!("{:016x}", rng.0);
        if let Some(work) = work {
            checkpoint::save(work, &nets, &state)?;
        }
    }
    Ok(DcganRun {
        best: nets.best,
        best_epoch: state.best_epoch,
        reports: state.reports,
    })
}
