//! Training data for super-resolution: a folder of photos, optionally
//! downscaled first (clean HR targets from large, compressed wallpapers), and
//! random patches with dihedral augmentation. LR patches are made exactly as
//! the evaluation makes them (MATLAB-style antialiased bicubic, 8-bit).
//!
//! For clean training the LR photos can be made once
//! ([`PhotoSet::precompute_lr`]): a patch is then a crop of the photo's LR,
//! as evaluation downscales whole photos, instead of a downscale per patch.

use crate::common::{planar, Rng};
use crate::sr::degrade::Degradations;
use edgegan_runtime::io::{read_image, ImageLimits};
use edgegan_runtime::resample::{downscale_u8, upscale_f32};
use edgegan_runtime::RuntimeError;
use image::RgbImage;
use std::path::Path;

/// HR photos in memory.
#[derive(Debug)]
pub struct PhotoSet {
    /// The photos (RGB8).
    pub images: Vec<RgbImage>,
    /// Each photo's LR at a scale, when precomputed.
    lowres: Option<(usize, Vec<RgbImage>)>,
}

/// What the patches of a batch are: `lr_side` LR pixels square at
/// ×`scale`, the inputs degraded by `degrade` (targets stay clean).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatchSpec {
    /// LR side of a patch.
    pub lr_side: usize,
    /// Upscaling factor.
    pub scale: usize,
    /// Degradations of the LR inputs.
    pub degrade: Degradations,
}

/// Where one patch comes from: photo, top-left corner in HR pixels, dihedral
/// transform and the seed of its degradations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Draw {
    photo: usize,
    x: u32,
    y: u32,
    transform: usize,
    seed: u64,
}

/// The places of a batch's patches, with the spec they were drawn for
/// ([`PhotoSet::draw`]), so that [`PhotoSet::make`] makes them to the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draws {
    spec: PatchSpec,
    list: Vec<Draw>,
}

impl PhotoSet {
    /// [`PhotoSet::load`], refusing a set that leaves no photo of
    /// `min_side` pixels.
    pub fn load_nonempty(
        dir: &Path,
        prescale: usize,
        min_side: u32,
    ) -> Result<PhotoSet, crate::error::TrainError> {
        let set = Self::load(dir, prescale, min_side)?;
        if set.images.is_empty() {
            return Err(crate::error::TrainError::Config(format!(
                "{}: no photo is at least {min_side} px after prescale {prescale}",
                dir.display()
            )));
        }
        Ok(set)
    }

    /// Load every photo under `dir`, downscaled by `prescale` (1 = as is),
    /// skipping those smaller than `min_side` afterwards.
    pub fn load(dir: &Path, prescale: usize, min_side: u32) -> Result<PhotoSet, RuntimeError> {
        let paths = edgegan_runtime::io::image_files(dir)?;
        let mut images = Vec::new();
        for p in paths {
            let img = read_image(&p, &ImageLimits::input())?.to_rgb8();
            let img = if prescale > 1 {
                let (w, h) = (
                    img.width() as usize / prescale * prescale,
                    img.height() as usize / prescale * prescale,
                );
                let cropped = image::imageops::crop_imm(&img, 0, 0, w as u32, h as u32).to_image();
                let data = downscale_u8(cropped.as_raw(), w, h, 3, prescale);
                RgbImage::from_raw((w / prescale) as u32, (h / prescale) as u32, data)
                    .expect("sizes agree")
            } else {
                img
            };
            if img.width() >= min_side && img.height() >= min_side {
                images.push(img);
            }
        }
        Ok(PhotoSet {
            images,
            lowres: None,
        })
    }

    /// Downscale every photo ×`scale` once (its top-left part whose sides
    /// are multiples of `scale`), so that clean batches at that scale crop
    /// LR patches instead of downscaling each. Batches with degradations,
    /// or at another scale, still make their LR per patch.
    pub fn precompute_lr(&mut self, scale: usize) {
        use rayon::prelude::*;
        let lr = self
            .images
            .par_iter()
            .map(|img| {
                let (w, h) = (img.width() as usize / scale, img.height() as usize / scale);
                let crop =
                    image::imageops::crop_imm(img, 0, 0, (w * scale) as u32, (h * scale) as u32)
                        .to_image();
                let data = downscale_u8(crop.as_raw(), w * scale, h * scale, 3, scale);
                RgbImage::from_raw(w as u32, h as u32, data).expect("sizes agree")
            })
            .collect();
        self.lowres = Some((scale, lr));
    }

