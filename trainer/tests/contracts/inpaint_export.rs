//! The inpainting export contract: the f32 ONNX graph run by the runtime's
//! `Inpainter` gives what the burn generator computes, and the int8 graph
//! stays within a few quantization steps of it.

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::TensorData;
use edgegan_runtime::card::sha256_hex;
use edgegan_runtime::card::{ConvPath, FileSpec, Files, IoSpec, ModelCard, RuntimeSpec, Task};
use edgegan_runtime::inpaint::Inpainter;
use edgegan_runtime::inpaint::{free_form, HoleBin};
use edgegan_runtime::Precision;
use edgegan_trainer::common::params::values;
use edgegan_trainer::common::Rng;
use edgegan_trainer::inpaint::export::{calibrate, inpaint_onnx};
use edgegan_trainer::inpaint::model::InpaintGenerator;
use edgegan_trainer::inpaint::training::network_input;
use edgegan_trainer::quant::Method;

const S: usize = 64;

fn card(f32_sha: String, int8_sha: String) -> String {
    ModelCard {
        name: "test-inpaint".into(),
        task: Task::Inpainting,
        scale: 1,
        description: String::new(),
        io: IoSpec {
            layout: "NCHW".into(),
            channels: 3,
            range: [0.0, 1.0],
            receptive_field: S,
        },
        runtime: RuntimeSpec {
            tile: S,
            conv_path: ConvPath::Im2col,
        },
        files: Files {
            f32: FileSpec {
                sha256: f32_sha,
                ..Files::f32_and_int8().f32
            },
            int8: Some(FileSpec {
                sha256: int8_sha,
                ..Files::f32_and_int8().int8.unwrap()
            }),
        },
        training: toml::Table::new(),
        metrics: toml::Table::new(),
    }
    .to_toml()
}

/// Export `g`, run both graphs in the runtime and check them against burn;
/// returns the f32 model.
fn runtime_matches(g: &InpaintGenerator) -> Inpainter {
    let device = Device::flex();
    let img = image::RgbImage::from_fn(S as u32, S as u32, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 4) as u8, ((x * y) % 251) as u8])
    });
    let mask = free_form(S as u32, S as u32, 4, HoleBin::new(30));
    let mut input = Vec::new();
    network_input(&img, &mask, &mut input);
    let x = Tensor::<4>::from_data(TensorData::new(input.clone(), [1, 4, S, S]), &device);
    let want = values(g.forward(x.clone()));
    let ranges = calibrate(g, &[x], Method::MinMax);
    let (f32_bytes, int8_bytes) = (
        inpaint_onnx(g, S, None).encode(),
        inpaint_onnx(g, S, Some(&ranges)).encode(),
    );
    let text = card(sha256_hex(&f32_bytes), sha256_hex(&int8_bytes));
    let rgb = &input[..3 * S * S];
    let hole: Vec<bool> = input[3 * S * S..].iter().map(|&v| v > 0.5).collect();
    let f32_model = Inpainter::from_embedded("test", &text, &f32_bytes, Precision::F32).unwrap();
    let got = f32_model.run(rgb, &hole).unwrap();
    let worst = want
        .iter()
        .zip(&got)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-4, "f32 graph differs from burn by {worst}");
    let spread = want
        .iter()
        .zip(rgb)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(spread > 0.05, "the residual is not trivial ({spread})");
    let int8_model = Inpainter::from_embedded("test", &text, &int8_bytes, Precision::Int8).unwrap();
    let q = int8_model.run(rgb, &hole).unwrap();
    let mean = want.iter().zip(&q).map(|(a, b)| (a - b).abs()).sum::<f32>() / want.len() as f32;
    assert!(mean < 0.01, "int8 graph's mean error {mean}");
    f32_model
}

/// A generator whose tail is as large as its other convs, so that the
/// residual is far from zero.
fn loud(mut g: InpaintGenerator) -> InpaintGenerator {
    g.tail.weight = Param::from_tensor(g.tail.weight.val().mul_scalar(10.0));
    g
}

#[test]
fn runtime_output_equals_burn_output() {
    let g = loud(InpaintGenerator::new(&mut Rng(11), &Device::flex()));
    let f32_model = runtime_matches(&g);
    // A window of another size goes through the resize path and keeps
    // every pixel outside the hole.
    let (w, h) = (96, 80);
    let big_hole: Vec<bool> = (0..w * h)
        .map(|i| (20..50).contains(&(i % w)) && (10..40).contains(&(i / w)))
        .collect();
    let big: Vec<f32> = (0..3 * w * h).map(|i| (i % 97) as f32 / 97.0).collect();
    let out = f32_model.fill_window(&big, &big_hole, w, h).unwrap();
    for (i, (a, b)) in big.iter().zip(&out).enumerate() {
        if !big_hole[i % (w * h)] {
            assert_eq!(a, b);
        }
    }
}

#[test]
fn the_attention_block_exports_as_burn_computes_it() {
    let device = Device::flex();
    let mut g = loud(InpaintGenerator::new(&mut Rng(11), &device).with_attention(&mut Rng(12)));
    // A trained block: an output conv that is not zero, and loud.
    let a = g.attention.as_mut().unwrap();
    a.out = edgegan_trainer::inpaint::model::conv(96, 96, 1, 1, 1, &mut Rng(13), &device);
    a.out.weight = Param::from_tensor(a.out.weight.val().mul_scalar(100.0));
    let plain = loud(InpaintGenerator::new(&mut Rng(11), &device));
    let x = Tensor::<4>::from_data(
        TensorData::new(
            (0..4 * S * S)
                .map(|i| (i % 13) as f32 / 13.0)
                .collect::<Vec<_>>(),
            [1, 4, S, S],
        ),
        &device,
    );
    let moved = values(g.forward(x.clone()))
        .iter()
        .zip(values(plain.forward(x)))
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(moved > 0.01, "the block changes the output ({moved})");
    runtime_matches(&g);
}
