//! The classical, network-free parts of inpainting: the push-pull prefill
//! that every inpainting model's input starts from, hole components, the
//! context window each hole is filled in, and the feather ramp at a hole's
//! border.
//!
//! [`prefill`] is what every inpainting model's input starts from:
//! push-pull (Gortler et al. 1996: average the known pixels down a pyramid
//! of 2×2 blocks, then pull back up, keeping known values and filling each
//! unknown one from the coarser level), then [`harmonic`] relaxation towards
//! the smoothest fill of the hole's border (Laplace's equation, solved by
//! successive over-relaxation from the push-pull start). It is smooth,
//! deterministic and, on the evaluation protocol, already ahead of OpenCV's
//! Telea in mean in-hole PSNR; the model learns only the residual on top.
//!
//! ```
//! use edgegan_runtime::inpaint::push_pull;
//! // one channel, 3×1: the middle pixel is a hole between 0.2 and 0.6
//! let mut px = vec![0.2, 9.0, 0.6];
//! push_pull(&mut px, 1, 3, 1, &[false, true, false]);
//! assert_eq!(px[0], 0.2);
//! assert_eq!(px[2], 0.6);
//! assert!(px[1] > 0.2 && px[1] < 0.6);
//! ```

use crate::engine::threads::for_each_plane;

/// A pixel rectangle `[x0, x1) × [y0, y1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rect {
    /// Left column.
    pub x0: usize,
    /// Top row.
    pub y0: usize,
    /// One past the right column.
    pub x1: usize,
    /// One past the bottom row.
    pub y1: usize,
}

impl Rect {
    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.x1 - self.x0
    }
    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.y1 - self.y0
    }
}

/// Over-relaxation factor of [`harmonic`].
pub const SOR_OMEGA: f32 = 1.9;
/// Relaxation sweeps of [`prefill`].
pub const PREFILL_SWEEPS: usize = 100;

/// The models' prefill: [`push_pull`], then [`PREFILL_SWEEPS`] sweeps of
/// [`harmonic`].
pub fn prefill(px: &mut [f32], channels: usize, w: usize, h: usize, hole: &[bool]) {
    push_pull(px, channels, w, h, hole);
    harmonic(px, channels, w, h, hole, PREFILL_SWEEPS);
}

/// `sweeps` Gauss-Seidel sweeps with over-relaxation ([`SOR_OMEGA`]) of
/// Laplace's equation over the `hole` pixels, rows top to bottom: each hole
/// pixel moves towards the mean of its 4-neighbours inside the image
/// (known pixels are the boundary condition and never change). The
/// channels are independent: inside a [`Pool`](crate::engine::threads::Pool) they
/// relax in parallel, with the same result.
pub fn harmonic(px: &mut [f32], channels: usize, w: usize, h: usize, hole: &[bool], sweeps: usize) {
    assert_eq!(px.len(), channels * w * h, "planes match the size");
    let cells: Vec<usize> = (0..w * h).filter(|&i| hole[i]).collect();
    for_each_plane(px, w * h, |_, p| {
        for _ in 0..sweeps {
            for &i in &cells {
                let (x, y) = (i % w, i / w);
                let (mut sum, mut n) = (0.0, 0.0);
                if x > 0 {
                    (sum, n) = (sum + p[i - 1], n + 1.0);
                }
                if x + 1 < w {
                    (sum, n) = (sum + p[i + 1], n + 1.0);
                }
                if y > 0 {
                    (sum, n) = (sum + p[i - w], n + 1.0);
                }
                if y + 1 < h {
                    (sum, n) = (sum + p[i + w], n + 1.0);
                }
                if n > 0.0 {
                    p[i] += SOR_OMEGA * (sum / n - p[i]);
                }
            }
        }
    });
}

struct Level {
    sums: Vec<f32>,
    weights: Vec<f32>,
    w: usize,
    h: usize,
}

/// Fill the `hole` pixels of planar `channels`×`h`×`w` values in place by
/// push-pull; other pixels are left untouched. With no known pixel at all,
/// holes become 0.5.
pub fn push_pull(px: &mut [f32], channels: usize, w: usize, h: usize, hole: &[bool]) {
    assert_eq!(px.len(), channels * w * h, "planes match the size");
    assert_eq!(hole.len(), w * h, "mask matches the size");
    let weights: Vec<f32> = hole.iter().map(|&o| if o { 0.0 } else { 1.0 }).collect();
    let sums = (0..channels * w * h)
        .map(|i| px[i] * weights[i % (w * h)])
        .collect();
    let mut levels = vec![Level {
        sums,
        weights,
        w,
        h,
    }];
    while let Some(l) = levels.last().filter(|l| l.w > 1 || l.h > 1) {
        levels.push(push(l, channels));
    }
    let top = levels.last().expect("level 0 exists");
    let mut cur: Vec<f32> = (0..channels)
        .map(|c| match top.weights[0] {
            t if t > 0.0 => top.sums[c] / t,
            _ => 0.5,
        })
        .collect();
    let (mut cw, mut ch) = (1, 1);
    for l in levels.iter().rev().skip(1) {
        cur = pull(l, &cur, cw, ch, channels);
        (cw, ch) = (l.w, l.h);
    }
    for (i, v) in px.iter_mut().enumerate() {
        if hole[i % (w * h)] {
            *v = cur[i];
        }
    }
}

