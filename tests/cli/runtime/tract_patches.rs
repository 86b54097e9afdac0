//! The patched tract (vendor/README.md) against what unpatched tract 0.23.9
//! computes: the int8 outputs of the shipped models are the same integers,
//! pixel for pixel (their hashes below were taken with the unpatched build
//! on this repository's models); the k-outer packing writers lay out every
//! feeding the im2col patchers use exactly as the canonical formula says;
//! the branchless QuantizeLinear gives `round_ties_to_even`'s integers.
//! int8 accumulates in exact i32 and rescales in f32 the same way on every
//! kernel, so these hashes hold on any CPU (AVX2, VNNI, NEON, SDOT).

use crate::common::bin;
use edgegan_runtime::card::sha256_hex;
use std::path::Path;
use std::process::Command;
use tract_linalg::pack::{PackedFormat, PackedI8K4, PackingWriter};
use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::quant::{quantize_linear_f32_i8, quantize_linear_f32_u8};

const PHOTO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/astronaut.png");

/// sha256 of the RGB8 pixels of `path`.
fn pixel_hash(path: &Path) -> String {
    sha256_hex(image::open(path).unwrap().to_rgb8().as_raw())
}

fn run(args: &[&str]) {
    let o = Command::new(bin()).args(args).output().unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn int8_outputs_are_unpatched_tracts_integers() {
    let tmp = tempfile::tempdir().unwrap();
    let out = |n: &str| tmp.path().join(n);
    for (model, threads, hash) in [
        (
            "sr-x2",
            "1",
            "cb820c508fbad1b7bc66e38a025340d275793ea5c8d819dd654167e8cdaa29f3",
        ),
        (
            "sr-x2",
            "2",
            "cb820c508fbad1b7bc66e38a025340d275793ea5c8d819dd654167e8cdaa29f3",
        ),
        (
            "sr-x4",
            "1",
            "fa509d77db399a76a3b4ce7d1e3ad3ba414459a4e2564a837f8c164450ff68c7",
        ),
    ] {
        let o = out(&format!("{model}-{threads}.png"));
        let o = o.to_str().unwrap();
        run(&[
            "upscale",
            PHOTO,
            "--model",
            model,
            "--precision",
            "int8",
            "--threads",
            threads,
            "-o",
            o,
        ]);
        assert_eq!(
            pixel_hash(Path::new(o)),
            hash,
            "{model} int8, {threads} threads"
        );
    }
    let (mask, filled) = (out("mask.png"), out("filled.png"));
    let (mask, filled) = (mask.to_str().unwrap(), filled.to_str().unwrap());
    run(&[
        "mask", "--like", PHOTO, "--bin", "20-30", "--seed", "1", "-o", mask,
    ]);
    run(&[
        "inpaint",
        PHOTO,
        "--mask",
        mask,
        "--precision",
        "int8",
        "-o",
        filled,
    ]);
    assert_eq!(
        pixel_hash(Path::new(filled)),
        "6519d1ab99b9576869aed4f244b1a4030fe5ca34ac38bf83434aa690e718e960"
    );
}

/// Feeds one k row: 0 per item, 1 by slices of the lengths in `cuts` (in
/// turn), 2 like 1 with every third piece a fill of its first value (which
/// `row` then holds, as the reference expects).
fn feed<W: PackingWriter<u8>>(w: &mut W, row: &mut [u8], mode: u8, cuts: &[usize]) {
    if mode == 0 {
        row.iter().for_each(|&v| w.write(v));
        return;
    }
    let (mut at, mut piece) = (0, 0);
    while at < row.len() {
        let n = cuts[piece % cuts.len()].min(row.len() - at);
        if mode == 2 && piece % 3 == 2 {
            let v = row[at];
            row[at..at + n].fill(v);
            w.write_fill(v, n);
        } else {
            w.write_slice(&row[at..at + n]);
        }
        at += n;
        piece += 1;
    }
}

/// (packed buffer, canonical layout) for a k×mn matrix fed in k-outer order.
fn pack_both(
    r: usize,
    k: usize,
    mn: usize,
    k4: bool,
    mode: u8,
    cuts: &[usize],
) -> (Vec<u8>, Vec<u8>) {
    let mut src: Vec<Vec<u8>> = (0..k)
        .map(|kk| (0..mn).map(|m| (kk * 31 + m * 17 + 1) as u8).collect())
        .collect();
    // 0xAA: a writer must write every lane the layout defines, K padding included.
    let (len, panel_len) = if k4 {
        let f = PackedI8K4::new(r);
        (f.len(k, mn), f.single_panel_len(k))
    } else {
        let f = PackedFormat::new(u8::datum_type(), r, 1);
        (f.len(k, mn), f.single_panel_len(k))
    };
    let mut buf = vec![0xAAu8; len];
    if k4 {
        let mut w = PackedI8K4::new(r).write_with_k_outer(buf.as_mut_ptr(), k, mn);
        src.iter_mut().for_each(|row| feed(&mut w, row, mode, cuts));
    } else {
        let f = PackedFormat::new(u8::datum_type(), r, 1);
        let mut w = f.write_with_k_outer(buf.as_mut_ptr(), k, mn);
        src.iter_mut().for_each(|row| feed(&mut w, row, mode, cuts));
    }
    let mut reference = vec![0xAAu8; len];
    let k_lanes = if k4 { k.div_ceil(4) * 4 } else { k };
    for m in 0..mn {
        for kk in 0..k_lanes {
            let v = src.get(kk).map_or(0, |row| row[m]);
            let (p, lm) = (m / r, m % r);
            let off = if k4 {
                (kk / 4) * r * 4 + lm * 4 + kk % 4
            } else {
                kk * r + lm
            };
            reference[p * panel_len + off] = v;
        }
    }
    (buf, reference)
}

#[test]
fn im2col_writers_lay_out_the_canonical_panels() {
    let cuts: [&[usize]; 4] = [&[1], &[62, 1, 1], &[5, 17, 3], &[40]];
    for k4 in [false, true] {
        let rs: &[usize] = if k4 { &[4, 8, 16, 32] } else { &[1, 3, 8, 16] };
        for &r in rs {
            for k in [1, 3, 4, 5, 9, 27] {
                for mn in [1, 7, 8, 17, 64, 130] {
                    for mode in 0..3 {
                        for c in cuts {
                            let (got, want) = pack_both(r, k, mn, k4, mode, c);
                            assert_eq!(
                                got, want,
                                "k4 {k4} r {r} k {k} mn {mn} mode {mode} cuts {c:?}"
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn quantize_linear_gives_round_ties_to_even_integers() {
    let reference = |x: f32, scale: f32, zp: i32, lo: i64, hi: i64| {
        (round_ties_to_even(x * scale) as i64)
            .saturating_add(zp as i64)
            .clamp(lo, hi)
    };
    let mut xs = vec![
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        0.0,
        -0.0,
        1e10,
        -1e10,
    ];
    xs.extend((-2000..2000).map(|i| i as f32 * 0.25)); // halves: ties both ways
    xs.extend((0..100_000u32).flat_map(|i| {
        let x = f32::from_bits(0x3000_0000 + i * 9973);
        [x, -x]
    }));
    for scale in [1.0f32, 255.0, 37.3, 0.01] {
        for x in &xs {
            for zp in [0, 3, 128, 255] {
                let want = reference(*x, scale, zp, 0, 255);
                assert_eq!(
                    quantize_linear_f32_u8(*x, scale, zp) as i64,
                    want,
                    "u8 {x} {scale} {zp}"
                );
            }
            for zp in [0, -5, 7] {
                let want = reference(*x, scale, zp, -128, 127);
                assert_eq!(
                    quantize_linear_f32_i8(*x, scale, zp) as i64,
                    want,
                    "i8 {x} {scale} {zp}"
                );
            }
        }
    }
}
