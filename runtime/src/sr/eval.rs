//! Super-resolution evaluation with the protocol of DESIGN.md: HR cropped to a
//! multiple of the scale, LR by antialiased bicubic (MATLAB `imresize`), SR by
//! the model, PSNR/SSIM on Y with `scale` border pixels cropped, and bicubic
//! upscaling of the same LR reported beside it. With an [`EvalDegrade`], the
//! LR input is degraded (blur before the downscale, noise and JPEG after)
//! while the reference stays the clean HR photo.

use image::RgbImage;
use serde::Serialize;
use std::path::Path;

use crate::error::{Result, RuntimeError};
use crate::io::{read_image, ImageLimits};
use crate::metrics::{crop, laplacian_energy, luma, psnr, ssim};
use crate::resample::{downscale_u8, upscale_u8};
use crate::sr::degrade::EvalDegrade;
use crate::sr::Upscaler;

/// Scores of one image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageScore {
    /// The HR file.
    pub file: String,
    /// Model PSNR on Y (dB).
    pub psnr_y: f64,
    /// Model SSIM on Y.
    pub ssim_y: f64,
    /// Bicubic PSNR on Y (dB).
    pub bicubic_psnr_y: f64,
    /// Bicubic SSIM on Y.
    pub bicubic_ssim_y: f64,
    /// High-frequency energy of the model's Y relative to the truth's
    /// ([`laplacian_energy`] ratio; 1 = as sharp as the truth).
    pub sharpness_y: f64,
    /// The same ratio for bicubic.
    pub bicubic_sharpness_y: f64,
}

/// Means over a set of images.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeanScore {
    /// Mean model PSNR on Y (dB).
    pub psnr_y: f64,
    /// Mean model SSIM on Y.
    pub ssim_y: f64,
    /// Mean bicubic PSNR on Y (dB).
    pub bicubic_psnr_y: f64,
    /// Mean bicubic SSIM on Y.
    pub bicubic_ssim_y: f64,
    /// Mean sharpness ratio of the model on Y (1 = as sharp as the truth).
    pub sharpness_y: f64,
    /// Mean sharpness ratio of bicubic on Y.
    pub bicubic_sharpness_y: f64,
}

/// A whole evaluation run, in the JSON shape `edgegan eval --json` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SrReport {
    /// Model name.
    pub model: String,
    /// Scale factor.
    pub scale: usize,
    /// Per-image scores.
    pub images: Vec<ImageScore>,
    /// Means over `images`.
    pub mean: MeanScore,
    /// The degradations of the inputs, when they were degraded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub degraded: Option<EvalDegrade>,
}

impl SrReport {
    /// Build a report from per-image scores.
    pub fn new(model: &str, scale: usize, images: Vec<ImageScore>) -> SrReport {
        let n = images.len().max(1) as f64;
        let m = |f: fn(&ImageScore) -> f64| images.iter().map(f).sum::<f64>() / n;
        let mean = MeanScore {
            psnr_y: m(|s| s.psnr_y),
            ssim_y: m(|s| s.ssim_y),
            bicubic_psnr_y: m(|s| s.bicubic_psnr_y),
            bicubic_ssim_y: m(|s| s.bicubic_ssim_y),
            sharpness_y: m(|s| s.sharpness_y),
            bicubic_sharpness_y: m(|s| s.bicubic_sharpness_y),
        };
        SrReport {
            model: model.into(),
            scale,
            images,
            mean,
            degraded: None,
        }
    }
}

/// PSNR, SSIM and sharpness ratio on Y of `test` against `reference` (same
/// size), `border` cropped.
pub fn score_y(reference: &RgbImage, test: &RgbImage, border: usize) -> (f64, f64, f64) {
    let (w, h) = (reference.width() as usize, reference.height() as usize);
    let (a, cw, ch) = crop(&luma(reference.as_raw()), w, h, border);
    let (b, _, _) = crop(&luma(test.as_raw()), w, h, border);
    let truth = laplacian_energy(&a, cw, ch).max(f64::MIN_POSITIVE);
    (
        psnr(&a, &b),
        ssim(&a, &b, cw, ch),
        laplacian_energy(&b, cw, ch) / truth,
    )
}

