//! The edge-sized super-resolution generator (burn): an FSRCNN/ESPCN-class
//! stack of convolutions at LR resolution, a pixel shuffle, and a global
//! bicubic skip so the network only learns the residual.
//!
//! `output = bicubic(lr) + pixel_shuffle(tail(act(body(act(head(lr))))))`
//!
//! The bicubic branch is computed outside burn (it has no parameters): by
//! [`edgegan_runtime::resample`] during training and by the same Keys kernel
//! as an ONNX Pad + Conv + DepthToSpace in the exported graph.

use crate::common::{uniform, Rng, LEAKY_SLOPE};
use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{LeakyRelu, LeakyReluConfig, PaddingConfig2d, PixelShuffle, PixelShuffleConfig};
use burn::prelude::*;

/// Shape of a generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneratorShape {
    /// Upscaling factor.
    pub scale: usize,
    /// Feature channels.
    pub channels: usize,
    /// Kernel of the first conv (odd).
    pub head_kernel: usize,
    /// 3×3 convs between head and tail.
    pub body: usize,
}

impl GeneratorShape {
    /// The default for `scale`: 32 channels, 5×5 head, 3 body convs.
    pub fn default_for(scale: usize) -> Self {
        GeneratorShape {
            scale,
            channels: 32,
            head_kernel: 5,
            body: 3,
        }
    }

    /// Receptive-field radius in LR pixels (the bicubic branch reaches 2).
    pub fn receptive_field(&self) -> usize {
        ((self.head_kernel - 1) / 2 + self.body + 1).max(2)
    }
}

/// The generator.
#[derive(Module, Debug)]
pub struct Generator {
    /// First conv, 3 → channels.
    pub head: Conv2d,
    /// 3×3 convs, channels → channels.
    pub body: Vec<Conv2d>,
    /// Last conv, channels → 3·scale².
    pub tail: Conv2d,
    act: LeakyRelu,
    shuffle: PixelShuffle,
}

/// A `k`×`k` "same" convolution with burn's default (Kaiming-uniform,
/// bound 1/√fan_in) weights and bias drawn from `rng`.
fn conv(cin: usize, cout: usize, k: usize, rng: &mut Rng, device: &Device) -> Conv2d {
    let bound = 1.0 / ((cin * k * k) as f64).sqrt();
    let weight = uniform([cout, cin, k, k], bound, rng, device);
    let bias = uniform([cout], bound, rng, device);
    conv_with(weight, bias, device)
}

/// A "same" convolution with these weights (`cout`×`cin`×`k`×`k`) and bias.
fn conv_with(weight: Tensor<4>, bias: Tensor<1>, device: &Device) -> Conv2d {
    let [cout, cin, k, _] = weight.dims();
    let mut c = Conv2dConfig::new([cin, cout], [k, k])
        .with_padding(PaddingConfig2d::Explicit(k / 2, k / 2, k / 2, k / 2))
        .init(device);
    c.weight = Param::from_tensor(weight);
    c.bias = Some(Param::from_tensor(bias));
    c
}

impl Generator {
    /// A freshly initialized generator of `shape` on `device`, its weights
    /// drawn from `rng`.
    pub fn new(shape: GeneratorShape, rng: &mut Rng, device: &Device) -> Self {
        let c = shape.channels;
        let head = conv(3, c, shape.head_kernel, rng, device);
        let body = (0..shape.body)
            .map(|_| conv(c, c, 3, rng, device))
            .collect();
        let mut tail = conv(c, 3 * shape.scale * shape.scale, 3, rng, device);
        // Start as pure bicubic: a small tail keeps the residual near zero.
        tail.weight = Param::from_tensor(tail.weight.val().mul_scalar(0.1).detach());
        tail.bias = Some(Param::from_tensor(Tensor::zeros(
            [3 * shape.scale * shape.scale],
            device,
        )));
        Generator {
            head,
            body,
            tail,
            act: LeakyReluConfig::new()
                .with_negative_slope(LEAKY_SLOPE)
                .init(),
            shuffle: PixelShuffleConfig::new(shape.scale).init(),
        }
    }

    /// This generator with `body` 3×3 body convs (at least as many as it
    /// has): the new convs come after the existing ones and start as the
    /// identity (centre tap 1 from each channel to itself, zero bias). The
    /// deeper generator then computes what this one did except that a
    /// negative feature passes LeakyReLU once more (slope² instead of
    /// slope), so training a deeper net can start from a trained shallower
    /// one instead of from random weights.
    pub fn deepened(mut self, body: usize, device: &Device) -> Self {
        let c = self.head.weight.dims()[0];
        while self.body.len() < body {
            let mut eye = vec![0f32; c * c * 9];
            for o in 0..c {
                eye[(o * c + o) * 9 + 4] = 1.0;
            }
            let w = burn::tensor::TensorData::new(eye, [c, c, 3, 3]);
            let zero = Tensor::zeros([c], device);
            self.body
                .push(conv_with(Tensor::from_data(w, device), zero, device));
        }
        self
    }

    /// The shape this generator was built with.
    pub fn shape(&self) -> GeneratorShape {
        let [c, _, k, _] = self.head.weight.dims();
        let [t, _, _, _] = self.tail.weight.dims();
        let scale = ((t / 3) as f64).sqrt().round() as usize;
        GeneratorShape {
            scale,
            channels: c,
            head_kernel: k,
            body: self.body.len(),
        }
    }

    /// The learned residual for LR input `x` (N×3×h×w in [0, 1]).
    pub fn residual(&self, x: Tensor<4>) -> Tensor<4> {
        let mut y = self.act.forward(self.head.forward(x));
        for c in &self.body {
            y = self.act.forward(c.forward(y));
        }
        self.shuffle.forward(self.tail.forward(y))
    }

    /// Full output given the LR input and its bicubic upscale.
    pub fn forward(&self, lr: Tensor<4>, bicubic: Tensor<4>) -> Tensor<4> {
        bicubic + self.residual(lr)
    }

    /// Trainable parameter count.
    pub fn parameters(&self) -> usize {
        self.num_params()
    }
}
