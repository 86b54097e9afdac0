//! Seam-free tiled upscaling: windows from [`crate::engine::tiling`], one plan per
//! window shape, one [`SimpleState`] per worker thread, tiles written straight
//! into the output buffer (memory = input + output + one window per worker).
//! Tiles run in parallel; when an image has fewer tiles than workers, the
//! cores left over run each tile's matrix products ([`crate::engine::threads::Pool`]),
//! so a small image is not left on one core. tract splits a product by
//! output panels, never inside a sum: the output is the same either way.

use image::{DynamicImage, ImageBuffer, Pixel, Primitive};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tract_onnx::prelude::*;

use crate::engine::plan::Plan;
use crate::engine::slots::Slots;
use crate::engine::threads::Pool;
use crate::engine::tiling::{Layout, Tile};
use crate::error::{Result, RuntimeError};
use crate::io::ImageLimits;
use crate::resample::UpscaleTaps;
use crate::sr::model::{Model, PLAN_SLOTS};

/// A pixel channel type the runtime reads and writes (8-bit, 16-bit, f32).
pub trait Sample: Primitive + Send + Sync + 'static {
    /// Full-scale value as f32.
    const FULL: f32;
    /// To `[0, 1]`.
    fn to_unit(self) -> f32;
    /// From `[0, 1]` (clamped, rounded to nearest).
    fn from_unit(v: f32) -> Self;
}

macro_rules! sample {
    ($t:ty) => {
        impl Sample for $t {
            const FULL: f32 = <$t>::MAX as f32;
            #[inline]
            fn to_unit(self) -> f32 {
                self as f32 / Self::FULL
            }
            #[inline]
            fn from_unit(v: f32) -> Self {
                (v.clamp(0.0, 1.0) * Self::FULL).round() as $t
            }
        }
    };
}
sample!(u8);
sample!(u16);

/// f32 samples pass through unchanged (no clamping, no rounding), so tiled
/// and whole-image runs can be compared exactly.
impl Sample for f32 {
    const FULL: f32 = 1.0;
    #[inline]
    fn to_unit(self) -> f32 {
        self
    }
    #[inline]
    fn from_unit(v: f32) -> Self {
        v
    }
}

/// Most worker threads an [`Upscaler`] runs (more are clamped to this): the
/// worker table has a fixed capacity and never allocates.
pub const MAX_THREADS: usize = 64;

/// Per-thread inference state, kept across tiles and images (one per plan slot).
#[derive(Default)]
struct Worker {
    states: Slots<(usize, usize), TypedSimpleState, PLAN_SLOTS>,
    input: Option<Arc<Tensor>>,
}

/// Cores available to this process (1 if unknown): the default worker count.
pub fn available_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Tiling settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpscaleOptions {
    /// Core tile size in input pixels (`None`: the card's `runtime.tile`).
    pub tile: Option<usize>,
    /// Worker threads (tiles run in parallel; with fewer tiles than
    /// threads, the rest share each tile's matrix products; at most
    /// [`MAX_THREADS`]).
    pub threads: usize,
}

impl Default for UpscaleOptions {
    fn default() -> Self {
        UpscaleOptions {
            tile: None,
            threads: 1,
        }
    }
}

/// Runs a super-resolution [`Model`] over whole images.
pub struct Upscaler {
    model: Arc<Model>,
    tile: usize,
    workers: heapless::Vec<Mutex<Worker>, MAX_THREADS>,
    limits: ImageLimits,
    tiles_run: AtomicUsize,
}

impl Upscaler {
    /// An upscaler for `model` with `options`.
    pub fn new(model: Arc<Model>, options: UpscaleOptions) -> Upscaler {
        let tile = options.tile.unwrap_or(model.card().runtime.tile).max(1);
        let workers = (0..options.threads.clamp(1, MAX_THREADS))
            .map(|_| Mutex::default())
            .collect();
        Upscaler {
            model,
            tile,
            workers,
            limits: ImageLimits::default(),
            tiles_run: AtomicUsize::new(0),
        }
    }

