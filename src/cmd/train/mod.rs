//! `edgegan train sr`: train a super-resolution generator on a folder of
//! photos and write a model directory (ONNX + card with training summary and
//! measured metrics).

mod dcgan;
mod inpaint;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use edgegan_runtime::sr::SrReport;
use edgegan_trainer::onnx::export::{sr_card, write_model_files};
use edgegan_trainer::sr::data::PhotoSet;
use edgegan_trainer::sr::degrade::Degradations;
use edgegan_trainer::sr::model::GeneratorShape;
use edgegan_trainer::sr::training::{
    train_sr, validate, write_log, write_plot, GanConfig, Observer, Stage, StepStats, TrainConfig,
    TrainOutcome, ValPoint,
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
    /// L1 + RaGAN against an SN-PatchGAN discriminator (start from a stage-1 model with --init).
    Gan,
}

/// Compute backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// burn's `flex` CPU backend (multi-threaded).
    Cpu,
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
    /// Feature channels of the generator.
    #[arg(long, default_value_t = 32)]
    pub channels: usize,
    /// 3x3 body convolutions.
    #[arg(long, default_value_t = 3)]
    pub body: usize,
    /// Start from this model directory's generator (same shape) instead of random weights.
    #[arg(long, value_name = "DIR")]
    pub init: Option<PathBuf>,
    /// Stop after this many minutes of training even if steps remain.
    #[arg(long, value_name = "MIN")]
    pub minutes: Option<f64>,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    pub backend: Backend,
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
        self.bar.suspend(|| {
            let d = if gan && p.step > 0 {
                format!(
                    "  adv {:.3} D {:.3} D(real) {:.3} D(fake) {:.3} acc {:.3} |gG| {:.3} |gD| {:.3}",
                    p.g_adv, p.d_loss, p.d_real, p.d_fake, p.d_accuracy, p.g_grad_norm, p.d_grad_norm
                )
            } else {
                format!("  |gG| {:.3}", p.g_grad_norm)
            };
            eprintln!(
                "step {:>6}  L1 {:.5}{d}  val PSNR-Y {:.3} dB (bicubic {:.3}, gain {:+.3}) SSIM {:.4} sharpness {:.3}",
                p.step,
                p.l1,
                p.psnr_y,
                p.bicubic_psnr_y,
                p.psnr_y - p.bicubic_psnr_y,
                p.ssim_y,
                p.sharpness_y
            )
        })
    }
}

