//! Bicubic resampling with the Keys kernel (a = −0.5, MATLAB `imresize`
//! convention, replicated borders), used for alpha channels and baselines.
//!
//! ```
//! use edgegan_runtime::resample::{keys, UpscaleTaps};
//! assert_eq!(keys(0.0), 1.0);
//! assert_eq!(keys(1.0), 0.0);
//! assert_eq!(keys(-0.5), 0.5625);
//! let taps = UpscaleTaps::new(2);
//! // a constant signal stays constant
//! let v = taps.sample(|_| 7.0, 10, 3);
//! assert!((v - 7.0).abs() < 1e-6);
//! ```

/// The Keys cubic convolution kernel with a = −0.5.
pub fn keys(x: f32) -> f32 {
    const A: f32 = -0.5;
    let x = x.abs();
    if x <= 1.0 {
        ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A
    } else {
        0.0
    }
}

/// Precomputed 4-tap weights for integer upscaling by `scale`: output pixel
/// `o` reads source pixels around `(o + 0.5) / scale − 0.5`.
#[derive(Debug, Clone)]
pub struct UpscaleTaps {
    scale: usize,
    /// Per phase (`o % scale`): offset of the first tap from `o / scale`, and the 4 weights.
    phases: Vec<(isize, [f32; 4])>,
}

impl UpscaleTaps {
    /// Taps for an integer `scale` ≥ 1.
    pub fn new(scale: usize) -> UpscaleTaps {
        let phases = (0..scale)
            .map(|p| {
                let src = (p as f64 + 0.5) / scale as f64 - 0.5;
                let base = src.floor();
                let t = (src - base) as f32;
                let w = [keys(t + 1.0), keys(t), keys(1.0 - t), keys(2.0 - t)];
                let sum: f32 = w.iter().sum();
                (base as isize - 1, w.map(|x| x / sum))
            })
            .collect();
        UpscaleTaps { scale, phases }
    }

    /// Scale factor.
    pub fn scale(&self) -> usize {
        self.scale
    }

    /// Source indices (clamped to `0..len`) and weights for output position `o`.
    #[inline]
    pub fn taps(&self, o: usize, len: usize) -> ([usize; 4], [f32; 4]) {
        let (off, w) = self.phases[o % self.scale];
        let first = (o / self.scale) as isize + off;
        let last = len as isize - 1;
        let ix = [0, 1, 2, 3].map(|k| (first + k).clamp(0, last) as usize);
        (ix, w)
    }

    /// Sample a 1-D signal of `len` values at output position `o`.
    pub fn sample(&self, value: impl Fn(usize) -> f32, len: usize, o: usize) -> f32 {
        let (ix, w) = self.taps(o, len);
        (0..4).map(|k| w[k] * value(ix[k])).sum()
    }

    /// Sample a 2-D plane (`width`×`height`, `get(x, y)`) at output pixel `(ox, oy)`.
    #[inline]
    pub fn sample2(
        &self,
        get: impl Fn(usize, usize) -> f32,
        width: usize,
        height: usize,
        ox: usize,
        oy: usize,
    ) -> f32 {
        let (xi, xw) = self.taps(ox, width);
        let (yi, yw) = self.taps(oy, height);
        let mut acc = 0.0;
        for j in 0..4 {
            let mut row = 0.0;
            for i in 0..4 {
                row += xw[i] * get(xi[i], yi[j]);
            }
            acc += yw[j] * row;
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_known_values() {
        // Keys (1981), a = -0.5: W(0.25) = 0.8671875, W(0.75) = 0.2265625,
        // W(1.25) = -0.0703125, W(1.75) = -0.0234375.
        assert_eq!(keys(0.25), 0.8671875);
        assert_eq!(keys(0.75), 0.2265625);
        assert_eq!(keys(1.25), -0.0703125);
        assert_eq!(keys(1.75), -0.0234375);
        assert_eq!(keys(2.0), 0.0);
    }

    #[test]
    fn x2_phases_match_matlab_imresize() {
        // MATLAB imresize(x, 2, 'bicubic') reads source i-0.25 and i+0.25.
        let t = UpscaleTaps::new(2);
        assert_eq!(
            t.phases[0],
            (-2, [-0.0234375, 0.2265625, 0.8671875, -0.0703125])
        );
        assert_eq!(
            t.phases[1],
            (-1, [-0.0703125, 0.8671875, 0.2265625, -0.0234375])
        );
    }

    #[test]
    fn linear_ramp_is_reproduced_inside() {
        let t = UpscaleTaps::new(4);
        for o in 8..30 {
            let v = t.sample(|i| i as f32, 10, o);
            let src = (o as f32 + 0.5) / 4.0 - 0.5;
            assert!((v - src).abs() < 1e-5, "{o}: {v} vs {src}");
        }
    }
}
