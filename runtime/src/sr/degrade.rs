//! "Real-world" degradations of SR inputs (the Real-ESRGAN idea at this
//! project's scale): Gaussian blur of the HR image before downscaling,
//! Gaussian noise and a JPEG round trip of the LR image after. The trainer
//! draws them per patch ([`Degradations::before`], [`Degradations::after`]:
//! each with probability ½); `edgegan eval --degrade` applies every one
//! listed to each photo with strengths drawn from a fixed seed and the
//! photo's pixels ([`EvalDegrade`]), so a run is reproducible and the JSON
//! records it.
//!
//! ```
//! use edgegan_runtime::sr::degrade::Degradations;
//! let d: Degradations = "blur,jpeg".parse().unwrap();
//! assert!(d.blur && d.jpeg && !d.noise);
//! assert_eq!(d.to_string(), "blur,jpeg");
//! ```

use crate::noise::{fnv1a, Rng};
use image::RgbImage;
use serde::Serialize;
use std::str::FromStr;

/// Which degradations to apply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Degradations {
    /// Gaussian blur of the HR image, σ uniform in [0.2, 1.5] HR pixels.
    pub blur: bool,
    /// Additive Gaussian noise on the LR image, σ uniform in [1, 8] / 255.
    pub noise: bool,
    /// JPEG round trip of the LR image, quality uniform in [50, 95].
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

impl std::fmt::Display for Degradations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let on = [
            (self.blur, "blur"),
            (self.noise, "noise"),
            (self.jpeg, "jpeg"),
        ];
        let names: Vec<&str> = on.iter().filter(|o| o.0).map(|o| o.1).collect();
        match names.is_empty() {
            true => f.write_str("none"),
            false => f.write_str(&names.join(",")),
        }
    }
}

impl Degradations {
    /// Whether any degradation is on.
    pub fn any(&self) -> bool {
        self.blur || self.noise || self.jpeg
    }

    /// Blur an HR patch (before downscaling) with probability ½.
    pub fn before(&self, rng: &mut Rng, hr: RgbImage) -> RgbImage {
        self.before_with(rng, hr, 0.5)
    }

    /// Noise and JPEG artefacts on an LR patch (RGB8, `side`²), each with
    /// probability ½.
    pub fn after(&self, rng: &mut Rng, lr: Vec<u8>, side: u32) -> Vec<u8> {
        self.after_with(rng, lr, (side, side), 0.5)
    }

    /// [`before`](Self::before) with probability `p`.
    pub fn before_with(&self, rng: &mut Rng, hr: RgbImage, p: f32) -> RgbImage {
        if self.blur && rng.unit() < p {
            image::imageops::blur(&hr, 0.2 + 1.3 * rng.unit())
        } else {
            hr
        }
    }

    /// [`after`](Self::after) on a `w`×`h` image with probability `p` each.
    pub fn after_with(&self, rng: &mut Rng, lr: Vec<u8>, (w, h): (u32, u32), p: f32) -> Vec<u8> {
        let mut lr = lr;
        if self.noise && rng.unit() < p {
            let sigma = (1.0 + 7.0 * rng.unit()) as f64;
            for v in lr.iter_mut() {
                // Box–Muller from two uniforms.
                let (a, b) = (rng.unit().max(1e-7) as f64, rng.unit() as f64);
                let n = (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos();
                *v = (*v as f64 + sigma * n).round().clamp(0.0, 255.0) as u8;
            }
        }
        if self.jpeg && rng.unit() < p {
            let quality = 50 + rng.below(46) as u8;
            let mut buf = Vec::new();
            let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, quality);
            let decoded =
                image::ImageEncoder::write_image(enc, &lr, w, h, image::ExtendedColorType::Rgb8)
                    .ok()
                    .and_then(|_| {
                        image::load_from_memory_with_format(&buf, image::ImageFormat::Jpeg).ok()
                    });
            if let Some(img) = decoded {
                lr = img.to_rgb8().into_raw();
            }
        }
        lr
    }
}

/// Degraded evaluation inputs: every degradation in `kinds` applied to each
/// photo, strengths drawn from `seed` and the photo's own pixels (so a photo
/// gets the same input whatever its path and whatever else is evaluated).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EvalDegrade {
    /// The degradations (none: the clean protocol).
    pub kinds: Degradations,
    /// The seed.
    pub seed: u64,
}

impl Serialize for EvalDegrade {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("EvalDegrade", 2)?;
        st.serialize_field("kinds", &self.kinds.to_string())?;
        st.serialize_field("seed", &self.seed)?;
        st.end()
    }
}

impl EvalDegrade {
    /// The generator of the degradations of the photo whose (cropped) HR
    /// samples are `hr`: the seed mixed with their FNV-1a hash.
    pub fn rng(&self, hr: &[u8]) -> Rng {
        Rng(self.seed ^ fnv1a(hr.iter().copied()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        let d: Degradations = "blur, jpeg".parse().unwrap();
        assert_eq!(
            d,
            Degradations {
                blur: true,
                noise: false,
                jpeg: true
            }
        );
        assert_eq!(d.to_string(), "blur,jpeg");
        assert!(!"none".parse::<Degradations>().unwrap().any());
        assert_eq!(Degradations::default().to_string(), "none");
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
        // With probability 1 every image changes, the same way for a seed.
        let all = |seed| {
            let mut rng = Rng(seed);
            let hr = d.before_with(&mut rng, img.clone(), 1.0);
            d.after_with(&mut rng, hr.into_raw(), (16, 16), 1.0)
        };
        assert_ne!(all(3), img.as_raw().clone());
        assert_eq!(all(3), all(3));
        assert_ne!(all(3), all(4));
    }
}
