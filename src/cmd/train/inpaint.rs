//! `edgegan train inpaint`: train the gated-conv inpainting generator on a
//! folder of photos, then write a model directory with the f32 and int8
//! graphs, the card (training summary; metrics measured through the runtime
//! with the `edgegan eval` protocol), the log, the loss plot and the last
//! evolution frame.

use anyhow::{bail, Context, Result};
use clap::Args;
use edgegan_runtime::inpaint::HoleBin;
use edgegan_trainer::common::device::TrainDevice;
use edgegan_trainer::inpaint::card::{export_model, write_log, RunInfo};
use edgegan_trainer::inpaint::training::{
    train_inpaint, Augment, HoleLoss, InpaintConfig, InpaintPhotos, InpaintPoint, InpaintVal,
};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `edgegan train inpaint`.
#[derive(Debug, Args)]
pub struct TrainInpaintArgs {
    /// Folder of training photos (searched recursively).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Folder of held-out photos: the first `--val-photos` validate during
    /// training; all of them measure the card's metrics at the end.
    #[arg(long, value_name = "DIR")]
    pub val: PathBuf,
    /// Photos used for validation during training.
    #[arg(long, default_value_t = 6)]
    pub val_photos: usize,
    /// Model directory to write (must not exist).
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,
    /// Work directory: checkpoints, evolution frames (resumed with --resume).
    #[arg(long, value_name = "DIR")]
    pub work: PathBuf,
    /// Continue the checkpoint in --work.
    #[arg(long)]
    pub resume: bool,
    /// Optimizer steps in all (a resumed run counts its earlier steps).
    #[arg(long, default_value_t = 4000)]
    pub steps: usize,
    /// Samples per step.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// Training crop side (a multiple of 32).
    #[arg(long, default_value_t = 128)]
    pub patch: usize,
    /// Generator learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Discriminator learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub d_lr: f64,
    /// From this fraction of --steps on, both learning rates fall linearly
    /// to a tenth at the last step (1: constant).
    #[arg(long, default_value_t = 1.0, value_name = "FRACTION")]
    pub lr_decay: f64,
    /// Steps each sampled batch is trained on (under its flips and
    /// transposes), when sampling on the CPU is slower than a step.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=8))]
    pub reuse: u64,
    /// Start a fresh run's generator from these weights (an earlier run's
    /// work/checkpoint/ema.bpk, or a model's f32 model.onnx, e.g.
    /// models/inpaint/model.onnx; a narrower one is widened to --channels,
    /// computing the same output); given several times, their mean
    /// parameters (a model soup). Optimizers and discriminator start fresh.
    #[arg(long, value_name = "FILE")]
    pub init_from: Vec<PathBuf>,
    /// Short sides, in training patches, each photo is kept at (crops are
    /// drawn from every scale alike; the eval protocol's crops are at 1).
    #[arg(
        long,
        value_delimiter = ',',
        num_args = 1,
        default_value = "1,1.5,2",
        value_name = "S1,S2,..."
    )]
    pub scales: Vec<f64>,
    /// Zoom each training crop in by a random factor from 1 to 1 + J (a
    /// larger square resized down), so the network sees views of the few
    /// training photos it cannot memorize; 0 = off.
    #[arg(long, default_value_t = 0.0, value_name = "J")]
    pub jitter: f64,
    /// Give each training crop a random order of its RGB channels.
    #[arg(long)]
    pub channel_order: bool,
    /// Replace this share of the training crops (0 to 1) with synthetic
    /// dead leaves images: shaded disks of power-law sizes in the photos'
    /// colours, edges and regions to carry across holes without more
    /// photos; 0 = off.
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    pub dead_leaves: f64,
    /// Draw training masks only from these hole-ratio bins (0-10, 10-20,
    /// 20-30, 30-40, 40-50 or their lower edges), e.g. to spend a fine-tune
    /// on the large holes; default every bin alike.
    #[arg(long, value_delimiter = ',', num_args = 1, value_parser = crate::args::parse_bin, value_name = "BIN,...")]
    pub hole_bins: Vec<HoleBin>,
    /// Generator encoder channels at 1, 1/2, 1/4, 1/8 resolution (four
    /// comma-separated widths; compute grows with their squares).
    #[arg(
        long,
        value_delimiter = ',',
        num_args = 1,
        default_value = "16,32,64,96",
        value_name = "C1,C2,C3,C4"
    )]
    pub channels: Vec<usize>,
    /// Add masked self-attention at the 1/8-resolution bottleneck (holes
    /// borrow features from anywhere in the window); from a model without
    /// it, the new block starts silent (the same output).
    #[arg(long)]
    pub attention: bool,
    /// Reconstruction loss inside the hole: l1 (sharper), l2 (what PSNR
    /// measures) or psnr (minus the mean per-sample in-hole PSNR, what eval
    /// averages).
    #[arg(long, default_value_t = HoleLoss::L1)]
    pub hole_loss: HoleLoss,
    /// Weight of the hinge adversarial loss (0 trains on the hole loss alone).
    #[arg(long, default_value_t = 0.01)]
    pub adv_weight: f64,
    /// EMA decay of the exported weights.
    #[arg(long, default_value_t = 0.995)]
    pub ema: f64,
    /// Validate and checkpoint every N steps.
    #[arg(long, default_value_t = 100)]
    pub val_every: usize,
    /// Seed of weights and sampling.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Stop (checkpointed) after this many seconds of this run.
    #[arg(long, value_name = "SECONDS")]
    pub time_limit: Option<f64>,
    /// Where the steps run: `cpu` (burn flex) or `cuda` (the first NVIDIA
    /// GPU, through LibTorch; needs a `--features cuda-train` build).
    #[arg(long, default_value_t = TrainDevice::Cpu)]
    pub device: TrainDevice,
    /// Skip exporting and measuring: only train and checkpoint.
    #[arg(long)]
    pub no_export: bool,
}

