//! The fused conv against tract's own plan (the shipped int8 graphs, bit
//! for bit) and its kernels against a reference written from the ONNX
//! definition (OIHW weights, zero-point padding), on odd geometries.

use std::sync::Arc;

use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;

use super::kernel::{self, Kind};
use super::op::{Geometry, Output, QConv, Quant, Tail};
use crate::noise::Rng;

/// The kernels to check here: the scalar one everywhere, every SIMD one
/// the CPU runs.
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))]
fn kinds() -> Vec<Kind> {
    let mut kinds = vec![Kind::Scalar];
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx2") {
            kinds.push(Kind::Avx2);
        }
        // The best kernel, then the ones it stands on (AMX's small convs
        // run on VNNI).
        let mut best = kernel::best().filter(|&b| b != Kind::Avx2);
        while let Some(kind) = best {
            kinds.push(kind);
            best = kernel::under(kind);
        }
    }
    kinds
}

/// Whole shipped graphs, fused against tract's plan. x86_64 only: elsewhere
/// no kernel is chosen, and the scalar one on whole graphs takes minutes
/// under the boards check's qemu.
#[cfg(target_arch = "x86_64")]
mod graphs {
    use super::*;
    use crate::engine::qconv::gated::{QGated, Then};
    use crate::engine::qconv::pattern::fuse_with;

    fn model_path(name: &str) -> String {
        format!(
            "{}/../models/{name}/model.int8.onnx",
            env!("CARGO_MANIFEST_DIR")
        )
    }

    fn typed(name: &str, ch: usize, h: usize, w: usize) -> TypedModel {
        // tract's own AMX kernel off, as in every plan the runtime builds
        // (plan::tract_defaults says why): the reference plan below is
        // tract's int8 lowering.
        crate::engine::plan::tract_defaults();
        // As the SR loader reads it: the skip summed before one shuffle,
        // so the tail conv's f32 output meets the skip in an Add.
        let onnx = tract_onnx::onnx();
        let mut proto = onnx.proto_model_for_path(model_path(name)).unwrap();
        crate::engine::shuffle::sum_before_shuffle(&mut proto);
        onnx.model_for_proto_model(&proto)
            .and_then(|m| m.with_input_fact(0, f32::fact([1, ch, h, w]).into()))
            .and_then(|m| m.into_typed())
            .and_then(|m| m.into_decluttered())
            .unwrap()
    }

    fn run(model: TypedModel, input: &Tensor) -> Tensor {
        let plan = model.into_optimized().unwrap().into_runnable().unwrap();
        plan.run(tvec!(input.clone().into_tvalue())).unwrap()[0]
            .clone()
            .into_tensor()
    }

    fn count<T: Op>(model: &TypedModel) -> usize {
        model.nodes().iter().filter(|n| n.op_is::<T>()).count()
    }

    /// Convs fused: one per [`QConv`], two per [`QGated`].
    fn convs_in(model: &TypedModel) -> usize {
        count::<QConv>(model) + 2 * count::<QGated>(model)
    }

    /// [`QGated`] nodes by what follows their product: none (f32), the
    /// quantizer, both, a decoder's upsampling, skip and quantizer.
    fn gated(model: &TypedModel) -> [usize; 4] {
        let mut counts = [0; 4];
        for p in model.nodes().iter().filter_map(|n| n.op_as::<QGated>()) {
            counts[match p.then {
                Then::F32 => 0,
                Then::U8(_) => 1,
                Then::Both(_) => 2,
                Then::Up2Add(_) => 3,
            }] += 1;
        }
        counts
    }

