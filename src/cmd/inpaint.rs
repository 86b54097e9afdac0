//! `edgegan inpaint IN... --mask MASK -o OUT`: fill the white pixels of a
//! mask with an inpainting model, for one image or a batch. Every pixel
//! outside the mask is written back exactly as read (a lossless output format
//! keeps them so: PNG or WebP); each output appears only once complete.
//!
//! A batch (several inputs or a folder) writes into the folder `OUT`, keeping
//! folder inputs' relative paths. `--mask` is then either one mask file for
//! every image, or a folder holding each image's mask at the same relative
//! path as a `.png` (`photos/a/b.jpg` → `MASKS/a/b.png`). A failed image (a
//! missing or bad mask, an unreadable photo) is reported on one line and the
//! others go on; the exit status is non-zero if any failed.

use anyhow::{bail, Result};
use clap::Args;
use edgegan_runtime::inpaint::Inpainter;
use edgegan_runtime::inpaint::Mask;
use edgegan_runtime::io::{encode, output_format, read_image, ImageLimits};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::args::{apply_inpaint, default_threads, PrecisionChoice};
use crate::batch::{check_output, plan_jobs, prepare, progress, summary, write_atomic, Job};

/// The inpainting model used when `--model` is not given.
pub const DEFAULT_INPAINT_MODEL: &str = "inpaint";

/// Arguments of `edgegan inpaint`.
#[derive(Debug, Args)]
pub struct InpaintArgs {
    /// Images and/or folders to fill (PNG, JPEG or WebP; folders are
    /// searched recursively).
    #[arg(required = true, value_name = "IN")]
    pub inputs: Vec<PathBuf>,
    /// Mask of the image's size: white (≥ 128) = fill, black = keep. For a
    /// batch: one mask for every image, or a folder of masks named like the
    /// images (same relative path, `.png`).
    #[arg(long, value_name = "MASK|DIR")]
    pub mask: PathBuf,
    /// Output image for one input (.png or .webp keep every pixel outside
    /// the mask exact; .jpg re-encodes them lossily), else a folder.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    /// Model: a directory, models/NAME, or an embedded name.
    #[arg(short, long, value_name = "NAME|DIR", default_value = DEFAULT_INPAINT_MODEL)]
    pub model: String,
    /// Numeric precision of the model graph (`auto`: int8 where the card's
    /// int8 fill is within 0.3 dB of f32's in every bin and measures
    /// faster here, cached) [default: the board's, else f32].
    #[arg(long, value_enum)]
    pub precision: Option<PrecisionChoice>,
    /// Apply a board profile (`edgegan boards list`): its precision and
    /// threads, unless given here.
    #[arg(long, value_name = "NAME")]
    pub board: Option<String>,
    /// Cores to use; default: the board's, else every core. One image is
    /// filled on all of them (network and fill, same output); a batch fills
    /// that many images at once, one core each.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub threads: Option<u32>,
    /// Output format for batches (default: keep each input's).
    #[arg(long, value_name = "png|jpg|webp")]
    pub format: Option<String>,
    /// Replace existing output files.
    #[arg(long)]
    pub overwrite: bool,
    /// Resume an interrupted batch: leave outputs that are already written
    /// alone (counted as skipped; exit 0 when nothing fails).
    #[arg(long, conflicts_with = "overwrite")]
    pub skip_existing: bool,
}

/// Where each job's mask is: one file for all, or a folder mirroring the
/// outputs' relative paths.
enum Masks<'a> {
    One(&'a Path),
    Folder { masks: &'a Path, out: &'a Path },
}

impl Masks<'_> {
    fn of(&self, job: &Job) -> Result<PathBuf> {
        match self {
            Masks::One(p) => Ok(p.to_path_buf()),
            Masks::Folder { masks, out } => {
                let rel = job.output.strip_prefix(out).unwrap_or(&job.output);
                let mask = masks.join(rel).with_extension("png");
                if !mask.is_file() {
                    bail!(
                        "{}: no mask for {} (a mask folder holds one PNG per image, at its relative path)",
                        mask.display(),
                        job.input.display()
                    );
                }
                Ok(mask)
            }
        }
    }
}

