//! The patched tract (vendor/README.md) against what unpatched tract 0.23.9
//! computes: the int8 outputs of the SR and inpainting models are the same
//! integers, pixel for pixel (their hashes below were taken with the
//! unpatched build on the models shipped then, kept for this test under
//! `tests/fixtures/int8-golden/`, since the shipped weights were retrained
//! or re-quantized since); the k-outer packing writers lay out every
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
    run_with(args, &[]);
}

fn run_with(args: &[&str], env: &[(&str, &str)]) {
    let o = Command::new(bin())
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
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
    const SR_X2: &str = "cb820c508fbad1b7bc66e38a025340d275793ea5c8d819dd654167e8cdaa29f3";
    const SR_X4: &str = "fa509d77db399a76a3b4ce7d1e3ad3ba414459a4e2564a837f8c164450ff68c7";
    // "VEX loads in the AVX2 int8 kernel": the AVX2 kernels (what a CPU
    // without VNNI runs; forced on any x86_64) give the same integers.
    let avx2: &[(&str, &str)] = &[("TRACT_CPU_ISA", "-avx512vnni,-avxvnni,-amx-int8")];
    let golden = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/int8-golden/");
    let (x2, x4) = (format!("{golden}sr-x2"), format!("{golden}sr-x4"));
    let mut cases = vec![
        (x2.as_str(), "1", &[][..], SR_X2),
        (x2.as_str(), "2", &[][..], SR_X2),
        (x4.as_str(), "1", &[][..], SR_X4),
    ];
    if cfg!(target_arch = "x86_64") {
        cases.push((x2.as_str(), "1", avx2, SR_X2));
    }
    for (i, (model, threads, env, hash)) in cases.into_iter().enumerate() {
        let name = Path::new(model).file_name().unwrap().to_str().unwrap();
        let o = out(&format!("{name}-{threads}-{i}.png"));
        let o = o.to_str().unwrap();
        run_with(
            &[
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
            ],
            env,
        );
        assert_eq!(
            pixel_hash(Path::new(o)),
            hash,
            "{model} int8, {threads} threads, env {env:?}"
        );
    }
    let (mask, filled) = (out("mask.png"), out("filled.png"));
    let (mask, filled) = (mask.to_str().unwrap(), filled.to_str().unwrap());
    run(&[
        "mask", "--like", PHOTO, "--bin", "20-30", "--seed", "1", "-o", mask,
    ]);
    // The inpainting int8 graph the hash was taken on (the shipped one was
    // re-quantized since); only its card and int8 file are needed.
    let inpaint = format!("{golden}inpaint");
    run(&[
        "inpaint",
        PHOTO,
        "--mask",
        mask,
        "--model",
        &inpaint,
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

/// "QuantizeLinear straight to i8": a u8 QuantizeLinear feeding the u8→i8
/// offset that quantized convs put before their im2col is optimized into
/// one QuantizeLinearI8, and gives the integers the two passes gave, for
/// every zero point's end of the range, ties, NaN and ±∞.
#[test]
fn quantize_then_offset_becomes_one_i8_quantize_with_the_same_integers() {
    use tract_onnx::tract_core::ops::quant::{offset_u8_as_i8, quantize_linear_u8};
    let mut xs = vec![f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.0, -0.0];
    xs.extend((-1200..1200).map(|i| i as f32 * 0.125));
    for (scale, zp) in [
        (1.0f32, 0u8),
        (255.0, 0),
        (3.7, 22),
        (0.5, 128),
        (11.0, 255),
    ] {
        let mut model = TypedModel::default();
        let x = model.add_source("x", f32::fact([xs.len()])).unwrap();
        let q = model
            .wire_node("q", quantize_linear_u8(scale, zp), &[x])
            .unwrap();
        let o = model.wire_node("o", offset_u8_as_i8(), &q).unwrap();
        model.select_output_outlets(&o).unwrap();
        let model = model.into_optimized().unwrap();
        let ops: Vec<String> = model
            .nodes
            .iter()
            .map(|n| n.op.name().to_string())
            .collect();
        assert!(
            ops.iter().any(|o| o == "QuantizeLinearI8")
                && !ops.iter().any(|o| o.contains("Offset")),
            "{ops:?}"
        );
        let out = model
            .into_runnable()
            .unwrap()
            .run(tvec!(tensor1(&xs).into_tvalue()))
            .unwrap();
        let got = out[0].to_plain_array_view::<i8>().unwrap();
        for (x, g) in xs.iter().zip(got.iter()) {
            let want = quantize_linear_f32_u8(*x, scale, zp as i32).wrapping_sub(128) as i8;
            assert_eq!(*g, want, "x {x} scale {scale} zp {zp}");
        }
    }
}

/// "Wide VNNI tile": an int8 product with 9..15 rows (the SR models' 12-row
/// tail) takes the same kernel as a 32-row one, on whatever this host is
/// (with AMX off, as the runtime has it): the 8x8 tile would pad it to 16
/// rows too, at half the work per instruction.
#[test]
fn a_twelve_row_int8_product_takes_the_full_width_tile() {
    use tract_onnx::tract_core::knobs::set_config_global;
    set_config_global("TRACT_CPU_ISA", "-amx-int8").unwrap();
    let pick = |m: usize| {
        tract_linalg::MmmDispatch::native()
            .preferred_kernel(DatumType::I32, Some(m), Some(288), Some(65536))
            .map(|k| k.name().to_string())
    };
    for m in [9, 12, 15] {
        assert_eq!(pick(m), pick(32), "m = {m}");
    }
}

/// "Row-copy Pad": constant padding of any rank, any pads (outer axes, one
/// side, none, an empty axis) equals the definition element for element.
#[test]
fn constant_pad_writes_the_input_inside_and_the_value_around() {
    use tract_onnx::tract_core::ops::array::{Pad, PadMode};
    type Case<'a> = (&'a [usize], &'a [(usize, usize)]);
    let cases: &[Case] = &[
        (&[5], &[(2, 3)]),
        (&[3, 4], &[(0, 0), (1, 1)]),
        (&[2, 3, 4], &[(1, 0), (0, 2), (3, 1)]),
        (&[1, 3, 7, 6], &[(0, 0), (0, 0), (1, 1), (1, 1)]),
        (&[2, 2, 3, 5], &[(1, 1), (2, 0), (0, 3), (2, 2)]),
        (&[2, 0, 3], &[(0, 1), (1, 1), (1, 0)]),
        (&[2, 3], &[(0, 0), (0, 0)]),
    ];
    for &(shape, pads) in cases {
        let n: usize = shape.iter().product();
        let input: Vec<f32> = (0..n).map(|i| i as f32 + 0.5).collect();
        let out_shape: Vec<usize> = shape
            .iter()
            .zip(pads)
            .map(|(d, (a, b))| d + a + b)
            .collect();
        let mut model = TypedModel::default();
        let x = model.add_source("x", f32::fact(shape)).unwrap();
        let pad = Pad::new(pads.to_vec(), PadMode::Constant(Arc::new((-7.0f32).into())));
        let y = model.wire_node("pad", pad, &[x]).unwrap();
        model.select_output_outlets(&y).unwrap();
        let input_t = Tensor::from_shape(shape, &input).unwrap();
        let out = model
            .into_runnable()
            .unwrap()
            .run(tvec!(input_t.into_tvalue()))
            .unwrap();
        assert_eq!(out[0].shape(), &*out_shape, "{shape:?} {pads:?}");
        let got = out[0].to_plain_array_view::<f32>().unwrap();
        for (flat, g) in got.iter().enumerate() {
            // the definition: unravel, shift by the leading pads, look up
            let (mut rest, mut src, mut inside) = (flat, 0usize, true);
            let mut coords = vec![0; shape.len()];
            for ax in (0..shape.len()).rev() {
                coords[ax] = rest % out_shape[ax];
                rest /= out_shape[ax];
            }
            for ax in 0..shape.len() {
                let c = coords[ax] as isize - pads[ax].0 as isize;
                inside &= c >= 0 && (c as usize) < shape[ax];
                src = src * shape[ax] + c.max(0) as usize;
            }
            let want = if inside { input[src] } else { -7.0 };
            assert_eq!(*g, want, "{shape:?} {pads:?} at {coords:?}");
        }
    }
}
