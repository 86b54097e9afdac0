//! Inpainting masks: which pixels a model must fill.
//!
//! Polarity: **white fills**. A mask file is read as luma; values of 128 and
//! above mark a hole, below 128 keep the input pixel. A mask must have the
//! image's size (it is never resized silently) and must cover more than 0 %
//! and less than 100 % of it.
//!
//! [`free_form`] draws DeepFill-style masks from a seed: brush strokes of
//! varying width along random polylines, plus boxes, redrawn until the hole
//! ratio falls in the requested [`HoleBin`].
//!
//! ```
//! use edgegan_runtime::inpaint::{free_form, HoleBin};
//! let m = free_form(256, 256, 7, HoleBin::new(20));
//! assert!((0.20..0.30).contains(&m.hole_ratio()));
//! assert_eq!(m, free_form(256, 256, 7, HoleBin::new(20)));
//! ```

use image::GrayImage;
use std::path::Path;

use crate::error::{Result, RuntimeError};
use crate::io::{read_image, ImageLimits};
use crate::noise::Rng;

/// A hole mask: `true` where the model fills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mask {
    width: u32,
    height: u32,
    holes: Vec<bool>,
}

/// A hole-ratio bin of 10 %: `[lo, lo + 10)` percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoleBin {
    lo: u32,
}

impl HoleBin {
    /// The bins of the evaluation protocol: 0–10, 10–20, 20–30, 30–40, 40–50 %.
    pub const ALL: [HoleBin; 5] = [
        HoleBin { lo: 0 },
        HoleBin { lo: 10 },
        HoleBin { lo: 20 },
        HoleBin { lo: 30 },
        HoleBin { lo: 40 },
    ];

    /// The bin starting at `lo` percent (0, 10, 20, 30 or 40).
    pub fn new(lo: u32) -> HoleBin {
        assert!(
            lo.is_multiple_of(10) && lo <= 40,
            "hole bins start at 0, 10, 20, 30 or 40 %"
        );
        HoleBin { lo }
    }

    /// Ratio range `[lo, hi)` as fractions (the 0 % bin excludes an empty mask).
    pub fn range(self) -> (f64, f64) {
        (self.lo as f64 / 100.0, (self.lo + 10) as f64 / 100.0)
    }

    /// Whether `ratio` falls in this bin.
    pub fn contains(self, ratio: f64) -> bool {
        let (lo, hi) = self.range();
        ratio > 0.0 && ratio >= lo && ratio < hi
    }
}

impl std::fmt::Display for HoleBin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}%", self.lo, self.lo + 10)
    }
}

impl Mask {
    /// An empty (all-keep) mask.
    pub fn empty(width: u32, height: u32) -> Mask {
        Mask {
            width,
            height,
            holes: vec![false; (width * height) as usize],
        }
    }

