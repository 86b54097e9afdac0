//! `edgegan show IN`: upscale one image with a board's settings and draw the
//! before/after frame (input | output, model, precision, latency) on the
//! Linux framebuffer, or into a PNG with `-o`.

use anyhow::{bail, Context, Result};
use clap::Args;
use edgegan_boards::display::{draw_split, Framebuffer, MemoryTarget, Overlay};
use edgegan_runtime::io::{read_image, ImageLimits};
use edgegan_runtime::{UpscaleOptions, Upscaler};
use embedded_graphics::prelude::*;
use image::ImageFormat;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use crate::args::{apply_board, default_threads, load_sr, parse_wxh, SrModelArgs};
use crate::batch::write_atomic;

/// Arguments of `edgegan show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Input image.
    #[arg(value_name = "IN")]
    pub input: PathBuf,
    /// Model, precision, board, tile, threads, conv path (as for `upscale`).
    #[command(flatten)]
    pub sr: SrModelArgs,
    /// Framebuffer device to draw on [default: /dev/fb0 unless -o is given].
    #[arg(long, value_name = "DEV", conflicts_with = "output")]
    pub fb: Option<PathBuf>,
    /// Save the frame as a PNG instead of drawing it on a framebuffer.
    #[arg(short, long, value_name = "PNG")]
    pub output: Option<PathBuf>,
    /// Frame size for `-o`, WIDTHxHEIGHT.
    #[arg(long, value_name = "WxH", default_value = "1280x720", value_parser = parse_size)]
    pub size: Size,
    /// Replace an existing `-o` file.
    #[arg(long)]
    pub overwrite: bool,
}

fn parse_size(s: &str) -> Result<Size, String> {
    let (w, h) = parse_wxh(s)?;
    if !(64..=8192).contains(&w) || !(64..=8192).contains(&h) {
        return Err(format!("{s}: each side must be 64 to 8192 pixels"));
    }
    Ok(Size::new(w, h))
}

/// Run `edgegan show`.
pub fn run(args: ShowArgs) -> Result<ExitCode> {
    let mut up_args = args.sr;
    if let Some(name) = &up_args.board {
        apply_board(&edgegan_boards::get(name)?, &mut up_args);
    }
    // Check where the frame goes before any work.
    let fb = match &args.output {
        Some(out) => {
            if !args.overwrite && out.exists() {
                bail!("{}: exists (pass --overwrite to replace it)", out.display());
            }
            if ImageFormat::from_path(out).ok() != Some(ImageFormat::Png) {
                bail!(
                    "{}: the frame is saved as PNG; name a .png file",
                    out.display()
                );
            }
            None
        }
        None => {
            let dev = args.fb.unwrap_or_else(|| PathBuf::from("/dev/fb0"));
            Some(Framebuffer::open(&dev).with_context(|| {
                format!(
                    "no usable framebuffer at {} (pass -o FRAME.png to save the frame instead)",
                    dev.display()
                )
            })?)
        }
    };
    let model = load_sr(&up_args)?;
    let image = read_image(&args.input, &ImageLimits::input())?;
    let up = Upscaler::new(
        Arc::new(model),
        UpscaleOptions {
            tile: up_args.tile.map(|t| t as usize),
            threads: default_threads(up_args.threads),
        },
    );
    // The first run builds the plan; time a second one, as the board would
    // see it in steady state.
    up.upscale(&image, &args.input)?;
    let started = Instant::now();
    let out = up.upscale(&image, &args.input)?;
    let latency_ms = started.elapsed().as_secs_f64() * 1e3;
    let overlay = Overlay {
        model: up.model().card().name.clone(),
        precision: up.model().precision().to_string(),
        latency_ms,
    };
    let (before, after) = (image.to_rgb8(), out.to_rgb8());
    match fb {
        Some(mut fb) => {
            draw_split(&mut fb, &before, &after, &overlay)?;
            fb.flush()?;
            eprintln!(
                "drew {}x{} frame on the framebuffer ({latency_ms:.1} ms)",
                fb.size().width,
                fb.size().height
            );
        }
        None => {
            let path = args.output.expect("no framebuffer means -o");
            let mut screen = MemoryTarget::new(args.size);
            draw_split(&mut screen, &before, &after, &overlay)?;
            write_atomic(&path, args.overwrite, |w| {
                screen
                    .image()
                    .write_to(w, ImageFormat::Png)
                    .with_context(|| format!("{}: cannot encode the frame", path.display()))
            })?;
            eprintln!("wrote {} ({latency_ms:.1} ms)", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_bad_ones_are_named() {
        assert_eq!(parse_wxh("640x480"), Ok((640, 480)));
        assert_eq!(
            parse_wxh("640"),
            Err("\"640\" is not WIDTHxHEIGHT (e.g. 1280x720)".to_string())
        );
        assert!(parse_wxh("ax4").is_err());
        assert_eq!(
            parse_size("32x720"),
            Err("32x720: each side must be 64 to 8192 pixels".to_string())
        );
    }
}
