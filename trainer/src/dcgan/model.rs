//! The classic DCGAN (Radford et al. 2016, as in the talk's demo): a dense
//! layer from 100-d noise, reshaped to a `side/4` square, two stride-2
//! transposed convolutions with batch norm, tanh; a discriminator of two
//! stride-2 convolutions with LeakyReLU and dropout and a dense logit.
//! Losses are binary cross-entropy on logits (non-saturating for G), with
//! optional one-sided label smoothing and spectral norm in D.

use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, LeakyRelu, LeakyReluConfig, Linear,
    LinearConfig, PaddingConfig2d,
};
use burn::prelude::*;
use burn::tensor::activation::{softplus, tanh};
use burn::tensor::TensorData;

use crate::common::disc::SnConv;
use crate::common::uniform;
use crate::common::Rng;

/// Slope of every LeakyReLU.
pub const SLOPE: f64 = 0.2;

/// Sizes of a DCGAN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DcganShape {
    /// Noise dimensions.
    pub latent: usize,
    /// Image side (a multiple of 4).
    pub side: usize,
    /// Image channels.
    pub channels: usize,
    /// Feature maps after the dense layer (halved by each transposed conv).
    pub width: usize,
}

impl DcganShape {
    /// The talk's sizes: 100-d noise, 128 feature maps.
    pub fn new(side: usize, channels: usize) -> DcganShape {
        DcganShape {
            latent: 100,
            side,
            channels,
            width: 128,
        }
    }
}

/// The generator: noise → image in [−1, 1].
#[derive(Module, Debug)]
pub struct DcGenerator {
    /// latent → width·(side/4)².
    pub dense: Linear,
    /// Batch norm after the dense layer (over width·(side/4)² features).
    pub bn0: BatchNorm,
    /// width → width/2, ×2.
    pub up1: ConvTranspose2d,
    /// Batch norm after `up1`.
    pub bn1: BatchNorm,
    /// width/2 → channels, ×2.
    pub up2: ConvTranspose2d,
    act: LeakyRelu,
    base: usize,
    width: usize,
}

fn deconv(cin: usize, cout: usize, rng: &mut Rng, device: &Device) -> ConvTranspose2d {
    let mut c = ConvTranspose2dConfig::new([cin, cout], [4, 4])
        .with_stride([2, 2])
        .with_padding([1, 1])
        .init(device);
    c.weight = Param::from_tensor(uniform([cin, cout, 4, 4], 0.02 * 3f64.sqrt(), rng, device));
    c.bias = Some(Param::from_tensor(Tensor::zeros([cout], device)));
    c
}

impl DcGenerator {
    /// A generator of `shape`, weights drawn from `rng` (DCGAN's σ = 0.02 scale).
    pub fn new(shape: DcganShape, rng: &mut Rng, device: &Device) -> DcGenerator {
        let base = shape.side / 4;
        let features = shape.width * base * base;
        let mut dense = LinearConfig::new(shape.latent, features).init(device);
        dense.weight = Param::from_tensor(uniform(
            [shape.latent, features],
            0.02 * 3f64.sqrt(),
            rng,
            device,
        ));
        dense.bias = Some(Param::from_tensor(Tensor::zeros([features], device)));
        DcGenerator {
            dense,
            bn0: BatchNormConfig::new(shape.width).init(device),
            up1: deconv(shape.width, shape.width / 2, rng, device),
            bn1: BatchNormConfig::new(shape.width / 2).init(device),
            up2: deconv(shape.width / 2, shape.channels, rng, device),
            act: LeakyReluConfig::new().with_negative_slope(SLOPE).init(),
            base,
            width: shape.width,
        }
    }

    /// Its shape.
    pub fn shape(&self) -> DcganShape {
        let [latent, _] = self.dense.weight.dims();
        let [_, channels, _, _] = self.up2.weight.dims();
        DcganShape {
            latent,
            side: self.base * 4,
            channels,
            width: self.width,
        }
    }

    /// Images (N×C×side×side, in [−1, 1]) for noise `z` (N×latent).
    pub fn forward(&self, z: Tensor<2>) -> Tensor<4> {
        let n = z.dims()[0];
        let x = self
            .dense
            .forward(z)
            .reshape([n, self.width, self.base, self.base]);
        let x = self.act.forward(self.bn0.forward(x));
        let x = self.act.forward(self.bn1.forward(self.up1.forward(x)));
        tanh(self.up2.forward(x))
    }
}

/// The discriminator: image → one logit (real > 0).
#[derive(Module, Debug)]
pub struct DcDiscriminator {
    /// Plain convolutions (empty with spectral norm).
    pub convs: Vec<Conv2d>,
    /// Spectrally normalized convolutions (empty without).
    pub sn: Vec<SnConv>,
    /// Dense logit over the last feature maps.
    pub dense: Linear,
    act: LeakyRelu,
    drop: Dropout,
}

