//! Shared helpers for the integration tests: model directories built in code
//! and deterministic test images.
#![allow(dead_code)]

use edgegan_runtime::card::ModelCard;
use edgegan_runtime::{Model, Precision};
use edgegan_trainer::onnx::export::{sr_card, write_model_dir};
use edgegan_trainer::onnx::{attr_int, attr_ints, attr_str, GraphBuilder, OnnxModel};
use image::{ImageBuffer, Pixel, Rgb};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use edgegan_trainer::common::Rng;

/// `n` weights uniform in [-amp, amp).
pub fn weights(rng: &mut Rng, n: usize, amp: f32) -> Vec<f32> {
    (0..n).map(|_| (rng.unit() * 2.0 - 1.0) * amp).collect()
}

/// A ×2 conv stack with biases, ReLUs, a dilated conv and a conv after
/// DepthToSpace: its reach is 1 + 2 + 1 LR pixels + 1 HR pixel = 4.5 → 5.
pub fn conv_stack_x2(seed: u64) -> OnnxModel {
    let mut rng = Rng(seed);
    let mut g = GraphBuilder::new("conv-stack-x2");
    let layers: [(&str, usize, usize, i64); 3] = [("a", 3, 8, 1), ("b", 8, 8, 2), ("c", 8, 12, 1)];
    let mut x = "input".to_string();
    for (name, cin, cout, dil) in layers {
        let w = format!("{name}_w");
        let b = format!("{name}_b");
        g.initializer(
            &w,
            &[cout as i64, cin as i64, 3, 3],
            weights(&mut rng, cout * cin * 9, 0.35),
        );
        g.initializer(&b, &[cout as i64], weights(&mut rng, cout, 0.2));
        let y = format!("{name}_y");
        g.node(
            "Conv",
            &[&x, &w, &b],
            &[&y],
            vec![
                attr_ints("kernel_shape", &[3, 3]),
                attr_ints("pads", &[dil, dil, dil, dil]),
                attr_ints("dilations", &[dil, dil]),
            ],
        );
        x = y;
        if name != "c" {
            let r = format!("{name}_r");
            g.node("Relu", &[&x], &[&r], vec![]);
            x = r;
        }
    }
    g.node(
        "DepthToSpace",
        &[&x],
        &["hr"],
        vec![attr_int("blocksize", 2), attr_str("mode", "DCR")],
    );
    g.initializer("d_w", &[3, 3, 3, 3], weights(&mut rng, 81, 0.3));
    g.node(
        "Conv",
        &["hr", "d_w"],
        &["output"],
        vec![
            attr_ints("kernel_shape", &[3, 3]),
            attr_ints("pads", &[1, 1, 1, 1]),
        ],
    );
    g.finish("input", "output", 3)
}

/// Write `model` with a super-resolution card into `dir` and return the card.
pub fn model_dir(
    dir: &Path,
    name: &str,
    scale: usize,
    halo: usize,
    model: &OnnxModel,
) -> ModelCard {
    write_model_dir(dir, sr_card(name, scale, halo, "test model"), model)
        .expect("test model exports")
}

/// A temporary directory holding one model directory `model/`.
pub fn temp_model(
    name: &str,
    scale: usize,
    halo: usize,
    model: &OnnxModel,
) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    model_dir(&dir, name, scale, halo, model);
    (tmp, dir)
}

pub fn load(dir: &Path) -> Arc<Model> {
    Arc::new(Model::load(dir, Precision::F32).expect("model loads"))
}

/// A deterministic image with `P`'s channel count, random samples.
pub fn noise<P: Pixel>(
    w: u32,
    h: u32,
    seed: u64,
    sample: impl Fn(f32) -> P::Subpixel,
) -> ImageBuffer<P, Vec<P::Subpixel>> {
    let mut rng = Rng(seed);
    let n = (w * h) as usize * P::CHANNEL_COUNT as usize;
    let data = (0..n).map(|_| sample(rng.unit())).collect();
    ImageBuffer::from_raw(w, h, data).unwrap()
}

pub fn noise_rgb32f(w: u32, h: u32, seed: u64) -> ImageBuffer<Rgb<f32>, Vec<f32>> {
    noise::<Rgb<f32>>(w, h, seed, |v| v)
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_edgegan"))
}

/// CRC-32 (IEEE) for hand-made PNG chunks.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG whose header claims `w`×`h` RGB8, followed by a tiny IDAT and IEND.
pub fn png_with_header(w: u32, h: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend(data);
        out.extend(&body);
        out.extend(crc32(&body).to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

/// Insert an EXIF APP1 segment with `orientation` right after a JPEG's SOI.
pub fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    tiff.extend([0, 1]); // one IFD entry
    tiff.extend([0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1]);
    tiff.extend(orientation.to_be_bytes());
    tiff.extend([0, 0, 0, 0, 0, 0]); // value padding + next IFD = 0
    let mut payload = b"Exif\x00\x00".to_vec();
    payload.extend(tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(((payload.len() + 2) as u16).to_be_bytes());
    out.extend(payload);
    out.extend(&jpeg[2..]);
    out
}

/// The dev photos: `$EDGEGAN_DEV_DATA`, else the first `shared/data/dev`
/// beside the checkout or above it (`.ci/run` sets the variable for a clone
/// made elsewhere).
pub fn dev_photos() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("EDGEGAN_DEV_DATA") {
        return Some(PathBuf::from(p));
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("shared/data/dev"))
        .find(|p| p.is_dir())
}