/// Run `edgegan inpaint`.
pub fn run(mut a: InpaintArgs) -> Result<ExitCode> {
    if let Some(name) = &a.board {
        let board = edgegan_boards::get(name)?;
        apply_inpaint(&board, &mut a.precision, &mut a.threads);
    }
    let choice = a.precision.unwrap_or(PrecisionChoice::F32);
    if let Some(f) = &a.format {
        output_format(Path::new(&format!("x.{f}")))?;
    }
    let jobs = plan_jobs(&a.inputs, &a.output, a.format.as_deref())?;
    let batch = jobs.len() > 1 || a.inputs[0].is_dir();
    let masks = if a.mask.is_dir() {
        if !batch {
            bail!(
                "{}: is a folder; one image takes one mask file",
                a.mask.display()
            );
        }
        Masks::Folder {
            masks: &a.mask,
            out: &a.output,
        }
    } else {
        Masks::One(&a.mask)
    };
    let total = jobs.len();
    let (jobs, skipped) = prepare(jobs, a.skip_existing);
    let source = crate::models::source(&a.model)?;
    let model = match choice {
        PrecisionChoice::Auto => source.inpainter_auto()?,
        fixed => source.inpainter(fixed.fixed())?,
    };
    if !batch && skipped == 1 {
        eprintln!("{}: already written; skipped", a.output.display());
        return Ok(ExitCode::SUCCESS);
    }
    if !batch {
        let model = model.with_threads(default_threads(a.threads))?;
        let job = &jobs[0];
        let (pct, ms) = inpaint_one(&model, job, &masks.of(job)?, a.overwrite)?;
        eprintln!(
            "{} -> {} ({}, {}, {pct:.1} % filled, {ms:.0} ms)",
            job.input.display(),
            job.output.display(),
            model.card().name,
            model.precision(),
        );
        return Ok(ExitCode::SUCCESS);
    }
    let started = Instant::now();
    let bar = progress(jobs.len(), true);
    let (next, failed) = (AtomicUsize::new(0), AtomicUsize::new(0));
    std::thread::scope(|s| {
        for _ in 0..default_threads(a.threads).min(jobs.len()) {
            s.spawn(|| {
                while let Some(job) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    match masks
                        .of(job)
                        .and_then(|m| inpaint_one(&model, job, &m, a.overwrite))
                    {
                        Ok(_) => {
                            tracing::info!("{} -> {}", job.input.display(), job.output.display())
                        }
                        Err(e) => {
                            failed.fetch_add(1, Ordering::Relaxed);
                            bar.suspend(|| eprintln!("error: {}", crate::one_line(&e)));
                        }
                    }
                    bar.inc(1);
                }
            });
        }
    });
    bar.finish_and_clear();
    let failed = failed.into_inner();
    let what = format!("{} ({})", model.card().name, model.precision());
    Ok(summary(
        "inpainted",
        total,
        skipped,
        failed,
        &what,
        started,
        "",
    ))
}

/// Fill one image with its mask and write it: the share filled (%) and the
/// model's time (ms). Nothing is written unless every step succeeds.
fn inpaint_one(model: &Inpainter, job: &Job, mask: &Path, overwrite: bool) -> Result<(f64, f64)> {
    check_output(job, overwrite)?;
    let format = output_format(&job.output)?;
    let mut image = read_image(&job.input, &ImageLimits::input())?;
    let mask = Mask::load(mask, (image.width(), image.height()))?;
    let t = Instant::now();
    // In place: the input is not needed again, and a copy of a 12-MP photo
    // is 36 MB more on a 512 MB board.
    model.inpaint_in_place(&mut image, &mask)?;
    let ms = t.elapsed().as_secs_f64() * 1e3;
    write_atomic(&job.output, overwrite, |w| {
        encode(&image, format, w, &job.output)
    })?;
    Ok((100.0 * mask.hole_ratio(), ms))
}
