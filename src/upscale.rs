//! `edgegan upscale`: super-resolution over files and folders.

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use edgegan_runtime::card::ConvPath;
use edgegan_runtime::io::{encode, output_format, read_image, ImageLimits};
use edgegan_runtime::{Model, Precision, Task, UpscaleOptions, Upscaler};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use crate::batch::{check_output, plan_jobs, write_atomic, Job};

/// Precision requested on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrecisionArg {
    /// 32-bit float graph.
    F32,
    /// Quantized int8 graph (the card must list one).
    Int8,
    /// int8 where the model ships one, its card's quality loss is within its
    /// bound, and it is measured faster than f32 on this machine; else f32.
    Auto,
}

/// How tract lowers f32 convolutions (`--conv-path`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConvPathArg {
    /// Time both on the first tile and keep the faster (machines may differ).
    Auto,
    /// im2col + matrix product.
    Im2col,
    /// tract's direct spatial convolution where it applies.
    Direct,
}

impl From<ConvPathArg> for ConvPath {
    fn from(a: ConvPathArg) -> ConvPath {
        match a {
            ConvPathArg::Auto => ConvPath::Auto,
            ConvPathArg::Im2col => ConvPath::Im2col,
            ConvPathArg::Direct => ConvPath::Direct,
        }
    }
}

/// The model `args` asks for, checked to be a super-resolution model, with
/// `--conv-path` applied.
pub fn load_sr(args: &UpscaleArgs) -> Result<Model> {
    let precision = args.precision.unwrap_or(PrecisionArg::Auto);
    let mut model = crate::models::load_for(args.model.as_deref(), precision)?;
    if model.card().task != Task::SuperResolution {
        bail!(
            "{}: model {} is for {:?}, not super-resolution",
            model.onnx_path().display(),
            model.card().name,
            model.card().task
        );
    }
    if let Some(path) = args.conv_path {
        model = model.with_conv_path(path.into());
    }
    Ok(model)
}

/// `--threads`, defaulting to every core.
pub fn default_threads(arg: Option<u32>) -> usize {
    arg.map_or_else(edgegan_runtime::upscale::available_threads, |t| t as usize)
}

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
    /// Model: a directory, models/NAME, or an embedded name (sr-x2, sr-x4);
    /// default: the embedded sr-x2.
    #[arg(short, long, value_name = "NAME|DIR")]
    pub model: Option<String>,
    /// Numeric precision of the model graph [default: the board's, else auto].
    #[arg(long, value_enum)]
    pub precision: Option<PrecisionArg>,
    /// Apply a board profile (`edgegan boards list`): its precision, tile and
    /// threads, unless given here.
    #[arg(long, value_name = "NAME")]
    pub board: Option<String>,
    /// Tile size in input pixels (halo excluded); default: the board's, else the card's.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(8..=4096))]
    pub tile: Option<u32>,
    /// Worker threads running tiles in parallel; default: the board's, else all cores.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub threads: Option<u32>,
    /// Convolution lowering [default: the card's, `auto` for shipped models].
    /// Fix it to compare outputs bit for bit across machines.
    #[arg(long, value_enum)]
    pub conv_path: Option<ConvPathArg>,
    /// Output format for folder batches (default: keep each input's).
    #[arg(long, value_name = "png|jpg|webp")]
    pub format: Option<String>,
    /// Replace existing output files.
    #[arg(long)]
    pub overwrite: bool,
}

pub fn run(mut args: UpscaleArgs) -> Result<ExitCode> {
    if let Some(name) = &args.board {
        crate::boards::apply(&edgegan_boards::get(name)?, &mut args);
    }
    let model = load_sr(&args)?;
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
    let threads = default_threads(args.threads);
    let up = Upscaler::new(
        Arc::new(model),
        UpscaleOptions {
            tile: args.tile.map(|t| t as usize),
            threads,
        },
    );
    let started = Instant::now();
    let bar = crate::batch::progress(jobs.len(), jobs.len() > 1);
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
        "upscaled",
        jobs.len(),
        failed,
        &what,
        started,
        &rss,
    ))
}

fn upscale_one(up: &Upscaler, job: &Job, overwrite: bool) -> Result<()> {
    check_output(job, overwrite)?;
    let format = output_format(&job.output)?;
    let image = read_image(&job.input, &ImageLimits::input())?;
    let out = up.upscale(&image, &job.input)?;
    drop(image);
    write_atomic(&job.output, overwrite, |w| {
        Ok(encode(&out, format, w, &job.output)?)
    })
}

impl PrecisionArg {
    /// The precision for commands that do not measure (`auto` means f32).
    pub fn fixed(self) -> Precision {
        match self {
            PrecisionArg::Int8 => Precision::Int8,
            PrecisionArg::F32 | PrecisionArg::Auto => Precision::F32,
        }
    }
}
