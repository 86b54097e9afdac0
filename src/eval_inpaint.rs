//! `edgegan eval` for inpainting models: the protocol of
//! [`edgegan_runtime::inpaint_eval`] (one 256×256 crop per photo, one
//! fixed-seed mask per hole-ratio bin) scored for the model and, next to
//! it, for OpenCV's Telea and Navier-Stokes inpainting on the same crops
//! and masks (`scripts/opencv_inpaint.py`, embedded in the binary and run
//! under the Python that `scripts/setup_opencv.sh` prepares).

use anyhow::{bail, Context, Result};
use edgegan_runtime::inpaint::Inpainter;
use edgegan_runtime::inpaint_eval::{
    eval_mask, protocol_crop, score, BinScores, Lead, Scores, EVAL_SIZE, MASK_SEED,
};
use edgegan_runtime::io::{read_image, ImageLimits};
use edgegan_runtime::mask::{HoleBin, Mask};
use image::{DynamicImage, RgbImage};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::batch::image_files;
use crate::eval::EvalArgs;

/// The OpenCV baseline script, written to a temporary folder when used.
const OPENCV_SCRIPT: &str = include_str!("../scripts/opencv_inpaint.py");

/// The `size`×`size` protocol crops of every photo under `data`, named by
/// relative path.
pub fn protocol_crops(data: &Path, size: u32) -> Result<Vec<(String, RgbImage)>> {
    image_files(data)?
        .iter()
        .map(|p| {
            let img = read_image(p, &ImageLimits::input())?;
            let name = p.strip_prefix(data).unwrap_or(p).display().to_string();
            Ok((name, protocol_crop(&img, size)))
        })
        .collect()
}

/// One (image, bin) job of the protocol.
pub struct Job<'a> {
    /// Photo name.
    pub name: &'a str,
    /// Its crop.
    pub crop: &'a RgbImage,
    /// The bin.
    pub bin: HoleBin,
    /// The fixed mask.
    pub mask: Mask,
}

/// Every (image, bin) job over `crops`.
pub fn jobs(crops: &[(String, RgbImage)]) -> Vec<Job<'_>> {
    crops
        .iter()
        .enumerate()
        .flat_map(|(index, (name, crop))| {
            HoleBin::ALL.iter().map(move |&bin| Job {
                name,
                crop,
                bin,
                mask: eval_mask(index, bin, crop.width()),
            })
        })
        .collect()
}

/// The model's scores for every job, on `threads` threads.
pub fn model_scores(model: &Inpainter, jobs: &[Job<'_>], threads: usize) -> Result<Vec<Scores>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut out: Vec<Option<Result<Scores>>> = (0..jobs.len()).map(|_| None).collect();
    let results = std::sync::Mutex::new(&mut out);
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(j) = jobs.get(i) else { break };
                let r = model
                    .inpaint(&DynamicImage::ImageRgb8(j.crop.clone()), &j.mask)
                    .map(|f| score(j.crop, &f.to_rgb8(), &j.mask))
                    .map_err(anyhow::Error::from);
                results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(r);
            });
        }
    });
    out.into_iter().map(|r| r.expect("every job ran")).collect()
}

/// Per-bin means of `scores` (one per job, in `jobs` order).
pub fn per_bin(jobs: &[Job<'_>], scores: &[Scores]) -> Vec<BinScores> {
    HoleBin::ALL
        .iter()
        .map(|&bin| {
            let of: Vec<(Scores, f64)> = jobs
                .iter()
                .zip(scores)
                .filter(|(j, _)| j.bin == bin)
                .map(|(j, s)| (*s, j.mask.hole_ratio()))
                .collect();
            BinScores::of(bin, &of)
        })
        .collect()
}

/// Per-bin paired leads of `method` over `base` in in-hole PSNR (one score
/// per job each, in `jobs` order).
pub fn leads(jobs: &[Job<'_>], method: &[Scores], base: &[Scores]) -> Vec<Lead> {
    HoleBin::ALL
        .iter()
        .map(|&bin| {
            let (m, b): (Vec<f64>, Vec<f64>) = jobs
                .iter()
                .zip(method.iter().zip(base))
                .filter(|(j, _)| j.bin == bin)
                .map(|(_, (m, b))| (m.hole_psnr, b.hole_psnr))
                .unzip();
            Lead::paired(&bin.to_string(), &m, &b)
        })
        .collect()
}

/// The Python that runs the OpenCV baseline: `EDGEGAN_OPENCV_PYTHON`, else
/// the environment of `scripts/setup_opencv.sh`, else `python3`.
fn opencv_python() -> PathBuf {
    if let Some(p) = std::env::var_os("EDGEGAN_OPENCV_PYTHON") {
        return p.into();
    }
    let venv = std::env::var_os("EDGEGAN_OPENCV_VENV")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/edgegan/opencv-venv"))
        });
    match venv.map(|v| v.join("bin/python")) {
        Some(p) if p.is_file() => p,
        _ => "python3".into(),
    }
}

