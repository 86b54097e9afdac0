//! The layer every task's trainer stands on: the seeded RNG, weight
//! initialization, parameter arithmetic (EMA, gradient norm), the
//! spectrally normalized PatchGAN discriminator and its GAN losses,
//! checkpoint files, plots, and where training runs (CPU or CUDA).

pub mod checkpoint;
pub mod device;
pub mod disc;
pub mod gan;
pub mod params;
pub mod plot;

use burn::prelude::*;
use burn::tensor::TensorData;

/// The seeded generator every trainer draws from (the runtime's, so masks
/// and noise drawn at evaluation match the ones drawn in training).
pub use edgegan_runtime::noise::Rng;

/// Slope of the LeakyReLU activations.
pub const LEAKY_SLOPE: f64 = 0.1;

/// A tensor of `dims` uniform in ±`bound`, drawn from `rng` (not burn's global
/// generator, which parallel runs in one process would share).
pub fn uniform<const N: usize>(
    dims: [usize; N],
    bound: f64,
    rng: &mut Rng,
    device: &Device,
) -> Tensor<N> {
    let n = dims.iter().product();
    let v: Vec<f32> = (0..n)
        .map(|_| ((rng.unit() as f64 * 2.0 - 1.0) * bound) as f32)
        .collect();
    Tensor::from_data(TensorData::new(v, dims), device)
}

/// Append interleaved RGB on the 0–255 scale (8-bit, or f32 from
/// [`edgegan_runtime::resample::upscale_f32`]) of `pixels` pixels to `out`
/// as three planes, divided by 255.
pub(crate) fn planar<T: Copy + Into<f32>>(rgb: &[T], pixels: usize, out: &mut Vec<f32>) {
    for c in 0..3 {
        out.extend((0..pixels).map(|i| rgb[i * 3 + c].into() / 255.0));
    }
}
