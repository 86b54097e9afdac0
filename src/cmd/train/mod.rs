//! `edgegan train sr`: train a super-resolution generator on a folder of
//! photos and write a model directory (ONNX + card with training summary and
//! measured metrics).

mod dcgan;
mod inpaint;

use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand, ValueEnum};
use edgegan_trainer::common::device::TrainDevice;
use edgegan_trainer::sr::card::{export_model, RunInfo};
use edgegan_trainer::sr::data::PhotoSet;
use edgegan_trainer::sr::degrade::Degradations;
use edgegan_trainer::sr::export::generator_shape;
use edgegan_trainer::sr::model::GeneratorShape;
use edgegan_trainer::sr::training::{
    read_init, train_sr, validate, validation_photos, GanConfig, Observer, Stage, StepStats,
    TrainConfig, ValPoint,
};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;

/// What to train.
#[derive(Debug, Subcommand)]
pub enum TrainCommand {
    /// Super-resolution generator (stage 1: L1, PSNR-oriented; stage 2: GAN fine-tune).
    Sr(TrainSrArgs),
    /// The classic DCGAN demo: digits (or a folder) from noise, with failure detectors.
    Dcgan(dcgan::TrainDcganArgs),
    /// Inpainting generator: gated convs, hole L1 + hinge SN-PatchGAN, f32 + int8 export.
    Inpaint(inpaint::TrainInpaintArgs),
}

/// Training stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StageArg {
    /// L1 loss, selection by validation PSNR-Y.
    L1,
    /// Mean squared error (PSNR's own loss), to fine-tune an L1 model (--init); selection by PSNR-Y.
    L2,
    /// L1 + RaGAN against an SN-PatchGAN discriminator (start from a stage-1 model with --init).
    Gan,
}

/// Arguments of `edgegan train sr`.
#[derive(Debug, Args)]
pub struct TrainSrArgs {
    /// Upscaling factor.
    #[arg(long, value_parser = clap::value_parser!(u32).range(2..=4))]
    pub scale: u32,
    /// Folder of training photos (scripts/fetch_train_data.py fills data/train).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Model directory to create (must not exist).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Folder of validation photos (also the card's metric set).
    #[arg(long, value_name = "DIR")]
    pub val: PathBuf,
    /// Optimizer steps.
    #[arg(long, default_value_t = 2000)]
    pub steps: usize,
    /// Patches per step.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// LR patch side in pixels.
    #[arg(long, default_value_t = 48)]
    pub patch: usize,
    /// Initial learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Seed of weights and patch sampling.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Validate every N steps.
    #[arg(long, default_value_t = 500)]
    pub val_every: usize,
    /// Validate on every K-th validation photo (the final metrics use all).
    #[arg(long, default_value_t = 4)]
    pub val_stride: usize,
    /// Downscale training photos by this factor first (clean HR targets).
    #[arg(long, default_value_t = 2)]
    pub prescale: usize,
    /// Feature channels of the generator [default: the --init model's, else 32].
    #[arg(long)]
    pub channels: Option<usize>,
    /// 3x3 body convolutions [default: the --init model's, else 3].
    #[arg(long)]
    pub body: Option<usize>,
    /// Start from this model directory's generator instead of random weights
    /// (same shape, or fewer --body convs: the new ones start as identities).
    #[arg(long, value_name = "DIR")]
    pub init: Option<PathBuf>,
    /// Stop after this many minutes of training even if steps remain.
    #[arg(long, value_name = "MIN")]
    pub minutes: Option<f64>,
    /// Where the steps run (`--backend` is the old name): `cpu` (burn flex)
    /// or `cuda` (the first NVIDIA GPU, through LibTorch; needs a
    /// `--features cuda-train` build, scripts/build_cuda_train.sh).
    #[arg(long, alias = "backend", default_value_t = TrainDevice::Cpu)]
    pub device: TrainDevice,
    /// Training stage.
    #[arg(long, value_enum, default_value_t = StageArg::L1)]
    pub stage: StageArg,
    /// GAN stage: weight of the adversarial loss (L1 has weight 1).
    #[arg(long, default_value_t = 0.01)]
    pub adv_weight: f64,
    /// GAN stage: discriminator learning rate (default: --lr).
    #[arg(long)]
    pub d_lr: Option<f64>,
    /// GAN stage: keep checkpoints within this many dB of the start's PSNR-Y.
    #[arg(long, default_value_t = 0.6)]
    pub max_psnr_drop: f64,
    /// EMA decay of the generator weights (0 = off; 0.99 averages about the last 100 steps).
    #[arg(long, default_value_t = 0.99)]
    pub ema: f64,
    /// Input degradations: comma list of blur, noise, jpeg (or none).
    #[arg(long, default_value = "none")]
    pub degrade: Degradations,
    /// Folder for checkpoints, evolution grids, log and plot [default: OUT.work].
    #[arg(long, value_name = "DIR")]
    pub work: Option<PathBuf>,
    /// Resume the checkpoint in the work folder.
    #[arg(long)]
    pub resume: bool,
}

/// Progress bar and log lines of a run.
struct Console {
    bar: ProgressBar,
    gan: bool,
}