    /// The precomputed LR photos, if they serve patches of `spec`.
    fn lowres_for(&self, spec: &PatchSpec) -> Option<&[RgbImage]> {
        match &self.lowres {
            Some((s, lr)) if *s == spec.scale && !spec.degrade.any() => Some(lr),
            _ => None,
        }
    }
}

/// A batch of patches as NCHW f32 in [0, 1].
#[derive(Debug, Clone)]
pub struct Batch {
    /// Patches in the batch.
    pub n: usize,
    /// LR side.
    pub lr_side: usize,
    /// Upscaling factor.
    pub scale: usize,
    /// LR inputs, n×3×p×p.
    pub lr: Vec<f32>,
    /// Bicubic upscale of the LR inputs, n×3×sp×sp, unrounded (as the
    /// exported graph computes it).
    pub bicubic: Vec<f32>,
    /// HR targets, n×3×sp×sp.
    pub hr: Vec<f32>,
}

/// Apply one of the 8 dihedral transforms to a square RGB patch.
fn dihedral(p: &RgbImage, t: usize) -> RgbImage {
    let r = match t % 4 {
        0 => p.clone(),
        1 => image::imageops::rotate90(p),
        2 => image::imageops::rotate180(p),
        _ => image::imageops::rotate270(p),
    };
    if t >= 4 {
        image::imageops::flip_horizontal(&r)
    } else {
        r
    }
}

impl PhotoSet {
    /// `n` random patches of `spec`: [`PhotoSet::draw`] then
    /// [`PhotoSet::make`].
    pub fn batch(&self, rng: &mut Rng, n: usize, spec: &PatchSpec) -> Batch {
        self.make(&self.draw(rng, n, spec))
    }

    /// Where each of `n` patches of `spec` comes from (photo, position,
    /// transform, and the seed of its degradations), drawn from `rng` in
    /// order. With LR photos precomputed for the spec the corners fall on
    /// multiples of its scale.
    pub fn draw(&self, rng: &mut Rng, n: usize, spec: &PatchSpec) -> Draws {
        let &PatchSpec { lr_side, scale, .. } = spec;
        let grid = self.lowres_for(spec).is_some();
        let hr_side = lr_side * scale;
        let list = (0..n)
            .map(|_| {
                let photo = rng.below(self.images.len());
                let img = &self.images[photo];
                let (x, y) = match grid {
                    true => (
                        rng.below(img.width() as usize / scale - lr_side + 1) * scale,
                        rng.below(img.height() as usize / scale - lr_side + 1) * scale,
                    ),
                    false => (
                        rng.below((img.width() as usize - hr_side) + 1),
                        rng.below((img.height() as usize - hr_side) + 1),
                    ),
                };
                Draw {
                    photo,
                    x: x as u32,
                    y: y as u32,
                    transform: rng.below(8),
                    seed: rng.next_u64(),
                }
            })
            .collect();
        Draws { spec: *spec, list }
    }

