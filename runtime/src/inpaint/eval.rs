//! The inpainting metric protocol: each photo becomes one 256×256 crop (the
//! short side resized to 256 with an antialiased Catmull-Rom filter, then
//! the centre), each crop gets one fixed-seed [`free_form`] mask per
//! hole-ratio bin, and a fill is scored over the whole image and inside the
//! hole: PSNR (RGB, peak 255), SSIM (BT.601 luma; inside the hole, the mean
//! of the SSIM map over windows centred on hole pixels) and L1 (RGB, mean
//! absolute error in [0, 1] units).
//!
//! ```
//! use edgegan_runtime::inpaint::{eval_mask, score};
//! use edgegan_runtime::inpaint::HoleBin;
//! let m = eval_mask(0, HoleBin::new(20), 64);
//! let img = image::RgbImage::from_pixel(64, 64, image::Rgb([90, 120, 30]));
//! let s = score(&img, &img, &m);
//! assert_eq!((s.hole_l1, s.hole_ssim), (0.0, 1.0));
//! assert!(s.hole_psnr.is_infinite());
//! ```

use image::imageops::{resize, FilterType};
use image::{DynamicImage, RgbImage};
use serde::Serialize;

use crate::inpaint::{free_form, HoleBin, Mask};
use crate::metrics::{luma, ssim_map};

/// Side of the evaluation crops.
pub const EVAL_SIZE: u32 = 256;
/// Base seed of the evaluation masks.
pub const MASK_SEED: u64 = 2026;

/// The protocol's `size`×`size` crop of a photo.
pub fn protocol_crop(img: &DynamicImage, size: u32) -> RgbImage {
    let rgb = img.to_rgb8();
    let (w, h) = rgb.dimensions();
    let s = size as f64 / w.min(h) as f64;
    let (nw, nh) = (
        ((w as f64 * s).round() as u32).max(size),
        ((h as f64 * s).round() as u32).max(size),
    );
    let scaled = if (nw, nh) == (w, h) {
        rgb
    } else {
        resize(&rgb, nw, nh, FilterType::CatmullRom)
    };
    image::imageops::crop_imm(&scaled, (nw - size) / 2, (nh - size) / 2, size, size).to_image()
}

/// The fixed mask of photo number `index` (in sorted file order) for `bin`.
pub fn eval_mask(index: usize, bin: HoleBin, size: u32) -> Mask {
    let lo = bin.range().0;
    free_form(
        size,
        size,
        MASK_SEED + 1000 * index as u64 + (lo * 100.0).round() as u64,
        bin,
    )
}

/// Scores of one fill against its truth.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Scores {
    /// PSNR over the whole image, dB.
    pub psnr: f64,
    /// SSIM (luma) over the whole image.
    pub ssim: f64,
    /// Mean absolute error over the whole image, [0, 1] units.
    pub l1: f64,
    /// PSNR over hole pixels only, dB.
    pub hole_psnr: f64,
    /// Mean SSIM of windows centred on hole pixels.
    pub hole_ssim: f64,
    /// Mean absolute error over hole pixels.
    pub hole_l1: f64,
}

fn psnr_of(sq: f64, n: usize) -> f64 {
    10.0 * (255.0f64 * 255.0 / (sq / n as f64)).log10()
}

/// Score `filled` against `truth` with the hole `mask` (all the same size).
pub fn score(truth: &RgbImage, filled: &RgbImage, mask: &Mask) -> Scores {
    let (w, h) = truth.dimensions();
    assert_eq!((w, h), filled.dimensions(), "same size");
    assert_eq!((w, h), mask.dimensions(), "mask fits");
    let (mut sq, mut ab, mut hsq, mut hab, mut holes) = (0.0, 0.0, 0.0, 0.0, 0usize);
    for (i, (a, b)) in truth.pixels().zip(filled.pixels()).enumerate() {
        let hole = mask.is_hole(i as u32 % w, i as u32 / w);
        holes += hole as usize;
        for c in 0..3 {
            let d = a[c] as f64 - b[c] as f64;
            sq += d * d;
            ab += d.abs();
            if hole {
                hsq += d * d;
                hab += d.abs();
            }
        }
    }
    let map = ssim_map(
        &luma(truth.as_raw()),
        &luma(filled.as_raw()),
        w as usize,
        h as usize,
    );
    let mw = w as usize - 10;
    let hole_windows: Vec<f64> = map
        .iter()
        .enumerate()
        .filter(|(i, _)| mask.is_hole((i % mw + 5) as u32, (i / mw + 5) as u32))
        .map(|(_, &v)| v)
        .collect();
    let n = (w * h) as usize;
    Scores {
        psnr: psnr_of(sq, 3 * n),
        ssim: map.iter().sum::<f64>() / map.len() as f64,
        l1: ab / (3 * n) as f64 / 255.0,
        hole_psnr: psnr_of(hsq, 3 * holes.max(1)),
        hole_ssim: hole_windows.iter().sum::<f64>() / hole_windows.len().max(1) as f64,
        hole_l1: hab / (3 * holes.max(1)) as f64 / 255.0,
    }
}

