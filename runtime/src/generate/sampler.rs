//! Generation models (card task `generation`): latent noise in, images out.
//! The graph takes `z [N, latent]` and returns `[N, C, side, side]` in
//! [0, 1]; noise comes from [`crate::noise::latents`], so a seed gives the
//! same images on every machine the plan computes identically on.
//!
//! ```no_run
//! use edgegan_runtime::{generate::Sampler, Precision};
//! let s = Sampler::load(std::path::Path::new("models/digits"), Precision::F32)?;
//! let grid = s.grid(64, 7, 8, 4)?; // 64 digits from seed 7, 8 per row, ×4 pixels
//! assert_eq!(grid.width(), 8 * (16 * 4 + 2) + 2);
//! # Ok::<(), edgegan_runtime::RuntimeError>(())
//! ```

use image::{Rgb, RgbImage};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;

use crate::card::{ModelCard, Precision, Task};
use crate::engine::plan::{check_embedded, read_model_dir, Plan};
use crate::error::{Result, RuntimeError};
use crate::noise::latents;

/// Most images one call generates.
pub const MAX_IMAGES: usize = 4096;

/// A loaded generator.
pub struct Sampler {
    card: ModelCard,
    onnx_path: PathBuf,
    graph: InferenceModel,
    latent: usize,
    side: usize,
}

impl Sampler {
    /// Load the model in `dir` at `precision`, checking card and checksum.
    pub fn load(dir: &Path, precision: Precision) -> Result<Sampler> {
        let (card, path, bytes) = read_model_dir(dir, precision)?;
        Sampler::from_bytes(card, path, &bytes)
    }

    /// A model embedded in the binary (`label` names it in errors).
    pub fn from_embedded(
        label: &str,
        card_toml: &str,
        onnx: &[u8],
        precision: Precision,
    ) -> Result<Sampler> {
        let (card, path) = check_embedded(label, card_toml, onnx, precision)?;
        Sampler::from_bytes(card, path, onnx)
    }

    /// Build from a card and ONNX bytes already in memory (no checksum
    /// check; `onnx_path` names the graph in errors). A graph that makes
    /// tract panic is an [`RuntimeError::Onnx`].
    pub fn from_bytes(card: ModelCard, onnx_path: PathBuf, bytes: &[u8]) -> Result<Sampler> {
        let path = onnx_path.clone();
        crate::error::untrusted(&path, || Self::from_bytes_unguarded(card, onnx_path, bytes))
    }

    /// Build from a card and ONNX bytes already in memory (no checksum
    /// check; `onnx_path` names the graph in errors).
    fn from_bytes_unguarded(card: ModelCard, onnx_path: PathBuf, bytes: &[u8]) -> Result<Sampler> {
        let card_path = onnx_path.with_file_name("card.toml");
        if card.task != Task::Generation {
            return Err(RuntimeError::mismatch(
                &card_path,
                format!("model {} is for {:?}, not generation", card.name, card.task),
            ));
        }
        crate::engine::plan::tract_defaults();
        let graph = tract_onnx::onnx()
            .model_for_read(&mut &bytes[..])
            .map_err(|e| RuntimeError::onnx(&onnx_path, e))?;
        let bad = |what: String| {
            RuntimeError::mismatch(
                &onnx_path,
                format!(
                    "{what}; a generator maps [N, latent] to [N, {}, side, side]",
                    card.io.channels
                ),
            )
        };
        let input: Vec<Option<i64>> = match graph.input_fact(0) {
            Ok(f) => f
                .shape
                .dims()
                .map(|d| d.concretize().and_then(|d| d.as_i64()))
                .collect(),
            Err(_) => Vec::new(),
        };
        let latent = match input[..] {
            [_, Some(l)] if l > 0 => l as usize,
            _ => return Err(bad(format!("graph input is {input:?}"))),
        };
        let typed = graph
            .clone()
            .with_input_fact(0, f32::fact([1, latent]).into())
            .and_then(|m| m.into_typed())
            .map_err(|e| RuntimeError::onnx(&onnx_path, e))?;
        let output: Vec<usize> = typed
            .output_fact(0)
            .ok()
            .and_then(|f| f.shape.as_concrete().map(|s| s.to_vec()))
            .unwrap_or_default();
        let side = match output[..] {
            [1, c, h, w] if h == w && c == card.io.channels => h,
            _ => return Err(bad(format!("one latent vector gives {output:?}"))),
        };
        Ok(Sampler {
            card,
            onnx_path,
            graph,
            latent,
            side,
        })
    }

