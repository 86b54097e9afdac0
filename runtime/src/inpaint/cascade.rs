//! The prefill of context windows larger than an inpainting model's working
//! size: a cascade of [`prefill`] on a coarse level and a few [`harmonic`]
//! sweeps on each finer one.
//!
//! Relaxing Laplace's equation at full resolution needs many sweeps per
//! pixel of hole width, so the plain [`prefill`] (100 sweeps) is both slow
//! and far from converged on a hole hundreds of pixels wide: on a 12-MP
//! photo it was two thirds of the run. [`cascade_prefill`] halves the
//! window until its long side fits the working size, prefills there, then
//! walks back up: each level's holes start from the bilinear upsampling of
//! the coarser fill and relax for [`LEVEL_SWEEPS`] sweeps, which smooth out
//! what the upsampling left at that scale. A window no larger than the
//! working size gets the plain [`prefill`], bit for bit.
//!
//! ```
//! use edgegan_runtime::inpaint::{cascade_prefill, prefill};
//! // one channel, 600×1: a 400-pixel hole between 0.2 and 0.6
//! let hole: Vec<bool> = (0..600).map(|x| (100..500).contains(&x)).collect();
//! let src: Vec<f32> = (0..600).map(|x| if x < 100 { 0.2 } else { 0.6 }).collect();
//! let (mut cascade, mut plain) = (src.clone(), src);
//! cascade_prefill(&mut cascade, 1, 600, 1, &hole, 256);
//! prefill(&mut plain, 1, 600, 1, &hole);
//! assert_eq!((cascade[99], cascade[500]), (0.2, 0.6));
//! // the harmonic fill of a 1-D hole is the straight line between its ends
//! let line = |x: usize| 0.2 + 0.4 * (x - 99) as f32 / 401.0;
//! let err = |px: &[f32]| (100..500).map(|x| (px[x] - line(x)).abs()).fold(0.0, f32::max);
//! // ...which the cascade comes closer to than 100 full-resolution sweeps
//! assert!(err(&cascade) < 0.02 && err(&cascade) < err(&plain) / 2.0);
//! ```

use crate::inpaint::{bilinear, harmonic, prefill, taps};

/// [`harmonic`] sweeps on each level finer than the coarsest.
pub const LEVEL_SWEEPS: usize = 12;

/// Fill the `hole` pixels of planar `channels`×`h`×`w` values in place for
/// a model of working size `base`: [`prefill`] when the long side is at
/// most `base`, else the cascade of the module documentation. A coarse
/// pixel averages its (up to) 2×2 fine pixels and is a hole if any of them
/// is; known pixels never change.
pub fn cascade_prefill(
    px: &mut [f32],
    channels: usize,
    w: usize,
    h: usize,
    hole: &[bool],
    base: usize,
) {
    assert_eq!(px.len(), channels * w * h, "planes match the size");
    assert_eq!(hole.len(), w * h, "mask matches the size");
    if w.max(h) <= base.max(1) {
        prefill(px, channels, w, h, hole);
        return;
    }
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let mut coarse = vec![0.0f32; channels * cw * ch];
    let mut coarse_hole = vec![false; cw * ch];
    let mut count = vec![0.0f32; cw * ch];
    for y in 0..h {
        for x in 0..w {
            let (s, d) = (y * w + x, (y / 2) * cw + x / 2);
            coarse_hole[d] |= hole[s];
            count[d] += 1.0;
            for c in 0..channels {
                coarse[c * cw * ch + d] += px[c * w * h + s];
            }
        }
    }
    for (i, v) in coarse.iter_mut().enumerate() {
        *v /= count[i % (cw * ch)];
    }
    cascade_prefill(&mut coarse, channels, cw, ch, &coarse_hole, base);
    for y in 0..h {
        let ty = taps(y, ch);
        for x in 0..w {
            if !hole[y * w + x] {
                continue;
            }
            let tx = taps(x, cw);
            for c in 0..channels {
                px[c * w * h + y * w + x] = bilinear(&coarse[c * cw * ch..], cw, tx, ty);
            }
        }
    }
    harmonic(px, channels, w, h, hole, LEVEL_SWEEPS);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_within_the_base_gets_the_plain_prefill() {
        let (w, h) = (40, 30);
        let hole: Vec<bool> = (0..w * h).map(|i| (i % w) * 3 + i / w < 50).collect();
        let src: Vec<f32> = (0..2 * w * h).map(|i| (i % 17) as f32 / 16.0).collect();
        let (mut a, mut b) = (src.clone(), src.clone());
        prefill(&mut a, 2, w, h, &hole);
        cascade_prefill(&mut b, 2, w, h, &hole, 40);
        assert_eq!(a, b);
    }

    #[test]
    fn known_pixels_stay_and_a_plane_is_filled_exactly() {
        // a linear ramp is harmonic: every level reproduces it up to rounding
        let (w, h) = (300, 200);
        let hole: Vec<bool> = (0..w * h)
            .map(|i| (60..240).contains(&(i % w)) && (40..170).contains(&(i / w)))
            .collect();
        let ramp = |i: usize| 0.1 + 0.002 * (i % w) as f32 + 0.001 * (i / w) as f32;
        let mut px: Vec<f32> = (0..w * h)
            .map(|i| if hole[i] { 0.0 } else { ramp(i) })
            .collect();
        cascade_prefill(&mut px, 1, w, h, &hole, 64);
        for (i, v) in px.iter().enumerate() {
            if hole[i] {
                assert!((v - ramp(i)).abs() < 2e-3, "pixel {i}: {v} vs {}", ramp(i));
            } else {
                assert_eq!(*v, ramp(i));
            }
        }
    }
}