/// Mean scores of one method over the images of one bin.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BinScores {
    /// The bin, e.g. `20-30%`.
    pub bin: String,
    /// Images scored.
    pub images: usize,
    /// Mean hole ratio of their masks.
    pub hole_ratio: f64,
    /// Means of each score.
    pub mean: Scores,
}

impl BinScores {
    /// The means of `scores` (with their masks' hole ratios) in `bin`.
    pub fn of(bin: HoleBin, scores: &[(Scores, f64)]) -> BinScores {
        let n = scores.len().max(1) as f64;
        let m = |f: fn(&Scores) -> f64| scores.iter().map(|(s, _)| f(s)).sum::<f64>() / n;
        BinScores {
            bin: bin.to_string(),
            images: scores.len(),
            hole_ratio: scores.iter().map(|s| s.1).sum::<f64>() / n,
            mean: Scores {
                psnr: m(|s| s.psnr),
                ssim: m(|s| s.ssim),
                l1: m(|s| s.l1),
                hole_psnr: m(|s| s.hole_psnr),
                hole_ssim: m(|s| s.hole_ssim),
                hole_l1: m(|s| s.hole_l1),
            },
        }
    }
}

/// One method's paired lead over another on one bin's in-hole PSNR: the
/// mean of the per-image differences, its standard error (the sample
/// standard deviation of the differences over √n), and how many images the
/// method wins. Both methods fill the same crops with the same masks, so the
/// pairing removes what the photos share and the standard error says how far
/// the mean lead could move with other photos of the same kind.
///
/// ```
/// use edgegan_runtime::inpaint::Lead;
/// let lead = Lead::paired("20-30%", &[20.0, 21.0, 23.0], &[19.0, 19.0, 20.0]);
/// assert_eq!((lead.mean, lead.se, lead.wins), (2.0, (1.0f64 / 3.0).sqrt(), 3));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lead {
    /// The bin, e.g. `20-30%`.
    pub bin: String,
    /// Images compared.
    pub images: usize,
    /// Mean of the per-image differences, dB.
    pub mean: f64,
    /// Standard error of that mean, dB (0 with fewer than two images).
    pub se: f64,
    /// Images where the method scores higher.
    pub wins: usize,
}

impl Lead {
    /// The lead of `method` over `base`, image by image (same order).
    pub fn paired(bin: &str, method: &[f64], base: &[f64]) -> Lead {
        assert_eq!(method.len(), base.len(), "paired scores");
        let d: Vec<f64> = method.iter().zip(base).map(|(a, b)| a - b).collect();
        let n = d.len();
        let mean = d.iter().sum::<f64>() / n.max(1) as f64;
        let se = if n < 2 {
            0.0
        } else {
            let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            (var / n as f64).sqrt()
        };
        Lead {
            bin: bin.to_string(),
            images: n,
            mean,
            se,
            wins: d.iter().filter(|&&x| x > 0.0).count(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lead_is_the_paired_mean_with_its_standard_error() {
        let l = Lead::paired("0-10%", &[10.0, 12.0, 11.0, 15.0], &[9.0, 9.0, 12.0, 11.0]);
        // Differences 1, 3, -1, 4: mean 1.75, sample variance 14.75 / 3.
        assert_eq!((l.images, l.mean, l.wins), (4, 1.75, 3));
        assert!((l.se - (14.75f64 / 3.0 / 4.0).sqrt()).abs() < 1e-12);
        let one = Lead::paired("0-10%", &[3.0], &[1.0]);
        assert_eq!((one.mean, one.se, one.wins), (2.0, 0.0, 1));
        let tie = Lead::paired("0-10%", &[5.0, 5.0], &[5.0, 5.0]);
        assert_eq!((tie.mean, tie.se, tie.wins), (0.0, 0.0, 0));
    }
}