    /// The card.
    pub fn card(&self) -> &ModelCard {
        &self.card
    }

    /// Noise dimensions.
    pub fn latent(&self) -> usize {
        self.latent
    }

    /// Image side, pixels.
    pub fn side(&self) -> usize {
        self.side
    }

    fn plan(&self, n: usize) -> Result<Arc<Plan>> {
        let err = |e| RuntimeError::inference(&self.onnx_path, e);
        self.graph
            .clone()
            .with_input_fact(0, f32::fact([n, self.latent]).into())
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(err)
    }

    /// Images (`n`×C×side×side in [0, 1]) for latent vectors `z` (`n`×latent).
    pub fn run(&self, z: &[f32]) -> Result<Vec<f32>> {
        let err = |e| RuntimeError::inference(&self.onnx_path, e);
        let n = z.len() / self.latent;
        if n == 0 || n > MAX_IMAGES || !z.len().is_multiple_of(self.latent) {
            return Err(RuntimeError::inference(
                &self.onnx_path,
                format!(
                    "{} noise values are not 1 to {MAX_IMAGES} vectors of {}",
                    z.len(),
                    self.latent
                ),
            ));
        }
        let input = Tensor::from_shape(&[n, self.latent], z).map_err(err)?;
        let out = self.plan(n)?.run(tvec![input.into_tvalue()]).map_err(err)?;
        let view = out[0].try_as_plain_ram().map_err(err)?;
        Ok(view.as_slice::<f32>().map_err(err)?.to_vec())
    }

    /// `n` images from `seed`, tiled `cols` per row, each pixel repeated
    /// `zoom` times, 2-pixel gaps.
    pub fn grid(&self, n: usize, seed: u64, cols: usize, zoom: usize) -> Result<RgbImage> {
        let v = self.run(&latents(seed, n, self.latent))?;
        Ok(tile(&v, n, self.card.io.channels, self.side, cols, zoom))
    }
}

/// Tile `n` images (C×s×s each, [0, 1]) into a grid (gray repeated to RGB).
pub fn tile(v: &[f32], n: usize, c: usize, s: usize, cols: usize, zoom: usize) -> RgbImage {
    let cols = cols.clamp(1, n.max(1));
    let cell = s * zoom + 2;
    let rows = n.div_ceil(cols);
    let mut img = RgbImage::from_pixel(
        (cols * cell + 2) as u32,
        (rows * cell + 2) as u32,
        Rgb([40, 40, 40]),
    );
    for i in 0..n {
        let (gx, gy) = (2 + (i % cols) * cell, 2 + (i / cols) * cell);
        for y in 0..s * zoom {
            for x in 0..s * zoom {
                let at = |ch: usize| {
                    let p = v[((i * c + ch.min(c - 1)) * s + y / zoom) * s + x / zoom];
                    (p * 255.0).round().clamp(0.0, 255.0) as u8
                };
                img.put_pixel((gx + x) as u32, (gy + y) as u32, Rgb([at(0), at(1), at(2)]));
            }
        }
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_places_and_zooms() {
        // two 1×2×2 gray images: 0, 1/255, ..., zoom 2, 2 per row
        let v: Vec<f32> = (0..8).map(|i| i as f32 / 255.0).collect();
        let g = tile(&v, 2, 1, 2, 2, 2);
        assert_eq!(g.dimensions(), (2 * 6 + 2, 6 + 2));
        assert_eq!(g.get_pixel(0, 0).0, [40, 40, 40]);
        assert_eq!(g.get_pixel(2, 2).0, [0, 0, 0]);
        assert_eq!(g.get_pixel(5, 5).0, [3, 3, 3]); // second pixel row, second column
        assert_eq!(g.get_pixel(8, 2 + 2).0, [6, 6, 6]); // image 1, row 1, column 0
    }
}
