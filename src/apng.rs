//! Animated PNG of a run's evolution grids (one frame per epoch), written
//! atomically with the `png` crate's APNG support.

use anyhow::{bail, Result};
use image::RgbImage;
use std::path::Path;

/// Write `frames` (all the same size) as an APNG, `delay_ms` per frame, looping.
pub fn write(path: &Path, frames: &[RgbImage], delay_ms: u16) -> Result<()> {
    let Some(first) = frames.first() else {
        bail!("no frames to animate");
    };
    let (w, h) = first.dimensions();
    if frames.iter().any(|f| f.dimensions() != (w, h)) {
        bail!("frames differ in size");
    }
    crate::batch::write_atomic(path, true, |out| {
        let mut enc = png::Encoder::new(out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_animated(frames.len() as u32, 0)?;
        enc.set_frame_delay(delay_ms, 1000)?;
        let mut writer = enc.write_header()?;
        for f in frames {
            writer.write_image_data(f.as_raw())?;
        }
        writer.finish()?;
        Ok(())
    })
}
