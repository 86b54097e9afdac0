//! Widening a trained inpainting generator (Net2Net-style, Chen et al.
//! 2016): a generator with more channels per level that computes exactly
//! what the narrow one does, so that training can go on with more capacity
//! instead of starting over.
//!
//! Every old weight is copied. A new output channel of a gated layer gets a
//! zero feature conv (so `leaky(0) · gate = 0`: it is silent) and a fresh
//! gate; weights from new input channels are fresh (they multiply zeros at
//! first, and give the silent channels their gradient). The skips add
//! silent channels to silent channels, so the output is unchanged.

use burn::module::Param;
use burn::nn::conv::Conv2d;
use burn::prelude::*;

use crate::common::Rng;
use crate::inpaint::model::{GatedConv, InpaintGenerator};

/// `fresh` with its `[..cout, ..cin]` block replaced by `old`'s weights and
/// its first biases by `old`'s; with `silent`, the new output channels get
/// zero weights and biases.
#[allow(clippy::single_range_in_vec_init)] // burn slices a 1-D tensor with `[range]`
fn graft(old: &Conv2d, mut fresh: Conv2d, silent: bool) -> Conv2d {
    let [co, ci, kh, kw] = old.weight.dims();
    let [fo, fi, _, _] = fresh.weight.dims();
    let device = fresh.weight.device();
    let mut w = fresh
        .weight
        .val()
        .slice_assign([0..co, 0..ci, 0..kh, 0..kw], old.weight.val());
    let mut b = fresh.bias.as_ref().map(|b| b.val());
    if let (Some(fb), Some(ob)) = (b.take(), old.bias.as_ref()) {
        b = Some(fb.slice_assign([0..co], ob.val()));
    }
    if silent && fo > co {
        w = w.slice_assign(
            [co..fo, 0..fi, 0..kh, 0..kw],
            Tensor::zeros([fo - co, fi, kh, kw], &device),
        );
        b = b.map(|b| b.slice_assign([co..fo], Tensor::zeros([fo - co], &device)));
    }
    fresh.weight = Param::from_tensor(w.detach());
    fresh.bias = b.map(|b| Param::from_tensor(b.detach()));
    fresh
}

fn graft_gated(old: &GatedConv, fresh: GatedConv) -> GatedConv {
    GatedConv {
        feature: graft(&old.feature, fresh.feature, true),
        gate: graft(&old.gate, fresh.gate, false),
    }
}

/// `g` widened to encoder channels `channels` (each at least `g`'s),
/// fresh weights from `rng`; its output equals `g`'s. `g` has no attention
/// block (callers add one after widening).
pub fn widen(g: &InpaintGenerator, channels: [usize; 4], rng: &mut Rng) -> InpaintGenerator {
    let device = g.tail.weight.device();
    let fresh = InpaintGenerator::with_channels(channels, rng, &device);
    let zip = |old: &[GatedConv], new: Vec<GatedConv>| -> Vec<GatedConv> {
        old.iter()
            .zip(new)
            .map(|(o, n)| graft_gated(o, n))
            .collect()
    };
    InpaintGenerator {
        encoder: zip(&g.encoder, fresh.encoder),
        middle: zip(&g.middle, fresh.middle),
        decoder: zip(&g.decoder, fresh.decoder),
        refine: graft_gated(&g.refine, fresh.refine),
        tail: graft(&g.tail, fresh.tail, false),
        attention: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::params::{max_abs_diff, values};
    use burn::tensor::TensorData;

    #[test]
    fn a_widened_generator_computes_what_the_narrow_one_does() {
        let device = Device::flex();
        let mut rng = Rng(7);
        let mut narrow = InpaintGenerator::with_channels([4, 8, 8, 12], &mut rng, &device);
        // A trained tail is not near zero: make the check sensitive.
        narrow.tail.weight = Param::from_tensor(narrow.tail.weight.val().mul_scalar(10.0));
        let wide = widen(&narrow, [6, 10, 16, 20], &mut rng);
        assert_eq!(
            wide.parameters(),
            InpaintGenerator::with_channels([6, 10, 16, 20], &mut Rng(1), &device).parameters()
        );
        let v: Vec<f32> = (0..2 * 4 * 16 * 16)
            .map(|i| ((i * 37) % 101) as f32 / 101.0)
            .collect();
        let x = || Tensor::<4>::from_data(TensorData::new(v.clone(), [2, 4, 16, 16]), &device);
        let (a, b) = (values(narrow.forward(x())), values(wide.forward(x())));
        let rgb = &v[..];
        let moved = a
            .iter()
            .enumerate()
            .map(|(i, y)| (y - rgb[(i / 768) * 1024 + i % 768]).abs())
            .fold(0.0f32, f32::max);
        assert!(moved > 0.05, "the narrow net does something: {moved}");
        let worst = max_abs_diff(&a, &b);
        assert!(worst < 1e-5, "{worst}");
    }
}
