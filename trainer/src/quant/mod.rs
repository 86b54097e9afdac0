//! Post-training static quantization of the SR generator into a QOperator
//! ONNX graph that tract runs on int8 kernels: per-channel symmetric int8
//! weights (no zero point), u8 activations with per-tensor ranges calibrated
//! on real images, every convolution a `ConvInteger` whose i32 sums are
//! rescaled per channel and biased in f32 — tract fuses that into its
//! integer matmul, where `QLinearConv`'s requantization ran as four separate
//! passes and its weight zero point cost a sum-of-inputs pass (measured:
//! 120 → 69 ms per 140² window for sr-x2). LeakyReLU runs in f32 and the
//! result is re-quantized for the next conv (ONNX has no quantized
//! LeakyReLU). The bicubic skip stays f32; the input is quantized with scale
//! 1/255 and zero point 0, exact for 8-bit images.

pub(crate) mod model_dir;

pub use model_dir::{quantize_model_dir, Quantized};

use burn::nn::conv::Conv2d;
use burn::prelude::*;
use std::str::FromStr;

use crate::common::params::values;
use crate::common::LEAKY_SLOPE;
use crate::onnx::classic::add_bicubic;
use crate::onnx::{attr_int, GraphBuilder, OnnxModel};
use crate::sr::model::Generator;

/// How activation ranges are chosen from calibration values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// The observed minimum and maximum.
    MinMax,
    /// The 0.01 % and 99.99 % quantiles (outliers clipped).
    Percentile,
    /// The range (a shrink of min/max) minimizing the quantization MSE.
    Mse,
}

impl FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "minmax" => Ok(Method::MinMax),
            "percentile" => Ok(Method::Percentile),
            "mse" => Ok(Method::Mse),
            o => Err(format!(
                "unknown calibration method '{o}' (minmax, percentile, mse)"
            )),
        }
    }
}

/// An affine u8 quantization: `real = scale · (q − zero_point)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QParams {
    /// Step between levels.
    pub scale: f32,
    /// The level that represents 0.
    pub zero_point: u8,
}

impl QParams {
    /// Parameters covering `[lo, hi]` (widened to include 0).
    pub fn covering(lo: f32, hi: f32) -> QParams {
        let (lo, hi) = (lo.min(0.0), hi.max(0.0));
        let scale = ((hi - lo) / 255.0).max(1e-8);
        QParams {
            scale,
            zero_point: (-lo / scale).round().clamp(0.0, 255.0) as u8,
        }
    }

    /// Quantize then dequantize `v`.
    pub fn round_trip(&self, v: f32) -> f32 {
        let q = (v / self.scale).round() + self.zero_point as f32;
        (q.clamp(0.0, 255.0) - self.zero_point as f32) * self.scale
    }
}

fn quantile(sorted: &[f32], q: f64) -> f32 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// The range of `values` by `method`.
pub fn choose(values: &mut [f32], method: Method) -> QParams {
    values.sort_by(f32::total_cmp);
    let (lo, hi) = (values[0], values[values.len() - 1]);
    match method {
        Method::MinMax => QParams::covering(lo, hi),
        Method::Percentile => {
            QParams::covering(quantile(values, 1e-4), quantile(values, 1.0 - 1e-4))
        }
        Method::Mse => {
            // Subsample for speed; the sorted order keeps quantiles intact.
            let step = (values.len() / 200_000).max(1);
            let sample: Vec<f32> = values.iter().step_by(step).copied().collect();
            (50..=100)
                .map(|k| QParams::covering(lo * k as f32 / 100.0, hi * k as f32 / 100.0))
                .map(|p| {
                    let e: f64 = sample
                        .iter()
                        .map(|&v| ((p.round_trip(v) - v) as f64).powi(2))
                        .sum();
                    (e, p)
                })
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, p)| p)
                .expect("non-empty search")
        }
    }
}

/// Calibrated ranges of every activation (the next convolution's input; the
/// convolutions' own outputs stay f32 in the exported graph).
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// Per conv except the tail: its post-activation output.
    pub act_out: Vec<QParams>,
    /// Method used.
    pub method: Method,
    /// Calibration pixels (LR) seen.
    pub pixels: usize,
}

fn convs(g: &Generator) -> Vec<&Conv2d> {
    std::iter::once(&g.head)
        .chain(g.body.iter())
        .chain(std::iter::once(&g.tail))
        .collect()
}