/// OpenCV Telea and Navier-Stokes scores for every job: `(telea, ns)`.
pub fn opencv_scores(jobs: &[Job<'_>]) -> Result<(Vec<Scores>, Vec<Scores>)> {
    let dir = tempfile::tempdir().context("temporary folder for the OpenCV baseline")?;
    let script = dir.path().join("opencv_inpaint.py");
    std::fs::write(&script, OPENCV_SCRIPT).with_context(|| script.display().to_string())?;
    for (i, j) in jobs.iter().enumerate() {
        j.crop.save(dir.path().join(format!("{i:05}.png")))?;
        j.mask
            .to_luma()
            .save(dir.path().join(format!("{i:05}.mask.png")))?;
    }
    let python = opencv_python();
    let out = std::process::Command::new(&python)
        .arg(&script)
        .arg(dir.path())
        .output()
        .with_context(|| format!("{}: cannot run the OpenCV baseline", python.display()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or("failed");
        bail!(
            "{}: OpenCV baseline failed ({last}); run scripts/setup_opencv.sh",
            python.display()
        );
    }
    let read = |i: usize, tag: &str| -> Result<Scores> {
        let p = dir.path().join(format!("{i:05}.{tag}.png"));
        let img = read_image(&p, &ImageLimits::input())?.to_rgb8();
        Ok(score(jobs[i].crop, &img, &jobs[i].mask))
    };
    let telea = (0..jobs.len())
        .map(|i| read(i, "telea"))
        .collect::<Result<_>>()?;
    let ns = (0..jobs.len())
        .map(|i| read(i, "ns"))
        .collect::<Result<_>>()?;
    Ok((telea, ns))
}

/// One image's scores in the JSON report.
#[derive(Debug, Serialize)]
struct ImageRow<'a> {
    file: &'a str,
    bin: String,
    hole_ratio: f64,
    #[serde(flatten)]
    scores: Scores,
    /// The baselines' scores on the same crop and mask.
    baselines: BTreeMap<&'static str, Scores>,
}

/// The JSON report.
#[derive(Debug, Serialize)]
struct Report<'a> {
    model: String,
    precision: String,
    data: String,
    crop: u32,
    mask_seed: u64,
    images: Vec<ImageRow<'a>>,
    mean: Vec<BinScores>,
    baselines: BTreeMap<&'static str, Vec<BinScores>>,
    /// The model's paired in-hole PSNR lead over each baseline, per bin.
    leads: BTreeMap<&'static str, Vec<Lead>>,
}

/// `edgegan eval` on an inpainting model.
pub fn run(args: &EvalArgs, model: &Inpainter) -> Result<ExitCode> {
    let size = args.crop.unwrap_or(EVAL_SIZE);
    let crops = protocol_crops(&args.data, size)?;
    let jobs = jobs(&crops);
    let threads = crate::upscale::default_threads(args.threads);
    eprintln!(
        "{} photos x {} bins, {} threads",
        crops.len(),
        HoleBin::ALL.len(),
        threads
    );
    let scores = model_scores(model, &jobs, threads)?;
    let (telea, ns) = opencv_scores(&jobs)?;
    let mean = per_bin(&jobs, &scores);
    let baselines = BTreeMap::from([
        ("opencv_telea", per_bin(&jobs, &telea)),
        ("opencv_ns", per_bin(&jobs, &ns)),
    ]);
    let lead = BTreeMap::from([
        ("opencv_telea", leads(&jobs, &scores, &telea)),
        ("opencv_ns", leads(&jobs, &scores, &ns)),
    ]);
    if args.json {
        let report = Report {
            model: model.card().name.clone(),
            precision: model.precision().to_string(),
            data: args.data.display().to_string(),
            crop: size,
            mask_seed: MASK_SEED,
            images: jobs
                .iter()
                .zip(&scores)
                .enumerate()
                .map(|(i, (j, s))| ImageRow {
                    file: j.name,
                    bin: j.bin.to_string(),
                    hole_ratio: j.mask.hole_ratio(),
                    scores: *s,
                    baselines: BTreeMap::from([("opencv_telea", telea[i]), ("opencv_ns", ns[i])]),
                })
                .collect(),
            mean,
            baselines,
            leads: lead,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} ({}) on {} {size}x{size} crops of {}: in-hole PSNR dB / SSIM / L1, whole-image PSNR",
        model.card().name,
        model.precision(),
        crops.len(),
        args.data.display()
    );
    println!(
        "{:>8}  {:>24}  {:>24}  {:>24}  {:>22}",
        "bin", "model", "opencv telea", "opencv ns", "lead over telea ± se"
    );
    let cell = |b: &BinScores| {
        format!(
            "{:6.2} {:.3} {:.4} {:5.2}",
            b.mean.hole_psnr, b.mean.hole_ssim, b.mean.hole_l1, b.mean.psnr
        )
    };
    for (i, b) in mean.iter().enumerate() {
        let l = &lead["opencv_telea"][i];
        println!(
            "{:>8}  {:>24}  {:>24}  {:>24}  {:>22}",
            b.bin,
            cell(b),
            cell(&baselines["opencv_telea"][i]),
            cell(&baselines["opencv_ns"][i]),
            format!("{:+.2} ± {:.2} ({}/{})", l.mean, l.se, l.wins, l.images)
        );
    }
    Ok(ExitCode::SUCCESS)
}
