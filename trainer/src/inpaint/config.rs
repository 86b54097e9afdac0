//! The settings of an inpainting run ([`InpaintConfig`], kept in its
//! checkpoint) and the hole loss it trains with ([`HoleLoss`]), with the
//! learning-rate schedule they define.

use serde::{Deserialize, Serialize};

use crate::common::device::TrainDevice;

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
    /// From this fraction of `steps` on, both learning rates fall linearly
    /// to a tenth at the last step (1 keeps them constant).
    #[serde(default = "no_decay")]
    pub lr_decay_start: f64,
    /// Steps each sampled batch is trained on, the k-th time under the k-th
    /// of the eight flips and transposes of the square crop (1: once).
    #[serde(default = "once")]
    pub reuse: usize,
    /// A fresh run starts its generator (and EMA) from these weights (a
    /// checkpoint's `ema.bpk`, or an exported f32 `model.onnx`; a narrower
    /// generator is widened to `channels`, computing the same output)
    /// instead of random ones;
    /// several are averaged parameter by parameter (a "model soup" of runs
    /// fine-tuned from one start). Optimizers and discriminator start
    /// fresh. Ignored when resuming.
    #[serde(default)]
    pub init_from: Vec<std::path::PathBuf>,
    /// Generator encoder channels at 1, ½, ¼, ⅛ resolution.
    #[serde(default = "crate::inpaint::model::default_channels")]
    pub channels: [usize; 4],
    /// Masked self-attention at the bottleneck
    /// ([`crate::inpaint::attn::MaskedAttention`]); a start without one
    /// gets a fresh block that leaves its output unchanged.
    #[serde(default)]
    pub attention: bool,
    /// The reconstruction loss inside the hole.
    #[serde(default)]
    pub hole_loss: HoleLoss,
    /// Weight of the hinge adversarial loss next to the hole loss.
    pub adv_weight: f64,
    /// EMA decay of the exported weights.
    pub ema: f64,
    /// Validate (and checkpoint) every this many steps.
    pub val_every: usize,
    /// Seed of weights and sampling.
    pub seed: u64,
    /// Stop after this many seconds of this run, a resumed one included
    /// (checkpointed, resumable).
    pub time_limit: Option<f64>,
    /// Where the steps run.
    #[serde(default)]
    pub device: TrainDevice,
}

/// The per-pixel reconstruction loss inside the hole.
///
/// ```
/// # use edgegan_trainer::inpaint::training::HoleLoss;
/// assert_eq!("l2".parse::<HoleLoss>(), Ok(HoleLoss::L2));
/// assert_eq!("psnr".parse::<HoleLoss>(), Ok(HoleLoss::Psnr));
/// assert_eq!(HoleLoss::L1.to_string(), "l1");
/// assert!("mse".parse::<HoleLoss>().is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HoleLoss {
    /// Mean absolute error (DeepFill's choice: sharper, median-seeking).
    #[default]
    L1,
    /// Mean squared error: the loss PSNR measures (mean-seeking).
    L2,
    /// Minus the mean over samples of each sample's in-hole PSNR
    /// (`10·log10` of its hole MSE): what the eval protocol averages, which
    /// weighs a sample's errors by how small they already are.
    Psnr,
}

impl std::fmt::Display for HoleLoss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HoleLoss::L1 => "l1",
            HoleLoss::L2 => "l2",
            HoleLoss::Psnr => "psnr",
        })
    }
}

impl std::str::FromStr for HoleLoss {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "l1" => Ok(HoleLoss::L1),
            "l2" => Ok(HoleLoss::L2),
            "psnr" => Ok(HoleLoss::Psnr),
            other => Err(format!(
                "unknown hole loss {other:?}: expected l1, l2 or psnr"
            )),
        }
    }
}

fn no_decay() -> f64 {
    1.0
}

fn once() -> usize {
    1
}

impl InpaintConfig {
    /// Refuse settings a run cannot use (named by their `train inpaint`
    /// flags), before any photo is read.
    pub fn check(&self) -> Result<(), crate::error::TrainError> {
        let bad = |s: String| Err(crate::error::TrainError::Config(s));
        if self.patch == 0 || !self.patch.is_multiple_of(32) {
            return bad(format!(
                "--patch {}: must be a positive multiple of 32",
                self.patch
            ));
        }
        if !(0.0..=1.0).contains(&self.lr_decay_start) {
            let d = self.lr_decay_start;
            return bad(format!("--lr-decay {d}: must be a fraction from 0 to 1"));
        }
        if self.channels.contains(&0) {
            let c = self.channels;
            return bad(format!(
                "--channels {c:?}: expected four positive widths, e.g. 16,32,64,96"
            ));
        }
        self.device.device()?;
        Ok(())
    }

    /// The factor on both learning rates at `step` (0-based): 1 before
    /// `lr_decay_start × steps`, then linearly down to 0.1 at the last step.
    ///
    /// ```
    /// # use edgegan_trainer::inpaint::training::{HoleLoss, InpaintConfig};
    /// # use edgegan_trainer::common::device::TrainDevice;
    /// let cfg = InpaintConfig {
    ///     steps: 11, batch: 1, patch: 32, learning_rate: 1e-3, d_learning_rate: 1e-3,
    ///     lr_decay_start: 0.0, reuse: 1, init_from: Vec::new(), channels: [16, 32, 64, 96], attention: false, hole_loss: HoleLoss::L1, adv_weight: 0.0, ema: 0.99, val_every: 10, seed: 1,
    ///     time_limit: None, device: TrainDevice::Cpu,
    /// };
    /// // Decay over the whole run: 1 at step 0, then down to 0.1 at step 10.
    /// assert_eq!(cfg.lr_scale(0), 1.0);
    /// assert!((cfg.lr_scale(5) - 0.55).abs() < 1e-12);
    /// assert!((cfg.lr_scale(10) - 0.1).abs() < 1e-12);
    /// // Constant until 0.65 × 11 = 7.15, then falling.
    /// let late = InpaintConfig { lr_decay_start: 0.65, ..cfg };
    /// assert_eq!(late.lr_scale(7), 1.0);
    /// assert!((late.lr_scale(10) - 0.1).abs() < 1e-12);
    /// assert!(late.lr_scale(8) < 1.0 && late.lr_scale(8) > late.lr_scale(9));
    /// ```
    pub fn lr_scale(&self, step: usize) -> f64 {
        let start = self.lr_decay_start.clamp(0.0, 1.0) * self.steps as f64;
        let last = self.steps.saturating_sub(1) as f64;
        if (step as f64) <= start || last <= start {
            return 1.0;
        }
        1.0 - 0.9 * (step as f64 - start) / (last - start)
    }
}