    /// The batch of `draws`, made in parallel on rayon's pool (the same
    /// batch whatever the thread count). Making patches one by one left a
    /// GPU waiting: 0.56 s a step at ×4, batch 64, almost all of it
    /// resampling.
    pub fn make(&self, draws: &Draws) -> Batch {
        use rayon::prelude::*;
        let PatchSpec {
            lr_side,
            scale,
            ref degrade,
        } = draws.spec;
        let hr_side = lr_side * scale;
        let lowres = self.lowres_for(&draws.spec);
        let patches: Vec<(Vec<u8>, Vec<f32>, RgbImage)> = draws
            .list
            .par_iter()
            .map(|d| {
                let side = hr_side as u32;
                let crop = image::imageops::crop_imm(&self.images[d.photo], d.x, d.y, side, side);
                let hr = dihedral(&crop.to_image(), d.transform);
                let lr = match (lowres, degrade.any()) {
                    (Some(lr), _) => {
                        let (x, y, s) = (d.x / scale as u32, d.y / scale as u32, lr_side as u32);
                        let crop = image::imageops::crop_imm(&lr[d.photo], x, y, s, s).to_image();
                        dihedral(&crop, d.transform).into_raw()
                    }
                    (None, false) => downscale_u8(hr.as_raw(), hr_side, hr_side, 3, scale),
                    (None, true) => {
                        let mut rng = Rng(d.seed);
                        let blurred = degrade.before(&mut rng, hr.clone());
                        let lr = downscale_u8(blurred.as_raw(), hr_side, hr_side, 3, scale);
                        degrade.after(&mut rng, lr, lr_side as u32)
                    }
                };
                let bic = upscale_f32(&lr, lr_side, lr_side, 3, scale);
                (lr, bic, hr)
            })
            .collect();
        let n = draws.list.len();
        let mut b = Batch {
            n,
            lr_side,
            scale,
            lr: Vec::new(),
            bicubic: Vec::new(),
            hr: Vec::new(),
        };
        for (lr, bic, hr) in &patches {
            planar(lr, lr_side * lr_side, &mut b.lr);
            planar(bic, hr_side * hr_side, &mut b.bicubic);
            planar(hr.as_raw(), hr_side * hr_side, &mut b.hr);
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> PhotoSet {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/astronaut.png");
        let img = read_image(&src, &ImageLimits::input()).unwrap().to_rgb8();
        // An odd size, so the LR photo drops a partial block.
        let img = image::imageops::crop_imm(&img, 0, 0, 203, 190).to_image();
        PhotoSet {
            images: vec![img],
            lowres: None,
        }
    }

    /// A patch cropped from the precomputed LR equals the downscale of its
    /// HR patch wherever the bicubic window stays inside the patch (the
    /// taps are the same numbers), for every transform; at the border the
    /// photo's LR sees the real neighbours where a patch replicates its edge.
    #[test]
    fn precomputed_patches_match_per_patch_downscales_inside() {
        for scale in [2, 4] {
            let side = 12;
            let spec = PatchSpec {
                lr_side: side,
                scale,
                degrade: Degradations::default(),
            };
            let plain = set();
            let mut pre = set();
            pre.precompute_lr(scale);
            let draws = pre.draw(&mut Rng(9), 16, &spec);
            assert!(draws
                .list
                .iter()
                .all(|d| d.x % scale as u32 == 0 && d.y % scale as u32 == 0));
            assert_eq!(
                draws
                    .list
                    .iter()
                    .map(|d| d.transform)
                    .collect::<std::collections::BTreeSet<_>>()
                    .len(),
                8
            );
            let (a, b) = (pre.make(&draws), plain.make(&draws));
            assert_eq!(a.hr, b.hr);
            let mut border_differs = false;
            for (i, (p, q)) in a.lr.iter().zip(&b.lr).enumerate() {
                let (y, x) = ((i / side) % side, i % side);
                if (2..side - 2).contains(&y) && (2..side - 2).contains(&x) {
                    assert_eq!(p, q, "x{scale} value {i}");
                } else {
                    border_differs |= p != q;
                }
            }
            assert!(border_differs, "x{scale}: the border sees the photo");
        }
    }

    /// Degraded batches ignore the precomputed LR: the same draws give the
    /// same batch with and without it.
    #[test]
    fn degraded_batches_do_not_use_the_precomputed_lr() {
        let spec = PatchSpec {
            lr_side: 16,
            scale: 2,
            degrade: "blur,noise,jpeg".parse().unwrap(),
        };
        let plain = set();
        let mut pre = set();
        pre.precompute_lr(2);
        let a = pre.batch(&mut Rng(3), 4, &spec);
        let b = plain.batch(&mut Rng(3), 4, &spec);
        assert_eq!((a.lr, a.hr), (b.lr, b.hr));
    }

    /// A batch's bicubic planes are the unrounded upscale of its own LR
    /// patches (what the exported graph adds the residual to), not the
    /// 8-bit image `upscale_u8` makes.
    #[test]
    fn batch_bicubic_is_the_unrounded_upscale_of_its_lr() {
        use edgegan_runtime::resample::upscale_u8;
        let (side, scale) = (10, 4);
        let spec = PatchSpec {
            lr_side: side,
            scale,
            degrade: Degradations::default(),
        };
        let b = set().batch(&mut Rng(5), 3, &spec);
        let (lr_px, hr_px) = (side * side, side * side * scale * scale);
        let (mut want, mut rounded) = (Vec::new(), Vec::new());
        for i in 0..b.n {
            let planes = &b.lr[i * 3 * lr_px..(i + 1) * 3 * lr_px];
            let lr: Vec<u8> = (0..lr_px * 3)
                .map(|k| (planes[(k % 3) * lr_px + k / 3] * 255.0).round() as u8)
                .collect();
            planar(&upscale_f32(&lr, side, side, 3, scale), hr_px, &mut want);
            planar(&upscale_u8(&lr, side, side, 3, scale), hr_px, &mut rounded);
        }
        assert_eq!(b.bicubic, want);
        assert_ne!(b.bicubic, rounded);
    }
}
