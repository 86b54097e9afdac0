//! The inpainting evaluation as `edgegan eval` and the training log run it:
//! the protocol of [`eval`](super) (one 256×256 crop per photo, one
//! fixed-seed mask per hole-ratio bin) scored for the model and, next to
//! it, for OpenCV's Telea and Navier-Stokes inpainting on the same crops
//! and masks (`scripts/opencv_inpaint.py`, embedded here and run under the
//! Python that `scripts/setup_opencv.sh` prepares). Host-side: a board
//! without that Python gets a [`RuntimeError::Baseline`].

use image::{DynamicImage, RgbImage};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{
    eval_mask, protocol_crop, score, BinScores, HoleBin, Inpainter, Lead, Mask, Scores, MASK_SEED,
};
use crate::error::{Result, RuntimeError};
use crate::io::{image_files, read_image, ImageLimits};

/// The OpenCV baseline script, written to a temporary folder when used.
const OPENCV_SCRIPT: &str = include_str!("../../../scripts/opencv_inpaint.py");

/// The `size`×`size` protocol crops of every photo under `data`, named by
/// relative path.
pub fn protocol_crops(data: &Path, size: u32) -> Result<Vec<(String, RgbImage)>> {
    let files = image_files(data)?;
    if files.is_empty() {
        let none = std::io::Error::new(std::io::ErrorKind::NotFound, "folder holds no images");
        return Err(RuntimeError::io(data, none));
    }
    files
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

/// The model's scores for every job, on `threads` threads (one job each
/// at a time; every score is the same for any thread count).
pub fn model_scores(model: &Inpainter, jobs: &[Job<'_>], threads: usize) -> Result<Vec<Scores>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| RuntimeError::Threads {
            threads,
            reason: e.to_string(),
        })?;
    pool.install(|| {
        jobs.par_iter()
            .map(|j| {
                model
                    .inpaint(&DynamicImage::ImageRgb8(j.crop.clone()), &j.mask)
                    .map(|f| score(j.crop, &f.to_rgb8(), &j.mask))
            })
            .collect()
    })
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
    let dir = tempfile::tempdir().map_err(|e| RuntimeError::io(std::env::temp_dir(), e))?;
    let script = dir.path().join("opencv_inpaint.py");
    std::fs::write(&script, OPENCV_SCRIPT).map_err(|e| RuntimeError::io(&script, e))?;
    for (i, j) in jobs.iter().enumerate() {
        let crop = dir.path().join(format!("{i:05}.png"));
        let mask = dir.path().join(format!("{i:05}.mask.png"));
        let enc = |p: &Path, e: image::ImageError| RuntimeError::Encode {
            path: p.into(),
            reason: e.to_string(),
        };
        j.crop.save(&crop).map_err(|e| enc(&crop, e))?;
        j.mask.to_luma().save(&mask).map_err(|e| enc(&mask, e))?;
    }
    let python = opencv_python();
    let baseline = |reason: String| RuntimeError::Baseline {
        program: python.clone(),
        reason,
    };
    let out = std::process::Command::new(&python)
        .arg(&script)
        .arg(dir.path())
        .output()
        .map_err(|e| baseline(format!("cannot run it: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or("failed");
        return Err(baseline(last.to_string()));
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

/// One image's scores in the report.
#[derive(Debug, Serialize)]
pub struct ImageRow {
    /// Photo name (relative to the data folder).
    pub file: String,
    /// Hole-ratio bin.
    pub bin: String,
    /// The mask's hole ratio.
    pub hole_ratio: f64,
    /// The model's scores.
    #[serde(flatten)]
    pub scores: Scores,
    /// The baselines' scores on the same crop and mask.
    pub baselines: BTreeMap<&'static str, Scores>,
}

/// `edgegan eval`'s report on an inpainting model (its JSON form is what
/// `--json` prints and what cards quote).
#[derive(Debug, Serialize)]
pub struct InpaintReport {
    /// Model name.
    pub model: String,
    /// Precision evaluated.
    pub precision: String,
    /// The photo folder.
    pub data: String,
    /// Crop side.
    pub crop: u32,
    /// Seed of the fixed masks.
    pub mask_seed: u64,
    /// Every (photo, bin) job.
    pub images: Vec<ImageRow>,
    /// The model's per-bin means.
    pub mean: Vec<BinScores>,
    /// The baselines' per-bin means.
    pub baselines: BTreeMap<&'static str, Vec<BinScores>>,
    /// The model's paired in-hole PSNR lead over each baseline, per bin.
    pub leads: BTreeMap<&'static str, Vec<Lead>>,
}

/// The whole protocol on the photos under `data`: `size`² crops, one mask
/// per bin, the model on `threads` threads, and OpenCV's Telea and
/// Navier-Stokes on the same crops and masks.
pub fn evaluate(
    model: &Inpainter,
    data: &Path,
    size: u32,
    threads: usize,
) -> Result<InpaintReport> {
    let crops = protocol_crops(data, size)?;
    let jobs = jobs(&crops);
    let scores = model_scores(model, &jobs, threads)?;
    let (telea, ns) = opencv_scores(&jobs)?;
    Ok(InpaintReport {
        model: model.card().name.clone(),
        precision: model.precision().to_string(),
        data: data.display().to_string(),
        crop: size,
        mask_seed: MASK_SEED,
        images: jobs
            .iter()
            .zip(&scores)
            .enumerate()
            .map(|(i, (j, s))| ImageRow {
                file: j.name.to_string(),
                bin: j.bin.to_string(),
                hole_ratio: j.mask.hole_ratio(),
                scores: *s,
                baselines: BTreeMap::from([("opencv_telea", telea[i]), ("opencv_ns", ns[i])]),
            })
            .collect(),
        mean: per_bin(&jobs, &scores),
        baselines: BTreeMap::from([
            ("opencv_telea", per_bin(&jobs, &telea)),
            ("opencv_ns", per_bin(&jobs, &ns)),
        ]),
        leads: BTreeMap::from([
            ("opencv_telea", leads(&jobs, &scores, &telea)),
            ("opencv_ns", leads(&jobs, &scores, &ns)),
        ]),
    })
}