impl Observer for Console {
    fn step(&mut self, step: usize, s: &StepStats) {
        self.bar.set_position(step as u64);
        if self.gan {
            self.bar.set_message(format!(
                "L1 {:.4} adv {:.3} D acc {:.2}",
                s.l1, s.g_adv, s.d.accuracy
            ));
        } else {
            self.bar.set_message(format!("L1 {:.4}", s.l1));
        }
        if let Some(acc) = s.too_good {
            self.bar.suspend(|| {
                tracing::warn!(
                    "step {step}: discriminator too good (accuracy {acc:.3} over the window): \
                     the adversarial gradient carries little signal; lower --d-lr or raise --adv-weight"
                )
            });
        }
    }

    fn validated(&mut self, p: &ValPoint) {
        let gan = self.gan;
        self.bar.suspend(|| eprintln!("{}", p.line(gan)))
    }
}

pub fn run(cmd: TrainCommand) -> Result<ExitCode> {
    match cmd {
        TrainCommand::Sr(a) => run_sr(a),
        TrainCommand::Dcgan(a) => dcgan::run(a),
        TrainCommand::Inpaint(a) => inpaint::run(a),
    }
}

fn run_sr(a: TrainSrArgs) -> Result<ExitCode> {
    if a.out.exists() {
        bail!(
            "{}: already exists; choose a new model directory",
            a.out.display()
        );
    }
    let scale = a.scale as usize;
    let init = a.init.as_deref().map(read_init).transpose()?;
    let from = init
        .as_ref()
        .map(|(onnx, _)| generator_shape(onnx))
        .transpose()
        .map_err(|e| anyhow!("--init: {e}"))?;
    let shape = GeneratorShape {
        scale,
        channels: a.channels.or(from.map(|s| s.channels)).unwrap_or(32),
        head_kernel: 5,
        body: a.body.or(from.map(|s| s.body)).unwrap_or(3),
    };
    let cfg = TrainConfig {
        shape,
        steps: a.steps.max(1),
        batch: a.batch.max(1),
        lr_patch: a.patch.max(8),
        learning_rate: a.lr,
        seed: a.seed,
        val_every: a.val_every.max(1),
        time_limit: a.minutes.map(|m| m * 60.0),
        init: None,
        stage: match a.stage {
            StageArg::L1 => Stage::L1,
            StageArg::L2 => Stage::L2,
            StageArg::Gan => Stage::Gan(GanConfig {
                adv_weight: a.adv_weight,
                d_learning_rate: a.d_lr.unwrap_or(a.lr),
                max_psnr_drop: a.max_psnr_drop,
                too_good: (50, 0.95),
            }),
        },
        ema: a.ema.clamp(0.0, 0.99999),
        degrade: a.degrade,
        work: Some(a.work.clone().unwrap_or_else(|| {
            let mut w = a.out.clone().into_os_string();
            w.push(".work");
            PathBuf::from(w)
        })),
        device: a.device,
    };
    if a.stage == StageArg::Gan && a.init.is_none() {
        bail!(
            "--stage gan fine-tunes a trained generator: pass --init MODEL_DIR (a stage-1 model)"
        );
    }
    let mut cfg = cfg;
    let mut prior_steps = 0;
    if let Some((onnx, steps)) = init {
        (cfg.init, prior_steps) = (Some(onnx), steps);
    }
    let mut photos = PhotoSet::load_nonempty(&a.data, a.prescale, (cfg.lr_patch * scale) as u32)?;
    if !cfg.degrade.any() {
        photos.precompute_lr(scale);
    }
    let (val, val_all) = validation_photos(&a.val, a.val_stride)?;
    eprintln!(
        "training x{scale} on {} photos, validating on {} of {}",
        photos.images.len(),
        val.len(),
        val_all
    );
    let backend = a.device.backend();
    let bar = ProgressBar::new(cfg.steps as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed_precise} eta {eta} {msg}")
            .expect("static template"),
    );
    let mut console = Console {
        bar,
        gan: a.stage == StageArg::Gan,
    };
    let outcome = train_sr(&cfg, &photos, &val, a.resume, &mut console)?;
    let bar = console.bar;
    bar.finish_and_clear();
    let final_report = validate(
        &outcome.onnx,
        shape,
        &edgegan_runtime::io::image_files(&a.val)?,
        cfg.degrade,
    )?;
    let name = a.out.file_name().map(|n| n.to_string_lossy().into_owned());
    let run = RunInfo {
        name: name.unwrap_or_else(|| "sr".into()),
        data: &a.data,
        photos: photos.images.len(),
        prescale: a.prescale,
        init: a.init.as_deref().map(|d| (d, prior_steps)),
        backend: &backend,
        val: &a.val,
    };
    let work = cfg
        .work
        .as_deref()
        .expect("the CLI always sets a work folder");
    export_model(&a.out, work, &cfg, &run, &outcome, &final_report)?;
    eprintln!(
        "wrote {} (step {}): {} PSNR-Y {:.3} dB vs bicubic {:.3} ({:+.3} dB) on {} photos",
        a.out.display(),
        outcome.best.step,
        run.name,
        final_report.mean.psnr_y,
        final_report.mean.bicubic_psnr_y,
        final_report.mean.psnr_y - final_report.mean.bicubic_psnr_y,
        final_report.images.len()
    );
    Ok(ExitCode::SUCCESS)
}
