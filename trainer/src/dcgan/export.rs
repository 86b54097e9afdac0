//! ONNX export of the DCGAN generator for the runtime: batch norms folded
//! into the dense and transposed-conv weights (inference statistics), output
//! mapped from tanh's [−1, 1] to [0, 1].
//!
//! `z [N, latent] → Gemm → Reshape → LeakyRelu → ConvTranspose → LeakyRelu →
//! ConvTranspose → Tanh → ×0.5 + 0.5 → image [N, C, side, side]`
//!
//! The int8 graph stores every weight as per-tensor symmetric int8 with a
//! `DequantizeLinear` in front (4× smaller file, f32 arithmetic: ONNX has no
//! integer transposed convolution).

use burn::nn::BatchNorm;
use tract_onnx::pb::tensor_shape_proto::dimension::Value as Dim;

use crate::common::params::values;
use crate::dcgan::model::{DcGenerator, SLOPE};
use crate::onnx::{attr_ints, value_info, GraphBuilder, OnnxModel};
use crate::quant::quantize_weights;
use tract_onnx::pb::AttributeProto;

/// Per-channel (scale, shift) of a batch norm at inference.
fn folded(bn: &BatchNorm) -> (Vec<f32>, Vec<f32>) {
    let (g, b) = (values(bn.gamma.val()), values(bn.beta.val()));
    let (m, v) = (
        values(bn.running_mean.value()),
        values(bn.running_var.value()),
    );
    let scale: Vec<f32> = g
        .iter()
        .zip(&v)
        .map(|(g, v)| g / (v + bn.epsilon as f32).sqrt())
        .collect();
    let shift = b
        .iter()
        .zip(&m)
        .zip(&scale)
        .map(|((b, m), s)| b - m * s)
        .collect();
    (scale, shift)
}

fn attr_float(name: &str, v: f32) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: tract_onnx::pb::attribute_proto::AttributeType::Float as i32,
        f: v,
        ..Default::default()
    }
}

/// Add weight `name`: f32, or int8 + DequantizeLinear when `int8`.
fn weight(g: &mut GraphBuilder, name: &str, dims: &[i64], w: Vec<f32>, int8: bool) {
    if !int8 {
        return g.initializer(name, dims, w);
    }
    let (q, scales) = quantize_weights(&w, 1);
    let (qn, sn, zn) = (
        format!("{name}_q"),
        format!("{name}_scale"),
        format!("{name}_zp"),
    );
    g.initializer_int(&qn, "i8", dims, &q);
    g.initializer(&sn, &[], vec![scales[0]]);
    g.initializer_int(&zn, "i8", &[], &[0]);
    g.node("DequantizeLinear", &[&qn, &sn, &zn], &[name], vec![]);
}

/// The generator as ONNX (`int8`: int8-stored weights).
pub fn generator_onnx(gen: &DcGenerator, int8: bool) -> OnnxModel {
    let shape = gen.shape();
    let base = (shape.side / 4) as i64;
    let width = shape.width as i64;
    let mut g = GraphBuilder::new("dcgan-generator");
    // Dense with bn0 folded: feature f belongs to channel f / base².
    let (s0, t0) = folded(&gen.bn0);
    let plane = (base * base) as usize;
    let features = shape.width * plane;
    let mut w = values(gen.dense.weight.val());
    for row in w.chunks_mut(features) {
        for (f, v) in row.iter_mut().enumerate() {
            *v *= s0[f / plane];
        }
    }
    let bias = gen
        .dense
        .bias
        .as_ref()
        .map(|b| values(b.val()))
        .unwrap_or(vec![0.0; features]);
    let bias: Vec<f32> = (0..features)
        .map(|f| bias[f] * s0[f / plane] + t0[f / plane])
        .collect();
    weight(
        &mut g,
        "dense_w",
        &[shape.latent as i64, features as i64],
        w,
        int8,
    );
    g.initializer("dense_b", &[features as i64], bias);
    g.node("Gemm", &["z", "dense_w", "dense_b"], &["h0"], vec![]);
    g.initializer_i64("shape0", vec![-1, width, base, base]);
    g.node("Reshape", &["h0", "shape0"], &["r0"], vec![]);
    let leaky = || vec![attr_float("alpha", SLOPE as f32)];
    g.node("LeakyRelu", &["r0"], &["a0"], leaky());
    // Transposed convs: weight [in, out, 4, 4], bn folded per output channel.
    let ups = [(&gen.up1, Some(folded(&gen.bn1))), (&gen.up2, None)];
    let mut x = "a0".to_string();
    for (i, (up, bn)) in ups.into_iter().enumerate() {
        let [cin, cout, k, _] = up.weight.dims();
        let mut w = values(up.weight.val());
        let mut b = up
            .bias
            .as_ref()
            .map(|b| values(b.val()))
            .unwrap_or(vec![0.0; cout]);
        if let Some((s, t)) = bn {
            for (j, v) in w.iter_mut().enumerate() {
                *v *= s[(j / (k * k)) % cout];
            }
            b = b
                .iter()
                .zip(s.iter().zip(&t))
                .map(|(b, (s, t))| b * s + t)
                .collect();
        }
        let (wn, bn_, y) = (format!("up{i}_w"), format!("up{i}_b"), format!("up{i}"));
        weight(
            &mut g,
            &wn,
            &[cin as i64, cout as i64, k as i64, k as i64],
            w,
            int8,
        );
        g.initializer(&bn_, &[cout as i64], b);
        let attrs = vec![
            attr_ints("kernel_shape", &[4, 4]),
            attr_ints("strides", &[2, 2]),
            attr_ints("pads", &[1, 1, 1, 1]),
        ];
        g.node("ConvTranspose", &[&x, &wn, &bn_], &[&y], attrs);
        x = if i == 0 {
            g.node("LeakyRelu", &[&y], &["a1"], leaky());
            "a1".into()
        } else {
            y
        };
    }
    g.node("Tanh", &[&x], &["t"], vec![]);
    g.initializer("half", &[], vec![0.5]);
    g.node("Mul", &["t", "half"], &["t2"], vec![]);
    g.node("Add", &["t2", "half"], &["image"], vec![]);
    let n = || Dim::DimParam("N".into());
    let side = shape.side as i64;
    g.finish_with(
        value_info("z", vec![n(), Dim::DimValue(shape.latent as i64)]),
        value_info(
            "image",
            vec![
                n(),
                Dim::DimValue(shape.channels as i64),
                Dim::DimValue(side),
                Dim::DimValue(side),
            ],
        ),
    )
}
