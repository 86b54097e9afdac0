//! `edgegan inpaint IN --mask MASK -o OUT`: fill the white pixels of a mask
//! with an inpainting model. Every pixel outside the mask is written back
//! exactly as read (a lossless output format keeps them so: PNG or WebP);
//! the output appears only once complete.

use anyhow::Result;
use clap::Args;
use edgegan_runtime::io::{encode, output_format, read_image, ImageLimits};
use edgegan_runtime::mask::Mask;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use crate::batch::{check_output, write_atomic, Job};
use crate::upscale::PrecisionArg;

/// The inpainting model used when `--model` is not given.
pub const DEFAULT_INPAINT_MODEL: &str = "inpaint";

/// Arguments of `edgegan inpaint`.
#[derive(Debug, Args)]
pub struct InpaintArgs {
    /// Image to fill (PNG, JPEG or WebP).
    pub input: PathBuf,
    /// Mask of the same size: white (≥ 128) = fill, black = keep.
    #[arg(long, value_name = "MASK")]
    pub mask: PathBuf,
    /// Output image (.png or .webp keep every pixel outside the mask exact;
    /// .jpg re-encodes them lossily).
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    /// Model: a directory, models/NAME, or an embedded name.
    #[arg(short, long, value_name = "NAME|DIR", default_value = DEFAULT_INPAINT_MODEL)]
    pub model: String,
    /// Numeric precision of the model graph (`auto` = f32).
    #[arg(long, value_enum, default_value_t = PrecisionArg::F32)]
    pub precision: PrecisionArg,
    /// Replace an existing output file.
    #[arg(long)]
    pub overwrite: bool,
}

/// Run `edgegan inpaint`.
pub fn run(a: InpaintArgs) -> Result<ExitCode> {
    let job = Job {
        input: a.input.clone(),
        output: a.output.clone(),
    };
    check_output(&job, a.overwrite)?;
    let format = output_format(&a.output)?;
    let image = read_image(&a.input, &ImageLimits::input())?;
    let mask = Mask::load(&a.mask, (image.width(), image.height()))?;
    let model = crate::models::load_inpainter(&a.model, a.precision.fixed())?;
    let t = Instant::now();
    let filled = model.inpaint(&image, &mask)?;
    let ms = t.elapsed().as_secs_f64() * 1e3;
    write_atomic(&a.output, a.overwrite, |w| {
        Ok(encode(&filled, format, w, &a.output)?)
    })?;
    eprintln!(
        "{} -> {} ({}, {}, {:.1} % filled, {ms:.0} ms)",
        a.input.display(),
        a.output.display(),
        model.card().name,
        model.precision(),
        100.0 * mask.hole_ratio()
    );
    Ok(ExitCode::SUCCESS)
}
