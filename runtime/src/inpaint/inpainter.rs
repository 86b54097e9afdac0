//! Inpainting models (card task `inpainting`): fill the holes of a
//! [`Mask`] in an image of any size.
//!
//! The graph takes `[1, 4, S, S]` — RGB in [0, 1] with its holes prefilled by
//! [`prefill`], then the mask (1 = hole) — and returns `[1, 3, S, S]`, the
//! prefill plus the learned residual; `S` is the card's `runtime.tile`.
//!
//! Each hole component gets a context window ([`window`]: at least S wide,
//! twice the hole's longest side). Components that share a window run once.
//! A window of exactly S×S runs as is. Other windows are resized to S×S.
//! The model's residual over the prefill is stretched back (bilinear, sign
//! kept) and added to the window's prefill at native resolution
//! ([`cascade_prefill`], coarse to fine), feathered over a border as wide
//! as the resize factor. Only hole pixels are written: every other pixel of
//! the output is the input's own value, bit for bit.
//!
//! Memory: there is no float copy of the image, and
//! [`Inpainter::inpaint_in_place`] makes no copy at all. A window is read
//! from the output image as it fills, one colour plane per thread at a
//! time; the stretched residual and the feather weights are computed at
//! its hole pixels only, and only those pixels' fills are kept until they
//! are written. So a later window sees an earlier one's fill at the
//! image's bit depth.
//!
//! ```no_run
//! use edgegan_runtime::{inpaint::{Inpainter, Mask}, io, Precision};
//! use std::path::Path;
//! let model = Inpainter::load(Path::new("models/inpaint"), Precision::F32)?;
//! let image = io::read_image(Path::new("photo.png"), &io::ImageLimits::input())?;
//! let mask = Mask::load(Path::new("mask.png"), (image.width(), image.height()))?;
//! let filled = model.inpaint(&image, &mask)?;
//! # Ok::<(), edgegan_runtime::RuntimeError>(())
//! ```

