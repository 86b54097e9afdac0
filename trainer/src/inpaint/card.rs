//! What a finished inpainting run leaves: the model directory (f32 and
//! int8 graphs, the card with the training summary and the metrics of the
//! `edgegan eval` protocol measured through the runtime, the log, the loss
//! plot and the last evolution frame), written by [`export_model`].

use edgegan_runtime::card::{sha256_hex, ConvPath, Files, IoSpec, ModelCard, RuntimeSpec, Task};
use edgegan_runtime::inpaint::{
    jobs, model_scores, opencv_scores, per_bin, protocol_crops, Inpainter, EVAL_SIZE,
};
use edgegan_runtime::Precision;
use std::path::Path;

use super::config::{HoleLoss, InpaintConfig};
use super::data::{Augment, InpaintPhotos};
use super::training::{export_graphs, InpaintOutcome, InpaintPoint};
use crate::error::TrainError;

/// What the card says about a run besides its [`InpaintConfig`].
#[derive(Debug, Clone)]
pub struct RunInfo<'a> {
    /// Model name (the output folder's).
    pub name: String,
    /// Training photo folder.
    pub data: &'a Path,
    /// Training photos loaded.
    pub photos: usize,
    /// Validation photo folder (the card's metrics are measured on it).
    pub val: &'a Path,
    /// Validation photos used during training.
    pub val_photos: usize,
    /// Short sides the photos were kept at (in training patches).
    pub scales: &'a [f64],
    /// Augmentations.
    pub augment: &'a Augment,
}

/// Export `outcome` to the model directory `out` (see the module docs);
/// `work` holds the log, plot and evolution frames of the run. Both graphs
/// are loaded back by the runtime before this returns.
pub fn export_model(
    out: &Path,
    work: &Path,
    cfg: &InpaintConfig,
    run: &RunInfo<'_>,
    photos: &InpaintPhotos,
    outcome: &InpaintOutcome,
) -> Result<(), TrainError> {
    let log = write_log(work, &outcome.history)?;
    let (f32_bytes, int8_bytes) = export_graphs(&outcome.generator, photos, cfg.patch, cfg.seed);
    let mut card = card(cfg, run, outcome, outcome.generator.parameters());
    card.files.f32.sha256 = sha256_hex(&f32_bytes);
    if let Some(spec) = card.files.int8.as_mut() {
        spec.sha256 = sha256_hex(&int8_bytes);
    }
    measure(&mut card, run.val, &f32_bytes, &int8_bytes)?;
    let mut extras = vec![("model.int8.onnx", int8_bytes)];
    extras.push(("train_log.jsonl", log));
    let plot = work.join("training.svg");
    write_plot(&plot, &outcome.history).map_err(|reason| TrainError::Checkpoint {
        path: plot.clone(),
        reason,
    })?;
    let svg = std::fs::read(&plot).map_err(|source| TrainError::Io {
        path: plot.clone(),
        source,
    })?;
    extras.push(("training.svg", svg));
    let last = work
        .join("evolution")
        .join(format!("step_{:06}.png", outcome.steps));
    if let Ok(frame) = std::fs::read(&last) {
        extras.push(("evolution.png", frame));
    }
    crate::onnx::export::write_model_files(out, card, &f32_bytes, &extras)?;
    for p in [Precision::F32, Precision::Int8] {
        Inpainter::load(out, p)?;
    }
    Ok(())
}

fn round(v: f64) -> f64 {
    (v * 1e4).round() / 1e4
}

