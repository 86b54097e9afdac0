//! Inpainting training data: photos kept at several scales ([`SCALES`] by
//! default) and sampled into batches (random photo and scale, random crop,
//! flip, a free-form mask of a random hole-ratio bin, the runtime's
//! prefill), and the validation set
//! (protocol crops of held-out photos with fixed masks) with its evolution
//! frames.

use burn::prelude::*;
use burn::tensor::TensorData;
use edgegan_runtime::fill::prefill;
use edgegan_runtime::inpaint_eval::{eval_mask, protocol_crop, score, EVAL_SIZE};
use edgegan_runtime::io::{image_files, read_image, ImageLimits};
use edgegan_runtime::mask::{free_form, HoleBin, Mask};
use edgegan_runtime::RuntimeError;
use image::imageops::{resize, FilterType};
use image::RgbImage;
use std::path::{Path, PathBuf};

use crate::data::Rng;
use crate::inpaint_net::InpaintGenerator;
use crate::params::values;

/// The default short sides of the kept photos, in training patches.
pub const SCALES: [f64; 3] = [1.0, 1.5, 2.0];

/// Photos at several scales, sampled into batches.
pub struct InpaintPhotos {
    scaled: Vec<RgbImage>,
    /// Photos read.
    pub photos: usize,
}

/// One batch: network input (`n`×4×p×p), truth (`n`×3×p×p), mask (`n`×1×p×p).
pub struct InpaintBatch {
    /// Prefilled RGB + mask.
    pub input: Vec<f32>,
    /// Ground-truth RGB.
    pub truth: Vec<f32>,
    /// 1 = hole.
    pub mask: Vec<f32>,
}

/// `img` as three planes in [0, 1].
pub(crate) fn planar(img: &RgbImage) -> Vec<f32> {
    let mut v = Vec::with_capacity(img.as_raw().len());
    crate::data::planar(img.as_raw(), (img.width() * img.height()) as usize, &mut v);
    v
}

/// Append `img`'s prefilled RGB and `mask` as 4 planes to `input`.
pub fn network_input(img: &RgbImage, mask: &Mask, input: &mut Vec<f32>) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut rgb = planar(img);
    prefill(&mut rgb, 3, w, h, mask.holes());
    input.extend(rgb);
    input.extend(mask.holes().iter().map(|&o| o as u8 as f32));
}

impl InpaintPhotos {
    /// Read every photo under `dir` and keep it at short sides 1, 1.5 and 2 × `patch`.
    pub fn load(dir: &Path, patch: usize) -> Result<InpaintPhotos, RuntimeError> {
        Self::load_at(dir, patch, &SCALES)
    }

    /// Read every photo under `dir` and keep it at short sides `scales` × `patch`.
    pub fn load_at(
        dir: &Path,
        patch: usize,
        scales: &[f64],
    ) -> Result<InpaintPhotos, RuntimeError> {
        let paths = image_files(dir)?;
        let mut scaled = Vec::new();
        for p in &paths {
            let img = read_image(p, &ImageLimits::input())?.to_rgb8();
            let (w, h) = img.dimensions();
            for &f in scales {
                let s = patch as f64 * f / w.min(h) as f64;
                let (nw, nh) = ((w as f64 * s).round() as u32, (h as f64 * s).round() as u32);
                scaled.push(resize(
                    &img,
                    nw.max(patch as u32),
                    nh.max(patch as u32),
                    FilterType::CatmullRom,
                ));
            }
        }
        Ok(InpaintPhotos {
            scaled,
            photos: paths.len(),
        })
    }

    /// `n` random samples of side `p`, drawn in parallel (each sample from
    /// its own seed, taken in order from `rng`: the batch does not depend on
    /// the thread count).
    pub fn batch(&self, rng: &mut Rng, n: usize, p: usize) -> InpaintBatch {
        self.batch_of(&Self::seeds(rng, n), p)
    }

    /// The per-sample seeds [`batch`](Self::batch) takes from `rng` for `n` samples.
    pub fn seeds(rng: &mut Rng, n: usize) -> Vec<u64> {
        (0..n).map(|_| rng.next_u64()).collect()
    }