    /// An input in [0, 1]: uniform noise, or the bundled photo's top-left crop.
    fn input(ch: usize, h: usize, w: usize, photo: bool) -> Tensor {
        let mut rng = Rng(7);
        let img = photo.then(|| {
            image::open(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../examples/astronaut.png"
            ))
            .unwrap()
            .to_rgb8()
        });
        tract_ndarray::Array4::from_shape_fn((1, ch, h, w), |(_, c, y, x)| match &img {
            Some(img) if c < 3 => img.get_pixel(x as u32 + 40, y as u32 + 40)[c] as f32 / 255.0,
            _ => rng.unit(),
        })
        .into()
    }

    fn assert_fused_equals_tract(name: &str, ch: usize, h: usize, w: usize, photo: bool) {
        let model = typed(name, ch, h, w);
        let convs = model
            .nodes()
            .iter()
            .filter(|n| {
                n.op_as::<tract_onnx::tract_core::ops::cnn::Conv>()
                    .is_some_and(|c| c.q_params.is_some())
            })
            .count();
        assert!(convs > 0);
        let x = input(ch, h, w, photo);
        let want = run(model.clone(), &x);
        // The scalar kernel fuses every conv; another fuses those whose
        // weights it is exact on (all of them for VNNI).
        let scalar = fuse_with(model.clone(), Kind::Scalar).unwrap();
        // Every conv fused, the inpainting network's 11 gated pairs as one
        // node each: 5 with the quantizer after them, the 3 encoder layers
        // whose product is a skip too with both, the 3 decoder layers with
        // their upsampling, skip and quantizer.
        let want_gated = if name == "inpaint" {
            [0, 5, 3, 3]
        } else {
            [0; 4]
        };
        assert_eq!(gated(&scalar), want_gated, "{name}: gated pairs fused");
        assert_eq!(convs_in(&scalar), convs, "{name}: every int8 conv fused");
        // The last conv takes in the Add of its skip branch (an SR model's
        // bicubic upscale, the inpainting network's prefill).
        let skips = scalar
            .nodes()
            .iter()
            .filter_map(|n| n.op_as::<QConv>())
            .filter(|q| q.tail.skip)
            .count();
        assert_eq!(skips, 1, "{name}: the skip's Add fused");
        for kind in kinds() {
            let fused = fuse_with(model.clone(), kind).unwrap();
            let exact = scalar
                .nodes()
                .iter()
                .flat_map(|n| match (n.op_as::<QConv>(), n.op_as::<QGated>()) {
                    (Some(q), _) => vec![q],
                    (_, Some(p)) => vec![&p.f, &p.g],
                    _ => vec![],
                })
                .filter(|q| kind.runs(&q.weights))
                .count();
            assert_eq!(convs_in(&fused), exact, "{name} {kind:?}");
            if kind != Kind::Scalar && name.starts_with("sr-") {
                assert_eq!(
                    exact, convs,
                    "{name}: the export bounds the weights for {kind:?}"
                );
            }
            let got = run(fused, &x);
            assert_eq!(got.shape(), want.shape());
            let (g, t) = (
                got.try_as_plain_ram().unwrap().as_slice::<f32>().unwrap(),
                want.try_as_plain_ram().unwrap().as_slice::<f32>().unwrap(),
            );
            let differ = g
                .iter()
                .zip(t)
                .filter(|(a, b)| a.to_bits() != b.to_bits())
                .count();
            assert_eq!(
                differ, 0,
                "{name} {h}x{w} photo={photo} {kind:?}: {differ} values differ from tract's"
            );
        }
    }

    #[test]
    fn fused_sr_x2_equals_tract_bit_for_bit() {
        assert_fused_equals_tract("sr-x2", 3, 37, 53, false);
        assert_fused_equals_tract("sr-x2", 3, 48, 64, true);
    }

    #[test]
    fn fused_sr_x4_equals_tract_bit_for_bit() {
        assert_fused_equals_tract("sr-x4", 3, 29, 17, false);
        assert_fused_equals_tract("sr-x4", 3, 40, 48, true);
    }

    #[test]
    fn fused_inpaint_equals_tract_bit_for_bit() {
        // The gated convs' feature (LeakyRelu, f32 out) and gate (bias only,
        // f32 out) halves, the stride-2 encoder ones included.
        assert_fused_equals_tract("inpaint", 4, 256, 256, false);
    }
}

