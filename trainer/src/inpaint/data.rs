//! Inpainting training data: photos kept at several scales ([`SCALES`] by
//! default) and sampled into batches (random photo and scale, random crop,
//! flip, optionally a random zoom and channel order, or a synthetic dead
//! leaves image in place of the crop ([`Augment`]), a free-form mask of a random hole-ratio bin of [`Augment::hole_bins`], the
//! runtime's prefill), and the validation set (protocol crops of held-out
//! photos with fixed masks) with its evolution frames.

use burn::prelude::*;
use burn::tensor::TensorData;
use edgegan_runtime::inpaint::prefill;
use edgegan_runtime::inpaint::{eval_mask, protocol_crop, score, EVAL_SIZE};
use edgegan_runtime::inpaint::{free_form, HoleBin, Mask};
use edgegan_runtime::io::{image_files, read_image, ImageLimits};
use edgegan_runtime::RuntimeError;
use image::imageops::{resize, FilterType};
use image::RgbImage;
use std::path::{Path, PathBuf};

use crate::common::params::values;
use crate::common::Rng;
use crate::inpaint::dead_leaves::DeadLeaves;
use crate::inpaint::model::InpaintGenerator;

/// The default short sides of the kept photos, in training patches.
pub const SCALES: [f64; 3] = [1.0, 1.5, 2.0];

/// How samples are drawn beyond a plain crop: augmentations that keep a
/// crop's statistics near the eval protocol's while giving the network
/// views it cannot memorize, and the hole-ratio bins its masks come from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Augment {
    /// Each crop is zoomed in by a random factor in `[1, 1 + jitter]` (a
    /// larger square, resized down to the patch); 0 = none.
    pub jitter: f64,
    /// Each crop's RGB channels come in a random one of the 6 orders.
    pub channel_order: bool,
    /// Masks come only from these bins, uniformly among them; empty =
    /// every bin of [`HoleBin::ALL`].
    pub hole_bins: Vec<HoleBin>,
    /// This share of the samples are synthetic dead leaves images
    /// ([`DeadLeaves`]) whose disks take the colours of random pixels of
    /// the photos; 0 = photos only.
    pub dead_leaves: f64,
}

impl Augment {
    /// Refuse augmentations a run cannot use, and short sides (`scales`, in
    /// training patches) outside 1 to 8; named by their `train inpaint` flags.
    pub fn check(&self, scales: &[f64]) -> Result<(), crate::error::TrainError> {
        let bad = |s: String| Err(crate::error::TrainError::Config(s));
        if scales.is_empty() || scales.iter().any(|s| !(1.0..=8.0).contains(s)) {
            return bad(format!(
                "--scales {scales:?}: expected short sides from 1 to 8 training patches, e.g. 1,1.5,2"
            ));
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            return bad(format!(
                "--jitter {}: expected a zoom range from 0 to 1",
                self.jitter
            ));
        }
        if !(0.0..=1.0).contains(&self.dead_leaves) {
            let d = self.dead_leaves;
            return bad(format!("--dead-leaves {d}: expected a share from 0 to 1"));
        }
        Ok(())
    }
}

