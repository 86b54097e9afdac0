//! ONNX export of the [`InpaintGenerator`] for the runtime's
//! [`edgegan_runtime::inpaint::Inpainter`]: input `[1, 4, S, S]`, output
//! `[1, 3, S, S]`, both fixed at the working size `S`.
//!
//! Two graphs from one writer:
//! * f32: Conv, LeakyRelu, Sigmoid, Mul; nearest upsampling as Reshape →
//!   Expand → Reshape, exactly as the burn model computes it;
//! * int8: every conv a `ConvInteger` with per-channel int8 weights on a u8
//!   input quantized with a range calibrated on real windows (the same
//!   QOperator form as the SR models, see [`crate::quant`]); gating, skips
//!   and the final residual add stay f32.

use burn::nn::conv::Conv2d;
use burn::prelude::*;
use tract_onnx::pb::tensor_shape_proto::dimension::Value as Dim;

use crate::inpaint_net::InpaintGenerator;
use crate::onnx::{value_info, GraphBuilder, OnnxModel};
use crate::params::values;
use crate::quant::{add_qconv, add_qparams, choose, Method, QParams};
use crate::sr_export::{add_conv, add_leaky};

/// Calibrated u8 ranges of each conv layer's input (gated layers in graph
/// order, then the tail), as [`InpaintGenerator::forward_recording`] lists them.
pub fn calibrate(g: &InpaintGenerator, batches: &[Tensor<4>], method: Method) -> Vec<QParams> {
    let mut seen: Vec<Vec<f32>> = Vec::new();
    for x in batches {
        let mut rec = Vec::new();
        g.forward_recording(x.clone(), Some(&mut rec));
        seen.resize(rec.len(), Vec::new());
        for (s, t) in seen.iter_mut().zip(rec) {
            s.extend(values(t));
        }
    }
    let mut ranges: Vec<QParams> = seen.iter_mut().map(|v| choose(v, method)).collect();
    // The first input is RGB and mask in [0, 1]: 1/255 steps are exact for 8-bit images.
    ranges[0] = QParams {
        scale: 1.0 / 255.0,
        zero_point: 0,
    };
    ranges
}

struct Writer<'a> {
    g: GraphBuilder,
    q: Option<&'a [QParams]>,
    layer: usize,
}

impl Writer<'_> {
    /// `conv` on `x` into a new f32 tensor named `{name}_y`.
    fn conv(
        &mut self,
        conv: &Conv2d,
        name: &str,
        x: &str,
        xq: Option<(&str, &str, f32)>,
    ) -> String {
        match xq {
            Some(xq) => add_qconv(&mut self.g, conv, name, xq),
            None => {
                let y = format!("{name}_y");
                add_conv(&mut self.g, conv, name, x, &y);
                y
            }
        }
    }

    /// Quantize `x` with the next calibrated range (int8 only).
    fn quantize(&mut self, x: &str) -> Option<(String, String, f32)> {
        let p = self.q?[self.layer];
        self.layer += 1;
        let (s, z) = add_qparams(&mut self.g, x, p);
        let xq = format!("{x}_q");
        self.g.node("QuantizeLinear", &[x, &s, &z], &[&xq], vec![]);
        Some((xq, z, p.scale))
    }

    fn gated(&mut self, gc: &crate::inpaint_net::GatedConv, name: &str, x: &str) -> String {
        let xq = self.quantize(x);
        let xq = xq.as_ref().map(|(a, b, c)| (a.as_str(), b.as_str(), *c));
        let f = self.conv(&gc.feature, &format!("{name}_f"), x, xq);
        let gate = self.conv(&gc.gate, &format!("{name}_g"), x, xq);
        let (a, s, y) = (
            format!("{name}_a"),
            format!("{name}_s"),
            format!("{name}_out"),
        );
        add_leaky(&mut self.g, &f, &a);
        self.g.node("Sigmoid", &[&gate], &[&s], vec![]);
        self.g.node("Mul", &[&a, &s], &[&y], vec![]);
        y
    }

    fn upsample(&mut self, x: &str, c: usize, side: usize, name: &str) -> String {
        let (s, h) = (side as i64, c as i64);
        let shapes = [
            vec![1, h, s, 1, s, 1],
            vec![1, h, s, 2, s, 2],
            vec![1, h, 2 * s, 2 * s],
        ];
        for (i, shape) in shapes.iter().enumerate() {
            self.g
                .initializer_i64(&format!("{name}_shape{i}"), shape.clone());
        }
        let (r, e, y) = (
            format!("{name}_r"),
            format!("{name}_e"),
            format!("{name}_up"),
        );
        self.g
            .node("Reshape", &[x, &format!("{name}_shape0")], &[&r], vec![]);
        self.g
            .node("Expand", &[&r, &format!("{name}_shape1")], &[&e], vec![]);
        self.g
            .node("Reshape", &[&e, &format!("{name}_shape2")], &[&y], vec![]);
        y
    }
}

/// The graph of `generator` at working size `size` (a multiple of 8): f32,
/// or int8 with `ranges` from [`calibrate`].
pub fn inpaint_onnx(
    generator: &InpaintGenerator,
    size: usize,
    ranges: Option<&[QParams]>,
) -> OnnxModel {
    assert!(size.is_multiple_of(8), "working size is a multiple of 8");
    let mut w = Writer {
        g: GraphBuilder::new(if ranges.is_some() {
            "inpaint-int8"
        } else {
            "inpaint"
        }),
        q: ranges,
        layer: 0,
    };
    w.g.initializer_i64("rgb_starts", vec![0]);
    w.g.initializer_i64("rgb_ends", vec![3]);
    w.g.initializer_i64("rgb_axes", vec![1]);
    w.g.node(
        "Slice",
        &["input", "rgb_starts", "rgb_ends", "rgb_axes"],
        &["rgb"],
        vec![],
    );
    let mut x = "input".to_string();
    let mut skips = Vec::new();
    for (i, gc) in generator.encoder.iter().enumerate() {
        x = w.gated(gc, &format!("enc{i}"), &x);
        skips.push(x.clone());
    }
    for (i, gc) in generator.middle.iter().enumerate() {
        x = w.gated(gc, &format!("mid{i}"), &x);
    }
    for (i, gc) in generator.decoder.iter().enumerate() {
        let y = w.gated(gc, &format!("dec{i}"), &x);
        let side = size >> (3 - i);
        let channels = gc.feature.weight.dims()[0];
        let up = w.upsample(&y, channels, side, &format!("dec{i}"));
        x = format!("dec{i}_sum");
        w.g.node("Add", &[&up, &skips[2 - i]], &[&x], vec![]);
    }
    x = w.gated(&generator.refine, "refine", &x);
    let xq = w.quantize(&x);
    let xq = xq.as_ref().map(|(a, b, c)| (a.as_str(), b.as_str(), *c));
    let r = w.conv(&generator.tail, "tail", &x, xq);
    w.g.node("Add", &["rgb", &r], &["output"], vec![]);
    let dims = |c: i64| {
        let s = size as i64;
        vec![
            Dim::DimValue(1),
            Dim::DimValue(c),
            Dim::DimValue(s),
            Dim::DimValue(s),
        ]
    };
    w.g.finish_with(value_info("input", dims(4)), value_info("output", dims(3)))
}