/// One conv computed from its definition: OIHW weights, input rows and
/// columns outside the image at the zero point, then the tail.
fn reference(q: &QConv, k: &[i8], x: &[u8], h: usize, w: usize, skip: &[f32]) -> Vec<u8> {
    let g = &q.geo;
    let mut out = Vec::new();
    let (oh, ow) = g.output(h, w).unwrap();
    for o in 0..g.cout {
        for y in 0..oh {
            for xx in 0..ow {
                let mut acc = 0i32;
                for c in 0..g.cin {
                    for ky in 0..g.kh {
                        for kx in 0..g.kw {
                            let (iy, ix) = (
                                (y * g.sy + ky * g.dy) as isize - g.pad[0] as isize,
                                (xx * g.sx + kx * g.dx) as isize - g.pad[1] as isize,
                            );
                            let inside =
                                (0..h as isize).contains(&iy) && (0..w as isize).contains(&ix);
                            let v = if inside {
                                x[(c * h + iy as usize) * w + ix as usize]
                            } else {
                                q.zp_in
                            };
                            acc += v as i32 * k[((o * g.cin + c) * g.kh + ky) * g.kw + kx] as i32;
                        }
                    }
                }
                let mut v = kernel::tail_f32(&q.tail, o, acc);
                if q.tail.skip {
                    v += skip[(o * oh + y) * ow + xx];
                }
                match q.tail.output {
                    Output::F32 => out.extend(v.to_ne_bytes()),
                    Output::U8(quant) => {
                        out.push(tract_onnx::tract_core::ops::quant::quantize_linear_f32_u8(
                            v,
                            quant.inv_scale,
                            quant.zero_point as i32,
                        ))
                    }
                }
            }
        }
    }
    out
}

