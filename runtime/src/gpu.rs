//! The desktop GPU path (feature `gpu`): the same ONNX files run on an NVIDIA
//! GPU through tract's CUDA runtime, for benchmarks against the board's CPU.
//!
//! tract-cuda loads cudart, cuBLAS, cuDNN and NVRTC at run time and compiles
//! its kernels on the first `prepare` of a process (about a minute), so
//! [`GpuPlan::new`] is slow once and the timed calls are not. The plan ends
//! in a pixel tail (×255, round, clamp, u8, NHWC) so that 8-bit RGB comes
//! back. Two ways to run: [`GpuPlan::run_image`] from host memory to host
//! memory (copies included, what a user with an image file gets), and
//! [`GpuPlan::run_resident`] on an input already on the GPU, leaving the
//! output there (the kernels alone).

use image::RgbImage;
use std::path::PathBuf;
use tract_gpu::tensor::{IntoDevice, LazyHostStorage};
use tract_onnx::prelude::*;
use tract_onnx::tract_core::runtime::{runtime_for_name, Runnable, State};

use crate::error::{Result, RuntimeError};
use crate::inpaint::Inpainter;
use crate::sr::Model;

// Link tract-cuda so its runtime registers itself under the name "cuda".
use tract_cuda as _;

/// Whether tract's CUDA runtime can run here; `Err` says why not (no driver,
/// no CUDA libraries on the library path, ...).
pub fn available() -> std::result::Result<(), String> {
    match runtime_for_name("cuda") {
        Ok(Some(rt)) => rt.check().map_err(crate::error::flat),
        Ok(None) => {
            Err("tract's CUDA runtime is not available (no CUDA driver or libraries found)".into())
        }
        Err(e) => Err(crate::error::flat(e)),
    }
}

/// A model prepared on the GPU for one fixed input shape.
pub struct GpuPlan {
    state: Box<dyn State>,
    path: PathBuf,
}

/// Append `round(clamp(y·255, 0, 255))` as u8, NCHW → NHWC, to the output.
fn append_to_pixels(m: &mut TypedModel) -> TractResult<()> {
    use tract_onnx::tract_core::ops::{cast::cast, change_axes::AxisOp, math};
    let k = |m: &mut TypedModel, name: &str, v: f32| m.add_const(name, tensor4(&[[[[v]]]]));
    let y = m.output_outlets()?[0];
    let c255 = k(m, "px_255", 255.0)?;
    let c0 = k(m, "px_0", 0.0)?;
    let y = m.wire_node("px_scale", math::mul(), &[y, c255])?;
    let y = m.wire_node("px_round", math::round(), &y)?;
    let y = m.wire_node("px_max", math::max(), &[y[0], c0])?;
    let y = m.wire_node("px_min", math::min(), &[y[0], c255])?;
    let y = m.wire_node("px_u8", cast(u8::datum_type()), &y)?;
    let y = m.wire_node("px_nhwc", AxisOp::Move(1, 3), &y)?;
    m.select_output_outlets(&y)
}

impl GpuPlan {
    /// Prepare `model` for a `h`×`w` input on the GPU (slow the first time a
    /// process does it: kernels are compiled then), its output converted to
    /// 8-bit RGB on the GPU so a quarter of the bytes cross back.
    pub fn new(model: &Model, h: usize, w: usize) -> Result<GpuPlan> {
        let path = model.onnx_path().to_path_buf();
        let mut graph = model.decluttered(h, w)?;
        append_to_pixels(&mut graph).map_err(|e| RuntimeError::inference(&path, e))?;
        GpuPlan::prepare(graph, path)
    }

    /// Prepare an inpainting model's network for its `[1, 4, S, S]` window,
    /// its f32 output left as is (the composite needs it at full precision):
    /// run it with [`GpuPlan::run_window`] as the
    /// [`WindowNet`](crate::inpaint::WindowNet) of
    /// [`Inpainter::inpaint_with`].
    pub fn for_inpainter(model: &Inpainter) -> Result<GpuPlan> {
        GpuPlan::prepare(model.decluttered()?, model.onnx_path().to_path_buf())
    }

    fn prepare(graph: TypedModel, path: PathBuf) -> Result<GpuPlan> {
        let err = |e: TractError| RuntimeError::inference(&path, e);
        available().map_err(|why| RuntimeError::inference(&path, why))?;
        let rt = runtime_for_name("cuda")
            .map_err(err)?
            .ok_or_else(|| RuntimeError::inference(&path, "no CUDA runtime"))?;
        let runnable: Box<dyn Runnable> = rt.prepare(graph).map_err(err)?;
        let state = runnable.spawn().map_err(err)?;
        Ok(GpuPlan { state, path })
    }

    /// One inpainting window, host memory to host memory: the window
    /// ([`Inpainter::window_tensor`]) uploaded, the network run, its planar
    /// 3×S×S f32 output back.
    pub fn run_window(&mut self, input: Tensor) -> Result<Vec<f32>> {
        let out = self.run(&input.into_tvalue())?;
        let e = |e: TractError| RuntimeError::inference(&self.path, e);
        let view = out.try_as_plain_ram().map_err(e)?;
        Ok(view.as_slice::<f32>().map_err(e)?.to_vec())
    }

    fn run(&mut self, input: &TValue) -> Result<Tensor> {
        let mut out = self
            .state
            .run(tvec![input.clone()])
            .map_err(|e| RuntimeError::inference(&self.path, e))?;
        Ok(out.remove(0).into_tensor())
    }