fn metrics_table(report: &SrReport, data: &str) -> toml::Table {
    let mut t = toml::Table::new();
    t.insert("data".into(), data.into());
    t.insert("images".into(), (report.images.len() as i64).into());
    let m = &report.mean;
    for (k, v) in [
        ("psnr_y", m.psnr_y),
        ("ssim_y", m.ssim_y),
        ("bicubic_psnr_y", m.bicubic_psnr_y),
        ("bicubic_ssim_y", m.bicubic_ssim_y),
        ("sharpness_y", m.sharpness_y),
        ("bicubic_sharpness_y", m.bicubic_sharpness_y),
    ] {
        t.insert(k.into(), ((v * 1e4).round() / 1e4).into());
    }
    t.insert(
        "gain_psnr_y".into(),
        (((m.psnr_y - m.bicubic_psnr_y) * 1e4).round() / 1e4).into(),
    );
    t
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
    let shape = GeneratorShape {
        scale,
        channels: a.channels,
        head_kernel: 5,
        body: a.body,
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
    };
    if a.stage == StageArg::Gan && a.init.is_none() {
        bail!(
            "--stage gan fine-tunes a trained generator: pass --init MODEL_DIR (a stage-1 model)"
        );
    }
    let mut cfg = cfg;
    let mut prior_steps = 0;
    if let Some(dir) = &a.init {
        let model = edgegan_runtime::Model::load(dir, edgegan_runtime::Precision::F32)?;
        prior_steps = model
            .card()
            .training
            .get("steps")
            .and_then(|v| v.as_integer())
            .unwrap_or(0);
        cfg.init = Some(
            std::fs::read(model.onnx_path())
                .with_context(|| format!("{}: cannot read", model.onnx_path().display()))?,
        );
    }
    let photos = PhotoSet::load(&a.data, a.prescale, (cfg.lr_patch * scale) as u32)?;
    if photos.images.is_empty() {
        bail!(
            "{}: no photo is at least {} px after prescale {}",
            a.data.display(),
            cfg.lr_patch * scale,
            a.prescale
        );
    }
    let val_all = edgegan_runtime::io::image_files(&a.val)?;
    let val: Vec<PathBuf> = val_all
        .iter()
        .step_by(a.val_stride.max(1))
        .cloned()
        .collect();
    if val.is_empty() {
        bail!("{}: folder holds no validation photos", a.val.display());
    }
    eprintln!(
        "training x{scale} on {} photos, validating on {} of {}",
        photos.images.len(),
        val.len(),
        val_all.len()
    );
    let backend = match a.backend {
        Backend::Cpu => edgegan_trainer::common::device::TrainDevice::Cpu.backend(),
    };
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
    let final_report = validate(&outcome.onnx, shape, &val_all)?;
    let name = a
        .out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sr".into());
    let kind = match a.stage {
        StageArg::L1 => "PSNR-oriented",
        StageArg::Gan => "GAN-tuned (L1 + RaGAN)",
    };
    let mut card = sr_card(
        &name,
        scale,
        shape.receptive_field(),
        &format!("{kind} x{scale} generator: {} channels, 5x5 head, {} 3x3 body convs, PixelShuffle, global bicubic skip; {} parameters.", shape.channels, shape.body, outcome.parameters),
    );
    let t = &mut card.training;
    record_stage(t, &cfg, &outcome);
    t.insert("data".into(), a.data.display().to_string().into());
    t.insert("photos".into(), (photos.images.len() as i64).into());
    t.insert("prescale".into(), (a.prescale as i64).into());
    t.insert("steps".into(), (prior_steps + outcome.steps as i64).into());
    if let Some(dir) = &a.init {
        t.insert(
            "init".into(),
            format!(
                "{} ({prior_steps} steps) + {} steps",
                dir.display(),
                outcome.steps
            )
            .into(),
        );
    }
    t.insert("batch".into(), (cfg.batch as i64).into());
    t.insert("lr_patch".into(), (cfg.lr_patch as i64).into());
    t.insert("learning_rate".into(), cfg.learning_rate.into());
    t.insert("seed".into(), (cfg.seed as i64).into());
    t.insert("backend".into(), backend.into());
    t.insert("parameters".into(), (outcome.parameters as i64).into());
    t.insert(
        "seconds_per_step".into(),
        round(outcome.seconds_per_step, 4).into(),
    );
    t.insert("selected_step".into(), (outcome.best.step as i64).into());
    t.insert(
        "final_l1".into(),
        round(outcome.history.last().map(|p| p.l1).unwrap_or(0.0), 6).into(),
    );
    let val_name = a.val.display().to_string();
    card.metrics.insert(
        "val".into(),
        toml::Value::Table(metrics_table(&final_report, &val_name)),
    );
    let work = cfg
        .work
        .as_deref()
        .expect("the CLI always sets a work folder");
    write_log(&work.join("log.csv"), &outcome.history)
        .with_context(|| format!("{}: cannot write", work.join("log.csv").display()))?;
    let plot = work.join("plot.svg");
    write_plot(&plot, &outcome.history, a.stage == StageArg::Gan)
        .map_err(|e| anyhow::anyhow!("{}: {e}", plot.display()))?;
    let grid = work
        .join("evolution")
        .join(format!("step_{:06}.png", outcome.best.step));
    let mut extras = vec![("plot.svg", std::fs::read(&plot)?)];
    if let Ok(png) = std::fs::read(&grid) {
        extras.push(("evolution.png", png));
    }
    write_model_files(&a.out, card, &outcome.onnx, &extras)?;
    eprintln!(
        "wrote {} (step {}): {} PSNR-Y {:.3} dB vs bicubic {:.3} ({:+.3} dB) on {} photos",
        a.out.display(),
        outcome.best.step,
        name,
        final_report.mean.psnr_y,
        final_report.mean.bicubic_psnr_y,
        final_report.mean.psnr_y - final_report.mean.bicubic_psnr_y,
        final_report.images.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

/// Stage-specific training facts for the card.
fn record_stage(t: &mut toml::Table, cfg: &TrainConfig, outcome: &TrainOutcome) {
    t.insert("ema".into(), cfg.ema.into());
    if cfg.degrade.any() {
        t.insert("degrade".into(), format!("{:?}", cfg.degrade).into());
    }
    let Stage::Gan(g) = cfg.stage else {
        t.insert("stage".into(), "1 (L1)".into());
        return;
    };
    let last = outcome.history.last().copied().unwrap_or_default();
    t.insert(
        "stage".into(),
        "2 (L1 + RaGAN, SN-PatchGAN discriminator)".into(),
    );
    t.insert("adv_weight".into(), g.adv_weight.into());
    t.insert("d_learning_rate".into(), g.d_learning_rate.into());
    t.insert(
        "disc_parameters".into(),
        (outcome.disc_parameters.unwrap_or(0) as i64).into(),
    );
    t.insert(
        "selection".into(),
        format!(
            "validation sharpness ratio closest to 1 among points within {} dB PSNR-Y of step 0",
            g.max_psnr_drop
        )
        .into(),
    );
    for (k, v) in [
        ("final_g_adv", last.g_adv),
        ("final_d_loss", last.d_loss),
        ("final_d_real", last.d_real),
        ("final_d_fake", last.d_fake),
        ("final_d_accuracy", last.d_accuracy),
    ] {
        t.insert(k.into(), round(v, 4).into());
    }
    let fired: Vec<toml::Value> = outcome
        .too_good
        .iter()
        .map(|&s| (s as i64).into())
        .collect();
    t.insert("too_good_discriminator_steps".into(), fired.into());
}
