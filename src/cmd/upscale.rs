//! `edgegan upscale`: super-resolution over files and folders.

use anyhow::{bail, Result};
use clap::Args;
use edgegan_runtime::io::{encode, output_format, read_image, ImageLimits};
use edgegan_runtime::{UpscaleOptions, Upscaler};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use crate::args::{apply_board, default_threads, load_sr, SrModelArgs};
use crate::batch::{check_output, plan_jobs, prepare, write_atomic, Job};

/// Arguments of `edgegan upscale`.
#[derive(Debug, Args)]
pub struct UpscaleArgs {
    /// Input images and/or folders (folders are searched recursively).
    #[arg(required = true, value_name = "IN")]
    pub inputs: Vec<PathBuf>,
    /// Output file (one input) or folder (several inputs or a folder);
    /// default for one file: IN_x<scale>.png beside it.
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Model, precision, board, tile, threads, conv path.
    #[command(flatten)]
    pub sr: SrModelArgs,
    /// Output format for folder batches (default: keep each input's).
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

pub fn run(mut args: UpscaleArgs) -> Result<ExitCode> {
    if let Some(name) = &args.sr.board {
        apply_board(&edgegan_boards::get(name)?, &mut args.sr);
    }
    let model = load_sr(&args.sr)?;
    if let Some(f) = &args.format {
        output_format(Path::new(&format!("x.{f}")))?;
    }
    let output = match &args.output {
        Some(o) => o.clone(),
        None if args.inputs.len() == 1 && !args.inputs[0].is_dir() => {
            let stem = args.inputs[0]
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy();
            args.inputs[0].with_file_name(format!("{stem}_x{}.png", model.scale()))
        }
        None => bail!("--output is required for folders and several inputs"),
    };
    let jobs = plan_jobs(&args.inputs, &output, args.format.as_deref())?;
    let total = jobs.len();
    let (jobs, skipped) = prepare(jobs, args.skip_existing);
    let threads = default_threads(args.sr.threads);
    let up = Upscaler::new(
        Arc::new(model),
        UpscaleOptions {
            tile: args.sr.tile.map(|t| t as usize),
            threads,
        },
    );
    let started = Instant::now();
    let bar = crate::batch::progress(jobs.len(), total > 1);
    let mut failed = 0;
    for job in &jobs {
        bar.set_message(job.input.display().to_string());
        match upscale_one(&up, job, args.overwrite) {
            Ok(()) => tracing::info!("{} -> {}", job.input.display(), job.output.display()),
            Err(e) => {
                failed += 1;
                bar.suspend(|| eprintln!("error: {}", crate::one_line(&e)));
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let rss = edgegan_runtime::bench::peak_rss_mb()
        .map(|m| format!(", peak RSS {m:.0} MB"))
        .unwrap_or_default();
    let m = up.model();
    let what = format!("{} ({}, x{})", m.card().name, m.precision(), m.scale());
    Ok(crate::batch::summary(
        "upscaled", total, skipped, failed, &what, started, &rss,
    ))
}

fn upscale_one(up: &Upscaler, job: &Job, overwrite: bool) -> Result<()> {
    check_output(job, overwrite)?;
    let format = output_format(&job.output)?;
    let image = read_image(&job.input, &ImageLimits::input())?;
    let out = up.upscale(&image, &job.input)?;
    drop(image);
    write_atomic(&job.output, overwrite, |w| {
        encode(&out, format, w, &job.output)
    })?;
    Ok(())
}
