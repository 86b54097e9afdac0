//! `edgegan train inpaint`: train the gated-conv inpainting generator on a
//! folder of photos, then write a model directory with the f32 and int8
//! graphs, the card (training summary; metrics measured through the runtime
//! with the `edgegan eval` protocol), the log, the loss plot and the last
//! evolution frame.

use anyhow::{bail, Context, Result};
use clap::Args;
use edgegan_runtime::card::sha256_hex;
use edgegan_runtime::card::{ConvPath, Files, IoSpec, ModelCard, RuntimeSpec, Task};
use edgegan_runtime::inpaint::HoleBin;
use edgegan_runtime::inpaint::Inpainter;
use edgegan_runtime::inpaint::EVAL_SIZE;
use edgegan_runtime::Precision;
use edgegan_trainer::common::device::TrainDevice;
use edgegan_trainer::inpaint::training::{
    export_graphs, train_inpaint, Augment, HoleLoss, InpaintConfig, InpaintPhotos, InpaintPoint,
    InpaintVal,
};
use std::path::PathBuf;
use std::process::ExitCode;

use edgegan_runtime::inpaint::{jobs, model_scores, opencv_scores, per_bin, protocol_crops};

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

/// Run `edgegan train inpaint`.
pub fn run(a: TrainInpaintArgs) -> Result<ExitCode> {
    if !a.no_export && a.out.exists() {
        bail!(
            "{}: already exists; choose a new model directory",
            a.out.display()
        );
    }
    if a.patch == 0 || !a.patch.is_multiple_of(32) {
        bail!("--patch {}: must be a positive multiple of 32", a.patch);
    }
    a.device.device()?;
    if !(0.0..=1.0).contains(&a.lr_decay) {
        bail!("--lr-decay {}: must be a fraction from 0 to 1", a.lr_decay);
    }
    if let Some(ck) = edgegan_trainer::common::checkpoint::existing(&a.work).filter(|_| !a.resume) {
        bail!(
            "{}: a checkpoint of an earlier run is here; pass --resume or remove it",
            ck.display()
        );
    }
    let channels: [usize; 4] = match a.channels[..] {
        [a0, a1, a2, a3] if a0 * a1 * a2 * a3 > 0 => [a0, a1, a2, a3],
        _ => bail!(
            "--channels {:?}: expected four positive widths, e.g. 16,32,64,96",
            a.channels
        ),
    };
    if a.scales.is_empty() || a.scales.iter().any(|s| !(1.0..=8.0).contains(s)) {
        bail!(
            "--scales {:?}: expected short sides from 1 to 8 training patches, e.g. 1,1.5,2",
            a.scales
        );
    }
    if !(0.0..=1.0).contains(&a.jitter) {
        bail!("--jitter {}: expected a zoom range from 0 to 1", a.jitter);
    }
    if !(0.0..=1.0).contains(&a.dead_leaves) {
        bail!(
            "--dead-leaves {}: expected a share from 0 to 1",
            a.dead_leaves
        );
    }
    let augment = Augment {
        jitter: a.jitter,
        channel_order: a.channel_order,
        hole_bins: a.hole_bins.clone(),
        dead_leaves: a.dead_leaves,
    };
    let photos = InpaintPhotos::load_at(&a.data, a.patch, &a.scales, augment)?;
    let mut val_files = crate::batch::image_files(&a.val)?;
    val_files.truncate(a.val_photos);
    let val = InpaintVal::load(&val_files)?;
    eprintln!(
        "{} training photos, {} validation photos",
        photos.photos,
        val_files.len()
    );
    let cfg = InpaintConfig {
        steps: a.steps,
        batch: a.batch,
        patch: a.patch,
        learning_rate: a.lr,
        d_learning_rate: a.d_lr,
        lr_decay_start: a.lr_decay,
        reuse: a.reuse as usize,
        init_from: a.init_from.clone(),
        channels,
        attention: a.attention,
        hole_loss: a.hole_loss,
        adv_weight: a.adv_weight,
        ema: a.ema,
        val_every: a.val_every,
        seed: a.seed,
        time_limit: a.time_limit,
        device: a.device,
    };
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
    let log = write_log(&a.work, &outcome.history)?;
    if a.no_export {
        return Ok(ExitCode::SUCCESS);
    }
    let (f32_bytes, int8_bytes) = export_graphs(&outcome.generator, &photos, a.patch, a.seed);
    let mut card = card(&a, &outcome, photos.photos, outcome.generator.parameters());
    card.files.f32.sha256 = sha256_hex(&f32_bytes);
    if let Some(spec) = card.files.int8.as_mut() {
        spec.sha256 = sha256_hex(&int8_bytes);
    }
    measure(&mut card, &a.val, &f32_bytes, &int8_bytes)?;
    let mut extras = vec![("model.int8.onnx", int8_bytes)];
    extras.push(("train_log.jsonl", log));
    let plot = a.work.join("training.svg");
    write_plot(&plot, &outcome.history).map_err(|e| anyhow::anyhow!("{}: {e}", plot.display()))?;
    extras.push(("training.svg", std::fs::read(&plot)?));
    let last = a
        .work
        .join("evolution")
        .join(format!("step_{:06}.png", outcome.steps));
    if let Ok(frame) = std::fs::read(&last) {
        extras.push(("evolution.png", frame));
    }
    edgegan_trainer::onnx::export::write_model_files(&a.out, card, &f32_bytes, &extras)?;
    for p in [Precision::F32, Precision::Int8] {
        Inpainter::load(&a.out, p)
            .with_context(|| format!("{}: exported {p} graph does not load", a.out.display()))?;
    }
    eprintln!("wrote {}", a.out.display());
    Ok(ExitCode::SUCCESS)
}