/// Evaluate `up` on one HR photo; `file` is the name recorded in the score
/// (`degrade`: the degradations of its LR input, if any).
pub fn evaluate_image(
    up: &Upscaler,
    path: &Path,
    file: &str,
    degrade: &EvalDegrade,
) -> Result<ImageScore> {
    evaluate_image_keep(up, path, file, degrade).map(|e| e.score)
}

/// One photo's evaluation and the images it compared.
#[derive(Debug, Clone)]
pub struct Evaluated {
    /// The scores.
    pub score: ImageScore,
    /// The LR input the model was given (degraded, when asked).
    pub lr: RgbImage,
    /// The model's output.
    pub sr: RgbImage,
    /// The reference: the photo as decoded, cropped to a multiple of the scale.
    pub hr: RgbImage,
}

/// [`evaluate_image`], keeping the LR input and the model's output (to look
/// at them, or to put other upscalers' outputs beside them).
pub fn evaluate_image_keep(
    up: &Upscaler,
    path: &Path,
    file: &str,
    degrade: &EvalDegrade,
) -> Result<Evaluated> {
    let s = up.model().scale();
    let hr = read_image(path, &ImageLimits::input())?.to_rgb8();
    let (w, h) = (
        (hr.width() as usize / s) * s,
        (hr.height() as usize / s) * s,
    );
    if w / s < 8 || h / s < 8 || w < 11 + 2 * s || h < 11 + 2 * s {
        return Err(RuntimeError::Unsupported {
            path: path.into(),
            reason: format!(
                "{}x{} is too small to evaluate at x{s}",
                hr.width(),
                hr.height()
            ),
        });
    }
    let hr = image::imageops::crop_imm(&hr, 0, 0, w as u32, h as u32).to_image();
    let (lw, lh) = ((w / s) as u32, (h / s) as u32);
    let lr_data = match degrade.kinds.any() {
        false => downscale_u8(hr.as_raw(), w, h, 3, s),
        true => {
            let (d, mut rng) = (degrade.kinds, degrade.rng(hr.as_raw()));
            let blurred = d.before_with(&mut rng, hr.clone(), 1.0);
            let lr = downscale_u8(blurred.as_raw(), w, h, 3, s);
            d.after_with(&mut rng, lr, (lw, lh), 1.0)
        }
    };
    let lr = RgbImage::from_raw(lw, lh, lr_data).expect("downscale returns lw*lh*3 samples");
    let sr = up.run(&lr)?;
    let bicubic = RgbImage::from_raw(
        w as u32,
        h as u32,
        upscale_u8(lr.as_raw(), lw as usize, lh as usize, 3, s),
    )
    .expect("upscale returns w*h*3 samples");
    let (psnr_y, ssim_y, sharpness_y) = score_y(&hr, &sr, s);
    let (bicubic_psnr_y, bicubic_ssim_y, bicubic_sharpness_y) = score_y(&hr, &bicubic, s);
    let score = ImageScore {
        file: file.into(),
        psnr_y,
        ssim_y,
        bicubic_psnr_y,
        bicubic_ssim_y,
        sharpness_y,
        bicubic_sharpness_y,
    };
    Ok(Evaluated { score, lr, sr, hr })
}
/// The protocol on every photo in `files` (named relative to `data`): the
/// report of those that could be scored, and the failures (name, error).
/// `each` sees every photo's name as it starts (for progress); `keep` sees
/// every scored photo's [`Evaluated`] and may refuse it with an error (a
/// failure to save it, say), which then counts as that photo's failure.
pub fn evaluate_files(
    up: &Upscaler,
    data: &Path,
    files: &[std::path::PathBuf],
    degrade: &EvalDegrade,
    mut each: impl FnMut(&str),
    mut keep: impl FnMut(&Evaluated) -> Result<()>,
) -> (SrReport, Vec<(String, RuntimeError)>) {
    let (mut scores, mut failed) = (Vec::new(), Vec::new());
    for path in files {
        let name = path
            .strip_prefix(data)
            .unwrap_or(path)
            .display()
            .to_string();
        each(&name);
        match evaluate_image_keep(up, path, &name, degrade).and_then(|e| keep(&e).map(|()| e)) {
            Ok(e) => scores.push(e.score),
            Err(e) => failed.push((name, e)),
        }
    }
    let mut report = SrReport::new(&up.model().card().name, up.model().scale(), scores);
    report.degraded = degrade.kinds.any().then_some(*degrade);
    (report, failed)
}