/// `--channels` as four widths ([`InpaintConfig::check`] refuses zeros).
fn channels_of(c: &[usize]) -> Result<[usize; 4]> {
    match c[..] {
        [a0, a1, a2, a3] => Ok([a0, a1, a2, a3]),
        _ => bail!("--channels {c:?}: expected four positive widths, e.g. 16,32,64,96"),
    }
}

/// Run `edgegan train inpaint`.
pub fn run(a: TrainInpaintArgs) -> Result<ExitCode> {
    if !a.no_export && a.out.exists() {
        bail!(
            "{}: already exists; choose a new model directory",
            a.out.display()
        );
    }
    let cfg = InpaintConfig {
        steps: a.steps,
        batch: a.batch,
        patch: a.patch,
        learning_rate: a.lr,
        d_learning_rate: a.d_lr,
        lr_decay_start: a.lr_decay,
        reuse: a.reuse as usize,
        init_from: a.init_from.clone(),
        channels: channels_of(&a.channels)?,
        attention: a.attention,
        hole_loss: a.hole_loss,
        adv_weight: a.adv_weight,
        ema: a.ema,
        val_every: a.val_every,
        seed: a.seed,
        time_limit: a.time_limit,
        device: a.device,
    };
    cfg.check()?;
    let augment = Augment {
        jitter: a.jitter,
        channel_order: a.channel_order,
        hole_bins: a.hole_bins.clone(),
        dead_leaves: a.dead_leaves,
    };
    augment.check(&a.scales)?;
    if let Some(ck) = edgegan_trainer::common::checkpoint::existing(&a.work).filter(|_| !a.resume) {
        bail!(
            "{}: a checkpoint of an earlier run is here; pass --resume or remove it",
            ck.display()
        );
    }
    let photos = InpaintPhotos::load_at(&a.data, a.patch, &a.scales, augment.clone())?;
    let mut val_files = crate::batch::image_files(&a.val)?;
    val_files.truncate(a.val_photos);
    let val = InpaintVal::load(&val_files)?;
    eprintln!(
        "{} training photos, {} validation photos",
        photos.photos,
        val_files.len()
    );
    std::fs::create_dir_all(&a.work).with_context(|| a.work.display().to_string())?;
    let mut report = |p: &InpaintPoint| {
        eprintln!(
            "step {:>6}  L1 {:.4}  G adv {:+.3}  D {:.3} (margin {:+.2}, accuracy {:.2}{})  val hole PSNR {:.2} dB (prefill {:.2})  data wait {:.0} %",
            p.step,
            p.l1,
            p.g_adv,
            p.d_loss,
            p.d_margin,
            p.d_accuracy,
            if p.too_good { ", TOO GOOD" } else { "" },
            p.hole_psnr,
            p.prefill_hole_psnr,
            100.0 * p.data_wait
        );
    };
    let outcome = train_inpaint(&cfg, &photos, &val, &a.work, &mut report)?;
    if a.no_export {
        write_log(&a.work, &outcome.history)?;
        return Ok(ExitCode::SUCCESS);
    }
    let name = a.out.file_name().map(|n| n.to_string_lossy().into_owned());
    let run = RunInfo {
        name: name.unwrap_or("inpaint".into()),
        data: &a.data,
        photos: photos.photos,
        val: &a.val,
        val_photos: a.val_photos,
        scales: &a.scales,
        augment: &augment,
    };
    export_model(&a.out, &a.work, &cfg, &run, &photos, &outcome)?;
    eprintln!("wrote {}", a.out.display());
    Ok(ExitCode::SUCCESS)
}