impl DcDiscriminator {
    /// A discriminator for `shape`; `spectral` normalizes its convolutions;
    /// `dropout` is the drop probability after each.
    pub fn new(
        shape: DcganShape,
        spectral: bool,
        dropout: f64,
        rng: &mut Rng,
        device: &Device,
    ) -> DcDiscriminator {
        let (c1, c2) = (shape.width / 2, shape.width);
        let mut convs = Vec::new();
        let mut sn = Vec::new();
        for (cin, cout) in [(shape.channels, c1), (c1, c2)] {
            if spectral {
                sn.push(SnConv::new(cin, cout, 4, 2, rng, device));
            } else {
                let mut c = Conv2dConfig::new([cin, cout], [4, 4])
                    .with_stride([2, 2])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .init(device);
                c.weight =
                    Param::from_tensor(uniform([cout, cin, 4, 4], 0.02 * 3f64.sqrt(), rng, device));
                c.bias = Some(Param::from_tensor(Tensor::zeros([cout], device)));
                convs.push(c);
            }
        }
        let features = c2 * (shape.side / 4) * (shape.side / 4);
        let mut dense = LinearConfig::new(features, 1).init(device);
        dense.weight = Param::from_tensor(uniform(
            [features, 1],
            1.0 / (features as f64).sqrt(),
            rng,
            device,
        ));
        // Zero, not burn's initializer: every draw comes from `rng`.
        dense.bias = Some(Param::from_tensor(Tensor::zeros([1], device)));
        DcDiscriminator {
            convs,
            sn,
            dense,
            act: LeakyReluConfig::new().with_negative_slope(SLOPE).init(),
            drop: DropoutConfig::new(dropout).init(),
        }
    }

    /// Logits (N) for images `x`, without dropout (judging).
    pub fn forward(&self, x: Tensor<4>) -> Tensor<1> {
        self.logits(x, None)
    }

    /// Logits (N) for images `x` in training: the dropout masks are drawn
    /// from `rng` (the run's seeded generator, not burn's global one, so a
    /// resumed run draws the same masks as an unbroken one).
    pub fn forward_train(&self, x: Tensor<4>, rng: &mut Rng) -> Tensor<1> {
        self.logits(x, Some(rng))
    }

    fn logits(&self, x: Tensor<4>, mut rng: Option<&mut Rng>) -> Tensor<1> {
        let mut x = x;
        for i in 0..self.convs.len() + self.sn.len() {
            x = match self.convs.get(i) {
                Some(c) => c.forward(x),
                None => self.sn[i - self.convs.len()].forward(x),
            };
            x = self.act.forward(x);
            if let Some(r) = rng.as_deref_mut() {
                x = dropout(x, self.drop.prob, r);
            }
        }
        let n = x.dims()[0];
        let flat = x.reshape([n as i64, -1]);
        let logits = self.dense.forward(flat);
        logits.reshape([n])
    }

    /// After an optimizer step: refresh the spectral-norm power iterations.
    pub fn refreshed(mut self) -> DcDiscriminator {
        self.sn = self.sn.into_iter().map(SnConv::refreshed).collect();
        self
    }
}

/// Inverted dropout of `x` with drop probability `p`, the mask drawn from `rng`.
fn dropout(x: Tensor<4>, p: f64, rng: &mut Rng) -> Tensor<4> {
    if p <= 0.0 {
        return x;
    }
    let dims = x.dims();
    let keep = (1.0 / (1.0 - p)) as f32;
    let mask: Vec<f32> = (0..dims.iter().product::<usize>())
        .map(|_| if (rng.unit() as f64) < p { 0.0 } else { keep })
        .collect();
    let mask = Tensor::from_data(TensorData::new(mask, dims), &x.device());
    x * mask
}

/// Binary cross-entropy of logits `z` against target `t` (mean):
/// `softplus(z) − t·z`, i.e. `−t log σ(z) − (1 − t) log(1 − σ(z))`.
pub fn bce(z: Tensor<1>, target: f64) -> Tensor<1> {
    (softplus(z.clone(), 1.0) - z.mul_scalar(target)).mean()
}

/// D's loss: real images towards `real_target` (1, or 0.9 smoothed), fakes towards 0.
pub fn d_loss(real: Tensor<1>, fake: Tensor<1>, real_target: f64) -> Tensor<1> {
    bce(real, real_target) + bce(fake, 0.0)
}

/// G's non-saturating loss: fakes towards 1.
pub fn g_loss(fake: Tensor<1>) -> Tensor<1> {
    bce(fake, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_losses() {
        let device = Device::flex();
        let mut rng = Rng(1);
        let shape = DcganShape::new(16, 1);
        let g = DcGenerator::new(shape, &mut rng, &device);
        assert_eq!(g.shape(), shape);
        let z = uniform([3, 100], 1.0, &mut rng, &device);
        let x = g.forward(z);
        assert_eq!(x.dims(), [3, 1, 16, 16]);
        let v = crate::common::params::values(x.clone());
        assert!(v.iter().all(|p| p.abs() <= 1.0));
        for spectral in [false, true] {
            let d = DcDiscriminator::new(shape, spectral, 0.3, &mut rng, &device);
            assert_eq!(d.forward(x.clone()).dims(), [3]);
        }
        // bce([0, ln 3], 1) = mean(ln 2, ln(4/3))
        let z = Tensor::<1>::from_data(TensorData::new(vec![0.0f32, 3f32.ln()], [2]), &device);
        let got = bce(z, 1.0).into_scalar::<f32>() as f64;
        let want = (2f64.ln() + (4.0f64 / 3.0).ln()) / 2.0;
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    }
}
