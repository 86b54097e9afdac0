//! The latency matrix of `edgegan bench`: a [`Spec`] (models × sizes ×
//! precisions × threads × tiles, and the GPU) expands into [`Cell`]s, and a
//! cell runs into [`Record`]s. A super-resolution cell upscales a
//! deterministic test card through the tiled [`Upscaler`]; the GPU cell runs
//! the same graph on tract-cuda, checked against the CPU first. Inpainting
//! cells are in [`super::inpaint`].

use image::{DynamicImage, ImageBuffer, Rgb, RgbImage};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{time_runs, Record};
use crate::card::{Precision, Task};
use crate::error::{Result, RuntimeError};
use crate::source::{Embedded, ModelSource};
use crate::sr::{Model, UpscaleOptions, Upscaler};

/// What to measure.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Model names (resolved by [`ModelSource::resolve`]).
    pub models: Vec<String>,
    /// Square input sides.
    pub sizes: Vec<usize>,
    /// CPU precisions.
    pub precisions: Vec<Precision>,
    /// CPU thread counts (distinct).
    pub threads: Vec<usize>,
    /// Tile sides (0: the whole image in one tile).
    pub tiles: Vec<usize>,
    /// Also the GPU path.
    pub gpu: bool,
    /// Timing budget per cell, seconds.
    pub seconds: f64,
}

/// One cell of the matrix (serializable: `edgegan bench` runs each in a
/// child process of its own).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cell {
    /// Model name.
    pub model: String,
    /// An inpainting model (one fill per image on `threads` cores; tiles do
    /// not apply).
    #[serde(default)]
    pub inpainting: bool,
    /// The GPU path.
    pub gpu: bool,
    /// CPU precision.
    pub precision: Precision,
    /// CPU threads.
    pub threads: usize,
    /// Tile side.
    pub tile: usize,
    /// Input side.
    pub size: usize,
    /// Timing budget, seconds.
    pub seconds: f64,
}

/// Every cell of `spec`, in the order they are measured.
pub fn matrix(spec: &Spec, embedded: &'static [Embedded]) -> Result<Vec<Cell>> {
    let mut cells = Vec::new();
    for model in &spec.models {
        let inpainting = ModelSource::resolve(model, embedded)?.task()? == Task::Inpainting;
        for &size in &spec.sizes {
            let base = Cell {
                model: model.clone(),
                inpainting,
                gpu: false,
                precision: Precision::F32,
                threads: 0,
                tile: 0,
                size,
                seconds: spec.seconds,
            };
            for &precision in &spec.precisions {
                for &threads in &spec.threads {
                    let tiles: &[usize] = if inpainting { &[0] } else { &spec.tiles };
                    for &tile in tiles {
                        let tile = if tile == 0 && !inpainting { size } else { tile };
                        cells.push(Cell {
                            precision,
                            threads,
                            tile,
                            ..base.clone()
                        });
                    }
                }
            }
            if spec.gpu {
                cells.push(Cell { gpu: true, ..base });
            }
        }
    }
    Ok(cells)
}

/// A deterministic test card: gradients plus a fine checkerboard.
pub fn test_image(size: usize) -> RgbImage {
    ImageBuffer::from_fn(size as u32, size as u32, |x, y| {
        let c = if (x / 3 + y / 3) % 2 == 0 { 40 } else { 0 };
        Rgb([
            (x * 255 / size as u32) as u8,
            (y * 255 / size as u32) as u8,
            100 + c,
        ])
    })
}

impl Cell {
    /// Measure this cell (models resolved against `embedded`).
    pub fn run(&self, embedded: &'static [Embedded]) -> Result<Vec<Record>> {
        let source = ModelSource::resolve(&self.model, embedded)?;
        match (self.inpainting, self.gpu) {
            (false, false) => Ok(vec![self.cpu(&source)?]),
            (false, true) => self.gpu(&source),
            (true, false) => {
                let img = DynamicImage::ImageRgb8(test_image(self.size));
                super::inpaint::cpu_cell(&source, self, &img)
            }
            (true, true) => {
                let img = DynamicImage::ImageRgb8(test_image(self.size));
                super::inpaint::gpu_cell(&source, self, &img)
            }
        }
    }