fn push(l: &Level, channels: usize) -> Level {
    let (w, h) = (l.w.div_ceil(2), l.h.div_ceil(2));
    let mut sums = vec![0.0; channels * w * h];
    let mut weights = vec![0.0; w * h];
    for y in 0..l.h {
        for x in 0..l.w {
            let (s, d) = (y * l.w + x, (y / 2) * w + x / 2);
            weights[d] += l.weights[s];
            for c in 0..channels {
                sums[c * w * h + d] += l.sums[c * l.w * l.h + s];
            }
        }
    }
    Level {
        sums,
        weights,
        w,
        h,
    }
}

/// Bilinear taps of fine index `i` in a coarse axis of length `n`.
pub(crate) fn taps(i: usize, n: usize) -> (usize, usize, f32) {
    let s = ((i as f32 + 0.5) / 2.0 - 0.5).clamp(0.0, (n - 1) as f32);
    let a = s.floor() as usize;
    (a, (a + 1).min(n - 1), s - a as f32)
}

/// The bilinear sample of plane `p` (`cw` wide) between the [`taps`] `tx`
/// and `ty`.
pub(crate) fn bilinear(
    p: &[f32],
    cw: usize,
    (x0, x1, fx): (usize, usize, f32),
    (y0, y1, fy): (usize, usize, f32),
) -> f32 {
    let top = p[y0 * cw + x0] * (1.0 - fx) + p[y0 * cw + x1] * fx;
    let bottom = p[y1 * cw + x0] * (1.0 - fx) + p[y1 * cw + x1] * fx;
    top * (1.0 - fy) + bottom * fy
}

fn pull(l: &Level, coarse: &[f32], cw: usize, ch: usize, channels: usize) -> Vec<f32> {
    let (w, h) = (l.w, l.h);
    let mut out = vec![0.0; channels * w * h];
    for y in 0..h {
        let ty = taps(y, ch);
        for x in 0..w {
            let tx = taps(x, cw);
            let i = y * w + x;
            let wt = l.weights[i];
            let a = wt.min(1.0);
            for c in 0..channels {
                let up = bilinear(&coarse[c * cw * ch..], cw, tx, ty);
                let own = if wt > 0.0 {
                    l.sums[c * w * h + i] / wt
                } else {
                    0.0
                };
                out[c * w * h + i] = own * a + up * (1.0 - a);
            }
        }
    }
    out
}

/// The 8-connected hole components of a `w`×`h` mask: each one's bounding
/// box, and a label per pixel (`u32::MAX` outside holes; 4 bytes a pixel,
/// which on a 12-MP photo is 48 MB).
pub fn components(hole: &[bool], w: usize, h: usize) -> (Vec<Rect>, Vec<u32>) {
    let mut label = vec![u32::MAX; w * h];
    let mut boxes = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if !hole[start] || label[start] != u32::MAX {
            continue;
        }
        // Separate 8-connected components hold at most one pixel in four, so
        // ids fit a u32 below 16 gigapixels (the reader stops at 120 MP).
        let id = boxes.len() as u32;
        let (sx, sy) = (start % w, start / w);
        let mut b = Rect {
            x0: sx,
            y0: sy,
            x1: sx + 1,
            y1: sy + 1,
        };
        label[start] = id;
        stack.push(start);
        while let Some(p) = stack.pop() {
            let (x, y) = (p % w, p / w);
            (b.x0, b.y0) = (b.x0.min(x), b.y0.min(y));
            (b.x1, b.y1) = (b.x1.max(x + 1), b.y1.max(y + 1));
            for ny in y.saturating_sub(1)..(y + 2).min(h) {
                for nx in x.saturating_sub(1)..(x + 2).min(w) {
                    let q = ny * w + nx;
                    if hole[q] && label[q] == u32::MAX {
                        label[q] = id;
                        stack.push(q);
                    }
                }
            }
        }
        boxes.push(b);
    }
    (boxes, label)
}

