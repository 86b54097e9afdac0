//! Training data for super-resolution: a folder of photos, optionally
//! downscaled first (clean HR targets from large, compressed wallpapers), and
//! random patches with dihedral augmentation. LR patches are made exactly as
//! the evaluation makes them (MATLAB-style antialiased bicubic, 8-bit).

use crate::common::{planar, Rng};
use crate::sr::degrade::Degradations;
use edgegan_runtime::io::{read_image, ImageLimits};
use edgegan_runtime::resample::{downscale_u8, upscale_u8};
use edgegan_runtime::RuntimeError;
use image::RgbImage;
use std::path::Path;

/// HR photos in memory.
#[derive(Debug)]
pub struct PhotoSet {
    /// The photos (RGB8).
    pub images: Vec<RgbImage>,
}

impl PhotoSet {
    /// [`PhotoSet::load`], refusing a set that leaves no photo of
    /// `min_side` pixels.
    pub fn load_nonempty(
        dir: &Path,
        prescale: usize,
        min_side: u32,
    ) -> Result<PhotoSet, crate::error::TrainError> {
        let set = Self::load(dir, prescale, min_side)?;
        if set.images.is_empty() {
            return Err(crate::error::TrainError::Config(format!(
                "{}: no photo is at least {min_side} px after prescale {prescale}",
                dir.display()
            )));
        }
        Ok(set)
    }

    /// Load every photo under `dir`, downscaled by `prescale` (1 = as is),
    /// skipping those smaller than `min_side` afterwards.
    pub fn load(dir: &Path, prescale: usize, min_side: u32) -> Result<PhotoSet, RuntimeError> {
        let paths = edgegan_runtime::io::image_files(dir)?;
        let mut images = Vec::new();
        for p in paths {
            let img = read_image(&p, &ImageLimits::input())?.to_rgb8();
            let img = if prescale > 1 {
                let (w, h) = (
                    img.width() as usize / prescale * prescale,
                    img.height() as usize / prescale * prescale,
                );
                let cropped = image::imageops::crop_imm(&img, 0, 0, w as u32, h as u32).to_image();
                let data = downscale_u8(cropped.as_raw(), w, h, 3, prescale);
                RgbImage::from_raw((w / prescale) as u32, (h / prescale) as u32, data)
                    .expect("sizes agree")
            } else {
                img
            };
            if img.width() >= min_side && img.height() >= min_side {
                images.push(img);
            }
        }
        Ok(PhotoSet { images })
    }
}

/// A batch of patches as NCHW f32 in [0, 1].
#[derive(Debug, Clone)]
pub struct Batch {
    /// Patches in the batch.
    pub n: usize,
    /// LR side.
    pub lr_side: usize,
    /// Upscaling factor.
    pub scale: usize,
    /// LR inputs, n×3×p×p.
    pub lr: Vec<f32>,
    /// Bicubic upscale of the LR inputs, n×3×sp×sp.
    pub bicubic: Vec<f32>,
    /// HR targets, n×3×sp×sp.
    pub hr: Vec<f32>,
}

/// Apply one of the 8 dihedral transforms to a square RGB patch.
fn dihedral(p: &RgbImage, t: usize) -> RgbImage {
    let r = match t % 4 {
        0 => p.clone(),
        1 => image::imageops::rotate90(p),
        2 => image::imageops::rotate180(p),
        _ => image::imageops::rotate270(p),
    };
    if t >= 4 {
        image::imageops::flip_horizontal(&r)
    } else {
        r
    }
}

impl PhotoSet {
    /// `n` random patches of `lr_side` LR pixels at ×`scale`, the inputs
    /// degraded by `degrade` (targets stay clean).
    ///
    /// Where each patch comes from (photo, position, transform, and the seed
    /// of its degradations) is drawn from `rng` first, in order; the patches
    /// are then made in parallel on rayon's pool, so the batch is the same
    /// whatever the thread count. (Making them one by one left a GPU waiting:
    /// 0.56 s a step at ×4, batch 64, almost all of it resampling.)
    pub fn batch(
        &self,
        rng: &mut Rng,
        n: usize,
        lr_side: usize,
        scale: usize,
        degrade: &Degradations,
    ) -> Batch {
        use rayon::prelude::*;
        let hr_side = lr_side * scale;
        let draws: Vec<(usize, u32, u32, usize, u64)> = (0..n)
            .map(|_| {
                let i = rng.below(self.images.len());
                let img = &self.images[i];
                let x = rng.below((img.width() as usize - hr_side) + 1) as u32;
                let y = rng.below((img.height() as usize - hr_side) + 1) as u32;
                (i, x, y, rng.below(8), rng.next_u64())
            })
            .collect();
        let patches: Vec<(Vec<u8>, Vec<u8>, RgbImage)> = draws
            .into_par_iter()
            .map(|(i, x, y, t, seed)| {
                let side = hr_side as u32;
                let crop = image::imageops::crop_imm(&self.images[i], x, y, side, side).to_image();
                let hr = dihedral(&crop, t);
                let lr = match degrade.any() {
                    false => downscale_u8(hr.as_raw(), hr_side, hr_side, 3, scale),
                    true => {
                        let mut rng = Rng(seed);
                        let blurred = degrade.before(&mut rng, hr.clone());
                        let lr = downscale_u8(blurred.as_raw(), hr_side, hr_side, 3, scale);
                        degrade.after(&mut rng, lr, lr_side as u32)
                    }
                };
                let bic = upscale_u8(&lr, lr_side, lr_side, 3, scale);
                (lr, bic, hr)
            })
            .collect();
        let mut b = Batch {
            n,
            lr_side,
            scale,
            lr: Vec::new(),
            bicubic: Vec::new(),
            hr: Vec::new(),
        };
        for (lr, bic, hr) in &patches {
            planar(lr, lr_side * lr_side, &mut b.lr);
            planar(bic, hr_side * hr_side, &mut b.bicubic);
            planar(hr.as_raw(), hr_side * hr_side, &mut b.hr);
        }
        b
    }
}