/// Run `g` on LR batches and record every layer's values, then pick ranges.
pub fn calibrate(g: &Generator, batches: &[Tensor<4>], method: Method) -> Calibration {
    let n = convs(g).len();
    let mut post: Vec<Vec<f32>> = vec![Vec::new(); n - 1];
    let mut pixels = 0;
    for x in batches {
        let [b, _, h, w] = x.dims();
        pixels += b * h * w;
        let mut y = x.clone();
        for (i, c) in convs(g).into_iter().enumerate() {
            y = c.forward(y);
            if i < n - 1 {
                y = burn::tensor::activation::leaky_relu(y, LEAKY_SLOPE);
                post[i].extend(values(y.clone()));
            }
        }
    }
    Calibration {
        act_out: post.iter_mut().map(|v| choose(v, method)).collect(),
        method,
        pixels,
    }
}

/// Per-output-channel symmetric int8 weights: (values, scales).
pub fn quantize_weights(w: &[f32], out_channels: usize) -> (Vec<i32>, Vec<f32>) {
    let per = w.len() / out_channels;
    let mut q = Vec::with_capacity(w.len());
    let mut scales = Vec::with_capacity(out_channels);
    for c in w.chunks(per) {
        let m = c.iter().fold(0.0f32, |a, v| a.max(v.abs()));
        let s = (m / 127.0).max(1e-12);
        scales.push(s);
        q.extend(
            c.iter()
                .map(|v| (v / s).round().clamp(-127.0, 127.0) as i32),
        );
    }
    (q, scales)
}

/// Per-output-channel symmetric int8 weights for a `ConvInteger` with OIHW
/// `dims`, every pair of input channels (2j, 2j + 1) of a tap bounded:
/// |q₀| + |q₁| ≤ 128. Then an AVX2 `vpmaddubsw` sum of two u8 × s8
/// products never saturates (255 · 128 < 2¹⁵), and the runtime's fused
/// conv runs exactly on CPUs without VNNI too. The scale is the larger of
/// max|w| / 127 and the largest pair's (|w₀| + |w₁|) / 128; a pair that
/// rounding still takes to 129 gives one step back on its larger member.
pub fn quantize_conv_weights(w: &[f32], dims: [usize; 4]) -> (Vec<i32>, Vec<f32>) {
    let [out, inp, kh, kw] = dims;
    let taps = kh * kw;
    let per = inp * taps;
    let mut q = Vec::with_capacity(w.len());
    let mut scales = Vec::with_capacity(out);
    for c in w.chunks(per).take(out) {
        let at = |i: usize, t: usize| if i < inp { c[i * taps + t] } else { 0.0 };
        let m = c.iter().fold(0.0f32, |a, v| a.max(v.abs()));
        let mut pair = 0.0f32;
        for i in (0..inp).step_by(2) {
            for t in 0..taps {
                pair = pair.max(at(i, t).abs() + at(i + 1, t).abs());
            }
        }
        let s = (m / 127.0).max(pair / 128.0).max(1e-12);
        scales.push(s);
        let mut qc: Vec<i32> = c
            .iter()
            .map(|v| (v / s).round().clamp(-127.0, 127.0) as i32)
            .collect();
        for i in (0..inp.saturating_sub(1)).step_by(2) {
            for t in 0..taps {
                let (a, b) = (i * taps + t, (i + 1) * taps + t);
                while qc[a].abs() + qc[b].abs() > 128 {
                    let k = if qc[a].abs() >= qc[b].abs() { a } else { b };
                    qc[k] -= qc[k].signum();
                }
            }
        }
        q.extend(qc);
    }
    (q, scales)
}

pub(crate) fn add_qparams(g: &mut GraphBuilder, name: &str, p: QParams) -> (String, String) {
    let (s, z) = (format!("{name}_scale"), format!("{name}_zp"));
    g.initializer(&s, &[], vec![p.scale]);
    g.initializer_int(&z, "u8", &[], &[p.zero_point as i32]);
    (s, z)
}

