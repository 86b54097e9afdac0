//! What a finished SR run leaves: the model directory (ONNX, the card with
//! the training summary and the validation metrics measured through the
//! runtime, the loss plot and the selected step's evolution grid), written
//! by [`export_model`].

use edgegan_runtime::sr::SrReport;
use std::path::Path;

use super::training::{write_log, write_plot, Stage, TrainConfig, TrainOutcome};
use crate::error::TrainError;
use crate::onnx::export::{sr_card, write_model_files};

/// What the card says about a run besides its [`TrainConfig`].
#[derive(Debug, Clone)]
pub struct RunInfo<'a> {
    /// Model name (the output folder's).
    pub name: String,
    /// Training photo folder.
    pub data: &'a Path,
    /// Training photos used.
    pub photos: usize,
    /// Downscale applied to the photos before training.
    pub prescale: usize,
    /// The generator it started from and that one's steps.
    pub init: Option<(&'a Path, i64)>,
    /// Where it trained (burn backend).
    pub backend: &'a str,
    /// Validation photo folder.
    pub val: &'a Path,
}

/// Export `outcome` (validated on every photo of `run.val` as `report`) to
/// the model directory `out`; `work` holds the run's log, plot and grids.
pub fn export_model(
    out: &Path,
    work: &Path,
    cfg: &TrainConfig,
    run: &RunInfo<'_>,
    outcome: &TrainOutcome,
    report: &SrReport,
) -> Result<(), TrainError> {
    let final_report = report;
    let (name, shape, scale) = (&run.name, cfg.shape, cfg.shape.scale);
    let kind = match cfg.stage {
        Stage::L1 | Stage::L2 => "PSNR-oriented",
        Stage::Gan(_) => "GAN-tuned (L1 + RaGAN)",
    };
    let mut card = sr_card(
        name,
        scale,
        shape.receptive_field(),
        &format!("{kind} x{scale} generator: {} channels, 5x5 head, {} 3x3 body convs, PixelShuffle, global bicubic skip; {} parameters.", shape.channels, shape.body, outcome.parameters),
    );
    let t = &mut card.training;
    record_stage(t, cfg, outcome);
    t.insert("data".into(), run.data.display().to_string().into());
    t.insert("photos".into(), (run.photos as i64).into());
    t.insert("prescale".into(), (run.prescale as i64).into());
    let prior_steps = run.init.map_or(0, |(_, s)| s);
    t.insert("steps".into(), (prior_steps + outcome.steps as i64).into());
    if let Some((dir, prior_steps)) = run.init {
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
    t.insert("backend".into(), run.backend.into());
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
    let val_name = run.val.display().to_string();
    card.metrics.insert(
        "val".into(),
        toml::Value::Table(metrics_table(final_report, &val_name)),
    );
    let log = work.join("log.csv");
    write_log(&log, &outcome.history).map_err(|source| TrainError::Io { path: log, source })?;
    let plot = work.join("plot.svg");
    let gan = matches!(cfg.stage, Stage::Gan(_));
    write_plot(&plot, &outcome.history, gan).map_err(|reason| TrainError::Checkpoint {
        path: plot.clone(),
        reason,
    })?;
    let grid = work
        .join("evolution")
        .join(format!("step_{:06}.png", outcome.best.step));
    let svg = std::fs::read(&plot).map_err(|source| TrainError::Io {
        path: plot.clone(),
        source,
    })?;
    let mut extras = vec![("plot.svg", svg)];
    if let Ok(png) = std::fs::read(&grid) {
        extras.push(("evolution.png", png));
    }
    write_model_files(out, card, &outcome.onnx, &extras)?;
    Ok(())
}

/// The card's `[metrics.val]` table of `report`.
pub fn metrics_table(report: &SrReport, data: &str) -> toml::Table {
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
    if let Some(d) = &report.degraded {
        // `edgegan eval --degrade KINDS --degrade-seed SEED` reproduces these.
        t.insert("degraded".into(), d.kinds.to_string().into());
        t.insert("degrade_seed".into(), (d.seed as i64).into());
    }
    t
}

fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

/// Stage-specific training facts for the card.
fn record_stage(t: &mut toml::Table, cfg: &TrainConfig, outcome: &TrainOutcome) {
    t.insert("ema".into(), cfg.ema.into());
    if cfg.degrade.any() {
        t.insert("degrade".into(), cfg.degrade.to_string().into());
    }
    let stage = match cfg.stage {
        Stage::L1 => "1 (L1)",
        Stage::L2 => "1 (L2: mean squared error)",
        Stage::Gan(_) => "2 (L1 + RaGAN, SN-PatchGAN discriminator)",
    };
    t.insert("stage".into(), stage.into());
    let Stage::Gan(g) = cfg.stage else {
        return;
    };
    let last = outcome.history.last().copied().unwrap_or_default();
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
