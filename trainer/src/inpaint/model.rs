//! The edge-sized inpainting generator (burn): a U-shaped encoder–decoder of
//! gated convolutions (DeepFill v2) that learns a residual over the runtime's
//! push-pull + harmonic prefill.
//!
//! Input `[N, 4, H, W]`: RGB in [0, 1] with holes prefilled by
//! [`edgegan_runtime::inpaint::prefill`], then the mask (1 = hole). Output
//! `[N, 3, H, W]` = the input's RGB + a learned residual. A gated conv is
//! `leaky(conv_f(x)) · sigmoid(conv_g(x))`: the gate learns where features
//! are valid, which a plain conv cannot tell inside a hole.
//!
//! Encoder channels (by default [`CHANNELS`], 16 → 32 → 64 → 96) at 1, ½,
//! ¼, ⅛ resolution; three
//! dilated (2, 4, 8) gated convs at ⅛; the decoder convolves at the lower
//! resolution, upsamples ×2 (nearest) and adds the encoder's skip; a gated
//! refinement at full resolution and a plain 3×3 tail (started small, so a
//! fresh model returns the prefill). 818 451 parameters at the default
//! widths; H, W multiples of 8.

use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::PaddingConfig2d;
use burn::prelude::*;
use burn::tensor::activation::{leaky_relu, sigmoid};

use crate::common::Rng;
use crate::common::{uniform, LEAKY_SLOPE};
use crate::inpaint::attn::{cell_holes, MaskedAttention};

/// A `k`×`k` conv `cin → cout` with stride and dilation, "same" padding,
/// Kaiming-uniform weights from `rng`.
pub fn conv(
    cin: usize,
    cout: usize,
    k: usize,
    stride: usize,
    dilation: usize,
    rng: &mut Rng,
    device: &Device,
) -> Conv2d {
    let p = dilation * (k / 2);
    let mut c = Conv2dConfig::new([cin, cout], [k, k])
        .with_stride([stride, stride])
        .with_dilation([dilation, dilation])
        .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
        .init(device);
    let bound = 1.0 / ((cin * k * k) as f64).sqrt();
    c.weight = Param::from_tensor(uniform([cout, cin, k, k], bound, rng, device));
    c.bias = Some(Param::from_tensor(uniform([cout], bound, rng, device)));
    c
}

/// A gated convolution: features and gate from two convs of the same input.
#[derive(Module, Debug)]
pub struct GatedConv {
    /// Feature conv.
    pub feature: Conv2d,
    /// Gate conv.
    pub gate: Conv2d,
}

impl GatedConv {
    fn new(
        cin: usize,
        cout: usize,
        stride: usize,
        dilation: usize,
        rng: &mut Rng,
        d: &Device,
    ) -> Self {
        GatedConv {
            feature: conv(cin, cout, 3, stride, dilation, rng, d),
            gate: conv(cin, cout, 3, stride, dilation, rng, d),
        }
    }

    /// `leaky(feature(x)) · sigmoid(gate(x))`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        leaky_relu(self.feature.forward(x.clone()), LEAKY_SLOPE) * sigmoid(self.gate.forward(x))
    }
}

/// Nearest-neighbour ×2 upsampling (reshape, expand, reshape: exported the same way).
pub fn upsample2(x: Tensor<4>) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    x.reshape([n, c, h, 1, w, 1])
        .expand([n, c, h, 2, w, 2])
        .reshape([n, c, 2 * h, 2 * w])
}

/// Default encoder channels at 1, ½, ¼, ⅛ resolution.
pub const CHANNELS: [usize; 4] = [16, 32, 64, 96];

/// [`CHANNELS`], for `#[serde(default = ...)]` on configs and checkpoints
/// written before the widths were recorded.
pub(crate) fn default_channels() -> [usize; 4] {
    CHANNELS
}
/// Dilations of the bottleneck's gated convs.
pub const DILATIONS: [usize; 3] = [2, 4, 8];

/// The generator.
#[derive(Module, Debug)]
pub struct InpaintGenerator {
    /// Encoder: 4 → 16 (stride 1), then stride-2 convs to 32, 64, 96.
    pub encoder: Vec<GatedConv>,
    /// Dilated gated convs at ⅛ resolution.
    pub middle: Vec<GatedConv>,
    /// Decoder convs 96 → 64 → 32 → 16, each followed by ×2 upsampling.
    pub decoder: Vec<GatedConv>,
    /// Full-resolution gated refinement, 16 → 16.
    pub refine: GatedConv,
    /// Plain 3×3 conv to the RGB residual.
    pub tail: Conv2d,
    /// Optional masked self-attention after the dilated convs.
    pub attention: Option<MaskedAttention>,
}

impl InpaintGenerator {
    /// A fresh generator of the default widths on `device`, weights from `rng`.
    pub fn new(rng: &mut Rng, device: &Device) -> Self {
        Self::with_channels(CHANNELS, rng, device)
    }

