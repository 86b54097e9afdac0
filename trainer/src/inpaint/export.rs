//! ONNX export of the [`InpaintGenerator`] for the runtime's
//! [`edgegan_runtime::inpaint::Inpainter`]: input `[1, 4, S, S]`, output
//! `[1, 3, S, S]`, both fixed at the working size `S`.
//!
//! Two graphs from one writer:
//! * f32: Conv, LeakyRelu, Sigmoid, Mul; nearest upsampling as Reshape →
//!   Expand → Reshape, exactly as the burn model computes it; the optional
//!   bottleneck attention as 1×1 Convs, MatMul and Softmax;
//! * int8: every conv a `ConvInteger` with per-channel int8 weights on a u8
//!   input quantized with a range calibrated on real windows (the same
//!   QOperator form as the SR models, see [`crate::quant`]); gating, skips
//!   and the final residual add stay f32, and so does the attention block.

use burn::nn::conv::Conv2d;
use burn::prelude::*;
use tract_onnx::pb::tensor_shape_proto::dimension::Value as Dim;

use crate::common::params::values;
use crate::inpaint::attn::{MaskedAttention, CELL, HOLE_PENALTY, KEY_DIM};
use crate::inpaint::model::InpaintGenerator;
use crate::onnx::layers::{add_conv, add_leaky};
use crate::onnx::{attr_int, attr_ints, value_info, GraphBuilder, OnnxModel};
use crate::quant::{add_qconv, add_qparams, choose, Method, QParams};

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

    fn gated(&mut self, gc: &crate::inpaint::model::GatedConv, name: &str, x: &str) -> String {
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

/// Channels `range` of the graph's input as a tensor called `name` (a
/// `Slice` on axis 1, its bounds the initializers `{name}_starts`, …).
fn add_channel_slice(g: &mut GraphBuilder, name: &str, range: std::ops::Range<i64>) {
    let bounds = [("starts", range.start), ("ends", range.end), ("axes", 1)];
    for (what, v) in bounds {
        g.initializer_i64(&format!("{name}_{what}"), vec![v]);
    }
    let inputs = bounds.map(|(what, _)| format!("{name}_{what}"));
    let [a, b, c] = inputs.each_ref().map(String::as_str);
    g.node("Slice", &["input", a, b, c], &[name], vec![]);
}

/// The [`MaskedAttention`] block on `x` (`[1, C, side, side]`), in f32 in
/// both graphs: MatMul, Softmax and 1×1 Convs, the cells' hole shares an
/// `AveragePool` of the input's mask channel. Returns the output's name.
fn add_attention(g: &mut GraphBuilder, a: &MaskedAttention, x: &str, side: usize) -> String {
    let (c, t) = (a.value.weight.dims()[0] as i64, (side * side) as i64);
    let k = KEY_DIM as i64;
    add_channel_slice(g, "attn_mask", 3..4);
    let cell = CELL as i64;
    let pool = vec![
        attr_ints("kernel_shape", &[cell, cell]),
        attr_ints("strides", &[cell, cell]),
    ];
    g.node("AveragePool", &["attn_mask"], &["attn_cells"], pool);
    for (name, shape) in [
        ("keys", vec![1, k, t]),
        ("values", vec![1, c, t]),
        ("cells", vec![1, 1, t]),
        ("map", vec![1, c, side as i64, side as i64]),
    ] {
        g.initializer_i64(&format!("attn_{name}_shape"), shape);
    }
    g.initializer("attn_scale", &[], vec![1.0 / (KEY_DIM as f32).sqrt()]);
    g.initializer("attn_penalty", &[], vec![-HOLE_PENALTY]);
    let flat = |g: &mut GraphBuilder, conv: &Conv2d, name: &str, shape: &str| {
        add_conv(g, conv, name, x, &format!("{name}_y"));
        let shape = format!("attn_{shape}_shape");
        g.node(
            "Reshape",
            &[&format!("{name}_y"), &shape],
            &[&format!("{name}_flat")],
            vec![],
        );
    };
    flat(g, &a.query, "attn_q", "keys");
    flat(g, &a.key, "attn_k", "keys");
    flat(g, &a.value, "attn_v", "values");
    let perm = || vec![attr_ints("perm", &[0, 2, 1])];
    g.node("Transpose", &["attn_q_flat"], &["attn_qt"], perm());
    g.node(
        "MatMul",
        &["attn_qt", "attn_k_flat"],
        &["attn_dots"],
        vec![],
    );
    g.node(
        "Mul",
        &["attn_dots", "attn_scale"],
        &["attn_scaled"],
        vec![],
    );
    g.node(
        "Reshape",
        &["attn_cells", "attn_cells_shape"],
        &["attn_cells_flat"],
        vec![],
    );
    g.node(
        "Mul",
        &["attn_cells_flat", "attn_penalty"],
        &["attn_bias"],
        vec![],
    );
    g.node(
        "Add",
        &["attn_scaled", "attn_bias"],
        &["attn_logits"],
        vec![],
    );
    g.node(
        "Softmax",
        &["attn_logits"],
        &["attn_weights"],
        vec![attr_int("axis", 2)],
    );
    g.node("Transpose", &["attn_weights"], &["attn_weights_t"], perm());
    g.node(
        "MatMul",
        &["attn_v_flat", "attn_weights_t"],
        &["attn_mixed"],
        vec![],
    );
    g.node(
        "Reshape",
        &["attn_mixed", "attn_map_shape"],
        &["attn_map"],
        vec![],
    );
    add_conv(g, &a.out, "attn_o", "attn_map", "attn_o_y");
    g.node("Add", &[x, "attn_o_y"], &["attn_out"], vec![]);
    "attn_out".into()
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
    add_channel_slice(&mut w.g, "rgb", 0..3);
    let mut x = "input".to_string();
    let mut skips = Vec::new();
    for (i, gc) in generator.encoder.iter().enumerate() {
        x = w.gated(gc, &format!("enc{i}"), &x);
        skips.push(x.clone());
    }
    for (i, gc) in generator.middle.iter().enumerate() {
        x = w.gated(gc, &format!("mid{i}"), &x);
    }
    if let Some(a) = &generator.attention {
        x = add_attention(&mut w.g, a, &x, size / CELL);
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
