//! `edgegan generate`: images from noise with a generation model (the DCGAN
//! demo's `digits`), tiled into one PNG grid. The same seed gives the same
//! grid on every run.

use anyhow::{bail, Context, Result};
use clap::Args;
use edgegan_runtime::generate::MAX_IMAGES;
use edgegan_runtime::Precision;
use image::ImageFormat;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::batch::write_atomic;

/// Arguments of `edgegan generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Generation model: a directory, models/NAME or an embedded name.
    #[arg(short, long, value_name = "NAME|DIR", default_value = "digits")]
    pub model: String,
    /// Number of images.
    #[arg(short, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=MAX_IMAGES as i64))]
    pub n: u32,
    /// Seed of the noise.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output PNG.
    #[arg(short, long, value_name = "PNG")]
    pub output: PathBuf,
    /// Graph precision.
    #[arg(long, value_enum, default_value_t = Precision::F32)]
    pub precision: Precision,
    /// Images per grid row.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub cols: u32,
    /// Pixel repetition of each image.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=32))]
    pub zoom: u32,
    /// Replace an existing output file.
    #[arg(long)]
    pub overwrite: bool,
}

/// Run `edgegan generate`.
pub fn run(a: GenerateArgs) -> Result<ExitCode> {
    if !a.overwrite && a.output.exists() {
        bail!(
            "{}: exists (pass --overwrite to replace it)",
            a.output.display()
        );
    }
    if ImageFormat::from_path(&a.output).ok() != Some(ImageFormat::Png) {
        bail!(
            "{}: the grid is saved as PNG; name a .png file",
            a.output.display()
        );
    }
    let precision = a.precision;
    let sampler = crate::models::source(&a.model)?.sampler(precision)?;
    let grid = sampler.grid(a.n as usize, a.seed, a.cols as usize, a.zoom as usize)?;
    write_atomic(&a.output, a.overwrite, |w| {
        grid.write_to(w, ImageFormat::Png)
            .with_context(|| format!("{}: cannot encode", a.output.display()))
    })?;
    eprintln!(
        "wrote {} images of {} ({precision}, seed {}) to {}",
        a.n,
        sampler.card().name,
        a.seed,
        a.output.display()
    );
    Ok(ExitCode::SUCCESS)
}
