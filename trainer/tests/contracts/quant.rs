//! The int8 QOperator graph, run by the runtime on tract's integer kernels,
//! stays as close to the f32 graph as its quantization scales predict (RMS at
//! most the predicted RMS, no pixel beyond 8 predicted RMS), on the
//! image it was calibrated on (min/max ranges).

use burn::prelude::*;
use burn::tensor::TensorData;
use edgegan_runtime::{Model, Precision, UpscaleOptions, Upscaler};
use edgegan_trainer::common::Rng;
use edgegan_trainer::onnx::export::sr_card;
use edgegan_trainer::quant::{calibrate, predicted_rms_error, quantized_onnx, Method};
use edgegan_trainer::sr::export::generator_onnx;
use edgegan_trainer::sr::model::{Generator, GeneratorShape};
use image::{ImageBuffer, Rgb};
use std::path::PathBuf;
use std::sync::Arc;

fn run(
    card: &edgegan_runtime::card::ModelCard,
    p: Precision,
    onnx: &[u8],
    img: &ImageBuffer<Rgb<f32>, Vec<f32>>,
) -> Vec<f32> {
    let model = Model::from_bytes(card.clone(), p, PathBuf::from("q.onnx"), onnx).unwrap();
    let up = Upscaler::new(
        Arc::new(model),
        UpscaleOptions {
            tile: None,
            threads: 1,
        },
    );
    up.run(img).unwrap().into_raw()
}

#[test]
fn int8_error_stays_within_what_the_scales_predict() {
    for scale in [2usize, 4] {
        let device = Device::flex();
        let shape = GeneratorShape::default_for(scale);
        let mut g = Generator::new(shape, &mut Rng(scale as u64 + 10), &device);
        g.tail.weight = g.tail.weight.map(|w| w.mul_scalar(10.0));
        let (w, h) = (37usize, 29usize);
        let mut rng = Rng(3);
        let pixels: Vec<u8> = (0..w * h * 3).map(|_| rng.below(256) as u8).collect();
        let planar: Vec<f32> = (0..3)
            .flat_map(|c| (0..w * h).map(move |i| (i, c)))
            .map(|(i, c)| pixels[i * 3 + c] as f32 / 255.0)
            .collect();
        let x = Tensor::<4>::from_data(TensorData::new(planar, [1, 3, h, w]), &device);
        let cal = calibrate(&g, &[x], Method::MinMax);
        let predicted = predicted_rms_error(&g, &cal);
        let f32_onnx = generator_onnx(&g, "f32").encode();
        let int8_onnx = quantized_onnx(&g, &cal, "int8").encode();
        let mut card = sr_card("q", scale, shape.receptive_field(), "");
        card.files.int8 = Some(edgegan_runtime::card::FileSpec {
            path: "q.onnx".into(),
            sha256: String::new(),
        });
        let img = ImageBuffer::<Rgb<f32>, Vec<f32>>::from_raw(
            w as u32,
            h as u32,
            pixels.iter().map(|&v| v as f32 / 255.0).collect(),
        )
        .unwrap();
        let a = run(&card, Precision::F32, &f32_onnx, &img);
        let b = run(&card, Precision::Int8, &int8_onnx, &img);
        let max = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max) as f64;
        let rms = (a
            .iter()
            .zip(&b)
            .map(|(x, y)| ((x - y) as f64).powi(2))
            .sum::<f64>()
            / a.len() as f64)
            .sqrt();
        eprintln!("x{scale}: |int8 - f32| rms {rms:.6} (predicted {predicted:.6}), max {max:.5}");
        assert!(
            rms > 0.0,
            "x{scale}: identical outputs: the int8 graph did not run"
        );
        assert!(
            rms <= predicted,
            "x{scale}: rms {rms} vs predicted {predicted}"
        );
        assert!(
            max <= 8.0 * predicted,
            "x{scale}: max {max} vs predicted rms {predicted}"
        );
    }
}