    /// Run on an image, host memory to host memory: pixels to tensor on the
    /// host, upload, kernels and pixel tail, download of the 8-bit result.
    pub fn run_image(&mut self, img: &RgbImage) -> Result<RgbImage> {
        let out = self.run(&image_to_tensor(img).into_tvalue())?;
        let e = |e: TractError| RuntimeError::inference(&self.path, e);
        let (h, w) = (out.shape()[1], out.shape()[2]);
        // Bytes of a lazily-synced output come back to the host here.
        let view = out.try_as_plain_ram().map_err(e)?;
        let bytes = view.as_slice::<u8>().map_err(e)?.to_vec();
        RgbImage::from_raw(w as u32, h as u32, bytes)
            .ok_or_else(|| RuntimeError::inference(&self.path, "output is not 3 bytes per pixel"))
    }

    /// Copy `input` to the GPU once, for [`GpuPlan::run_resident`].
    pub fn upload(&self, input: Tensor) -> Result<TValue> {
        to_device(input).map_err(|e| RuntimeError::inference(&self.path, e))
    }

    /// Run on an input already on the GPU ([`GpuPlan::upload`]); returns when
    /// the kernels have finished, with the output left on the GPU.
    pub fn run_resident(&mut self, input: &TValue) -> Result<Tensor> {
        self.run(input)
    }
}

/// `t` copied to the GPU, wrapped so that a plan's input takes it as is.
fn to_device(t: Tensor) -> TractResult<TValue> {
    Ok(LazyHostStorage::new(t.into_device()?)?
        .into_tensor()
        .into_tvalue())
}

/// GFLOP/s of an `n`×`n`×`n` f32 matrix product on the GPU through the same
/// runtime (input resident, median of the runs in `budget`): the peak that a
/// model's achieved GFLOP/s is read against.
pub fn matmul_gflops(n: usize, budget: std::time::Duration) -> TractResult<f64> {
    let rt = runtime_for_name("cuda")?.ok_or_else(|| TractError::msg("no CUDA runtime"))?;
    let runnable = rt.prepare(crate::bench::matmul_model(n)?.into_decluttered()?)?;
    let mut state = runnable.spawn()?;
    let x = to_device(crate::bench::matmul_input(n)?)?;
    let t = crate::bench::time_runs(|| state.run(tvec![x.clone()]).map(|_| ()), 2, 5, budget)?;
    Ok(2.0 * (n * n * n) as f64 / 1e9 / (crate::bench::percentile(&t, 0.5) / 1e3))
}

/// An 8-bit RGB image as a 1×3×H×W tensor in [0, 1].
pub fn image_to_tensor(img: &RgbImage) -> Tensor {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let n = w * h;
    let mut v = vec![0f32; 3 * n];
    for (i, p) in img.pixels().enumerate() {
        for c in 0..3 {
            v[c * n + i] = p[c] as f32 / 255.0;
        }
    }
    tract_ndarray::Array4::from_shape_vec((1, 3, h, w), v)
        .expect("3·h·w values")
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The host-side reference for the pixel tail: a 1×3×H×W tensor in [0, 1] as an 8-bit RGB image (rounded, clamped).
    fn tensor_to_image(t: &Tensor) -> TractResult<RgbImage> {
        let shape = t.shape();
        if shape.len() != 4 || shape[1] != 3 {
            return Err(TractError::msg(format!("expected 1x3xHxW, got {shape:?}")));
        }
        let (h, w) = (shape[2], shape[3]);
        let view = t.try_as_plain_ram()?;
        let v = view.as_slice::<f32>()?;
        let n = h * w;
        let mut out = vec![0u8; 3 * n];
        for (i, px) in out.chunks_exact_mut(3).enumerate() {
            for (c, o) in px.iter_mut().enumerate() {
                *o = (v[c * n + i] * 255.0).round().clamp(0.0, 255.0) as u8;
            }
        }
        Ok(RgbImage::from_raw(w as u32, h as u32, out).expect("3·h·w bytes"))
    }

    #[test]
    fn image_tensor_round_trip_is_exact() {
        let img = RgbImage::from_fn(5, 3, |x, y| image::Rgb([x as u8 * 50, y as u8 * 90, 7]));
        let t = image_to_tensor(&img);
        assert_eq!(t.shape(), &[1, 3, 3, 5]);
        let v = t.try_as_plain_ram().unwrap();
        let v = v.as_slice::<f32>().unwrap();
        assert_eq!(v[15 + 2 * 5 + 4], 180.0 / 255.0, "green plane, y 2, x 4");
        assert_eq!(tensor_to_image(&t).unwrap(), img);
    }

    #[test]
    fn pixel_tail_matches_the_host_conversion() {
        // Values around the rounding and clamping edges, run on tract's CPU
        // (with the runtime's tract defaults, as every plan it builds).
        crate::engine::plan::tract_defaults();
        let v: Vec<f32> = (0..3 * 4 * 5).map(|i| i as f32 * 0.0213 - 0.1).collect();
        let x = tract_ndarray::Array4::from_shape_vec((1, 3, 4, 5), v).unwrap();
        let x: Tensor = x.into();
        let mut m = TypedModel::default();
        let src = m.add_source("x", f32::fact([1, 3, 4, 5])).unwrap();
        m.select_output_outlets(&[src]).unwrap();
        append_to_pixels(&mut m).unwrap();
        let plan = m.into_optimized().unwrap().into_runnable().unwrap();
        let y = plan.run(tvec![x.clone().into_tvalue()]).unwrap().remove(0);
        assert_eq!(y.shape(), &[1, 4, 5, 3]);
        let y = y.try_as_plain_ram().unwrap();
        let expected = tensor_to_image(&x).unwrap().into_raw();
        assert_eq!(y.as_slice::<u8>().unwrap(), &expected[..]);
        assert!(expected.contains(&0) && expected.contains(&255));
    }
}
