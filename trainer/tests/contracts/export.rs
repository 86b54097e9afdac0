//! The exported generator graph, run by the runtime (tract), equals the burn
//! forward pass within 1e-4 on random input, for ×2 and ×4; a deepened
//! generator starts as the shallow one plus identity convs.

use burn::prelude::*;
use burn::tensor::TensorData;
use edgegan_runtime::resample::upscale_u8;
use edgegan_runtime::{Model, Precision, UpscaleOptions, Upscaler};
use edgegan_trainer::common::Rng;
use edgegan_trainer::onnx::export::sr_card;
use edgegan_trainer::sr::export::generator_onnx;
use edgegan_trainer::sr::model::{Generator, GeneratorShape};
use image::{ImageBuffer, Rgb};
use std::path::PathBuf;
use std::sync::Arc;

#[test]
fn exported_generator_matches_burn_forward() {
    for scale in [2usize, 4] {
        let device = Device::flex();
        let shape = GeneratorShape::default_for(scale);
        let mut g = Generator::new(shape, &mut Rng(scale as u64), &device);
        // Make the learned branch matter as much as the bicubic one.
        g.tail.weight = g.tail.weight.map(|w| w.mul_scalar(10.0));
        let (w, h) = (19usize, 13usize);
        // 8-bit input so that the bicubic branch can be computed exactly in Rust.
        let mut rng = Rng(7);
        let lr8: Vec<u8> = (0..w * h * 3).map(|_| rng.below(256) as u8).collect();
        let planar = |rgb: &[u8], n: usize| -> Vec<f32> {
            (0..3)
                .flat_map(|c| (0..n).map(move |i| rgb[i * 3 + c] as f32 / 255.0))
                .collect()
        };
        let lr =
            Tensor::<4>::from_data(TensorData::new(planar(&lr8, w * h), [1, 3, h, w]), &device);
        // Bicubic branch in f32 (no rounding), as the ONNX graph computes it.
        let taps = edgegan_runtime::resample::UpscaleTaps::new(scale);
        let (ow, oh) = (w * scale, h * scale);
        let mut bic = vec![0.0f32; 3 * ow * oh];
        for c in 0..3 {
            for y in 0..oh {
                for x in 0..ow {
                    let get = |sx: usize, sy: usize| lr8[(sy * w + sx) * 3 + c] as f32 / 255.0;
                    bic[(c * oh + y) * ow + x] = taps.sample2(get, w, h, x, y);
                }
            }
        }
        assert_eq!(upscale_u8(&lr8, w, h, 3, scale).len(), bic.len());
        let bic = Tensor::<4>::from_data(TensorData::new(bic, [1, 3, oh, ow]), &device);
        let want = g.forward(lr, bic).into_data().try_to_vec::<f32>().unwrap();

        let onnx = generator_onnx(&g, "test").encode();
        let card = sr_card("test", scale, shape.receptive_field(), "");
        let model =
            Model::from_bytes(card, Precision::F32, PathBuf::from("test.onnx"), &onnx).unwrap();
        assert_eq!(model.graph_radius(), Some(shape.receptive_field()));
        let up = Upscaler::new(
            Arc::new(model),
            UpscaleOptions {
                tile: Some(8),
                threads: 2,
            },
        );
        let input: ImageBuffer<Rgb<f32>, Vec<f32>> = ImageBuffer::from_raw(
            w as u32,
            h as u32,
            lr8.iter().map(|&v| v as f32 / 255.0).collect(),
        )
        .unwrap();
        let got = up.run(&input).unwrap();
        let mut max = 0.0f32;
        for (x, y, p) in got.enumerate_pixels() {
            for c in 0..3 {
                let d = (p[c] - want[(c * oh + y as usize) * ow + x as usize]).abs();
                max = max.max(d);
            }
        }
        let spread = want.iter().fold(0.0f32, |m, v| m.max((v - 0.5).abs()));
        assert!(spread > 0.3, "the test output should not be flat");
        assert!(max <= 1e-4, "x{scale}: max |tract - burn| = {max}");
    }
}

/// `Generator::deepened` keeps every layer as it was and appends 3×3 convs
/// that return their input exactly (the identity, on features of both signs).
#[test]
fn a_deepened_generator_keeps_its_layers_and_appends_identities() {
    let device = Device::flex();
    let shape = GeneratorShape::default_for(2);
    let g = Generator::new(shape, &mut Rng(3), &device);
    let deep = g.clone().deepened(5, &device);
    assert_eq!(deep.shape(), GeneratorShape { body: 5, ..shape });
    let vals = |t: Tensor<4>| t.into_data().try_to_vec::<f32>().unwrap();
    assert_eq!(vals(deep.head.weight.val()), vals(g.head.weight.val()));
    assert_eq!(vals(deep.tail.weight.val()), vals(g.tail.weight.val()));
    for (a, b) in deep.body.iter().zip(&g.body) {
        assert_eq!(vals(a.weight.val()), vals(b.weight.val()));
    }
    let mut rng = Rng(9);
    let y: Vec<f32> = (0..32 * 7 * 5)
        .map(|_| rng.below(2001) as f32 / 1000.0 - 1.0)
        .collect();
    let y = Tensor::<4>::from_data(TensorData::new(y, [1, 32, 7, 5]), &device);
    for c in &deep.body[3..] {
        assert_eq!(vals(c.forward(y.clone())), vals(y.clone()));
    }
}
