//! The patched tract's f32 convolutions (vendor/README.md, patches 7–10)
//! against the definition: one ONNX `Conv` of each shape below, lowered both
//! ways tract can (the direct spatial convolution, rewritten to run row by
//! row through a zero-padded buffer with an AVX-512 kernel where the CPU has
//! one; and im2col, whose lazy packing now copies a contiguous panel block by
//! block), run on fixed inputs and checked point by point against an f64
//! sum. The tolerance is f32 rounding over the sum of the terms'
//! magnitudes, the bound any summation order meets.

use edgegan_trainer::common::Rng;
use edgegan_trainer::common::LEAKY_SLOPE;
use edgegan_trainer::onnx::layers::add_leaky;
use edgegan_trainer::onnx::{attr_ints, GraphBuilder};
use tract_onnx::pb::tensor_shape_proto::dimension::Value as Dim;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::knobs::KnobScope;

/// One convolution: input channels, output channels, input height and width,
/// kernel (h, w), strides, dilations, pads (top, left, bottom, right).
struct Case {
    cin: usize,
    cout: usize,
    hw: (usize, usize),
    kernel: (usize, usize),
    strides: (usize, usize),
    dilations: (usize, usize),
    pads: [usize; 4],
    batch: usize,
    /// A LeakyRelu (the generators' slope) after the conv.
    leaky: bool,
}

const fn case(
    cin: usize,
    cout: usize,
    hw: (usize, usize),
    k: usize,
    s: usize,
    d: usize,
    p: usize,
) -> Case {
    Case {
        cin,
        cout,
        hw,
        kernel: (k, k),
        strides: (s, s),
        dilations: (d, d),
        pads: [p; 4],
        batch: 1,
        leaky: false,
    }
}

fn cases() -> Vec<Case> {
    vec![
        // the SR body: 32→32 3×3 and its LeakyRelu, which both lowerings
        // fuse; rows long enough for full 64-point tiles
        Case {
            leaky: true,
            ..case(32, 32, (9, 150), 3, 1, 1, 1)
        },
        // the SR head (5×5 over RGB) and tail (32→12)
        case(3, 32, (7, 133), 5, 1, 1, 2),
        case(32, 12, (6, 131), 3, 1, 1, 1),
        // channels not a multiple of four, dilation, stride 2, no padding,
        // asymmetric padding and kernel, a batch of two (tract lowers a conv
        // directly only where the output row has at least 128 points)
        case(5, 7, (9, 140), 3, 1, 2, 2),
        case(8, 8, (9, 270), 3, 2, 1, 1),
        case(4, 4, (6, 140), 3, 1, 1, 0),
        // stride 3 with dilation 2: every tap column in another phase of
        // the strided row buffer; then a stride along W only, a dilation
        // along H only and a 3×5 kernel
        case(5, 8, (7, 400), 3, 3, 2, 2),
        Case {
            cin: 3,
            cout: 4,
            hw: (9, 281),
            kernel: (3, 5),
            strides: (1, 2),
            dilations: (2, 1),
            pads: [1, 2, 3, 1],
            batch: 1,
            leaky: true,
        },
        Case {
            cin: 6,
            cout: 8,
            hw: (8, 140),
            kernel: (3, 5),
            strides: (1, 1),
            dilations: (1, 1),
            pads: [0, 3, 2, 1],
            batch: 2,
            leaky: false,
        },
    ]
}

/// The conv's ONNX bytes and its weights and bias.
fn conv_model(c: &Case, rng: &mut Rng) -> (Vec<u8>, Vec<f32>, Vec<f32>) {
    let (kh, kw) = c.kernel;
    let w: Vec<f32> = (0..c.cout * c.cin * kh * kw)
        .map(|_| rng.unit() - 0.5)
        .collect();
    let b: Vec<f32> = (0..c.cout).map(|_| rng.unit() - 0.5).collect();
    let mut g = GraphBuilder::new("one-conv");
    g.initializer(
        "w",
        &[c.cout as i64, c.cin as i64, kh as i64, kw as i64],
        w.clone(),
    );
    g.initializer("b", &[c.cout as i64], b.clone());
    let p = c.pads.map(|p| p as i64);
    let conv_out = if c.leaky { "c" } else { "y" };
    g.node(
        "Conv",
        &["x", "w", "b"],
        &[conv_out],
        vec![
            attr_ints("kernel_shape", &[kh as i64, kw as i64]),
            attr_ints("strides", &[c.strides.0 as i64, c.strides.1 as i64]),
            attr_ints("dilations", &[c.dilations.0 as i64, c.dilations.1 as i64]),
            attr_ints("pads", &[p[0], p[1], p[2], p[3]]),
        ],
    );
    if c.leaky {
        add_leaky(&mut g, "c", "y");
    }
    let dims = |ch: usize, prefix: &str| {
        vec![
            Dim::DimValue(c.batch as i64),
            Dim::DimValue(ch as i64),
            Dim::DimParam(format!("{prefix}H")),
            Dim::DimParam(format!("{prefix}W")),
        ]
    };
    let x = edgegan_trainer::onnx::value_info("x", dims(c.cin, ""));
    let y = edgegan_trainer::onnx::value_info("y", dims(c.cout, "out_"));
    (g.finish_with(x, y).encode(), w, b)
}

