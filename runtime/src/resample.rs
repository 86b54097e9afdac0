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

/// MATLAB `imresize(x, 1/scale, 'bicubic')` along one axis: antialiased
/// Keys kernel stretched by `scale`, weights normalized, symmetric borders.
/// Returns per output sample the (index, weight) taps.
fn downscale_taps(len: usize, scale: usize) -> Vec<Vec<(usize, f32)>> {
    let s = scale as f64;
    (0..len / scale)
        .map(|j| {
            let center = (j as f64 + 0.5) * s - 0.5;
            let first = (center - 2.0 * s).floor() as isize;
            let last = (center + 2.0 * s).ceil() as isize;
            let mut taps: Vec<(usize, f64)> = Vec::new();
            for k in first..=last {
                let w = keys(((center - k as f64) / s) as f32) as f64;
                if w == 0.0 {
                    continue;
                }
                // symmetric padding: -1 -> 0, -2 -> 1, len -> len-1, ...
                let m = if k < 0 {
                    -k - 1
                } else if k >= len as isize {
                    2 * len as isize - k - 1
                } else {
                    k
                };
                taps.push((m.clamp(0, len as isize - 1) as usize, w));
            }
            let sum: f64 = taps.iter().map(|t| t.1).sum();
            taps.into_iter()
                .map(|(i, w)| (i, (w / sum) as f32))
                .collect()
        })
        .collect()
}

/// Downscale an interleaved 8-bit image (`channels` per pixel) by an integer
/// factor the way SR benchmarks make LR inputs (MATLAB `imresize`, bicubic,
/// antialiased), rounding to 8 bits. `width` and `height` should be multiples
/// of `scale`; extra pixels are dropped.
pub fn downscale_u8(
    data: &[u8],
    width: usize,
    height: usize,
    channels: usize,
    scale: usize,
) -> Vec<u8> {
    let (ow, oh) = (width / scale, height / scale);
    let (tx, ty) = (downscale_taps(width, scale), downscale_taps(height, scale));
    let mut rows = vec![0.0f32; ow * height * channels];
    for y in 0..height {
        for (x, taps) in tx.iter().enumerate() {
            for c in 0..channels {
                rows[(y * ow + x) * channels + c] = taps
                    .iter()
                    .map(|&(i, w)| w * data[(y * width + i) * channels + c] as f32)
                    .sum();
            }
        }
    }
    let mut out = vec![0u8; ow * oh * channels];
    for (y, taps) in ty.iter().enumerate() {
        for x in 0..ow {
            for c in 0..channels {
                let v: f32 = taps
                    .iter()
                    .map(|&(i, w)| w * rows[(i * ow + x) * channels + c])
                    .sum();
                out[(y * ow + x) * channels + c] = v.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
}

/// Upscale an interleaved 8-bit image by an integer factor with Keys bicubic
/// (MATLAB `imresize` convention; borders replicated), rounding to 8 bits.
pub fn upscale_u8(
    data: &[u8],
    width: usize,
    height: usize,
    channels: usize,
    scale: usize,
) -> Vec<u8> {
    upscale_map(data, width, height, channels, scale, |v| {
        v.round().clamp(0.0, 255.0) as u8
    })
}

/// [`upscale_u8`] before its rounding: the values on the 0–255 scale, over-
/// and undershoots kept, as the SR graphs' bicubic branch computes them in
/// f32 (so a generator trained on these adds its residual to what it will
/// be added to).
pub fn upscale_f32(
    data: &[u8],
    width: usize,
    height: usize,
    channels: usize,
    scale: usize,
) -> Vec<f32> {
    upscale_map(data, width, height, channels, scale, |v| v)
}

/// The Keys bicubic upscale of both: each output sample, on the 0–255
/// scale, stored as `store` makes it (no f32 image in between for u8).
fn upscale_map<T: Copy + Default>(
    data: &[u8],
    width: usize,
    height: usize,
    channels: usize,
    scale: usize,
    store: impl Fn(f32) -> T,
) -> Vec<T> {
    let taps = UpscaleTaps::new(scale);
    let (ow, oh) = (width * scale, height * scale);
    let mut out = vec![T::default(); ow * oh * channels];
    for oy in 0..oh {
        for ox in 0..ow {
            for c in 0..channels {
                let get = |x: usize, y: usize| data[(y * width + x) * channels + c] as f32;
                out[(oy * ow + ox) * channels + c] =
                    store(taps.sample2(get, width, height, ox, oy));
            }
        }
    }
    out
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
    fn downscale_taps_match_matlab_x2() {
        // imresize(.., 0.5, 'bicubic') in the interior: 8 taps at offsets
        // -3.5..3.5 around the centre, weights keys(d/2)/2 normalized.
        let t = downscale_taps(64, 2);
        let w: Vec<f32> = t[10].iter().map(|x| x.1).collect();
        let idx: Vec<usize> = t[10].iter().map(|x| x.0).collect();
        assert_eq!(idx, (17..=24).collect::<Vec<_>>());
        let expect = [-0.01171875, -0.03515625, 0.11328125, 0.43359375];
        for k in 0..4 {
            assert!(
                (w[k] - expect[k]).abs() < 1e-7 && (w[7 - k] - expect[k]).abs() < 1e-7,
                "{w:?}"
            );
        }
        // symmetric border: output 0 mirrors -1 -> 0, -2 -> 1, -3 -> 2
        assert_eq!(
            t[0].iter().map(|x| x.0).collect::<Vec<_>>(),
            vec![2, 1, 0, 0, 1, 2, 3, 4]
        );
    }

    #[test]
    fn downscale_keeps_linear_ramps_and_constants() {
        for s in [2usize, 3, 4] {
            let (w, h) = (24 * s, 2 * s);
            let ramp: Vec<u8> = (0..w * h).map(|i| (i % w) as u8).collect();
            let out = downscale_u8(&ramp, w, h, 1, s);
            for (j, &v) in out.iter().enumerate().take(21).skip(3) {
                let centre = (j as f32 + 0.5) * s as f32 - 0.5;
                assert_eq!(v, centre.round() as u8, "x{s} sample {j}");
            }
            let flat = downscale_u8(&vec![77u8; w * h * 3], w, h, 3, s);
            assert!(flat.iter().all(|&v| v == 77));
        }
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
