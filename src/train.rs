//! `edgegan train sr`: train a super-resolution generator on a folder of
//! photos and write a model directory (ONNX + card with training summary and
//! measured metrics).

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use edgegan_runtime::eval::SrReport;
use edgegan_trainer::data::PhotoSet;
use edgegan_trainer::export::{sr_card, write_model_bytes};
use edgegan_trainer::net::GeneratorShape;
use edgegan_trainer::train::{train_sr, validate, TrainConfig};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;

/// What to train.
#[derive(Debug, Subcommand)]
pub enum TrainCommand {
    /// Super-resolution generator (stage 1: L1, PSNR-oriented).
    Sr(TrainSrArgs),
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
    let TrainCommand::Sr(a) = cmd;
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
    };
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
        Backend::Cpu => format!(
            "burn 0.22.1 flex (CPU, {} threads)",
            edgegan_runtime::upscale::available_threads()
        ),
    };
    let bar = ProgressBar::new(cfg.steps as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed_precise} eta {eta} {msg}")
            .expect("static template"),
    );
    let outcome = train_sr(
        &cfg,
        &photos,
        &val,
        |_, loss| {
            bar.set_message(format!("L1 {loss:.4}"));
            bar.inc(1);
        },
        |p| {
            bar.suspend(|| {
                eprintln!(
                    "step {:>6}  L1 {:.5}  val PSNR-Y {:.3} dB (bicubic {:.3}, gain {:+.3})",
                    p.step,
                    p.loss,
                    p.psnr_y,
                    p.bicubic_psnr_y,
                    p.psnr_y - p.bicubic_psnr_y
                )
            })
        },
    )?;
    bar.finish_and_clear();
    let final_report = validate(&outcome.onnx, shape, &val_all)?;
    let name = a
        .out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sr".into());
    let mut card = sr_card(
        &name,
        scale,
        shape.receptive_field(),
        &format!("PSNR-oriented x{scale} generator: {} channels, 5x5 head, {} 3x3 body convs, PixelShuffle, global bicubic skip; {} parameters.", shape.channels, shape.body, outcome.parameters),
    );
    let t = &mut card.training;
    t.insert("stage".into(), "1 (L1)".into());
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
        ((outcome.seconds_per_step * 1e4).round() / 1e4).into(),
    );
    t.insert("selected_step".into(), (outcome.best.step as i64).into());
    t.insert(
        "final_l1".into(),
        ((outcome.history.last().map(|p| p.loss).unwrap_or(0.0) * 1e6).round() / 1e6).into(),
    );
    let val_name = a.val.display().to_string();
    card.metrics.insert(
        "val".into(),
        toml::Value::Table(metrics_table(&final_report, &val_name)),
    );
    write_model_bytes(&a.out, card, &outcome.onnx)?;
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