/// Photos at several scales, sampled into batches.
pub struct InpaintPhotos {
    scaled: Vec<RgbImage>,
    augment: Augment,
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
    crate::common::planar(img.as_raw(), (img.width() * img.height()) as usize, &mut v);
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
        Self::load_at(dir, patch, &SCALES, Augment::default())
    }

    /// Read every photo under `dir` and keep it at short sides `scales` ×
    /// `patch` (× `1 + augment.jitter`, the most a crop is zoomed in).
    pub fn load_at(
        dir: &Path,
        patch: usize,
        scales: &[f64],
        augment: Augment,
    ) -> Result<InpaintPhotos, RuntimeError> {
        let paths = image_files(dir)?;
        let mut scaled = Vec::new();
        for p in &paths {
            let img = read_image(p, &ImageLimits::input())?.to_rgb8();
            let (w, h) = img.dimensions();
            for &f in scales {
                let s = patch as f64 * f * (1.0 + augment.jitter) / w.min(h) as f64;
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
            augment,
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
        let synthetic =
            self.augment.dead_leaves > 0.0 && (rng.unit() as f64) < self.augment.dead_leaves;
        let mut crop = match synthetic {
            true => DeadLeaves::for_size(p as u32).render(p as u32, &mut rng, |r| self.color(r)),
            false => {
                let img = &self.scaled[rng.below(self.scaled.len())];
                self.crop(img, &mut rng, p)
            }
        };
        if rng.below(2) == 1 {
            crop = image::imageops::flip_horizontal(&crop);
        }
        if self.augment.channel_order {
            let order = ORDERS[rng.below(ORDERS.len())];
            for px in crop.pixels_mut() {
                px.0 = order.map(|c| px.0[c]);
            }
        }
        let bins = match self.augment.hole_bins.is_empty() {
            true => &HoleBin::ALL[..],
            false => &self.augment.hole_bins[..],
        };
        let bin = bins[rng.below(bins.len())];
        let mask = free_form(p as u32, p as u32, rng.next_u64(), bin);
        let mut input = Vec::with_capacity(4 * p * p);
        network_input(&crop, &mask, &mut input);
        (input, planar(&crop))
    }

    /// The colour of a random pixel of a random kept photo, in [0, 1].
    fn color(&self, rng: &mut Rng) -> [f32; 3] {
        let img = &self.scaled[rng.below(self.scaled.len())];
        let x = rng.below(img.width() as usize) as u32;
        let y = rng.below(img.height() as usize) as u32;
        img.get_pixel(x, y).0.map(|c| c as f32 / 255.0)
    }

    /// A random `p`×`p` crop of `img`: without jitter a plain crop; with it,
    /// a random square of side `p · (1 + jitter) / zoom` (zoom uniform in
    /// `[1, 1 + jitter]`) resized down to `p`.
    fn crop(&self, img: &RgbImage, rng: &mut Rng, p: usize) -> RgbImage {
        let j = self.augment.jitter;
        let zoom = match j > 0.0 {
            true => 1.0 + j * rng.unit() as f64,
            false => 1.0,
        };
        let side = ((p as f64 * (1.0 + j) / zoom).round() as usize)
            .clamp(p, img.width().min(img.height()) as usize);
        let x = rng.below((img.width() as usize - side) + 1) as u32;
        let y = rng.below((img.height() as usize - side) + 1) as u32;
        let crop = image::imageops::crop_imm(img, x, y, side as u32, side as u32).to_image();
        match side == p {
            true => crop,
            false => resize(&crop, p as u32, p as u32, FilterType::CatmullRom),
        }
    }
}

/// The six orders of the RGB channels.
const ORDERS: [[usize; 3]; 6] = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
];

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

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder holding one photo made by `f`.
    fn photo_dir(w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 3]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        RgbImage::from_fn(w, h, |x, y| image::Rgb(f(x, y)))
            .save(dir.path().join("p.png"))
            .unwrap();
        dir
    }

    #[test]
    fn channel_order_permutes_whole_planes_in_every_order() {
        let dir = photo_dir(64, 48, |_, _| [10, 100, 200]);
        let augment = Augment {
            channel_order: true,
            ..Default::default()
        };
        let photos = InpaintPhotos::load_at(dir.path(), 32, &[1.0], augment).unwrap();
        let b = photos.batch(&mut Rng(7), 48, 32);
        let n = 32 * 32;
        let mut seen = std::collections::HashSet::new();
        for t in b.truth.chunks(3 * n) {
            let first: Vec<u8> = t.chunks(n).map(|p| (p[0] * 255.0).round() as u8).collect();
            for (c, p) in t.chunks(n).enumerate() {
                assert!(p.iter().all(|&v| v == p[0]), "plane {c} is constant");
            }
            let mut sorted = first.clone();
            sorted.sort();
            assert_eq!(sorted, [10, 100, 200]);
            seen.insert(first);
        }
        assert_eq!(seen.len(), 6, "all six orders drawn");
    }

    #[test]
    fn jitter_zooms_in_by_at_most_its_range() {
        // A horizontal ramp of 2 grey levels per pixel, kept at short side
        // 48 = 32 × (1 + 0.5): a crop is a square of 32 to 48 pixels shrunk
        // to 32, so its ramp climbs 2 to 3 levels per pixel (1 to 1.5 after
        // dividing by 2), flipped or not.
        let dir = photo_dir(120, 48, |x, _| [2 * x as u8; 3]);
        let augment = Augment {
            jitter: 0.5,
            ..Default::default()
        };
        let photos = InpaintPhotos::load_at(dir.path(), 32, &[1.0], augment).unwrap();
        let b = photos.batch(&mut Rng(3), 32, 32);
        let spans: Vec<f32> = b
            .truth
            .chunks(3 * 32 * 32)
            .map(|t| (t[16 * 32 + 28] - t[16 * 32 + 3]).abs() * 255.0 / 2.0 / 25.0)
            .collect();
        for s in &spans {
            assert!((0.97..=1.53).contains(s), "pixel step {s} within 1..1.5");
        }
        let (lo, hi) = spans
            .iter()
            .fold((f32::MAX, 0.0f32), |(a, b), &s| (a.min(s), b.max(s)));
        assert!(
            lo < 1.15 && hi > 1.35,
            "zooms spread over the range: {lo}..{hi}"
        );
    }

    #[test]
    fn dead_leaves_replace_their_share_of_the_crops_in_the_photos_colours() {
        // A flat photo: a photo crop is all one grey, a dead leaves image
        // has shaded disks and edges, every colour near that grey.
        let dir = photo_dir(64, 48, |_, _| [90, 90, 90]);
        let synthetic = |share: f64| -> usize {
            let augment = Augment {
                dead_leaves: share,
                ..Default::default()
            };
            let photos = InpaintPhotos::load_at(dir.path(), 32, &[1.0], augment).unwrap();
            let b = photos.batch(&mut Rng(13), 64, 32);
            b.truth
                .chunks(3 * 32 * 32)
                .filter(|t| {
                    let levels: Vec<u8> = t.iter().map(|&v| (v * 255.0).round() as u8).collect();
                    assert!(levels.iter().all(|l| (20..=160).contains(l)), "{levels:?}");
                    levels.iter().any(|&l| l != 90)
                })
                .count()
        };
        assert_eq!(synthetic(0.0), 0);
        assert_eq!(synthetic(1.0), 64);
        let half = synthetic(0.5);
        assert!((20..=44).contains(&half), "{half} of 64");
    }

    #[test]
    fn hole_bins_limit_the_masks_to_their_ratios() {
        let dir = photo_dir(64, 48, |x, y| [x as u8, y as u8, 9]);
        let ratios = |hole_bins: Vec<HoleBin>| -> Vec<f32> {
            let augment = Augment {
                hole_bins,
                ..Default::default()
            };
            let photos = InpaintPhotos::load_at(dir.path(), 32, &[1.0], augment).unwrap();
            let b = photos.batch(&mut Rng(5), 40, 32);
            b.mask
                .chunks(32 * 32)
                .map(|m| m.iter().sum::<f32>() / (32 * 32) as f32)
                .collect()
        };
        let some = ratios(vec![HoleBin::new(20), HoleBin::new(30)]);
        assert!(some.iter().all(|r| (0.2..0.4).contains(r)), "{some:?}");
        assert!(some.iter().any(|&r| r < 0.3) && some.iter().any(|&r| r >= 0.3));
        let all = ratios(Vec::new());
        assert!(all.iter().any(|&r| r < 0.1) && all.iter().any(|&r| r >= 0.4));
    }
}