/// A quantized conv: `ConvInteger` (u8 input, i8 weights, i32 sums), then
/// the per-channel rescale and bias in f32, which tract fuses into the
/// integer matmul's output stage. Returns the f32 output's name.
/// `x` is (u8 tensor, its zero-point initializer, its scale).
pub(crate) fn add_qconv(
    g: &mut GraphBuilder,
    conv: &Conv2d,
    name: &str,
    x: (&str, &str, f32),
) -> String {
    let dims = conv.weight.dims();
    let (wq, ws) = quantize_conv_weights(&values(conv.weight.val()), dims);
    let wn = format!("{name}_wq");
    g.initializer_int(&wn, "i8", &dims.map(|d| d as i64), &wq);
    let bias = conv
        .bias
        .as_ref()
        .map(|b| values(b.val()))
        .unwrap_or(vec![0.0; dims[0]]);
    let (acc, accf) = (format!("{name}_acc"), format!("{name}_accf"));
    // No weight zero point: tract then needs no sum-of-input correction.
    g.node(
        "ConvInteger",
        &[x.0, &wn, x.1],
        &[&acc],
        crate::onnx::layers::conv_attrs(conv),
    );
    g.node("Cast", &[&acc], &[&accf], vec![attr_int("to", 1)]);
    let c = dims[0] as i64;
    let (mul, add, scaled) = (
        format!("{name}_mul"),
        format!("{name}_bias"),
        format!("{name}_scaled"),
    );
    g.initializer(&mul, &[1, c, 1, 1], ws.iter().map(|s| s * x.2).collect());
    g.initializer(&add, &[1, c, 1, 1], bias);
    g.node("Mul", &[&accf, &mul], &[&scaled], vec![]);
    let out = format!("{name}_y");
    g.node("Add", &[&scaled, &add], &[&out], vec![]);
    out
}

/// The QOperator graph of `generator` with `cal`'s activation ranges.
pub fn quantized_onnx(generator: &Generator, cal: &Calibration, name: &str) -> OnnxModel {
    let shape = generator.shape();
    let mut g = GraphBuilder::new(name);
    add_bicubic(&mut g, "input", "bicubic", shape.scale);
    let input_q = QParams {
        scale: 1.0 / 255.0,
        zero_point: 0,
    };
    let (s, z) = add_qparams(&mut g, "input", input_q);
    g.node("QuantizeLinear", &["input", &s, &z], &["input_q"], vec![]);
    let layers = convs(generator);
    let last = layers.len() - 1;
    let mut x = ("input_q".to_string(), z, input_q.scale);
    for (i, conv) in layers.into_iter().enumerate() {
        let lname = match i {
            0 => "head".to_string(),
            i if i == last => "tail".to_string(),
            i => format!("body{}", i - 1),
        };
        let yf = add_qconv(&mut g, conv, &lname, (&x.0, &x.1, x.2));
        if i == last {
            break;
        }
        let a = format!("{lname}_a");
        crate::onnx::layers::add_leaky(&mut g, &yf, &a);
        let ap = cal.act_out[i];
        let (s, z) = add_qparams(&mut g, &a, ap);
        let aq = format!("{a}_q");
        g.node("QuantizeLinear", &[&a, &s, &z], &[&aq], vec![]);
        x = (aq, z, ap.scale);
    }
    crate::sr::export::finish_sr(g, shape.scale)
}

/// Quantize the generator in `onnx` (bytes of [`crate::sr::export::generator_onnx`])
/// with ranges calibrated on `patches` random 64×64 LR patches of `photos`
/// (made as training makes them; `seed` fixes which). Returns the int8 graph
/// bytes and the calibration.
pub fn quantize_generator(
    onnx: &[u8],
    photos: &crate::sr::data::PhotoSet,
    patches: usize,
    seed: u64,
    method: Method,
    name: &str,
) -> Result<(Vec<u8>, Calibration), String> {
    let device = Device::flex();
    let generator = crate::sr::export::generator_from_onnx(onnx, &device)?;
    let scale = generator.shape().scale;
    let (side, per) = (64, 8);
    let mut rng = crate::common::Rng(seed);
    let spec = crate::sr::data::PatchSpec {
        lr_side: side,
        scale,
        degrade: crate::sr::degrade::Degradations::default(),
    };
    let batches: Vec<Tensor<4>> = (0..patches.max(1).div_ceil(per))
        .map(|_| {
            let b = photos.batch(&mut rng, per, &spec);
            Tensor::from_data(
                burn::tensor::TensorData::new(b.lr, [per, 3, side, side]),
                &device,
            )
        })
        .collect();
    let cal = calibrate(&generator, &batches, method);
    Ok((quantized_onnx(&generator, &cal, name).encode(), cal))
}