fn round(v: f64) -> f64 {
    (v * 1e4).round() / 1e4
}

fn card(
    a: &TrainInpaintArgs,
    o: &edgegan_trainer::inpaint::training::InpaintOutcome,
    photos: usize,
    params: usize,
) -> ModelCard {
    let mut t = toml::Table::new();
    t.insert("backend".into(), o.backend.clone().into());
    t.insert(
        "data".into(),
        format!("{} ({photos} photos)", a.data.display()).into(),
    );
    t.insert(
        "validation".into(),
        format!("first {} photos of {}", a.val_photos, a.val.display()).into(),
    );
    t.insert("steps".into(), (o.steps as i64).into());
    t.insert("seconds".into(), round(o.seconds).into());
    t.insert("batch".into(), (a.batch as i64).into());
    t.insert("patch".into(), (a.patch as i64).into());
    t.insert("learning_rate".into(), a.lr.into());
    t.insert("d_learning_rate".into(), a.d_lr.into());
    if a.reuse > 1 {
        t.insert("reuse".into(), (a.reuse as i64).into());
    }
    if a.lr_decay < 1.0 {
        t.insert("lr_decay_start".into(), a.lr_decay.into());
    }
    t.insert("adv_weight".into(), a.adv_weight.into());
    t.insert("ema".into(), a.ema.into());
    t.insert("seed".into(), (a.seed as i64).into());
    t.insert("parameters".into(), (params as i64).into());
    if !a.init_from.is_empty() {
        let paths: Vec<String> = a
            .init_from
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        t.insert("init_from".into(), paths.into());
    }
    t.insert("scales".into(), a.scales.clone().into());
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
    if a.attention {
        t.insert("attention".into(), true.into());
    }
    t.insert(
        "channels".into(),
        a.channels
            .iter()
            .map(|&c| c as i64)
            .collect::<Vec<_>>()
            .into(),
    );
    let hole = match a.hole_loss {
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
        name: a.out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or("inpaint".into()),
        task: Task::Inpainting,
        scale: 1,
        description: format!(
            "Gated-conv U-Net inpainting generator{}, {params} parameters, {EVAL_SIZE}x{EVAL_SIZE} working size; learns a residual over the runtime's push-pull + harmonic prefill.",
            if a.attention { " with masked self-attention at 1/8 resolution" } else { "" }
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
fn measure(
    card: &mut ModelCard,
    data: &std::path::Path,
    f32_bytes: &[u8],
    int8_bytes: &[u8],
) -> Result<()> {
    let crops = protocol_crops(data, EVAL_SIZE)?;
    let jobs = jobs(&crops);
    let threads = crate::args::default_threads(None);
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
fn write_log(work: &std::path::Path, history: &[InpaintPoint]) -> Result<Vec<u8>> {
    let text: String = history
        .iter()
        .map(|p| serde_json::to_string(p).map(|s| s + "\n"))
        .collect::<Result<_, _>>()?;
    let p = work.join("train_log.jsonl");
    std::fs::write(&p, &text).with_context(|| p.display().to_string())?;
    Ok(text.into_bytes())
}

fn write_plot(path: &std::path::Path, h: &[InpaintPoint]) -> Result<(), String> {
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
    edgegan_trainer::common::plot::write_svg(path, &losses, &metrics)
}