#[test]
fn kernels_equal_the_definition_on_odd_geometries() {
    let mut rng = Rng(11);
    // (cin, cout, kh, kw, dilation, stride, pad [t, l, b, r], h, w):
    // channels not multiples of 4 or 16, rectangular, dilated and strided
    // kernels, uneven padding, widths off the 16-pixel block.
    let cases = [
        (3, 32, 5, 5, (1, 1), (1, 1), [2, 2, 2, 2], 9, 21),
        (5, 20, 5, 3, (2, 1), (1, 1), [4, 1, 4, 1], 11, 37),
        (32, 12, 3, 3, (1, 1), (1, 1), [1, 1, 1, 1], 7, 16),
        (18, 48, 3, 3, (4, 4), (1, 1), [4, 4, 4, 4], 13, 3),
        (1, 1, 1, 1, (1, 1), (1, 1), [0, 0, 0, 0], 2, 1),
        (16, 32, 3, 3, (1, 1), (2, 2), [1, 1, 1, 1], 18, 67),
        (7, 17, 3, 5, (1, 2), (2, 3), [0, 3, 2, 1], 15, 50),
        (4, 16, 4, 4, (1, 1), (2, 2), [1, 1, 2, 2], 9, 33),
        // AMX's tilings: kernel columns in chunks of 12 words (32 channels,
        // 3×3), channel groups in 4 chunks of 10 (dilated), 2 of 16
        // (strided) and 1 of 16 (one kernel row); odd blocks of outputs and
        // pixels.
        (32, 32, 3, 3, (1, 1), (1, 1), [1, 1, 1, 1], 6, 48),
        (32, 48, 3, 3, (1, 1), (1, 1), [1, 1, 1, 1], 5, 45),
        (160, 20, 3, 3, (2, 2), (1, 1), [2, 2, 2, 2], 7, 40),
        (128, 40, 3, 3, (1, 1), (2, 2), [1, 1, 1, 1], 9, 35),
        (61, 33, 1, 3, (1, 1), (1, 1), [0, 1, 0, 1], 4, 13),
        // AMX's kernel-row tiles: one group, dilated columns, strided rows.
        (4, 33, 3, 5, (1, 3), (2, 1), [1, 6, 1, 6], 10, 40),
    ];
    for (cin, cout, kh, kw, (dy, dx), (sy, sx), pad, h, w) in cases {
        let geo = Geometry {
            cin,
            cout,
            kh,
            kw,
            dy,
            dx,
            sy,
            sx,
            pad,
        };
        let x: Vec<u8> = (0..cin * h * w).map(|_| rng.below(256) as u8).collect();
        let blocks = geo.blocks() * 16;
        // Full-range weights, then weights in [-64, 64], which every
        // kernel (AVX2's i16 pair sums too) is exact on.
        let full: Vec<i8> = (0..cout * cin * kh * kw)
            .map(|_| (rng.below(256) as i32 - 128) as i8)
            .collect();
        let half: Vec<i8> = full.iter().map(|&v| (v / 2).max(-64)).collect();
        let mut variants = Vec::new();
        for k in [&full, &half] {
            let u8_out = Output::U8(Quant {
                inv_scale: 1.0 / (40.0 + 60.0 * rng.unit()),
                zero_point: rng.below(256) as u8,
            });
            variants.push((k, u8_out, Some(0.1)));
            variants.push((k, Output::F32, None));
            variants.push((k, Output::F32, Some(0.2)));
            // Beyond tract's 2^22 clamp and beyond f32 (±inf), which the
            // AVX-512 tail reaches without the clamp.
            let huge = Output::U8(Quant {
                inv_scale: [3e5, 3e37][rng.below(2)],
                zero_point: rng.below(256) as u8,
            });
            variants.push((k, huge, None));
        }
        let (oh, ow) = geo.output(h, w).unwrap();
        // A skip input for the f32 variants: values of either sign, a few
        // orders of magnitude above and below the conv's.
        let skip: Vec<f32> = (0..cout * oh * ow)
            .map(|_| (rng.unit() - 0.5) * [0.01, 1.0, 100.0][rng.below(3)])
            .collect();
        for (k, output, alpha) in variants {
            // The second f32 variant of each weight set adds the skip.
            let adds = output == Output::F32 && alpha.is_some();
            let q = QConv {
                weights: Arc::new(QConv::pack_weights(&geo, k, Kind::Scalar)),
                geo: geo.clone(),
                zp_in: rng.below(256) as u8,
                tail: Tail {
                    corr: (0..blocks).map(|_| rng.below(2001) as i32 - 1000).collect(),
                    mul: (0..blocks).map(|_| 0.01 * rng.unit() + 1e-4).collect(),
                    add: (0..blocks).map(|_| rng.unit() - 0.5).collect(),
                    alpha,
                    skip: adds,
                    output,
                },
                kind: Kind::Scalar,
            };
            let want = reference(&q, k, &x, h, w, &skip);
            let input = tract_ndarray::Array4::from_shape_vec((1, cin, h, w), x.clone()).unwrap();
            for kind in kinds().into_iter().filter(|k| k.runs(&q.weights)) {
                if kind.for_conv(&geo) != kind {
                    continue;
                }
                let weights = Arc::new(QConv::pack_weights(&geo, k, kind));
                let q = QConv {
                    kind,
                    weights,
                    ..q.clone()
                };
                let mut inputs = tvec!(Tensor::from(input.clone()).into_tvalue());
                if adds {
                    let t = tract_ndarray::Array4::from_shape_vec((1, cout, oh, ow), skip.clone());
                    inputs.push(Tensor::from(t.unwrap()).into_tvalue());
                }
                let got = q.eval_out_of_plan(inputs).unwrap().unwrap();
                let bytes = got[0].try_as_plain_ram().unwrap().as_bytes();
                assert_eq!(
                    bytes,
                    &want[..],
                    "{kind:?} {cin}->{cout} {kh}x{kw} dil {dy}x{dx} stride {sy}x{sx} {pad:?} {h}x{w} {:?} skip {adds}",
                    q.tail.output
                );
            }
        }
    }
}
