//! "Evolution" grids: the same validation crops upscaled by the generator at
//! every validation step, so a run can be watched (and GAN sharpening seen)
//! the way the DCGAN demo shows its fixed-noise grid improving.
//!
//! Each grid has one column per crop and three rows: bicubic, the model, and
//! the ground truth, separated by 4-pixel gaps.

use edgegan_runtime::io::{read_image, ImageLimits};
use edgegan_runtime::metrics::{laplacian_energy, luma};
use edgegan_runtime::resample::{downscale_u8, upscale_u8};
use edgegan_runtime::{RuntimeError, Upscaler};
use image::{Rgb, RgbImage};
use std::path::PathBuf;

const GAP: u32 = 4;

/// Fixed crops (HR and their LR) taken from validation photos.
#[derive(Debug, Clone)]
pub struct EvolutionCrops {
    scale: usize,
    crops: Vec<(RgbImage, RgbImage)>,
}

/// The `side`×`side` window of `img` (on a grid of candidates) with the most
/// high-frequency energy: a detailed region, where upscalers differ.
fn busiest_window(img: &RgbImage, side: u32) -> (u32, u32) {
    let (w, h) = (img.width(), img.height());
    let stride = (side / 2).max(1);
    let mut best = (0, 0, -1.0);
    for y in (0..=h - side).step_by(stride as usize) {
        for x in (0..=w - side).step_by(stride as usize) {
            let crop = image::imageops::crop_imm(img, x, y, side, side).to_image();
            let e = laplacian_energy(&luma(crop.as_raw()), side as usize, side as usize);
            if e > best.2 {
                best = (x, y, e);
            }
        }
    }
    (best.0, best.1)
}

impl EvolutionCrops {
    /// One crop of `lr_side` LR pixels from each of `photos` (at ×`scale`),
    /// placed on the photo's most detailed window.
    pub fn new(photos: &[PathBuf], scale: usize, lr_side: usize) -> Result<Self, RuntimeError> {
        let side = (lr_side * scale) as u32;
        let mut crops = Vec::new();
        for p in photos {
            let img = read_image(p, &ImageLimits::input())?.to_rgb8();
            if img.width() < side || img.height() < side {
                continue;
            }
            let (x, y) = busiest_window(&img, side);
            let hr = image::imageops::crop_imm(&img, x, y, side, side).to_image();
            let lr = downscale_u8(hr.as_raw(), side as usize, side as usize, 3, scale);
            let lr = RgbImage::from_raw(lr_side as u32, lr_side as u32, lr).expect("sizes agree");
            crops.push((hr, lr));
        }
        Ok(EvolutionCrops { scale, crops })
    }

    /// Number of crops (photos smaller than a crop are skipped).
    pub fn len(&self) -> usize {
        self.crops.len()
    }

    /// Whether no photo was large enough.
    pub fn is_empty(&self) -> bool {
        self.crops.is_empty()
    }

    /// The grid for the model behind `up`.
    pub fn render(&self, up: &Upscaler) -> Result<RgbImage, RuntimeError> {
        let Some((first, _)) = self.crops.first() else {
            return Ok(RgbImage::new(1, 1));
        };
        let side = first.width();
        let n = self.crops.len() as u32;
        let mut grid = RgbImage::from_pixel(
            n * side + (n + 1) * GAP,
            3 * side + 4 * GAP,
            Rgb([255, 255, 255]),
        );
        for (i, (hr, lr)) in self.crops.iter().enumerate() {
            let l = lr.width() as usize;
            let bicubic = upscale_u8(lr.as_raw(), l, l, 3, self.scale);
            let bicubic = RgbImage::from_raw(side, side, bicubic).expect("sizes agree");
            let sr = up.run(lr)?;
            let x = GAP + i as u32 * (side + GAP);
            for (row, img) in [&bicubic, &sr, hr].into_iter().enumerate() {
                let y = GAP + row as u32 * (side + GAP);
                image::imageops::replace(&mut grid, img, x as i64, y as i64);
            }
        }
        Ok(grid)
    }
}