    /// Width and height.
    pub fn dimensions(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Whether pixel (`x`, `y`) is to be filled.
    pub fn is_hole(&self, x: u32, y: u32) -> bool {
        self.holes[(y * self.width + x) as usize]
    }

    /// Every pixel's hole flag, row by row.
    pub fn holes(&self) -> &[bool] {
        &self.holes
    }

    /// Share of pixels to fill.
    pub fn hole_ratio(&self) -> f64 {
        self.holes.iter().filter(|&&h| h).count() as f64 / self.holes.len().max(1) as f64
    }

    /// Read a user mask for an image of `size` (white = fill).
    pub fn load(path: &Path, size: (u32, u32)) -> Result<Mask> {
        let bad = |reason: String| RuntimeError::BadMask {
            path: path.into(),
            reason,
        };
        let img = read_image(path, &ImageLimits::input())?.to_luma8();
        if img.dimensions() != size {
            return Err(bad(format!(
                "is {}x{}, the image is {}x{} (masks are not resized)",
                img.width(),
                img.height(),
                size.0,
                size.1
            )));
        }
        let mask = Mask::from_luma(&img);
        let holes = mask.holes.iter().filter(|&&h| h).count();
        if holes == 0 {
            Err(bad("marks no pixel to fill (white = fill)".into()))
        } else if holes == mask.holes.len() {
            Err(bad(
                "marks every pixel to fill (white = fill; black keeps)".into()
            ))
        } else {
            Ok(mask)
        }
    }

    /// A mask from luma values (128 and above fill).
    pub fn from_luma(img: &GrayImage) -> Mask {
        Mask {
            width: img.width(),
            height: img.height(),
            holes: img.pixels().map(|p| p[0] >= 128).collect(),
        }
    }

    /// As a luma image (255 = fill, 0 = keep).
    pub fn to_luma(&self) -> GrayImage {
        GrayImage::from_fn(self.width, self.height, |x, y| {
            image::Luma([if self.is_hole(x, y) { 255 } else { 0 }])
        })
    }

    /// Mark a filled disc of radius `r` around (`cx`, `cy`).
    fn disc(&mut self, cx: f64, cy: f64, r: f64) {
        let (x0, x1) = (
            (cx - r).floor().max(0.0) as u32,
            (cx + r).ceil().min(self.width as f64 - 1.0) as u32,
        );
        let (y0, y1) = (
            (cy - r).floor().max(0.0) as u32,
            (cy + r).ceil().min(self.height as f64 - 1.0) as u32,
        );
        for y in y0..=y1 {
            for x in x0..=x1 {
                let (dx, dy) = (x as f64 + 0.5 - cx, y as f64 + 0.5 - cy);
                if dx * dx + dy * dy <= r * r {
                    self.holes[(y * self.width + x) as usize] = true;
                }
            }
        }
    }

    /// One brush stroke: a polyline of 4–12 segments, brush 4–16 % of the short side.
    fn stroke(&mut self, rng: &mut Rng) {
        let side = self.width.min(self.height) as f64;
        let radius = side * (0.02 + 0.06 * rng.unit() as f64);
        let (mut x, mut y) = (
            rng.unit() as f64 * self.width as f64,
            rng.unit() as f64 * self.height as f64,
        );
        for _ in 0..4 + rng.below(9) {
            let angle = rng.unit() as f64 * std::f64::consts::TAU;
            let length = side * (0.05 + 0.2 * rng.unit() as f64);
            let (nx, ny) = (
                (x + length * angle.cos()).clamp(0.0, self.width as f64),
                (y + length * angle.sin()).clamp(0.0, self.height as f64),
            );
            let steps = (length / (radius * 0.5)).ceil().max(1.0) as usize;
            for k in 0..=steps {
                let t = k as f64 / steps as f64;
                self.disc(x + (nx - x) * t, y + (ny - y) * t, radius);
            }
            (x, y) = (nx, ny);
        }
    }

    /// One box of 10–35 % of each side.
    fn rectangle(&mut self, rng: &mut Rng) {
        let bw = (self.width as f64 * (0.1 + 0.25 * rng.unit() as f64)) as u32;
        let bh = (self.height as f64 * (0.1 + 0.25 * rng.unit() as f64)) as u32;
        let x0 = rng.below((self.width - bw).max(1) as usize) as u32;
        let y0 = rng.below((self.height - bh).max(1) as usize) as u32;
        for y in y0..y0 + bh {
            for x in x0..x0 + bw {
                self.holes[(y * self.width + x) as usize] = true;
            }
        }
    }
}

/// A free-form mask of `width`×`height` from `seed` whose hole ratio is in
/// `bin`: strokes (and, one time in three, a box) are added until the ratio
/// reaches the bin; a mask that overshoots is drawn again.
pub fn free_form(width: u32, height: u32, seed: u64, bin: HoleBin) -> Mask {
    let mut rng = Rng(seed ^ 0x6d61_736b);
    loop {
        let mut m = Mask::empty(width, height);
        while m.hole_ratio() < bin.range().0.max(1e-9) {
            if rng.below(3) == 0 {
                m.rectangle(&mut rng);
            } else {
                m.stroke(&mut rng);
            }
        }
        if bin.contains(m.hole_ratio()) {
            return m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bin_is_reached_deterministically() {
        for bin in HoleBin::ALL {
            for seed in 0..6 {
                let m = free_form(128, 96, seed, bin);
                assert!(
                    bin.contains(m.hole_ratio()),
                    "{bin} seed {seed}: {}",
                    m.hole_ratio()
                );
                assert_eq!(m, free_form(128, 96, seed, bin));
            }
        }
        assert_ne!(
            free_form(64, 64, 1, HoleBin::new(20)),
            free_form(64, 64, 2, HoleBin::new(20))
        );
    }

    #[test]
    fn luma_round_trip_and_polarity() {
        let m = free_form(40, 30, 3, HoleBin::new(30));
        let luma = m.to_luma();
        assert_eq!(Mask::from_luma(&luma), m);
        let (x, y) = (0..40)
            .flat_map(|x| (0..30).map(move |y| (x, y)))
            .find(|&(x, y)| m.is_hole(x, y))
            .unwrap();
        assert_eq!(luma.get_pixel(x, y)[0], 255, "white fills");
        let grey = GrayImage::from_fn(2, 1, |x, _| image::Luma([127 + x as u8]));
        let g = Mask::from_luma(&grey);
        assert!(!g.is_hole(0, 0) && g.is_hole(1, 0));
        assert_eq!(g.hole_ratio(), 0.5);
    }

    #[test]
    fn bad_user_masks_are_named_errors() {
        let dir = std::env::temp_dir().join(format!("edgegan-mask-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let save = |name: &str, img: &GrayImage| {
            let p = dir.join(name);
            img.save(&p).unwrap();
            p
        };
        let half = GrayImage::from_fn(8, 6, |x, _| image::Luma([if x < 4 { 255 } else { 0 }]));
        let ok = save("ok.png", &half);
        assert_eq!(Mask::load(&ok, (8, 6)).unwrap().hole_ratio(), 0.5);
        let e = Mask::load(&ok, (16, 12)).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "{}: mask is 8x6, the image is 16x12 (masks are not resized)",
                ok.display()
            )
        );
        let empty = save("empty.png", &GrayImage::new(8, 6));
        let e = Mask::load(&empty, (8, 6)).unwrap_err().to_string();
        assert!(
            e.ends_with("mask marks no pixel to fill (white = fill)"),
            "{e}"
        );
        let full = save("full.png", &GrayImage::from_pixel(8, 6, image::Luma([255])));
        let e = Mask::load(&full, (8, 6)).unwrap_err().to_string();
        assert!(
            e.ends_with("mask marks every pixel to fill (white = fill; black keeps)"),
            "{e}"
        );
        let text = dir.join("text.png");
        std::fs::write(&text, b"not a png").unwrap();
        let e = Mask::load(&text, (8, 6)).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}: not a readable image", text.display())),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