use image::imageops::{resize, FilterType};
use image::{
    DynamicImage, GenericImage, GenericImageView, ImageBuffer, Luma, LumaA, Pixel, Rgb, Rgba,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tract_onnx::prelude::*;

use crate::card::{ModelCard, Precision, Task};
use crate::engine::plan::{check_embedded, optimized_plan, read_model_dir, Plan};
use crate::engine::threads::{per_plane, Pool};
use crate::error::{Result, RuntimeError};
use crate::inpaint::cascade_prefill;
use crate::inpaint::Mask;
use crate::inpaint::{bilinear, components, feather, prefill, stretch_taps, window, Rect};

/// A loaded inpainting model with its plan for the working size.
pub struct Inpainter {
    card: ModelCard,
    precision: Precision,
    onnx_path: PathBuf,
    graph: InferenceModel,
    plan: Arc<Plan>,
    size: usize,
    pool: Option<Pool>,
}

/// What runs the network on one window for [`Inpainter::inpaint_with`]: it
/// takes the graph's input, planar 4×S×S (the prefilled RGB, then the mask),
/// and returns its output, planar 3×S×S.
pub type WindowNet<'a> = dyn FnMut(Vec<f32>) -> Result<Vec<f32>> + 'a;

impl Inpainter {
    /// Load the model in `dir` at `precision`, checking card and checksum.
    pub fn load(dir: &Path, precision: Precision) -> Result<Inpainter> {
        let (card, path, bytes) = read_model_dir(dir, precision)?;
        Inpainter::from_bytes(card, precision, path, &bytes)
    }

    /// A model embedded in the binary (`label` names it in errors).
    pub fn from_embedded(
        label: &str,
        card_toml: &str,
        onnx: &[u8],
        precision: Precision,
    ) -> Result<Inpainter> {
        let (card, path) = check_embedded(label, card_toml, onnx, precision)?;
        Inpainter::from_bytes(card, precision, path, onnx)
    }

    /// Build from a card and ONNX bytes already in memory (no checksum
    /// check; `onnx_path` names the graph in errors). A graph that makes
    /// tract panic is an [`RuntimeError::Onnx`].
    pub fn from_bytes(
        card: ModelCard,
        precision: Precision,
        onnx_path: PathBuf,
        bytes: &[u8],
    ) -> Result<Inpainter> {
        let path = onnx_path.clone();
        crate::error::untrusted(&path, || {
            Self::from_bytes_unguarded(card, precision, onnx_path, bytes)
        })
    }

    /// Build from a card and ONNX bytes already in memory (no checksum
    /// check; `onnx_path` names the graph in errors).
    fn from_bytes_unguarded(
        card: ModelCard,
        precision: Precision,
        onnx_path: PathBuf,
        bytes: &[u8],
    ) -> Result<Inpainter> {
        if card.task != Task::Inpainting {
            return Err(RuntimeError::mismatch(
                onnx_path.with_file_name("card.toml"),
                format!("model {} is for {:?}, not inpainting", card.name, card.task),
            ));
        }
        let size = card.runtime.tile;
        let err = |e| RuntimeError::onnx(&onnx_path, e);
        crate::engine::plan::tract_defaults();
        let graph = tract_onnx::onnx()
            .model_for_read(&mut &bytes[..])
            .map_err(err)?;
        let typed = typed_window(&graph, size).map_err(err)?;
        let out = typed.output_fact(0).map_err(err)?;
        if out.shape.as_concrete() != Some(&[1, 3, size, size][..]) {
            return Err(RuntimeError::mismatch(
                &onnx_path,
                format!(
                    "a 1x4x{size}x{size} input (RGB + mask) gives {:?}, expected [1, 3, {size}, {size}]",
                    out.shape
                ),
            ));
        }
        let plan = optimized_plan(
            &graph,
            window_fact(size),
            card.runtime.conv_path,
            &onnx_path,
        )?;
        Ok(Inpainter {
            card,
            precision,
            onnx_path,
            graph,
            plan,
            size,
            pool: None,
        })
    }

    /// The same model filling each image on `threads` cores ([`Pool`]: the
    /// network's matrix products and the fill's colour planes; the output
    /// does not change). With 1, the default, everything runs on the
    /// calling thread, which suits batches that give each core its own
    /// image.
    pub fn with_threads(mut self, threads: usize) -> Result<Inpainter> {
        self.pool = (threads > 1).then(|| Pool::new(threads)).transpose()?;
        Ok(self)
    }

    /// Threads each image is filled on ([`Inpainter::with_threads`]).
    pub fn threads(&self) -> usize {
        self.pool.as_ref().map_or(1, Pool::threads)
    }

    /// `f` on the model's pool, or here without one.
    fn par<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some(pool) => pool.install(f),
            None => f(),
        }
    }

    /// The graph typed for its `[1, 4, S, S]` input and decluttered: what
    /// another runtime (the GPU path) prepares.
    pub fn decluttered(&self) -> Result<TypedModel> {
        typed_window(&self.graph, self.size)
            .and_then(|g| g.into_decluttered())
            .map_err(|e| RuntimeError::onnx(&self.onnx_path, e))
    }

    /// A planar 4×S×S window (the prefilled RGB, then the mask) as the
    /// graph's `[1, 4, S, S]` input tensor.
    pub fn window_tensor(&self, input: &[f32]) -> Result<Tensor> {
        Tensor::from_shape(&[1, 4, self.size, self.size], input)
            .map_err(|e| RuntimeError::inference(&self.onnx_path, e))
    }

    /// The ONNX file (or embedded label) the model came from.
    pub fn onnx_path(&self) -> &Path {
        &self.onnx_path
    }

    /// The card.
    pub fn card(&self) -> &ModelCard {
        &self.card
    }

    /// The precision loaded.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Working size S: the model sees S×S windows.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Fill one S×S window: `rgb` is planar 3×S×S in [0, 1], `hole` S×S.
    /// Returns the model's planar 3×S×S output (holes filled; other pixels
    /// are the input's, up to the graph's arithmetic): what an export is
    /// checked against.
    pub fn run(&self, rgb: &[f32], hole: &[bool]) -> Result<Vec<f32>> {
        self.prefill_and_run(rgb.to_vec(), hole, &mut |x| self.cpu_net(&x))
    }

    /// The network on the CPU: the graph's planar 4×S×S input to its 3×S×S
    /// output (a [`WindowNet`]).
    pub fn cpu_net(&self, input: &[f32]) -> Result<Vec<f32>> {
        let err = |e| RuntimeError::inference(&self.onnx_path, e);
        let t = self.window_tensor(input)?;
        self.par(|| {
            let out = self.plan.run(tvec![t.into_tvalue()]).map_err(err)?;
            let view = out[0].try_as_plain_ram().map_err(err)?;
            Ok(view.as_slice::<f32>().map_err(err)?.to_vec())
        })
    }

    /// [`prefill`] an S×S window's holes (planar 3×S×S `input`), then `net`.
    fn prefill_and_run(
        &self,
        mut input: Vec<f32>,
        hole: &[bool],
        net: &mut WindowNet<'_>,
    ) -> Result<Vec<f32>> {
        self.par(|| prefill(&mut input, 3, self.size, self.size, hole));
        self.run_prefilled(input, hole, net)
    }

    /// `net` on a window whose holes are already [`prefill`]ed.
    fn run_prefilled(
        &self,
        mut input: Vec<f32>,
        hole: &[bool],
        net: &mut WindowNet<'_>,
    ) -> Result<Vec<f32>> {
        let n = self.size * self.size;
        assert_eq!((input.len(), hole.len()), (3 * n, n), "an S×S window");
        input.extend(hole.iter().map(|&o| if o { 1.0f32 } else { 0.0 }));
        net(input)
    }

    /// Fill a window of any size (planar 3×w×h, `hole` w×h), resizing to S×S
    /// and back where it differs (see the module documentation). Returns
    /// planar 3×w×h: the fill in the holes, the input elsewhere.
    pub fn fill_window(&self, rgb: &[f32], hole: &[bool], w: usize, h: usize) -> Result<Vec<f32>> {
        let n = w * h;
        assert_eq!((rgb.len(), hole.len()), (3 * n, n), "planes fit the window");
        let planes = |c: usize| rgb[c * n..(c + 1) * n].to_vec();
        let fills = self.fill_holes(&planes, hole, w, h, &mut |x| self.cpu_net(&x))?;
        let mut out = rgb.to_vec();
        for (plane, fill) in out.chunks_mut(n).zip(&fills) {
            let holes = plane.iter_mut().zip(hole).filter(|(_, &o)| o);
            for ((v, _), f) in holes.zip(fill) {
                *v = *f;
            }
        }
        Ok(out)
    }

    /// The fill of a `w`×`h` window's holes: per colour plane, the values of
    /// its hole pixels in raster order. `plane(c)` reads plane `c` of the
    /// window (w×h values in [0, 1]) when it is needed, so a window larger
    /// than S×S is held one plane per thread at a time: read, shrunk to S×S
    /// for the network, and read again to be prefilled at native resolution
    /// and take the network's residual.
    fn fill_holes(
        &self,
        plane: &(dyn Fn(usize) -> Vec<f32> + Sync),
        hole: &[bool],
        w: usize,
        h: usize,
        net: &mut WindowNet<'_>,
    ) -> Result<Vec<Vec<f32>>> {
        let s = self.size;
        // The hole pixels of plane `p` in raster order, each plus `add(k, i)`
        // (k its rank among the hole pixels, i its index in the window).
        let in_holes = |p: &[f32], add: &dyn Fn(usize, usize) -> f32| -> Vec<f32> {
            let holes = p.iter().zip(hole).enumerate().filter(|(_, (_, &o))| o);
            holes
                .enumerate()
                .map(|(k, (i, (v, _)))| v + add(k, i))
                .collect()
        };
        if (w, h) == (s, s) {
            let out = self.prefill_and_run((0..3).flat_map(plane).collect(), hole, net)?;
            return Ok(out
                .chunks(s * s)
                .map(|p| in_holes(p, &|_, _| 0.0))
                .collect());
        }
        let (prefill_small, small_hole) = self.par(|| {
            let mut small = per_plane(3, |c| resize_plane(&plane(c), w, h, s, s)).concat();
            let as_f32: Vec<f32> = hole.iter().map(|&o| o as u8 as f32).collect();
            let small_hole: Vec<bool> = resize_plane(&as_f32, w, h, s, s)
                .iter()
                .map(|&v| v > 0.01)
                .collect();
            prefill(&mut small, 3, s, s, &small_hole);
            (small, small_hole)
        });
        let out = self.run_prefilled(prefill_small.clone(), &small_hole, net)?;
        let residual: Vec<f32> = out.iter().zip(&prefill_small).map(|(o, p)| o - p).collect();
        Ok(self.par(|| {
            let ramp = feather(hole, w, h, (w.max(h) as f32 / s as f32).max(1.0));
            // The residual is stretched back bilinearly at the hole pixels
            // only, keeping its sign (an image resize would clamp it to
            // [0, 1]: a fill could only brighten the prefill).
            let (tx, ty) = (stretch_taps(w, s), stretch_taps(h, s));
            // The planes are independent, so one at a time is the same
            // prefill as all three at once, bit for bit.
            per_plane(3, |c| {
                let mut native = plane(c);
                cascade_prefill(&mut native, 1, w, h, hole, s);
                let res = &residual[c * s * s..(c + 1) * s * s];
                in_holes(&native, &|k, i| {
                    ramp[k] * bilinear(res, s, tx[i % w], ty[i / w])
                })
            })
        }))
    }

    /// The image with `mask`'s holes filled; pixels outside the mask keep
    /// their exact input values (alpha and bit depth included).
    pub fn inpaint(&self, image: &DynamicImage, mask: &Mask) -> Result<DynamicImage> {
        self.inpaint_with(image, mask, &mut |x| self.cpu_net(&x))
    }

    /// [`Inpainter::inpaint`] into `image` itself, without a copy of it:
    /// what a caller done with the input uses on a board with little
    /// memory. On an error, `image` may hold some windows' fills.
    pub fn inpaint_in_place(&self, image: &mut DynamicImage, mask: &Mask) -> Result<()> {
        self.fill_into(image, mask, &mut |x| self.cpu_net(&x))
    }

    /// [`Inpainter::inpaint`] with the network run by `net` (the GPU path
    /// passes its own); prefill, windows and composite stay on the CPU.
    pub fn inpaint_with(
        &self,
        image: &DynamicImage,
        mask: &Mask,
        net: &mut WindowNet<'_>,
    ) -> Result<DynamicImage> {
        let mut out = image.clone();
        self.fill_into(&mut out, mask, net)?;
        Ok(out)
    }

    /// Fill `mask`'s holes of `out` in place, window by window.
    fn fill_into(
        &self,
        out: &mut DynamicImage,
        mask: &Mask,
        net: &mut WindowNet<'_>,
    ) -> Result<()> {
        let (w, h) = (out.width() as usize, out.height() as usize);
        assert_eq!(
            mask.dimensions(),
            (w as u32, h as u32),
            "mask fits the image"
        );
        let mut remaining = mask.holes().to_vec();
        let (boxes, label) = components(&remaining, w, h);
        let mut groups: Vec<(Rect, Vec<u32>)> = Vec::new();
        for (id, b) in boxes.iter().enumerate() {
            let win = window(*b, w, h, self.size);
            match groups.iter_mut().find(|g| g.0 == win) {
                Some(g) => g.1.push(id as u32),
                None => groups.push((win, vec![id as u32])),
            }
        }
        // Windows read their context from the output as it is filled: a
        // later window sees an earlier one's fill at the image's depth.
        for (win, ids) in groups {
            let (ww, wh) = (win.width(), win.height());
            let at = |x: usize, y: usize| (win.y0 + y) * w + win.x0 + x;
            let hole: Vec<bool> = (0..ww * wh)
                .map(|i| remaining[at(i % ww, i / ww)])
                .collect();
            let fills = {
                let src: &DynamicImage = out;
                let planes = |c: usize| window_plane(src, win, c);
                self.fill_holes(&planes, &hole, ww, wh, net)?
            };
            let hole_pixels = (0..ww * wh).filter(|&i| hole[i]);
            for (k, i) in hole_pixels.enumerate() {
                let p = at(i % ww, i / ww);
                if !ids.contains(&label[p]) {
                    continue;
                }
                let v: [f32; 3] = std::array::from_fn(|c| fills[c][k]);
                put(out, (p % w) as u32, (p / w) as u32, v);
                remaining[p] = false;
            }
        }
        Ok(())
    }
}