    /// Replace the output size limits.
    pub fn with_limits(mut self, limits: ImageLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Core tile size in use.
    pub fn tile(&self) -> usize {
        self.tile
    }

    /// Tiles run since this upscaler was made.
    pub fn tiles_run(&self) -> usize {
        self.tiles_run.load(Ordering::Relaxed)
    }

    /// The tile layout this upscaler uses for a `width`×`height` input.
    pub fn layout(&self, width: usize, height: usize) -> Layout {
        Layout::new(width, height, self.tile, self.model.halo())
    }

    /// Upscale `image` (read from `source`, named in errors). 8/16-bit gray,
    /// RGB and RGBA keep their format; other formats are converted first.
    pub fn upscale(&self, image: &DynamicImage, source: &Path) -> Result<DynamicImage> {
        let s = self.model.scale() as u64;
        let (w, h) = (image.width() as u64 * s, image.height() as u64 * s);
        self.limits.check(source, "output", w, h)?;
        Ok(match image {
            DynamicImage::ImageLuma8(i) => DynamicImage::ImageLuma8(self.run(i)?),
            DynamicImage::ImageRgb8(i) => DynamicImage::ImageRgb8(self.run(i)?),
            DynamicImage::ImageRgba8(i) => DynamicImage::ImageRgba8(self.run(i)?),
            DynamicImage::ImageLuma16(i) => DynamicImage::ImageLuma16(self.run(i)?),
            DynamicImage::ImageRgb16(i) => DynamicImage::ImageRgb16(self.run(i)?),
            DynamicImage::ImageRgba16(i) => DynamicImage::ImageRgba16(self.run(i)?),
            DynamicImage::ImageLumaA8(_) => DynamicImage::ImageRgba8(self.run(&image.to_rgba8())?),
            DynamicImage::ImageLumaA16(_) | DynamicImage::ImageRgba32F(_) => {
                DynamicImage::ImageRgba16(self.run(&image.to_rgba16())?)
            }
            _ => DynamicImage::ImageRgb16(self.run(&image.to_rgb16())?),
        })
    }

    /// Upscale one image buffer of gray (1), RGB (3) or RGBA (4) channels.
    pub fn run<P, S>(&self, input: &ImageBuffer<P, Vec<S>>) -> Result<ImageBuffer<P, Vec<S>>>
    where
        P: Pixel<Subpixel = S>,
        S: Sample,
    {
        let (w, h) = (input.width() as usize, input.height() as usize);
        let s = self.model.scale();
        let mut out = ImageBuffer::<P, Vec<S>>::new((w * s) as u32, (h * s) as u32);
        if w == 0 || h == 0 {
            return Ok(out);
        }
        let channels = P::CHANNEL_COUNT as usize;
        let alpha = (channels == 4).then(|| UpscaleTaps::new(s));
        let frame = Frame {
            data: input.as_raw(),
            width: w,
            height: h,
            channels,
            alpha,
        };
        let layout = self.layout(w, h);
        let plan = self.model.plan(layout.window.0, layout.window.1)?;
        // Split the output into the row bands of the layout (disjoint slices).
        let row_len = w * s * frame.channels;
        let mut rest: &mut [S] = &mut out;
        let mut bands = Vec::with_capacity(layout.bands.len());
        for b in &layout.bands {
            let (band, tail) = std::mem::take(&mut rest).split_at_mut(b.core_len * s * row_len);
            bands.push(Mutex::new(band));
            rest = tail;
        }
        let next = AtomicUsize::new(0);
        let first_error = Mutex::new(None);
        let work = |worker: &Mutex<Worker>| {
            let mut worker = worker.lock().unwrap_or_else(|p| p.into_inner());
            while let Some(tile) = layout.tiles.get(next.fetch_add(1, Ordering::Relaxed)) {
                let result = self.run_tile(&mut worker, &plan, &frame, tile).map(|t| {
                    let mut band = bands[tile.band].lock().unwrap_or_else(|p| p.into_inner());
                    frame.write_tile(&t, tile, s, &mut band);
                });
                if let Err(e) = result {
                    first_error
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get_or_insert(e);
                    next.store(layout.tiles.len(), Ordering::Relaxed);
                }
            }
        };
        let threads = self.workers.len().min(layout.tiles.len());
        // Workers without a tile of their own go to the tiles' matrix products.
        let pools = match self.workers.len() / threads.max(1) {
            0 | 1 => Vec::new(),
            per_tile => (0..threads)
                .map(|_| Pool::new(per_tile))
                .collect::<Result<Vec<_>>>()?,
        };
        let run = |k: usize| match pools.get(k) {
            Some(pool) => pool.install(|| work(&self.workers[k])),
            None => work(&self.workers[k]),
        };
        if threads <= 1 {
            run(0);
        } else {
            std::thread::scope(|scope| {
                for k in 0..threads {
                    let run = &run;
                    scope.spawn(move || run(k));
                }
            });
        }
        match first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    fn run_tile<S: Sample>(
        &self,
        worker: &mut Worker,
        plan: &Arc<Plan>,
        frame: &Frame<S>,
        tile: &Tile,
    ) -> Result<TValue> {
        let err = |e| RuntimeError::inference(self.model.onnx_path(), e);
        let shape = [1, 3, tile.y.window_len, tile.x.window_len];
        let mut input = match worker.input.take() {
            Some(t) if t.shape() == shape => t,
            _ => Arc::new(Tensor::zero::<f32>(&shape).map_err(err)?),
        };
        let tensor = match Arc::get_mut(&mut input) {
            Some(t) => t,
            None => {
                input = Arc::new(Tensor::zero::<f32>(&shape).map_err(err)?);
                Arc::get_mut(&mut input).expect("a new Arc is unique")
            }
        };
        let mut view = tensor.try_as_plain_ram_mut().map_err(err)?;
        frame.read_window(tile, view.as_slice_mut::<f32>().map_err(err)?);
        let key = (tile.y.window_len, tile.x.window_len);
        let state = worker
            .states
            .get_or_try_insert(key, || TypedSimpleState::new(plan).map_err(err))?;
        let mut outputs = state.run(tvec![input.clone().into_tvalue()]).map_err(err)?;
        worker.input = Some(input);
        self.tiles_run.fetch_add(1, Ordering::Relaxed);
        Ok(outputs.remove(0))
    }
}

/// An interleaved input image seen as planes.
struct Frame<'a, S> {
    data: &'a [S],
    width: usize,
    height: usize,
    channels: usize,
    /// Bicubic taps for the alpha channel of RGBA images.
    alpha: Option<UpscaleTaps>,
}

impl<S: Sample> Frame<'_, S> {
    /// Fill a 1×3×wh×ww tensor (CHW) with the window of `tile`, in [0, 1].
    fn read_window(&self, tile: &Tile, dst: &mut [f32]) {
        let (wh, ww) = (tile.y.window_len, tile.x.window_len);
        for c in 0..3 {
            let src_c = if self.channels == 1 { 0 } else { c };
            for y in 0..wh {
                let row = (tile.y.window_start + y) * self.width;
                let dst_row = &mut dst[(c * wh + y) * ww..][..ww];
                for (x, d) in dst_row.iter_mut().enumerate() {
                    let px = row + tile.x.window_start + x;
                    *d = self.data[px * self.channels + src_c].to_unit();
                }
            }
        }
    }