fn card(cfg: &InpaintConfig, run: &RunInfo<'_>, o: &InpaintOutcome, params: usize) -> ModelCard {
    let a = run.augment;
    let mut t = toml::Table::new();
    t.insert("backend".into(), o.backend.clone().into());
    t.insert(
        "data".into(),
        format!("{} ({} photos)", run.data.display(), run.photos).into(),
    );
    t.insert(
        "validation".into(),
        format!("first {} photos of {}", run.val_photos, run.val.display()).into(),
    );
    t.insert("steps".into(), (o.steps as i64).into());
    t.insert("seconds".into(), round(o.seconds).into());
    t.insert("batch".into(), (cfg.batch as i64).into());
    t.insert("patch".into(), (cfg.patch as i64).into());
    t.insert("learning_rate".into(), cfg.learning_rate.into());
    t.insert("d_learning_rate".into(), cfg.d_learning_rate.into());
    if cfg.reuse > 1 {
        t.insert("reuse".into(), (cfg.reuse as i64).into());
    }
    if cfg.lr_decay_start < 1.0 {
        t.insert("lr_decay_start".into(), cfg.lr_decay_start.into());
    }
    t.insert("adv_weight".into(), cfg.adv_weight.into());
    t.insert("ema".into(), cfg.ema.into());
    t.insert("seed".into(), (cfg.seed as i64).into());
    t.insert("parameters".into(), (params as i64).into());
    if !cfg.init_from.is_empty() {
        let paths: Vec<String> = cfg
            .init_from
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        t.insert("init_from".into(), paths.into());
    }
    t.insert("scales".into(), run.scales.to_vec().into());
    if a.jitter > 0.0 {
        t.insert("jitter".into(), a.jitter.into());
    }
    if !a.hole_bins.is_empty() {
        let bins: Vec<String> = a.hole_bins.iter().map(|b| b.to_string()).collect();
        t.insert("hole_bins".into(), bins.into());
    }
    if a.channel_order {
        t.insert("channel_order".into(), true.into());
    }
    if a.dead_leaves > 0.0 {
        t.insert("dead_leaves".into(), a.dead_leaves.into());
    }
    if cfg.attention {
        t.insert("attention".into(), true.into());
    }
    t.insert(
        "channels".into(),
        cfg.channels
            .iter()
            .map(|&c| c as i64)
            .collect::<Vec<_>>()
            .into(),
    );
    let hole = match cfg.hole_loss {
        HoleLoss::L1 => "hole L1",
        HoleLoss::L2 => "hole L2 (MSE)",
        HoleLoss::Psnr => "minus mean per-sample hole PSNR",
    };
    t.insert(
        "losses".into(),
        format!("{hole} + hinge adversarial (SN-PatchGAN on composite + mask)").into(),
    );
    t.insert(
        "calibration".into(),
        "int8: percentile ranges on 32 training crops".into(),
    );
    if let Some(p) = o.history.last() {
        t.insert("final_val_hole_psnr".into(), round(p.hole_psnr).into());
        t.insert(
            "final_val_prefill_hole_psnr".into(),
            round(p.prefill_hole_psnr).into(),
        );
    }
    ModelCard {
        name: run.name.clone(),
        task: Task::Inpainting,
        scale: 1,
        description: format!(
            "Gated-conv U-Net inpainting generator{}, {params} parameters, {EVAL_SIZE}x{EVAL_SIZE} working size; learns a residual over the runtime's push-pull + harmonic prefill.",
            if cfg.attention { " with masked self-attention at 1/8 resolution" } else { "" }
        ),
        io: IoSpec {
            layout: "NCHW".into(),
            channels: 3,
            range: [0.0, 1.0],
            receptive_field: EVAL_SIZE as usize,
        },
        runtime: RuntimeSpec {
            tile: EVAL_SIZE as usize,
            conv_path: ConvPath::Im2col,
        },
        files: Files::f32_and_int8(),
        training: t,
        metrics: toml::Table::new(),
    }
}

/// The card's metrics: the `edgegan eval` protocol on `data` for both
/// precisions and the OpenCV baselines.
pub(crate) fn measure(
    card: &mut ModelCard,
    data: &std::path::Path,
    f32_bytes: &[u8],
    int8_bytes: &[u8],
) -> Result<(), TrainError> {
    let crops = protocol_crops(data, EVAL_SIZE)?;
    let jobs = jobs(&crops);
    let threads = edgegan_runtime::sr::available_threads();
    let text = card.to_toml();
    let mut m = toml::Table::new();
    m.insert("data".into(), data.display().to_string().into());
    m.insert("images".into(), (crops.len() as i64).into());
    let mut add = |tag: &str, bins: Vec<edgegan_runtime::inpaint::BinScores>| {
        let mut t = toml::Table::new();
        for b in bins {
            let mut row = toml::Table::new();
            row.insert("hole_psnr".into(), round(b.mean.hole_psnr).into());
            row.insert("hole_ssim".into(), round(b.mean.hole_ssim).into());
            row.insert("hole_l1".into(), round(b.mean.hole_l1).into());
            row.insert("psnr".into(), round(b.mean.psnr).into());
            row.insert("ssim".into(), round(b.mean.ssim).into());
            t.insert(b.bin.trim_end_matches('%').to_string(), row.into());
        }
        m.insert(tag.into(), t.into());
    };
    for (p, bytes) in [(Precision::F32, f32_bytes), (Precision::Int8, int8_bytes)] {
        let model = Inpainter::from_embedded("trained", &text, bytes, p)?;
        add(
            &p.to_string(),
            per_bin(&jobs, &model_scores(&model, &jobs, threads)?),
        );
    }
    match opencv_scores(&jobs) {
        Ok((telea, ns)) => {
            add("opencv_telea", per_bin(&jobs, &telea));
            add("opencv_ns", per_bin(&jobs, &ns));
        }
        Err(e) => eprintln!("warning: no OpenCV baseline in the card: {e:#}"),
    }
    card.metrics = m;
    Ok(())
}

/// Write `work/train_log.jsonl` (a point per line); returns its bytes.
pub fn write_log(work: &Path, history: &[InpaintPoint]) -> Result<Vec<u8>, TrainError> {
    let text: String = history
        .iter()
        .map(|p| serde_json::to_string(p).map(|s| s + "\n"))
        .collect::<Result<_, _>>()
        .map_err(|e| TrainError::Config(format!("training log: {e}")))?;
    let p = work.join("train_log.jsonl");
    std::fs::write(&p, &text).map_err(|source| TrainError::Io { path: p, source })?;
    Ok(text.into_bytes())
}

fn write_plot(path: &Path, h: &[InpaintPoint]) -> Result<(), String> {
    let s =
        |f: fn(&InpaintPoint) -> f64| h.iter().map(|p| (p.step as f64, f(p))).collect::<Vec<_>>();
    let losses = [
        ("hole L1 x100", s(|p| 100.0 * p.l1)),
        ("G hinge", s(|p| p.g_adv)),
        ("D hinge", s(|p| p.d_loss)),
        ("D accuracy", s(|p| p.d_accuracy)),
    ];
    let metrics = [
        ("model, in-hole PSNR", s(|p| p.hole_psnr)),
        ("prefill, in-hole PSNR", s(|p| p.prefill_hole_psnr)),
    ];
    crate::common::plot::write_svg(path, &losses, &metrics)
}