/// The context window for a hole with bounding box `b` in a `w`×`h` image,
/// for a model of working size `size`: a square of side
/// `max(size, 2 · longest side of b)` centred on the hole, shifted inside
/// the image and cut to it where the image is smaller.
pub fn window(b: Rect, w: usize, h: usize, size: usize) -> Rect {
    let side = size.max(2 * b.width().max(b.height()));
    let place = |lo: usize, hi: usize, n: usize| {
        let len = side.min(n);
        let centre = (lo + hi) / 2;
        let start = centre.saturating_sub(len / 2).min(n - len);
        (start, start + len)
    };
    let (x0, x1) = place(b.x0, b.x1, w);
    let (y0, y1) = place(b.y0, b.y1, h);
    Rect { x0, y0, x1, y1 }
}

/// The blend weight of each hole pixel, in raster order (one value per
/// `true` of `hole`): min(1, d / `ramp`), where d is its chamfer distance
/// (3-4 metric, in pixels) to the nearest known pixel; 1 everywhere for
/// `ramp` ≤ 1. Blends a model's fill into the known border. Distances are
/// counted only up to the ramp's width (16 bits a pixel), so the
/// transform's own memory is half a float plane.
pub fn feather(hole: &[bool], w: usize, h: usize, ramp: f32) -> Vec<f32> {
    if ramp <= 1.0 {
        return vec![1.0; hole.iter().filter(|&&o| o).count()];
    }
    // Beyond 3 · ramp every weight is 1: distances saturate there.
    let far = (3.0 * ramp).ceil().min(f32::from(u16::MAX - 8)) as u16 + 4;
    let mut d: Vec<u16> = hole.iter().map(|&o| if o { far } else { 0 }).collect();
    let relax = |d: &mut Vec<u16>, i: usize, j: usize, c: u16| {
        let v = d[j].saturating_add(c);
        if v < d[i] {
            d[i] = v;
        }
    };
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if x > 0 {
                relax(&mut d, i, i - 1, 3);
            }
            if y > 0 {
                relax(&mut d, i, i - w, 3);
                if x > 0 {
                    relax(&mut d, i, i - w - 1, 4);
                }
                if x + 1 < w {
                    relax(&mut d, i, i - w + 1, 4);
                }
            }
        }
    }
    for y in (0..h).rev() {
        for x in (0..w).rev() {
            let i = y * w + x;
            if x + 1 < w {
                relax(&mut d, i, i + 1, 3);
            }
            if y + 1 < h {
                relax(&mut d, i, i + w, 3);
                if x + 1 < w {
                    relax(&mut d, i, i + w + 1, 4);
                }
                if x > 0 {
                    relax(&mut d, i, i + w - 1, 4);
                }
            }
        }
    }
    d.iter()
        .zip(hole)
        .filter(|(_, &o)| o)
        .map(|(&d, _)| (f32::from(d) / 3.0 / ramp).min(1.0))
        .collect()
}