    /// Copy the core of a model output into the band's rows of the output image.
    fn write_tile(&self, out: &Tensor, tile: &Tile, s: usize, band: &mut [S]) {
        let view = out.try_as_plain_ram().expect("tract outputs live in RAM");
        let out = view.as_slice::<f32>().expect("the plan outputs f32");
        let (oh, ow) = (tile.y.window_len * s, tile.x.window_len * s);
        let plane = oh * ow;
        let out_w = self.width * s;
        let cn = self.channels;
        let (y0, x0) = (tile.y.core_start * s, tile.x.core_start * s);
        let (ly0, lx0) = (
            (tile.y.core_start - tile.y.window_start) * s,
            (tile.x.core_start - tile.x.window_start) * s,
        );
        for dy in 0..tile.y.core_len * s {
            let src_row = (ly0 + dy) * ow + lx0;
            let dst_row = &mut band[(dy * out_w + x0) * cn..][..tile.x.core_len * s * cn];
            for (dx, px) in dst_row.chunks_exact_mut(cn).enumerate() {
                let i = src_row + dx;
                let (r, g, b) = (out[i], out[plane + i], out[2 * plane + i]);
                if cn == 1 {
                    px[0] = S::from_unit(0.299 * r + 0.587 * g + 0.114 * b);
                    continue;
                }
                px[0] = S::from_unit(r);
                px[1] = S::from_unit(g);
                px[2] = S::from_unit(b);
                if let Some(taps) = &self.alpha {
                    let get =
                        |x: usize, y: usize| self.data[(y * self.width + x) * 4 + 3].to_unit();
                    px[3] =
                        S::from_unit(taps.sample2(get, self.width, self.height, x0 + dx, y0 + dy));
                }
            }
        }
    }
}