    /// A fresh generator with encoder channels `c` (1, ½, ¼, ⅛ resolution).
    pub fn with_channels(c: [usize; 4], rng: &mut Rng, device: &Device) -> Self {
        let encoder = vec![
            GatedConv::new(4, c[0], 1, 1, rng, device),
            GatedConv::new(c[0], c[1], 2, 1, rng, device),
            GatedConv::new(c[1], c[2], 2, 1, rng, device),
            GatedConv::new(c[2], c[3], 2, 1, rng, device),
        ];
        let middle = DILATIONS
            .iter()
            .map(|&d| GatedConv::new(c[3], c[3], 1, d, rng, device))
            .collect();
        let decoder = (0..3)
            .map(|i| GatedConv::new(c[3 - i], c[2 - i], 1, 1, rng, device))
            .collect();
        let refine = GatedConv::new(c[0], c[0], 1, 1, rng, device);
        let mut tail = conv(c[0], 3, 3, 1, 1, rng, device);
        tail.weight = Param::from_tensor(tail.weight.val().mul_scalar(0.1).detach());
        tail.bias = Some(Param::from_tensor(Tensor::zeros([3], device)));
        InpaintGenerator {
            encoder,
            middle,
            decoder,
            refine,
            tail,
            attention: None,
        }
    }

    /// This generator with a fresh [`MaskedAttention`] after the dilated
    /// convs (replacing any it had); it computes the same output until trained.
    pub fn with_attention(mut self, rng: &mut Rng) -> Self {
        let device = self.tail.weight.device();
        self.attention = Some(MaskedAttention::new(self.channels()[3], rng, &device));
        self
    }

    /// The encoder channels at 1, ½, ¼, ⅛ resolution.
    pub fn channels(&self) -> [usize; 4] {
        std::array::from_fn(|i| self.encoder[i].feature.weight.dims()[0])
    }

    /// Every conv in graph order (feature before gate), for quantization.
    pub fn convs(&self) -> Vec<&Conv2d> {
        let gated = self
            .encoder
            .iter()
            .chain(&self.middle)
            .chain(&self.decoder)
            .chain(std::iter::once(&self.refine));
        gated
            .flat_map(|g| [&g.feature, &g.gate])
            .chain(std::iter::once(&self.tail))
            .collect()
    }

    /// Output for input `x` (`[N, 4, H, W]`); `record`, when given, receives
    /// the input of each gated layer in graph order, then the tail's input:
    /// the tensors quantization calibrates.
    pub fn forward_recording(
        &self,
        x: Tensor<4>,
        mut record: Option<&mut Vec<Tensor<4>>>,
    ) -> Tensor<4> {
        let [n, _, h, w] = x.dims();
        let rgb = x.clone().slice([0..n, 0..3, 0..h, 0..w]);
        // Each ⅛-resolution cell's hole share, only where attention uses it.
        let holes = (self.attention.as_ref())
            .map(|_| cell_holes(x.clone().slice([0..n, 3..4, 0..h, 0..w])));
        let mut run = |g: &GatedConv, y: Tensor<4>| {
            if let Some(r) = record.as_mut() {
                r.push(y.clone());
            }
            g.forward(y)
        };
        let mut skips = Vec::new();
        let mut y = x;
        for g in &self.encoder {
            y = run(g, y);
            skips.push(y.clone());
        }
        for g in &self.middle {
            y = run(g, y);
        }
        if let (Some(a), Some(holes)) = (&self.attention, holes) {
            y = a.forward(y, holes);
        }
        for (i, g) in self.decoder.iter().enumerate() {
            y = upsample2(run(g, y)) + skips[2 - i].clone();
        }
        y = run(&self.refine, y);
        if let Some(r) = record.as_mut() {
            r.push(y.clone());
        }
        rgb + self.tail.forward(y)
    }

    /// Output for input `x` (`[N, 4, H, W]`).
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward_recording(x, None)
    }

    /// Trainable parameter count.
    pub fn parameters(&self) -> usize {
        self.num_params()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    #[test]
    fn shape_parameters_and_a_fresh_model_returns_near_its_input() {
        let device = Device::flex();
        let g = InpaintGenerator::new(&mut Rng(3), &device);
        assert_eq!(g.parameters(), 818_451);
        assert_eq!(g.convs().len(), 23);
        // Gated 3×3 convs: 2·(9·cin·cout + cout) each, and the tail 9·16·3 + 3.
        let gated = |i: usize, o: usize| 2 * (9 * i * o + o);
        let wide = InpaintGenerator::with_channels([8, 8, 16, 16], &mut Rng(3), &device);
        assert_eq!(
            wide.parameters(),
            gated(4, 8)
                + gated(8, 8)
                + gated(8, 16)
                + gated(16, 16)
                + 3 * gated(16, 16)
                + gated(16, 16)
                + gated(16, 8)
                + gated(8, 8)
                + gated(8, 8)
                + 9 * 8 * 3
                + 3
        );
        let v: Vec<f32> = (0..2 * 4 * 16 * 24).map(|i| (i % 7) as f32 / 7.0).collect();
        let x = Tensor::<4>::from_data(TensorData::new(v.clone(), [2, 4, 16, 24]), &device);
        let y = g.forward(x);
        assert_eq!(y.dims(), [2, 3, 16, 24]);
        let y = crate::common::params::values(y);
        let n = 16 * 24;
        let worst = (0..2 * 3 * n)
            .map(|i| (y[i] - v[(i / (3 * n)) * 4 * n + i % (3 * n)]).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 0.2, "{worst}");
    }

    #[test]
    fn upsample_repeats_pixels() {
        let device = Device::flex();
        let x = Tensor::<4>::from_data(
            TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0], [1, 1, 2, 2]),
            &device,
        );
        let y = crate::common::params::values(upsample2(x));
        assert_eq!(
            y,
            vec![1., 1., 2., 2., 1., 1., 2., 2., 3., 3., 4., 4., 3., 3., 4., 4.]
        );
    }
}
