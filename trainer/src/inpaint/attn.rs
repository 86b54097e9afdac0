//! Masked self-attention at the inpainting generator's bottleneck (an
//! option, `train inpaint --attention`): every ⅛-resolution cell attends
//! to every other, so a hole can borrow features from anywhere in the
//! window, not only from what its convolutions reach. It is DeepFill v2's
//! contextual attention in its simplest form (one head, 1×1 projections):
//! keys are penalised by the share of their 8×8 cell that is hole
//! (`logit − HOLE_PENALTY · share`), so holes copy from known content.
//!
//! The block is a residual whose output conv starts at zero: added to a
//! trained generator, it computes exactly what the generator did, and
//! fine-tuning grows it from there.

use burn::module::Param;
use burn::nn::conv::Conv2d;
use burn::prelude::*;
use burn::tensor::activation::softmax;

use crate::common::Rng;
use crate::inpaint::model::conv;

/// Width of queries and keys.
pub const KEY_DIM: usize = 32;
/// Logit penalty of a key cell that is all hole.
pub const HOLE_PENALTY: f32 = 16.0;
/// Side of a cell in input pixels (the bottleneck's resolution factor).
pub const CELL: usize = 8;

/// One-head self-attention over the cells of a `[N, C, h, w]` feature map.
#[derive(Module, Debug)]
pub struct MaskedAttention {
    /// 1×1 conv to queries.
    pub query: Conv2d,
    /// 1×1 conv to keys.
    pub key: Conv2d,
    /// 1×1 conv to values.
    pub value: Conv2d,
    /// 1×1 conv of the attended values, added to the input (starts at zero).
    pub out: Conv2d,
}

impl MaskedAttention {
    /// A fresh block on `c` channels whose output is its input.
    pub fn new(c: usize, rng: &mut Rng, device: &Device) -> Self {
        let mut out = conv(c, c, 1, 1, 1, rng, device);
        out.weight = Param::from_tensor(Tensor::zeros([c, c, 1, 1], device));
        out.bias = Some(Param::from_tensor(Tensor::zeros([c], device)));
        MaskedAttention {
            query: conv(c, KEY_DIM, 1, 1, 1, rng, device),
            key: conv(c, KEY_DIM, 1, 1, 1, rng, device),
            value: conv(c, c, 1, 1, 1, rng, device),
            out,
        }
    }

    /// `x + out(attend(x))`; `holes` (`[N, 1, h, w]`) is each cell's hole share.
    pub fn forward(&self, x: Tensor<4>, holes: Tensor<4>) -> Tensor<4> {
        let [n, c, h, w] = x.dims();
        let t = h * w;
        let q = self.query.forward(x.clone()).reshape([n, KEY_DIM, t]);
        let k = self.key.forward(x.clone()).reshape([n, KEY_DIM, t]);
        let v = self.value.forward(x.clone()).reshape([n, c, t]);
        let scale = 1.0 / (KEY_DIM as f64).sqrt();
        let bias = holes.reshape([n, 1, t]).mul_scalar(-HOLE_PENALTY);
        let logits = q.swap_dims(1, 2).matmul(k).mul_scalar(scale) + bias;
        let a = softmax(logits, 2);
        let y = v.matmul(a.swap_dims(1, 2)).reshape([n, c, h, w]);
        x + self.out.forward(y)
    }
}

/// Each [`CELL`]² cell's share of hole: `[N, 1, H, W]` → `[N, 1, H/8, W/8]`
/// (exported as an `AveragePool`).
pub fn cell_holes(mask: Tensor<4>) -> Tensor<4> {
    let [n, _, h, w] = mask.dims();
    let (ch, cw) = (h / CELL, w / CELL);
    mask.reshape([n, 1, ch, CELL, cw, CELL])
        .mean_dim(5)
        .mean_dim(3)
        .reshape([n, 1, ch, cw])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    #[test]
    fn cells_average_their_pixels() {
        let device = Device::flex();
        let mut m = vec![0.0f32; 16 * 8];
        m[..4].fill(1.0); // row 0 of the first cell: 4 of its 64 pixels
        m[8 + 3 * 16] = 1.0; // one pixel of the second cell
        let t = Tensor::<4>::from_data(TensorData::new(m, [1, 1, 8, 16]), &device);
        let c = crate::common::params::values(cell_holes(t));
        assert_eq!(c, vec![4.0 / 64.0, 1.0 / 64.0]);
    }

    #[test]
    fn a_fresh_block_passes_its_input_and_a_trained_one_copies_from_known_cells() {
        let device = Device::flex();
        let mut a = MaskedAttention::new(2, &mut Rng(5), &device);
        let v: Vec<f32> = (0..2 * 2 * 2).map(|i| i as f32 / 8.0).collect();
        let x = Tensor::<4>::from_data(TensorData::new(v.clone(), [1, 2, 2, 2]), &device);
        let holes = Tensor::<4>::from_data(
            TensorData::new(vec![0.0f32, 1.0, 1.0, 1.0], [1, 1, 2, 2]),
            &device,
        );
        assert_eq!(
            crate::common::params::values(a.forward(x.clone(), holes.clone())),
            v
        );
        // Identity value and output convs, zero queries: every cell gets the
        // known cell's value (penalty 16 leaves the holes e^-16 of the weight).
        let eye = Tensor::<4>::from_data(
            TensorData::new(vec![1.0f32, 0.0, 0.0, 1.0], [2, 2, 1, 1]),
            &device,
        );
        a.value.weight = Param::from_tensor(eye.clone());
        a.value.bias = Some(Param::from_tensor(Tensor::zeros([2], &device)));
        a.out.weight = Param::from_tensor(eye);
        a.query.weight = Param::from_tensor(Tensor::zeros([KEY_DIM, 2, 1, 1], &device));
        a.query.bias = Some(Param::from_tensor(Tensor::zeros([KEY_DIM], &device)));
        let y = crate::common::params::values(a.forward(x, holes));
        for (i, (y, v)) in y.iter().zip(&v).enumerate() {
            // Channel 0 of the known cell is 0, channel 1 is 4/8.
            let known = [0.0, 0.5][i / 4];
            assert!((y - v - known).abs() < 1e-5, "{i}: {y} vs {v} + {known}");
        }
    }
}
