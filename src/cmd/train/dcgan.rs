//! `edgegan train dcgan`: the classic demo. Trains the digit classifier that
//! judges samples (labelled data), then the DCGAN, printing one line per
//! epoch with the failure detectors' numbers and warnings; writes the
//! fixed-noise grid of every epoch and an animated PNG of the run, and
//! exports the best epoch's generator (f32 + int8) as a model directory.

use anyhow::{bail, Context, Result};
use clap::builder::TypedValueParser;
use clap::Args;
use edgegan_trainer::dcgan::card::export_model;
use edgegan_trainer::dcgan::classifier::Classifier;
use edgegan_trainer::dcgan::imageset::ImageSet;
use edgegan_trainer::dcgan::training::{train, DcganConfig, EpochReport, Judge, Thresholds};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `edgegan train dcgan`.
#[derive(Debug, Args)]
pub struct TrainDcganArgs {
    /// scikit-learn's digits (`digits.csv.gz`) or a folder of images.
    #[arg(long, value_name = "FILE|DIR")]
    pub data: PathBuf,
    /// Model directory to create (must not exist).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Work folder: checkpoint, evolution grids, animation, log [default: OUT.work].
    #[arg(long, value_name = "DIR")]
    pub work: Option<PathBuf>,
    /// Image side the set is resized to.
    #[arg(long, default_value_t = 16, value_parser = clap::builder::PossibleValuesParser::new(["16", "32", "64"]).map(|s| s.parse::<usize>().unwrap()))]
    pub side: usize,
    /// Passes over the training images.
    #[arg(long, default_value_t = 40)]
    pub epochs: usize,
    /// Images per step.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(2..=1024).map(|v| v as usize))]
    pub batch: usize,
    /// Generator learning rate (Adam, β1 0.5).
    #[arg(long, default_value_t = 3e-4)]
    pub lr: f64,
    /// Discriminator learning rate [default: --lr]; differing rates are TTUR.
    #[arg(long)]
    pub d_lr: Option<f64>,
    /// Discriminator steps per generator step.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=20).map(|v| v as usize))]
    pub d_steps: usize,
    /// One-sided label smoothing: real images' target 0.9 instead of 1.
    #[arg(long)]
    pub label_smoothing: bool,
    /// Spectral norm on the discriminator's convolutions.
    #[arg(long)]
    pub spectral_norm: bool,
    /// Dropout after the discriminator's convolutions.
    #[arg(long, default_value_t = 0.3)]
    pub dropout: f64,
    /// Epochs without a better KID before the plateau warning.
    #[arg(long, default_value_t = 6)]
    pub patience: usize,
    /// Classifier training epochs (labelled data).
    #[arg(long, default_value_t = 30)]
    pub classifier_epochs: usize,
    /// Seed of everything random.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Resume the run whose checkpoint is in the work folder (same settings
    /// and data; --epochs may be raised).
    #[arg(long)]
    pub resume: bool,
}

