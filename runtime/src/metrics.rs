//! Image-quality metrics on the luma channel, as SR papers report them:
//! BT.601 Y (MATLAB `rgb2ycbcr`, range 16–235), PSNR with peak 255, and SSIM
//! (Wang et al. 2004: 11×11 Gaussian window, σ = 1.5, K1 = 0.01, K2 = 0.03,
//! valid region only, population statistics).
//!
//! ```
//! use edgegan_runtime::metrics::{psnr, ssim};
//! let a = vec![100.0f32; 64 * 64];
//! let b: Vec<f32> = a.iter().map(|v| v + 1.0).collect();
//! assert!((psnr(&a, &b) - 48.130_804).abs() < 1e-4); // 20·log10(255/1)
//! assert_eq!(ssim(&a, &a, 64, 64), 1.0);
//! ```

/// BT.601 luma of 8-bit RGB, in [16, 235] (MATLAB `rgb2ycbcr`, not rounded).
pub fn luma(rgb: &[u8]) -> Vec<f32> {
    rgb.chunks_exact(3)
        .map(|p| {
            16.0 + (65.481 * p[0] as f32 + 128.553 * p[1] as f32 + 24.966 * p[2] as f32) / 255.0
        })
        .collect()
}

/// Crop `border` pixels from every side of a `w`×`h` plane.
pub fn crop(plane: &[f32], w: usize, h: usize, border: usize) -> (Vec<f32>, usize, usize) {
    let (cw, ch) = (w.saturating_sub(2 * border), h.saturating_sub(2 * border));
    let out = (0..ch)
        .flat_map(|y| plane[(y + border) * w + border..][..cw].iter().copied())
        .collect();
    (out, cw, ch)
}

/// PSNR in dB for values on a 0–255 scale (infinite for identical inputs).
pub fn psnr(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len(), "psnr of planes of different sizes");
    let mse = a
        .iter()
        .zip(b)
        .map(|(x, y)| ((x - y) as f64).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    10.0 * (255.0f64 * 255.0 / mse).log10()
}

fn gaussian_11() -> [f64; 11] {
    let mut k = [0.0; 11];
    for (i, v) in k.iter_mut().enumerate() {
        let x = i as f64 - 5.0;
        *v = (-x * x / (2.0 * 1.5 * 1.5)).exp();
    }
    let s: f64 = k.iter().sum();
    k.map(|v| v / s)
}

/// Separable 11×11 Gaussian filter, valid region: (w−10)×(h−10) outputs.
fn filter_valid(plane: &[f64], w: usize, h: usize, k: &[f64; 11]) -> Vec<f64> {
    let (ow, oh) = (w - 10, h - 10);
    let mut rows = vec![0.0; ow * h];
    for y in 0..h {
        for x in 0..ow {
            rows[y * ow + x] = (0..11).map(|i| k[i] * plane[y * w + x + i]).sum();
        }
    }
    let mut out = vec![0.0; ow * oh];
    for y in 0..oh {
        for x in 0..ow {
            out[y * ow + x] = (0..11).map(|i| k[i] * rows[(y + i) * ow + x]).sum();
        }
    }
    out
}

/// Mean SSIM of two `w`×`h` planes on a 0–255 scale (needs at least 11×11).
pub fn ssim(a: &[f32], b: &[f32], w: usize, h: usize) -> f64 {
    let map = ssim_map(a, b, w, h);
    map.iter().sum::<f64>() / map.len() as f64
}

/// The SSIM of every 11×11 window of two `w`×`h` planes: a
/// (w−10)×(h−10) map whose entry (x, y) is the window centred on pixel
/// (x + 5, y + 5).
pub fn ssim_map(a: &[f32], b: &[f32], w: usize, h: usize) -> Vec<f64> {
    assert!(w >= 11 && h >= 11, "ssim needs at least 11x11 pixels");
    let (c1, c2) = ((0.01f64 * 255.0).powi(2), (0.03f64 * 255.0).powi(2));
    let k = gaussian_11();
    let a: Vec<f64> = a.iter().map(|&v| v as f64).collect();
    let b: Vec<f64> = b.iter().map(|&v| v as f64).collect();
    let prod = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(p, q)| p * q).collect::<Vec<_>>();
    let (mu_a, mu_b) = (filter_valid(&a, w, h, &k), filter_valid(&b, w, h, &k));
    let (aa, bb, ab) = (
        filter_valid(&prod(&a, &a), w, h, &k),
        filter_valid(&prod(&b, &b), w, h, &k),
        filter_valid(&prod(&a, &b), w, h, &k),
    );
    (0..mu_a.len())
        .map(|i| {
            let (ma, mb) = (mu_a[i], mu_b[i]);
            let (va, vb, cov) = (aa[i] - ma * ma, bb[i] - mb * mb, ab[i] - ma * mb);
            ((2.0 * ma * mb + c1) * (2.0 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2))
        })
        .collect()
}

/// Mean squared 4-neighbour Laplacian of a `w`×`h` plane over its interior:
/// the high-frequency energy of an image. Ratios of this energy between an
/// upscaled image and its ground truth tell how sharp the upscale is (1 = as
/// sharp as the truth; bicubic is far below 1, GAN-tuned models come closer).
///
/// ```
/// use edgegan_runtime::metrics::laplacian_energy;
/// // A checkerboard of ±1: every interior Laplacian is ±8.
/// let p: Vec<f32> = (0..16).map(|i| if (i % 4 + i / 4) % 2 == 0 { 1.0 } else { -1.0 }).collect();
/// assert_eq!(laplacian_energy(&p, 4, 4), 64.0);
/// ```
pub fn laplacian_energy(plane: &[f32], w: usize, h: usize) -> f64 {
    if w < 3 || h < 3 {
        return 0.0;
    }
    let mut sum = 0.0f64;
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let i = y * w + x;
            let l = 4.0 * plane[i] - plane[i - 1] - plane[i + 1] - plane[i - w] - plane[i + w];
            sum += (l as f64).powi(2);
        }
    }
    sum / ((w - 2) * (h - 2)) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssim_matches_scikit_image() {
        // skimage.metrics.structural_similarity(a, b, gaussian_weights=True,
        // sigma=1.5, use_sample_covariance=False, data_range=255) = 0.8852978832273913
        let (w, h) = (40usize, 30usize);
        let mut a = vec![0.0f32; w * h];
        let mut b = vec![0.0f32; w * h];
        for y in 0..h {
            for x in 0..w {
                let v = 128.0 + 100.0 * (x as f64 * 0.37).sin() * (y as f64 * 0.23).cos();
                a[y * w + x] = v as f32;
                b[y * w + x] = (v + 20.0 * ((x * y) as f64 * 0.05).sin()) as f32;
            }
        }
        assert!((ssim(&a, &b, w, h) - 0.885_297_883_227_391_3).abs() < 1e-5);
    }

    #[test]
    fn luma_and_crop() {
        assert_eq!(luma(&[0, 0, 0, 255, 255, 255]), vec![16.0, 235.0]);
        let plane: Vec<f32> = (0..20).map(|v| v as f32).collect();
        assert_eq!(
            crop(&plane, 5, 4, 1),
            (vec![6.0, 7.0, 8.0, 11.0, 12.0, 13.0], 3, 2)
        );
    }
}
