//! Optional "real-world" degradations of training inputs (the Real-ESRGAN
//! idea at this project's scale): Gaussian blur before downscaling, Gaussian
//! noise and JPEG compression after. The targets stay clean, so a model
//! trained with them learns to remove these artefacts while upscaling.

use crate::common::Rng;
use image::RgbImage;
use std::str::FromStr;

/// Which degradations to apply (each with probability ½ per patch).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Degradations {
    /// Gaussian blur of the HR patch, σ uniform in [0.2, 1.5] HR pixels.
    pub blur: bool,
    /// Additive Gaussian noise on the LR patch, σ uniform in [1, 8] / 255.
    pub noise: bool,
    /// JPEG round trip of the LR patch, quality uniform in [50, 95].
    pub jpeg: bool,
}

impl FromStr for Degradations {
    type Err = String;
    /// Parse a comma list of `blur`, `noise`, `jpeg` (or `none`).
    fn from_str(s: &str) -> Result<Self, String> {
        let mut d = Degradations::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "blur" => d.blur = true,
                "noise" => d.noise = true,
                "jpeg" => d.jpeg = true,
                "none" => {}
                other => return Err(format!("unknown degradation '{other}' (blur, noise, jpeg)")),
            }
        }
        Ok(d)
    }
}

impl Degradations {
    /// Whether any degradation is on.
    pub fn any(&self) -> bool {
        self.blur || self.noise || self.jpeg
    }

    /// Blur an HR patch (before downscaling), maybe.
    pub fn before(&self, rng: &mut Rng, hr: RgbImage) -> RgbImage {
        if self.blur && rng.unit() < 0.5 {
            image::imageops::blur(&hr, 0.2 + 1.3 * rng.unit())
        } else {
            hr
        }
    }

    /// Add noise and JPEG artefacts to an LR patch (RGB8, `side`²), maybe.
    pub fn after(&self, rng: &mut Rng, lr: Vec<u8>, side: u32) -> Vec<u8> {
        let mut lr = lr;
        if self.noise && rng.unit() < 0.5 {
            let sigma = (1.0 + 7.0 * rng.unit()) as f64;
            for v in lr.iter_mut() {
                // Box–Muller from two uniforms.
                let (a, b) = (rng.unit().max(1e-7) as f64, rng.unit() as f64);
                let n = (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos();
                *v = (*v as f64 + sigma * n).round().clamp(0.0, 255.0) as u8;
            }
        }
        if self.jpeg && rng.unit() < 0.5 {
            let quality = 50 + rng.below(46) as u8;
            let mut buf = Vec::new();
            let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, quality);
            let decoded = image::ImageEncoder::write_image(
                enc,
                &lr,
                side,
                side,
                image::ExtendedColorType::Rgb8,
            )
            .ok()
            .and_then(|_| image::load_from_memory_with_format(&buf, image::ImageFormat::Jpeg).ok());
            if let Some(img) = decoded {
                lr = img.to_rgb8().into_raw();
            }
        }
        lr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        assert_eq!(
            "blur,jpeg".parse::<Degradations>(),
            Ok(Degradations {
                blur: true,
                noise: false,
                jpeg: true
            })
        );
        assert!(!"none".parse::<Degradations>().unwrap().any());
        assert!("sharpen"
            .parse::<Degradations>()
            .unwrap_err()
            .contains("sharpen"));
    }

    #[test]
    fn degradations_change_pixels_and_keep_sizes() {
        let d: Degradations = "blur,noise,jpeg".parse().unwrap();
        let img = RgbImage::from_fn(16, 16, |x, y| {
            image::Rgb([(x * 16) as u8, (y * 16) as u8, 128])
        });
        let mut changed = 0;
        for seed in 0..8 {
            let mut rng = Rng(seed);
            let hr = d.before(&mut rng, img.clone());
            let lr = d.after(&mut rng, hr.clone().into_raw(), 16);
            assert_eq!(lr.len(), 16 * 16 * 3);
            changed += usize::from(lr != img.as_raw().as_slice());
        }
        // Each patch skips all three with probability 1/8; eight seeds cannot all be clean.
        assert!(changed >= 4, "{changed} of 8 patches degraded");
    }
}
