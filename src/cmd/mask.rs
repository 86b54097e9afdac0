//! `edgegan mask`: write a free-form mask (DeepFill-style strokes and boxes,
//! white = fill) of a hole-ratio bin from a seed, the size of an image or a
//! given size: the masks `edgegan eval` uses, for trying `edgegan inpaint`
//! without painting one.

use anyhow::{bail, Result};
use clap::Args;
use edgegan_runtime::inpaint::{free_form, HoleBin};
use edgegan_runtime::io::{encode, read_image, ImageLimits};
use image::{DynamicImage, ImageFormat};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::args::parse_bin;
use crate::batch::{check_output, write_atomic, Job};

/// The smallest side a generated mask may have (strokes are sized for it).
pub const MIN_SIDE: u32 = 32;

/// Arguments of `edgegan mask`.
#[derive(Debug, Args)]
pub struct MaskArgs {
    /// Output mask (.png).
    #[arg(short, long, value_name = "OUT.png")]
    pub output: PathBuf,
    /// Make the mask the size of this image.
    #[arg(
        long,
        value_name = "IMAGE",
        conflicts_with = "size",
        required_unless_present = "size"
    )]
    pub like: Option<PathBuf>,
    /// Mask size, WIDTHxHEIGHT.
    #[arg(long, value_name = "WxH", value_parser = crate::args::parse_wxh)]
    pub size: Option<(u32, u32)>,
    /// Hole-ratio bin: 0-10, 10-20, 20-30, 30-40 or 40-50 (percent).
    #[arg(long, value_parser = parse_bin, default_value = "20-30")]
    pub bin: HoleBin,
    /// Seed of the strokes (same seed, size and bin: same mask).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Replace an existing output file.
    #[arg(long)]
    pub overwrite: bool,
}

/// Run `edgegan mask`.
pub fn run(a: MaskArgs) -> Result<ExitCode> {
    let job = Job {
        input: a.like.clone().unwrap_or_default(),
        output: a.output.clone(),
    };
    check_output(&job, a.overwrite)?;
    if a.output.extension().and_then(|e| e.to_str()) != Some("png") {
        bail!("{}: masks are written as .png", a.output.display());
    }
    let (w, h) = match (&a.like, a.size) {
        (Some(p), _) => {
            let img = read_image(p, &ImageLimits::input())?;
            (img.width(), img.height())
        }
        (None, Some(size)) => size,
        (None, None) => unreachable!("clap requires --like or --size"),
    };
    if w.min(h) < MIN_SIDE || w.max(h) > 16384 {
        bail!("mask size {w}x{h}: each side must be {MIN_SIDE} to 16384 pixels");
    }
    let mask = free_form(w, h, a.seed, a.bin);
    let img = DynamicImage::ImageLuma8(mask.to_luma());
    write_atomic(&a.output, a.overwrite, |out| {
        encode(&img, ImageFormat::Png, out, &a.output)
    })?;
    eprintln!(
        "{} ({w}x{h}, bin {}, seed {}: {:.1} % to fill)",
        a.output.display(),
        a.bin,
        a.seed,
        100.0 * mask.hole_ratio()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_parse_and_bad_ones_are_named() {
        assert_eq!(parse_bin("20-30"), Ok(HoleBin::new(20)));
        assert_eq!(parse_bin("0"), Ok(HoleBin::new(0)));
        for bad in ["25", "20-25", "50-60", "x"] {
            assert_eq!(
                parse_bin(bad),
                Err(format!(
                    "{bad:?}: expected one of 0-10, 10-20, 20-30, 30-40, 40-50"
                ))
            );
        }
    }
}
