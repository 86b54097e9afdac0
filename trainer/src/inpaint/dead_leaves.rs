//! Synthetic training images for inpainting: the dead leaves model
//! (Matheron 1968; Lee, Mumford & Huang 2001). Opaque disks fall one behind
//! another, radii drawn from a power law with exponent 3, until the canvas
//! is covered. Such images share photos' scale invariance (a 1/f² power
//! spectrum, occlusion edges at every size), and Achddou, Gousseau & Ladjal
//! (2021) trained restoration networks on them alone; here they give an
//! inpainting network unlimited practice at carrying edges and regions
//! across a hole without adding photos to the pool.
//!
//! Each disk has a base colour (the caller's, e.g. a pixel of a training
//! photo) and a gentle linear shading; the canvas is drawn at twice the
//! size and averaged 2×2, so edges are anti-aliased like a downscaled
//! photo's.
//!
//! ```
//! use edgegan_trainer::inpaint::dead_leaves::DeadLeaves;
//! use edgegan_trainer::common::Rng;
//! let leaves = DeadLeaves::for_size(64);
//! let img = leaves.render(64, &mut Rng(3), |r| [r.unit(), r.unit(), r.unit()]);
//! assert_eq!(img.dimensions(), (64, 64));
//! assert_eq!(img, leaves.render(64, &mut Rng(3), |r| [r.unit(), r.unit(), r.unit()]));
//! ```

use crate::common::Rng;
use image::RgbImage;

/// Most disks dropped before the still uncovered pixels take one last
/// colour (the leaf behind them all).
const MAX_DISKS: usize = 20_000;

/// The model's parameters, in output pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeadLeaves {
    /// Smallest disk radius.
    pub rmin: f32,
    /// Largest disk radius.
    pub rmax: f32,
    /// Standard deviation of each disk's shading: the change of its colour
    /// (all channels alike) from its centre to its rim, along a random
    /// direction, in [0, 1] units. 0 = flat disks.
    pub shading: f32,
}

impl DeadLeaves {
    /// Radii from 1 pixel to the canvas side, shading 0.05.
    pub fn for_size(size: u32) -> DeadLeaves {
        DeadLeaves {
            rmin: 1.0,
            rmax: size as f32,
            shading: 0.05,
        }
    }

    /// A radius from the density ∝ r⁻³ on `[rmin, rmax]` (inverse CDF).
    pub fn radius(&self, rng: &mut Rng) -> f32 {
        let (a, b) = (self.rmin.powi(-2), self.rmax.powi(-2));
        (a - rng.unit() * (a - b)).powf(-0.5)
    }

    /// A `size`×`size` image; `color` gives each disk's base RGB in [0, 1].
    pub fn render(
        &self,
        size: u32,
        rng: &mut Rng,
        mut color: impl FnMut(&mut Rng) -> [f32; 3],
    ) -> RgbImage {
        let s = 2 * size as usize; // drawn at twice the size
        let mut canvas = vec![[0f32; 3]; s * s];
        let mut covered = vec![false; s * s];
        let mut left = s * s;
        for _ in 0..MAX_DISKS {
            if left == 0 {
                break;
            }
            let r = 2.0 * self.radius(rng);
            let (cx, cy) = (rng.unit() * s as f32, rng.unit() * s as f32);
            let base = color(rng);
            let (gx, gy) = (self.shading * rng.normal(), self.shading * rng.normal());
            let x0 = (cx - r).floor().max(0.0) as usize;
            let y0 = (cy - r).floor().max(0.0) as usize;
            let x1 = ((cx + r).ceil() as usize).min(s);
            let y1 = ((cy + r).ceil() as usize).min(s);
            for y in y0..y1 {
                let dy = (y as f32 + 0.5 - cy) / r;
                for x in x0..x1 {
                    let dx = (x as f32 + 0.5 - cx) / r;
                    let i = y * s + x;
                    if covered[i] || dx * dx + dy * dy > 1.0 {
                        continue;
                    }
                    let shade = gx * dx + gy * dy;
                    canvas[i] = base.map(|c| c + shade);
                    covered[i] = true;
                    left -= 1;
                }
            }
        }
        if left > 0 {
            let back = color(rng);
            for (px, _) in canvas.iter_mut().zip(&covered).filter(|(_, &c)| !c) {
                *px = back;
            }
        }
        RgbImage::from_fn(size, size, |x, y| {
            let (x, y) = (2 * x as usize, 2 * y as usize);
            let quad = [
                y * s + x,
                y * s + x + 1,
                (y + 1) * s + x,
                (y + 1) * s + x + 1,
            ];
            image::Rgb(std::array::from_fn(|c| {
                let mean = quad.iter().map(|&i| canvas[i][c]).sum::<f32>() / 4.0;
                (mean * 255.0).round().clamp(0.0, 255.0) as u8
            }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radii_follow_the_cubic_power_law() {
        // CDF (rmin⁻² − r⁻²) / (rmin⁻² − rmax⁻²): median √(2 / (1 + rmax⁻²))
        // for rmin 1, and P(r > 10) = (0.01 − 1/256²) / (1 − 1/256²).
        let d = DeadLeaves::for_size(256);
        let mut rng = Rng(11);
        let mut r: Vec<f32> = (0..40_000).map(|_| d.radius(&mut rng)).collect();
        assert!(r.iter().all(|&x| (1.0..=256.0).contains(&x)));
        let over10 = r.iter().filter(|&&x| x > 10.0).count() as f64 / r.len() as f64;
        r.sort_by(f32::total_cmp);
        let median = r[r.len() / 2] as f64;
        let want = (2.0 / (1.0 + 256f64.powi(-2))).sqrt();
        assert!((median - want).abs() < 0.01, "median {median} vs {want}");
        assert!((over10 - 0.01).abs() < 0.002, "P(r > 10) = {over10}");
    }

    #[test]
    fn flat_disks_of_two_colours_cover_the_canvas_with_antialiased_edges() {
        let d = DeadLeaves {
            shading: 0.0,
            ..DeadLeaves::for_size(96)
        };
        let img = d.render(96, &mut Rng(5), |r| [(r.below(2) as f32); 3]);
        // every output pixel averages 4 samples of 0 or 1: 0, 64, 128, 191 or 255
        let mut counts = [0usize; 5];
        for p in img.pixels() {
            assert!(p.0[0] == p.0[1] && p.0[1] == p.0[2]);
            let k = [0u8, 64, 128, 191, 255].iter().position(|&v| v == p.0[0]);
            counts[k.unwrap_or_else(|| panic!("level {}", p.0[0]))] += 1;
        }
        assert!(
            counts[0] > 500 && counts[4] > 500,
            "both colours: {counts:?}"
        );
        assert!(counts[1] + counts[2] + counts[3] > 50, "edges: {counts:?}");
        assert_ne!(img, d.render(96, &mut Rng(6), |r| [(r.below(2) as f32); 3]));
    }

    #[test]
    fn shading_stays_near_each_base_colour() {
        let d = DeadLeaves::for_size(64);
        let img = d.render(64, &mut Rng(9), |_| [0.5; 3]);
        let v: Vec<u8> = img.pixels().map(|p| p.0[0]).collect();
        // a 5-sigma shading is 0.25 of the range at the rim
        assert!(v.iter().all(|&x| (60..=195).contains(&x)), "{v:?}");
        assert!(v.iter().any(|&x| x != 128), "disks are shaded");
    }
}