/// The bilinear taps (as [`taps`] gives them) of each of `n` output
/// positions on an axis of `m` input samples, pixel centres aligned: what a
/// triangle-filter enlargement from `m` to `n` samples weighs, without its
/// clamping of the values to [0, 1].
pub(crate) fn stretch_taps(n: usize, m: usize) -> Vec<(usize, usize, f32)> {
    let r = m as f32 / n as f32;
    (0..n)
        .map(|i| {
            let s = ((i as f32 + 0.5) * r - 0.5).clamp(0.0, (m - 1) as f32);
            let a = s.floor() as usize;
            (a, (a + 1).min(m - 1), s - a as f32)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_pull_keeps_known_pixels_and_fills_constant_images_exactly() {
        let (w, h) = (7, 5);
        let hole: Vec<bool> = (0..w * h).map(|i| i % 3 == 0 || i > 20).collect();
        let mut px: Vec<f32> = (0..2 * w * h)
            .map(|i| if i < w * h { 0.25 } else { 0.75 })
            .collect();
        for (i, &o) in hole.iter().enumerate() {
            if o {
                px[i] = -7.0;
                px[w * h + i] = 42.0;
            }
        }
        push_pull(&mut px, 2, w, h, &hole);
        assert!(px[..w * h].iter().all(|&v| v == 0.25), "{px:?}");
        assert!(px[w * h..].iter().all(|&v| v == 0.75), "{px:?}");
        let mut all = vec![3.0; 4];
        push_pull(&mut all, 1, 2, 2, &[true; 4]);
        assert_eq!(all, vec![0.5; 4]);
    }

    #[test]
    fn push_pull_interpolates_a_ramp_between_its_ends() {
        // 1×8 ramp with the middle 4 unknown: fills stay between the ends
        // and increase from left to right.
        let mut px: Vec<f32> = (0..8).map(|x| x as f32 / 7.0).collect();
        let hole: Vec<bool> = (0..8).map(|x| (2..6).contains(&x)).collect();
        push_pull(&mut px, 1, 8, 1, &hole);
        let filled = &px[2..6];
        assert!(filled.windows(2).all(|p| p[0] <= p[1]), "{px:?}");
        assert!(filled.iter().all(|&v| v > px[1] && v < px[6]), "{px:?}");
    }

    #[test]
    fn harmonic_fill_of_a_line_is_the_straight_line_between_its_ends() {
        // 1×6: ends 0.1 and 0.6 known; Laplace's solution is linear.
        let hole = [false, true, true, true, true, false];
        let mut px = vec![0.1, 0.0, 0.9, 0.0, 0.9, 0.6];
        harmonic(&mut px, 1, 6, 1, &hole, 200);
        for (x, v) in px.iter().enumerate() {
            assert!((v - (0.1 + 0.1 * x as f32)).abs() < 1e-5, "{px:?}");
        }
        let mut pre = vec![0.1, 0.0, 0.9, 0.0, 0.9, 0.6];
        prefill(&mut pre, 1, 6, 1, &hole);
        assert_eq!((pre[0], pre[5]), (0.1, 0.6));
    }

    #[test]
    fn components_and_windows() {
        // 10×6: a 2×2 blob at (1, 1) and a diagonal pair at (7, 3), (8, 4).
        let (w, h) = (10, 6);
        let mut hole = vec![false; w * h];
        for &(x, y) in &[(1, 1), (2, 1), (1, 2), (2, 2), (7, 3), (8, 4)] {
            hole[y * w + x] = true;
        }
        let (boxes, label) = components(&hole, w, h);
        assert_eq!(
            boxes,
            vec![
                Rect {
                    x0: 1,
                    y0: 1,
                    x1: 3,
                    y1: 3
                },
                Rect {
                    x0: 7,
                    y0: 3,
                    x1: 9,
                    y1: 5
                }
            ]
        );
        assert_eq!((label[w + 1], label[4 * w + 8], label[0]), (0, 1, u32::MAX));
        // A 4-pixel model window around the first blob, shifted inside.
        assert_eq!(
            window(boxes[0], w, h, 4),
            Rect {
                x0: 0,
                y0: 0,
                x1: 4,
                y1: 4
            }
        );
        // A large hole asks for twice its side; the image cuts it.
        let big = Rect {
            x0: 2,
            y0: 1,
            x1: 9,
            y1: 4,
        };
        assert_eq!(
            window(big, w, h, 4),
            Rect {
                x0: 0,
                y0: 0,
                x1: 10,
                y1: 6
            }
        );
        assert_eq!(
            window(boxes[1], 100, 100, 16),
            Rect {
                x0: 0,
                y0: 0,
                x1: 16,
                y1: 16
            }
        );
        assert_eq!(
            window(boxes[1], 100, 100, 4),
            Rect {
                x0: 6,
                y0: 2,
                x1: 10,
                y1: 6
            }
        );
    }

    #[test]
    fn feather_ramps_with_chamfer_distance() {
        // 1 row: known, 4 holes, known. Distances 1, 2, 2, 1 pixels.
        let hole = [false, true, true, true, true, false];
        assert_eq!(feather(&hole, 6, 1, 2.0), vec![0.5, 1.0, 1.0, 0.5]);
        assert_eq!(feather(&hole, 6, 1, 1.0), vec![1.0; 4]);
        // A ramp wider than the hole: the distances (3 per pixel) stay exact.
        assert_eq!(feather(&hole, 6, 1, 4.0), vec![0.25, 0.5, 0.5, 0.25]);
    }

    #[test]
    fn stretch_taps_interpolate_a_line_exactly_and_keep_its_sign() {
        // 4 samples of a line through negative values, stretched to 10: the
        // inner points lie on the line, the ends hold the end samples.
        let line = [-0.3f32, -0.1, 0.1, 0.3];
        let t = stretch_taps(10, 4);
        let at = |(a, b, f): (usize, usize, f32)| line[a] * (1.0 - f) + line[b] * f;
        assert_eq!(at(t[0]), -0.3);
        assert_eq!(at(t[9]), 0.3);
        for (i, &tap) in t.iter().enumerate().take(9).skip(1) {
            let x = (i as f32 + 0.5) * 0.4 - 0.5;
            assert!((at(tap) - (-0.3 + 0.2 * x)).abs() < 1e-6, "{i}");
        }
        // The same size is the identity.
        assert!(stretch_taps(4, 4)
            .iter()
            .enumerate()
            .all(|(i, t)| *t == (i, (i + 1).min(3), 0.0)));
    }
}
