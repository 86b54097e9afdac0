//! The PatchGAN discriminator with spectral normalization (Miyato et al.
//! 2018), written here because burn has none: every convolution's weight is
//! divided by its largest singular value, estimated by one power iteration
//! per step with a persistent vector `u` (stored in the module so that
//! checkpoints carry it).
//!
//! The output is a map of logits, one per overlapping patch of the input
//! (receptive field 22 px), as in pix2pix / ESRGAN-style SR GANs.

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;

use crate::common::uniform;
use crate::common::Rng;

/// Slope of the discriminator's LeakyReLU.
pub const D_SLOPE: f64 = 0.2;

/// A 2-D convolution with a spectrally normalized weight.
#[derive(Module, Debug)]
pub struct SnConv {
    /// Raw weight, out × in × k × k.
    pub weight: Param<Tensor<4>>,
    /// Bias, out.
    pub bias: Param<Tensor<1>>,
    /// Power-iteration vector, 1 × out (never trained; refreshed each step).
    pub u: Param<Tensor<2>>,
    stride: usize,
    padding: usize,
}

fn normalize(v: Tensor<2>) -> Tensor<2> {
    let norm = v.clone().powi_scalar(2).sum().sqrt().add_scalar(1e-12);
    v / norm.reshape([1, 1])
}

impl SnConv {
    /// A `k`×`k` convolution `cin → cout` with `stride` and "same"-style padding.
    /// Weights are drawn from `rng`.
    pub fn new(
        cin: usize,
        cout: usize,
        k: usize,
        stride: usize,
        rng: &mut Rng,
        device: &Device,
    ) -> SnConv {
        let bound = 1.0 / ((cin * k * k) as f64).sqrt();
        let weight = uniform([cout, cin, k, k], bound, rng, device);
        let u = normalize(uniform([1, cout], 1.0, rng, device));
        SnConv {
            weight: Param::from_tensor(weight),
            bias: Param::from_tensor(Tensor::zeros([cout], device)),
            u: Param::from_tensor(u.detach()),
            stride,
            padding: (k - 1) / 2,
        }
    }

    fn matrix(&self) -> Tensor<2> {
        let [o, i, kh, kw] = self.weight.dims();
        self.weight.val().reshape([o, i * kh * kw])
    }

    /// One power iteration from `u`: the refreshed `(u, v)`, both detached.
    fn power_iteration(&self) -> (Tensor<2>, Tensor<2>) {
        let w = self.matrix().detach();
        let v = normalize(self.u.val().detach().matmul(w.clone()));
        let u = normalize(v.clone().matmul(w.transpose()));
        (u, v)
    }

    /// Estimated spectral norm σ(W) = uᵀ W v (differentiable in W).
    pub fn sigma(&self) -> Tensor<2> {
        let (u, v) = self.power_iteration();
        u.matmul(self.matrix()).matmul(v.transpose())
    }

    /// The convolution with weight W / σ(W).
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let w = self.weight.val() / self.sigma().reshape([1, 1, 1, 1]);
        let (s, p) = (self.stride, self.padding);
        conv2d(
            x,
            w,
            Some(self.bias.val()),
            ConvOptions::new([s, s], [p, p], [1, 1], 1),
        )
    }

    /// Store the power iteration's `u` for the next step (call once per step).
    pub fn refreshed(mut self) -> SnConv {
        let (u, _) = self.power_iteration();
        self.u = Param::initialized(self.u.id, u);
        self
    }
}

/// Layers of the discriminator: (in, out, kernel, stride).
const LAYERS: [(usize, usize, usize, usize); 5] = [
    (3, 32, 3, 1),
    (32, 64, 4, 2),
    (64, 64, 3, 1),
    (64, 64, 4, 2),
    (64, 1, 3, 1),
];

/// PatchGAN discriminator: 5 spectrally normalized convs (two of them
/// stride 2), LeakyReLU 0.2 between them; input RGB in [0, 1], output a
/// 1-channel logit map at 1/4 resolution.
#[derive(Module, Debug)]
pub struct Discriminator {
    /// The convolutions, input to output.
    pub convs: Vec<SnConv>,
}

impl Discriminator {
    /// A freshly initialized discriminator on `device`, weights from `rng`.
    pub fn new(rng: &mut Rng, device: &Device) -> Discriminator {
        Discriminator::with_layers(&LAYERS, rng, device)
    }

    /// A discriminator of `layers` (in, out, kernel, stride), e.g. the
    /// inpainting SN-PatchGAN that also sees the mask.
    pub fn with_layers(
        layers: &[(usize, usize, usize, usize)],
        rng: &mut Rng,
        device: &Device,
    ) -> Discriminator {
        Discriminator {
            convs: layers
                .iter()
                .map(|&(i, o, k, s)| SnConv::new(i, o, k, s, rng, device))
                .collect(),
        }
    }

    /// Logit map for images `x` (N×3×H×W in [0, 1]; H, W multiples of 4).
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut y = x.mul_scalar(2.0).sub_scalar(1.0);
        let last = self.convs.len() - 1;
        for (i, c) in self.convs.iter().enumerate() {
            y = c.forward(y);
            if i < last {
                y = burn::tensor::activation::leaky_relu(y, D_SLOPE);
            }
        }
        y
    }

    /// Refresh every layer's power-iteration vector (once per training step).
    pub fn refreshed(self) -> Discriminator {
        Discriminator {
            convs: self.convs.into_iter().map(SnConv::refreshed).collect(),
        }
    }

    /// Trainable parameter count (weights and biases; `u` excluded).
    pub fn parameters(&self) -> usize {
        self.convs
            .iter()
            .map(|c| c.weight.shape().num_elements() + c.bias.shape().num_elements())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    #[test]
    fn power_iteration_converges_to_the_largest_singular_value() {
        // W as a 2×4 matrix (2 out, 1 in, 2×2 kernel) with singular values 5 and 2.
        let device = Device::flex();
        let mut c = SnConv::new(1, 2, 2, 1, &mut Rng(1), &device);
        let w = vec![5.0f32, 0.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0];
        c.weight = Param::from_tensor(Tensor::from_data(TensorData::new(w, [2, 1, 2, 2]), &device));
        for _ in 0..30 {
            c = c.refreshed();
        }
        let sigma = c.sigma().into_data().try_to_vec::<f32>().unwrap()[0];
        assert!((sigma - 5.0).abs() < 1e-4, "sigma {sigma}");
    }

    #[test]
    fn output_is_a_quarter_resolution_logit_map() {
        let device = Device::flex();
        let d = Discriminator::new(&mut Rng(1), &device);
        let y = d.forward(Tensor::zeros([2, 3, 32, 48], &device));
        assert_eq!(y.dims(), [2, 1, 8, 12]);
        assert_eq!(
            d.parameters(),
            864 + 32 + 32768 + 64 + 36864 + 64 + 65536 + 64 + 576 + 1
        );
    }
}