/// Runs the conv with tract's direct spatial lowering on or off; returns the
/// output and the names of the plan's ops.
fn run_tract(bytes: &[u8], c: &Case, input: &Tensor, direct: bool) -> (Tensor, Vec<String>) {
    let disable = if direct { "false" } else { "true" };
    KnobScope::new([("TRACT_DISABLE_DIRECT_SPATIAL", disable)])
        .and_then(|scope| {
            scope.enter(|| {
                let plan = tract_onnx::onnx()
                    .model_for_read(&mut &bytes[..])?
                    .with_input_fact(0, f32::fact([c.batch, c.cin, c.hw.0, c.hw.1]).into())?
                    .into_optimized()?;
                let ops = plan
                    .nodes
                    .iter()
                    .map(|n| n.op().name().to_string())
                    .collect();
                let out = plan
                    .into_runnable()?
                    .run(tvec!(input.clone().into_tvalue()))?;
                Ok((out[0].clone().into_tensor(), ops))
            })
        })
        .unwrap()
}

#[test]
fn f32_convolutions_match_the_definition_both_ways() {
    // tract picks its kernels once per process: pick them as the runtime
    // does (AMX int8 off), as the other in-process tract tests expect.
    tract_onnx::tract_core::knobs::set_config_global("TRACT_CPU_ISA", "-amx-int8").unwrap();
    let mut rng = Rng(28);
    for c in cases() {
        let (h, w) = c.hw;
        let (kh, kw) = c.kernel;
        let [pt, pl, pb, pr] = c.pads;
        let oh = (h + pt + pb - (kh - 1) * c.dilations.0 - 1) / c.strides.0 + 1;
        let ow = (w + pl + pr - (kw - 1) * c.dilations.1 - 1) / c.strides.1 + 1;
        let (bytes, weights, bias) = conv_model(&c, &mut rng);
        let x: Vec<f32> = (0..c.batch * c.cin * h * w)
            .map(|_| rng.unit() * 2.0 - 1.0)
            .collect();
        let input = Tensor::from_shape(&[c.batch, c.cin, h, w], &x).unwrap();
        for direct in [true, false] {
            let (out, ops) = run_tract(&bytes, &c, &input, direct);
            let lowered = ops.iter().any(|o| o == "DirectSpatialConv");
            assert_eq!(lowered, direct, "direct={direct}: plan {ops:?}");
            // the activation is fused into the conv either way
            assert!(!ops.iter().any(|o| o == "LeakyRelu"), "plan {ops:?}");
            assert_eq!(out.shape(), &[c.batch, c.cout, oh, ow]);
            let got = out.to_plain_array_view::<f32>().unwrap();
            let got = got.into_dimensionality::<tract_ndarray::Ix4>().unwrap();
            for ((n, o, y, x_), g) in got.indexed_iter() {
                let (mut sum, mut mag) = (bias[o] as f64, (bias[o] as f64).abs());
                for i in 0..c.cin {
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let iy = (y * c.strides.0 + ky * c.dilations.0) as isize - pt as isize;
                            let ix = (x_ * c.strides.1 + kx * c.dilations.1) as isize - pl as isize;
                            if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                                continue;
                            }
                            let v = x[((n * c.cin + i) * h + iy as usize) * w + ix as usize] as f64;
                            let k = weights[((o * c.cin + i) * kh + ky) * kw + kx] as f64;
                            sum += v * k;
                            mag += (v * k).abs();
                        }
                    }
                }
                if c.leaky && sum <= 0.0 {
                    (sum, mag) = (sum * LEAKY_SLOPE, mag * LEAKY_SLOPE);
                }
                let tol = 16.0 * f32::EPSILON as f64 * mag;
                assert!(
                    (*g as f64 - sum).abs() <= tol,
                    "cin {} cout {} {:?} direct={direct} at {:?}: {g} vs {sum}",
                    c.cin,
                    c.cout,
                    c.hw,
                    (n, o, y, x_)
                );
            }
        }
    }
}