/// Run `edgegan train dcgan`.
pub fn run(a: TrainDcganArgs) -> Result<ExitCode> {
    if a.out.exists() {
        bail!(
            "{}: already exists; choose a new model directory",
            a.out.display()
        );
    }
    let work = a.work.clone().unwrap_or_else(|| {
        let mut w = a.out.clone().into_os_string();
        w.push(".work");
        PathBuf::from(w)
    });
    let set = ImageSet::load(&a.data, a.side)?;
    let (train_set, held_out) = if set.labels.is_some() {
        set.split(5)
    } else {
        (set.clone(), set.clone())
    };
    eprintln!(
        "{}: {} training and {} held-out images of {}x{}",
        a.data.display(),
        train_set.len(),
        held_out.len(),
        a.side,
        a.side
    );
    let classifier = match &set.labels {
        Some(_) => {
            let c = Classifier::train(&train_set, a.classifier_epochs, a.seed);
            let acc = c.accuracy(&held_out);
            eprintln!(
                "digit classifier: {:.2} % on {} held-out digits",
                acc * 100.0,
                held_out.len()
            );
            Some((c, acc))
        }
        None => None,
    };
    let accuracy = classifier.as_ref().map(|c| c.1);
    let judge = Judge::new(classifier.map(|c| c.0), &held_out);
    let mut cfg = DcganConfig::new(a.side, set.channels);
    cfg.epochs = a.epochs.max(1);
    cfg.batch = a.batch;
    cfg.lr_g = a.lr;
    cfg.lr_d = a.d_lr.unwrap_or(a.lr);
    cfg.d_steps = a.d_steps;
    cfg.real_label = if a.label_smoothing { 0.9 } else { 1.0 };
    cfg.spectral = a.spectral_norm;
    cfg.dropout = a.dropout.clamp(0.0, 0.9);
    cfg.seed = a.seed;
    cfg.thresholds = Thresholds {
        patience: a.patience.max(1),
        ..Thresholds::default()
    };
    if let Some(ck) = edgegan_trainer::common::checkpoint::existing(&work).filter(|_| !a.resume) {
        bail!(
            "{}: a checkpoint of an earlier run is here; pass --resume or remove it",
            ck.display()
        );
    }
    let evolution = work.join("evolution");
    std::fs::create_dir_all(&evolution)
        .with_context(|| format!("{}: cannot create", evolution.display()))?;
    // The log is rewritten whole: a resumed run's restored epochs come first.
    let log_path = work.join("log.jsonl");
    let mut log = std::fs::File::create(&log_path)
        .with_context(|| format!("{}: cannot create", log_path.display()))?;
    let mut frames = Vec::new();
    let mut failure = None;
    let mut on_epoch = |r: &EpochReport, grid: Option<&image::RgbImage>| {
        let path = evolution.join(format!("epoch_{:03}.png", r.epoch));
        let frame = match grid {
            Some(grid) => {
                eprintln!("{}", epoch_line(r));
                for w in &r.warnings {
                    eprintln!("warning: epoch {}: {w}", r.epoch);
                }
                grid.save(&path)
                    .map(|_| grid.clone())
                    .map_err(|e| format!("{}: {e}", path.display()))
            }
            // Restored by --resume: the earlier run wrote its grid.
            None => image::open(&path)
                .map(|i| i.to_rgb8())
                .map_err(|e| format!("{}: {e} (a grid of the resumed run)", path.display())),
        };
        let logged = serde_json::to_string(r)
            .map_err(|e| e.to_string())
            .and_then(|line| {
                writeln!(log, "{line}").map_err(|e| format!("{}: {e}", log_path.display()))
            });
        match frame.and_then(|f| logged.map(|_| f)) {
            Ok(f) => frames.push(f),
            Err(e) => {
                failure.get_or_insert(e);
            }
        }
    };
    let run = train(
        &train_set,
        &judge,
        &cfg,
        Some(&work),
        a.resume,
        &mut on_epoch,
    )?;
    if let Some(e) = failure {
        bail!(e);
    }
    let anim = work.join("evolution.png");
    crate::apng::write(&anim, &frames, 250)
        .with_context(|| format!("{}: cannot write", anim.display()))?;
    eprintln!(
        "evolution: {} (epochs as frames) and {}/epoch_*.png",
        anim.display(),
        evolution.display()
    );
    let best = &run.reports[run.best_epoch.max(1) - 1];
    eprintln!("selected epoch {} of {}", run.best_epoch, run.reports.len());
    let (card, reports) = export_model(
        &a.out,
        &a.data,
        &cfg,
        &run.best,
        best,
        accuracy,
        (&train_set, &held_out),
        judge.classifier(),
    )?;
    for r in &reports {
        eprintln!(
            "{}: {} samples (seed {}): {}/10 classes, entropy {:.3} nats, histogram {:?}",
            r.precision, r.samples, r.seed, r.coverage, r.entropy, r.histogram
        );
    }
    eprintln!("wrote {} ({})", a.out.display(), card);
    Ok(ExitCode::SUCCESS)
}

fn epoch_line(r: &EpochReport) -> String {
    let mut s = format!(
        "epoch {:>3}  D {:.3} G {:.3}  D acc real {:.2} fake {:.2}  |gG| {:.3}  diversity {:.3}",
        r.epoch,
        r.d_loss,
        r.g_loss,
        r.d_real_accuracy,
        r.d_fake_accuracy,
        r.g_grad_norm,
        r.diversity
    );
    if let (Some(c), Some(e), Some(k)) = (r.coverage, r.entropy, r.kid) {
        s += &format!("  classes {c}/10 entropy {e:.3}  KID {k:.4}");
    }
    s
}