/// The predicted RMS of int8 output − f32 output (in [0, 1] units), from
/// the quantization scales: every rounding adds independent uniform noise of
/// variance s²/12, and a conv passes its input noise on with the gain
/// `max_c Σ_k ŵ_ck²` (LeakyReLU never amplifies it). Per conv, with `v` the
/// input noise variance and `m` the input's magnitude bound:
/// `v' = max_c Σ ŵ² · v + max_c Σ (ŵ − w)² · m²` (rescale and bias are f32),
/// then `+ s_a²/12` for the re-quantized activation. The input is exact
/// (8-bit pixels at scale 1/255) and the bicubic branch is f32 in both.
pub fn predicted_rms_error(generator: &Generator, cal: &Calibration) -> f64 {
    let layers = convs(generator);
    let last = layers.len() - 1;
    let (mut v, mut m) = (0.0f64, 1.0f64);
    for (i, conv) in layers.into_iter().enumerate() {
        let dims = conv.weight.dims();
        let w = values(conv.weight.val());
        let (q, ws) = quantize_conv_weights(&w, dims);
        let per = w.len() / dims[0];
        let (mut gain, mut dgain) = (0.0f64, 0.0f64);
        for (c, &scale) in ws.iter().enumerate() {
            let (mut a, mut d) = (0.0f64, 0.0f64);
            for k in c * per..(c + 1) * per {
                let wq = q[k] as f64 * scale as f64;
                a += wq * wq;
                d += (wq - w[k] as f64).powi(2);
            }
            gain = gain.max(a);
            dgain = dgain.max(d);
        }
        v = gain * v + dgain * m * m;
        if i < last {
            let a = cal.act_out[i];
            v += (a.scale as f64).powi(2) / 12.0;
            let lo = -(a.zero_point as f64) * a.scale as f64;
            let hi = (255.0 - a.zero_point as f64) * a.scale as f64;
            m = lo.abs().max(hi.abs());
        }
    }
    v.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qparams_cover_the_range_and_zero_exactly() {
        let p = QParams::covering(-1.0, 3.0);
        assert_eq!(p.scale, 4.0 / 255.0);
        assert_eq!(p.zero_point, 64);
        assert_eq!(p.round_trip(0.0), 0.0);
        assert!((p.round_trip(3.0) - 3.0).abs() <= p.scale / 2.0);
        assert_eq!(p.round_trip(10.0), (255.0 - 64.0) * p.scale);
    }

    #[test]
    fn weights_are_symmetric_per_channel() {
        let (q, s) = quantize_weights(&[0.5, -1.0, 0.25, 2.0, -2.0, 1.0], 2);
        assert_eq!(s, vec![1.0 / 127.0, 2.0 / 127.0]);
        assert_eq!(q, vec![64, -127, 32, 127, -127, 64]);
    }

    #[test]
    fn conv_weights_bound_every_channel_pair() {
        // Channel 0: the pair (1, 1) sets the scale to 2/128 over 1/127.
        // Channel 1: (2, -1) sets it to 3/128; the third input is unpaired.
        let (q, s) = quantize_conv_weights(&[1.0, 1.0, 0.5, 2.0, -1.0, 0.25], [2, 3, 1, 1]);
        assert_eq!(s, vec![1.0 / 64.0, 3.0 / 128.0]);
        assert_eq!(q, vec![64, 64, 32, 85, -43, 11]);
        // 64.5 and 63.5 steps round to 65 + 64 = 129: the larger steps back.
        let (q, s) = quantize_conv_weights(&[0.50390625, 0.49609375], [1, 2, 1, 1]);
        assert_eq!((q, s), (vec![64, 64], vec![1.0 / 128.0]));
        // Pairs are input channels at the same tap, not neighbouring taps.
        let (q, _) = quantize_conv_weights(&[1.0, 0.0, 0.0, 1.0], [1, 2, 1, 2]);
        assert_eq!(q, vec![127, 0, 0, 127]);
    }

    #[test]
    fn methods_pick_nested_ranges() {
        let mut v: Vec<f32> = (0..10_000).map(|i| i as f32 / 10_000.0).collect();
        v.push(50.0); // one outlier
        let mm = choose(&mut v.clone(), Method::MinMax);
        let pc = choose(&mut v.clone(), Method::Percentile);
        let mse = choose(&mut v, Method::Mse);
        assert_eq!(mm.scale, 50.0 / 255.0);
        assert!(pc.scale < 1.01 / 255.0, "{pc:?}");
        assert!(mse.scale < mm.scale, "{mse:?}");
    }
}
