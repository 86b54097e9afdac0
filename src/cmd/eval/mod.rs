//! `edgegan eval`: PSNR/SSIM on Y of a super-resolution model against bicubic
//! on a folder of HR photos (protocol: DESIGN.md, "Metric protocol"); a
//! generator goes to [`gen`], an inpainting model to [`inpaint`].

#[cfg(feature = "train")]
mod gen;
mod inpaint;

use anyhow::Result;
use clap::Args;
use edgegan_runtime::sr::degrade::{Degradations, EvalDegrade};
use edgegan_runtime::sr::{evaluate_files, Evaluated};
use edgegan_runtime::{Task, UpscaleOptions, Upscaler};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use crate::args::PrecisionChoice;
use crate::batch::image_files;

/// Arguments of `edgegan eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Model: a directory, models/NAME, or an embedded name (sr-x2, sr-x4, inpaint, digits).
    #[arg(short, long, value_name = "NAME|DIR")]
    pub model: String,
    /// Folder of high-resolution photos (searched recursively; an
    /// inpainting model gets one 256x256 crop of each); for a generator,
    /// the labelled digits (`digits.csv.gz`).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Numeric precision of the model graph.
    #[arg(long, value_enum, default_value_t = PrecisionChoice::Auto)]
    pub precision: PrecisionChoice,
    /// Worker threads running tiles in parallel; default: all cores.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub threads: Option<u32>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Inpainting models only: side of the square crop taken of each photo
    /// (its short side resized to it, then the centre). The protocol, and
    /// the card's metrics, use 256, the working size of the shipped model;
    /// larger crops run the model through its resize path, as on large
    /// photos.
    #[arg(long, value_name = "PX", value_parser = clap::value_parser!(u32).range(32..=4096))]
    pub crop: Option<u32>,
    /// Super-resolution only: degrade every LR input with these (comma
    /// list of blur, noise, jpeg: blur σ 0.2–1.5 HR px before the
    /// downscale, noise σ 1–8 and JPEG quality 50–95 after), strengths
    /// drawn from --degrade-seed and the photo's pixels; the reference
    /// stays the clean photo, and the JSON records the degradations.
    #[arg(long, value_name = "LIST")]
    pub degrade: Option<Degradations>,
    /// Seed of the --degrade strengths.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub degrade_seed: u64,
    /// Super-resolution only: also write each photo's LR input (as the
    /// model got it, degraded or not) as `NAME.lr.png`, the model's output
    /// as `NAME.png` and the reference it was scored against (the photo as
    /// decoded, cropped to the scale) as `NAME.hr.png` into DIR (NAME: the
    /// photo's path under --data, `/` written `__`, extension dropped);
    /// never over an existing file.
    #[arg(long, value_name = "DIR")]
    pub save: Option<PathBuf>,
}

/// `--save`: the LR input, the output and the reference of one photo, as PNG.
fn save_pair(dir: &std::path::Path, e: &Evaluated) -> edgegan_runtime::Result<()> {
    let stem = std::path::Path::new(&e.score.file).with_extension("");
    let name = stem.to_string_lossy().replace(['/', '\\'], "__");
    for (suffix, img) in [(".lr.png", &e.lr), (".png", &e.sr), (".hr.png", &e.hr)] {
        let path = dir.join(format!("{name}{suffix}"));
        let image = image::DynamicImage::ImageRgb8(img.clone());
        edgegan_runtime::io::write_atomic(&path, false, |w| {
            edgegan_runtime::io::encode(&image, image::ImageFormat::Png, w, &path)
        })?;
    }
    Ok(())
}

pub fn run(args: EvalArgs) -> Result<ExitCode> {
    let task = crate::models::source(&args.model)?.task()?;
    if args.degrade.is_some() && task != Task::SuperResolution {
        anyhow::bail!(
            "{}: --degrade applies to super-resolution models only",
            args.model
        );
    }
    if args.save.is_some() && task != Task::SuperResolution {
        anyhow::bail!(
            "{}: --save applies to super-resolution models only",
            args.model
        );
    }
    if task == Task::Generation {
        #[cfg(feature = "train")]
        return gen::run(&args);
        #[cfg(not(feature = "train"))]
        anyhow::bail!(
            "{}: evaluating a generator needs a host build (default features)",
            args.model
        );
    }
    if task == Task::Inpainting {
        let model = crate::models::source(&args.model)?.inpainter(args.precision.fixed())?;
        return inpaint::run(&args, &model);
    }
    if args.crop.is_some() {
        anyhow::bail!("{}: --crop applies to inpainting models only", args.model);
    }
    let degrade = EvalDegrade {
        kinds: args.degrade.unwrap_or_default(),
        seed: args.degrade_seed,
    };
    let model = crate::args::load_sr_model(&args.model, args.precision)?;
    let files = image_files(&args.data)?;
    let threads = crate::args::default_threads(args.threads);
    let up = Upscaler::new(
        Arc::new(model),
        UpscaleOptions {
            tile: None,
            threads,
        },
    );
    let bar = ProgressBar::new(files.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} eta {eta} {wide_msg}")
            .expect("static template"),
    );
    let each = |name: &str| {
        bar.set_message(name.to_string());
        bar.inc(1);
    };
    let keep = |e: &Evaluated| match &args.save {
        Some(dir) => save_pair(dir, e),
        None => Ok(()),
    };
    let (report, failures) = evaluate_files(&up, &args.data, &files, &degrade, each, keep);
    bar.finish_and_clear();
    for (_, e) in &failures {
        eprintln!("error: {e}");
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{:<48} {:>8} {:>7} {:>6} {:>8} {:>7} {:>6}",
            "image", "PSNR-Y", "SSIM-Y", "sharp", "bicubic", "SSIM", "sharp"
        );
        for s in &report.images {
            println!(
                "{:<48} {:>8.3} {:>7.4} {:>6.3} {:>8.3} {:>7.4} {:>6.3}",
                s.file,
                s.psnr_y,
                s.ssim_y,
                s.sharpness_y,
                s.bicubic_psnr_y,
                s.bicubic_ssim_y,
                s.bicubic_sharpness_y
            );
        }
        let m = &report.mean;
        println!(
            "{:<48} {:>8.3} {:>7.4} {:>6.3} {:>8.3} {:>7.4} {:>6.3}",
            format!("mean of {}", report.images.len()),
            m.psnr_y,
            m.ssim_y,
            m.sharpness_y,
            m.bicubic_psnr_y,
            m.bicubic_ssim_y,
            m.bicubic_sharpness_y
        );
        println!(
            "gain over bicubic: {:+.3} dB PSNR-Y, {:+.4} SSIM-Y",
            m.psnr_y - m.bicubic_psnr_y,
            m.ssim_y - m.bicubic_ssim_y
        );
        println!("sharp: high-frequency energy of the Y channel relative to the ground truth (1 = as sharp)");
        if let Some(d) = &report.degraded {
            println!(
                "inputs degraded: {} (seed {}); reference: the clean photos",
                d.kinds, d.seed
            );
        }
    }
    Ok(if !failures.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