    fn record(&self, model: &Model, path: &str) -> Record {
        let input = [self.size, self.size];
        let precision = if self.gpu {
            Precision::F32
        } else {
            self.precision
        };
        let name = &model.card().name;
        Record::new(
            name,
            path,
            &precision.to_string(),
            self.threads,
            self.tile,
            input,
        )
    }

    /// Output pixels and convolution FLOPs of one run.
    fn work(&self, model: &Model) -> (f64, f64) {
        let s = model.scale();
        let out_pixels = (self.size * s * self.size * s) as f64;
        let flops = out_pixels * model.flops_per_output_pixel().unwrap_or(0.0);
        (out_pixels, flops)
    }

    fn cpu(&self, source: &ModelSource) -> Result<Record> {
        let model = Arc::new(source.sr(self.precision)?);
        let options = UpscaleOptions {
            tile: Some(self.tile),
            threads: self.threads,
        };
        let up = Upscaler::new(model.clone(), options);
        let img = test_image(self.size);
        let t = Instant::now();
        up.run(&img)?;
        let prepare_s = t.elapsed().as_secs_f64();
        let budget = Duration::from_secs_f64(self.seconds);
        let samples = time_runs(|| up.run(&img).map(|_| ()), 0, 3, budget)?;
        let (px, flops) = self.work(&model);
        let r = self.record(&model, "cpu");
        Ok(Record { prepare_s, ..r }.with_samples(&samples, px, flops))
    }

    #[cfg(feature = "gpu")]
    fn gpu(&self, source: &ModelSource) -> Result<Vec<Record>> {
        use crate::gpu::{image_to_tensor, GpuPlan};
        let model = source.sr(Precision::F32)?;
        let t = Instant::now();
        let mut plan = GpuPlan::new(&model, self.size, self.size)?;
        let prepare_s = t.elapsed().as_secs_f64();
        let img = test_image(self.size);
        check_against_cpu(&mut plan, source, &img)?;
        let budget = Duration::from_secs_f64(self.seconds);
        let (px, flops) = self.work(&model);
        let host = time_runs(|| plan.run_image(&img).map(|_| ()), 2, 3, budget)?;
        let resident_in = plan.upload(image_to_tensor(&img))?;
        let resident = time_runs(|| plan.run_resident(&resident_in).map(|_| ()), 2, 3, budget)?;
        let r = Record {
            prepare_s,
            ..self.record(&model, "gpu")
        };
        Ok(vec![
            r.clone().with_samples(&host, px, flops),
            Record {
                path: "gpu-resident".into(),
                ..r
            }
            .with_samples(&resident, px, flops),
        ])
    }

    #[cfg(not(feature = "gpu"))]
    fn gpu(&self, _source: &ModelSource) -> Result<Vec<Record>> {
        Err(no_gpu(&self.model))
    }
}

/// The error of a GPU cell in a build without the `gpu` feature.
#[cfg(not(feature = "gpu"))]
pub(crate) fn no_gpu(model: &str) -> RuntimeError {
    RuntimeError::Unsupported {
        path: model.into(),
        reason: "this edgegan was built without the `gpu` feature (cargo build --features gpu)"
            .into(),
    }
}

/// Two images that must agree to within one 8-bit level (GPU against CPU:
/// float summation order differs, rounding may flip).
#[cfg(feature = "gpu")]
pub(crate) fn within_one_level(model: &str, what: &str, a: &[u8], b: &[u8]) -> Result<()> {
    let worst = a
        .iter()
        .zip(b)
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap_or(0);
    if worst > 1 {
        return Err(RuntimeError::Inference {
            path: model.into(),
            reason: format!("GPU {what} differs from the CPU runtime's by {worst} levels"),
        });
    }
    Ok(())
}

/// The GPU image must match the CPU runtime's (whole image, one tile).
#[cfg(feature = "gpu")]
fn check_against_cpu(
    plan: &mut crate::gpu::GpuPlan,
    source: &ModelSource,
    img: &RgbImage,
) -> Result<()> {
    let cpu_model = source.sr(Precision::F32)?;
    let options = UpscaleOptions {
        tile: Some(img.width() as usize),
        threads: 1,
    };
    let name = cpu_model.card().name.clone();
    let cpu = Upscaler::new(Arc::new(cpu_model), options).run(img)?;
    let gpu = plan.run_image(img)?;
    within_one_level(&name, "output", &cpu, &gpu)
}