/// Plane `c` of the window `win` of `img` in [0, 1], w×h values: converted
/// a row at a time as [`DynamicImage::to_rgb32f`] converts, without a float
/// copy of the whole image.
fn window_plane(img: &DynamicImage, win: Rect, c: usize) -> Vec<f32> {
    let (x0, ww) = (win.x0 as u32, win.width() as u32);
    let mut plane = Vec::with_capacity(win.width() * win.height());
    for y in win.y0..win.y1 {
        let row = img.crop_imm(x0, y as u32, ww, 1).to_rgb32f();
        plane.extend(row.pixels().map(|p| p[c]));
    }
    plane
}

/// The fact of the graph's input: one `[1, 4, S, S]` f32 window.
fn window_fact(size: usize) -> InferenceFact {
    f32::fact([1, 4, size, size]).into()
}

/// `graph` typed for its window input.
fn typed_window(graph: &InferenceModel, size: usize) -> TractResult<TypedModel> {
    graph
        .clone()
        .with_input_fact(0, window_fact(size))
        .and_then(|g| g.into_typed())
}

/// Write an RGB fill (in [0, 1]) at the image's own depth, keeping alpha.
fn put(out: &mut DynamicImage, x: u32, y: u32, v: [f32; 3]) {
    let q8 = |v: f32| (v * 255.0).round().clamp(0.0, 255.0) as u8;
    let q16 = |v: f32| (v * 65535.0).round().clamp(0.0, 65535.0) as u16;
    match out {
        DynamicImage::ImageRgb16(i) => i.put_pixel(x, y, Rgb(v.map(q16))),
        DynamicImage::ImageRgba16(i) => {
            let a = i.get_pixel(x, y)[3];
            i.put_pixel(x, y, Rgba([q16(v[0]), q16(v[1]), q16(v[2]), a]));
        }
        DynamicImage::ImageLuma16(i) => i.put_pixel(x, y, Rgb(v.map(q16)).to_luma()),
        DynamicImage::ImageLumaA16(i) => {
            let a = i.get_pixel(x, y)[1];
            i.put_pixel(x, y, LumaA([Rgb(v.map(q16)).to_luma()[0], a]));
        }
        other => {
            let a = other.get_pixel(x, y)[3];
            other.put_pixel(x, y, Rgba([q8(v[0]), q8(v[1]), q8(v[2]), a]));
        }
    }
}

/// Shrink one plane (values in [0, 1]) with the triangle filter: bilinear,
/// antialiased. (The resize clamps to [0, 1], so it is not for residuals.)
fn resize_plane(p: &[f32], w: usize, h: usize, nw: usize, nh: usize) -> Vec<f32> {
    let img: ImageBuffer<Luma<f32>, &[f32]> =
        ImageBuffer::from_raw(w as u32, h as u32, p).expect("plane fits its size");
    resize(&img, nw as u32, nh as u32, FilterType::Triangle).into_raw()
}

impl std::fmt::Debug for Inpainter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inpainter")
            .field("name", &self.card.name)
            .field("precision", &self.precision)
            .field("size", &self.size)
            .field("threads", &self.threads())
            .finish()
    }
}