    /// The batch of side `p` whose samples come from `seeds`, one thread each.
    pub fn batch_of(&self, seeds: &[u64], p: usize) -> InpaintBatch {
        let n = seeds.len();
        let samples: Vec<(Vec<f32>, Vec<f32>)> = std::thread::scope(|s| {
            let handles: Vec<_> = seeds
                .iter()
                .map(|&seed| s.spawn(move || self.sample(seed, p)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("sampling thread"))
                .collect()
        });
        let mut b = InpaintBatch {
            input: Vec::with_capacity(4 * n * p * p),
            truth: Vec::with_capacity(3 * n * p * p),
            mask: Vec::with_capacity(n * p * p),
        };
        for (input, truth) in samples {
            b.mask.extend_from_slice(&input[3 * p * p..]);
            b.input.extend(input);
            b.truth.extend(truth);
        }
        b
    }

    /// One sample from `seed`: (network input 4×p×p, truth 3×p×p).
    fn sample(&self, seed: u64, p: usize) -> (Vec<f32>, Vec<f32>) {
        let mut rng = Rng(seed);
        let img = &self.scaled[rng.below(self.scaled.len())];
        let x = rng.below((img.width() as usize - p) + 1) as u32;
        let y = rng.below((img.height() as usize - p) + 1) as u32;
        let mut crop = image::imageops::crop_imm(img, x, y, p as u32, p as u32).to_image();
        if rng.below(2) == 1 {
            crop = image::imageops::flip_horizontal(&crop);
        }
        let bin = HoleBin::ALL[rng.below(HoleBin::ALL.len())];
        let mask = free_form(p as u32, p as u32, rng.next_u64(), bin);
        let mut input = Vec::with_capacity(4 * p * p);
        network_input(&crop, &mask, &mut input);
        (input, planar(&crop))
    }
}

/// Validation crops with their fixed masks (bins 10–40 %), their network
/// inputs, and the prefill's own in-hole PSNR (fixed: it has no weights).
pub struct InpaintVal {
    items: Vec<ValItem>,
    prefill_hole_psnr: f64,
}

struct ValItem {
    crop: RgbImage,
    mask: Mask,
    input: Vec<f32>,
}

impl InpaintVal {
    /// Protocol crops of `photos` (each with masks of bins 10, 20 and 30 %).
    pub fn load(photos: &[PathBuf]) -> Result<InpaintVal, RuntimeError> {
        let mut items = Vec::new();
        for (i, p) in photos.iter().enumerate() {
            let crop = protocol_crop(&read_image(p, &ImageLimits::input())?, EVAL_SIZE);
            for lo in [10, 20, 30] {
                let mask = eval_mask(i, HoleBin::new(lo), EVAL_SIZE);
                let mut input = Vec::new();
                network_input(&crop, &mask, &mut input);
                items.push(ValItem {
                    crop: crop.clone(),
                    mask,
                    input,
                });
            }
        }
        let s = EVAL_SIZE as usize;
        let prefill: f64 = items
            .iter()
            .map(|v| score(&v.crop, &composite(v, &to_image(&v.input, s)), &v.mask).hole_psnr)
            .sum();
        Ok(InpaintVal {
            prefill_hole_psnr: prefill / items.len().max(1) as f64,
            items,
        })
    }

    /// Mean in-hole PSNR of `g` and of the prefill alone, plus the first
    /// three fills side by side with their inputs (an evolution frame).
    pub fn run(&self, g: &InpaintGenerator, device: &Device) -> (f64, f64, RgbImage) {
        let s = EVAL_SIZE as usize;
        let mut frame = RgbImage::new(2 * s as u32, 3 * s as u32);
        let mut model = 0.0;
        for (k, v) in self.items.iter().enumerate() {
            let x = Tensor::<4>::from_data(TensorData::new(v.input.clone(), [1, 4, s, s]), device);
            let out = composite(v, &to_image(&values(g.forward(x)), s));
            model += score(&v.crop, &out, &v.mask).hole_psnr;
            if k < 3 {
                let masked =
                    RgbImage::from_fn(EVAL_SIZE, EVAL_SIZE, |x, y| match v.mask.is_hole(x, y) {
                        true => image::Rgb([255, 255, 255]),
                        false => *v.crop.get_pixel(x, y),
                    });
                let y = (k * s) as i64;
                image::imageops::replace(&mut frame, &masked, 0, y);
                image::imageops::replace(&mut frame, &out, s as i64, y);
            }
        }
        let n = self.items.len().max(1) as f64;
        (model / n, self.prefill_hole_psnr, frame)
    }
}

/// `fill` inside the item's hole, its crop elsewhere.
fn composite(v: &ValItem, fill: &RgbImage) -> RgbImage {
    RgbImage::from_fn(EVAL_SIZE, EVAL_SIZE, |x, y| {
        *(if v.mask.is_hole(x, y) { fill } else { &v.crop }).get_pixel(x, y)
    })
}

fn to_image(planes: &[f32], s: usize) -> RgbImage {
    let n = s * s;
    RgbImage::from_fn(s as u32, s as u32, |x, y| {
        let i = y as usize * s + x as usize;
        image::Rgb(std::array::from_fn(|c| {
            (planes[c * n + i] * 255.0).round().clamp(0.0, 255.0) as u8
        }))
    })
}
