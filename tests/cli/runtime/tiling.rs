//! Tiled output equals whole-image output, and halos come from the receptive field.

use crate::common::*;
use edgegan_runtime::{Model, Precision, RuntimeError, UpscaleOptions, Upscaler};
use edgegan_trainer::onnx::classic;
use image::Rgb;
use std::path::Path;
use std::sync::Arc;

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn tiled_equals_whole_image_for_many_sizes_and_tiles() {
    let (_tmp, dir) = temp_model("stack", 2, 5, &conv_stack_x2(7));
    let model = load(&dir);
    assert_eq!(model.graph_radius(), Some(5));
    let whole = Upscaler::new(
        model.clone(),
        UpscaleOptions {
            tile: Some(4096),
            threads: 1,
        },
    );
    let sizes = [(1, 1), (7, 5), (33, 17), (64, 64), (97, 130), (150, 61)];
    let tiles = [8, 16, 50];
    for (i, &(w, h)) in sizes.iter().enumerate() {
        let img = noise_rgb32f(w, h, i as u64);
        let reference = whole.run(&img).unwrap();
        assert_eq!(reference.dimensions(), (2 * w, 2 * h));
        for tile in tiles {
            for threads in [1, 2] {
                let up = Upscaler::new(
                    model.clone(),
                    UpscaleOptions {
                        tile: Some(tile),
                        threads,
                    },
                );
                let tiled = up.run(&img).unwrap();
                let d = max_abs_diff(&tiled, &reference);
                assert!(
                    d <= 1e-5,
                    "{w}x{h} tile {tile} threads {threads}: max diff {d}"
                );
            }
        }
    }
}

#[test]
fn a_halo_smaller_than_the_reach_shows_seams() {
    // The equivalence above is not vacuous: cutting the image into quadrants
    // upscaled alone (no halo) differs visibly from the whole-image run.
    let (_tmp, dir) = temp_model("stack", 2, 5, &conv_stack_x2(7));
    let model = load(&dir);
    let img = noise_rgb32f(40, 40, 3);
    let whole = Upscaler::new(
        model.clone(),
        UpscaleOptions {
            tile: Some(4096),
            threads: 1,
        },
    )
    .run(&img)
    .unwrap();
    // Naive: cut the image into 4 quadrants and upscale each alone.
    let mut naive = image::ImageBuffer::<Rgb<f32>, Vec<f32>>::new(80, 80);
    let up = Upscaler::new(
        model,
        UpscaleOptions {
            tile: Some(4096),
            threads: 1,
        },
    );
    for (qx, qy) in [(0, 0), (20, 0), (0, 20), (20, 20)] {
        let q = image::imageops::crop_imm(&img, qx, qy, 20, 20).to_image();
        let out = up.run(&q).unwrap();
        image::imageops::replace(&mut naive, &out, 2 * qx as i64, 2 * qy as i64);
    }
    assert!(
        max_abs_diff(&naive, &whole) > 1e-2,
        "naive tiling should show seams"
    );
}

#[test]
fn card_receptive_field_below_graph_reach_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    let err = edgegan_trainer::onnx::export::write_model_dir(
        &dir,
        edgegan_trainer::onnx::export::sr_card("stack", 2, 4, "halo too small"),
        &conv_stack_x2(7),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("graph reaches 5 input pixels") && msg.contains("receptive_field = 4"),
        "{msg}"
    );
    assert!(matches!(
        err,
        edgegan_trainer::onnx::export::ExportError::Verify(RuntimeError::Mismatch { .. })
    ));
    // The refused export leaves nothing behind.
    assert!(!dir.exists());
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

/// Perturb one input pixel and find how far (in input pixels) the output changes.
fn measured_reach(up: &Upscaler, scale: u32) -> u32 {
    let n = 41;
    let base = noise_rgb32f(n, n, 11);
    let mut bumped = base.clone();
    let c = n / 2;
    bumped.put_pixel(c, c, Rgb([1.5, -0.5, 1.5]));
    let (a, b) = (up.run(&base).unwrap(), up.run(&bumped).unwrap());
    let mut reach = 0;
    for (x, y, p) in a.enumerate_pixels() {
        let q = b.get_pixel(x, y);
        if (0..3).any(|k| (p[k] - q[k]).abs() > 1e-7) {
            reach = reach
                .max((x / scale).abs_diff(c))
                .max((y / scale).abs_diff(c));
        }
    }
    reach
}

#[test]
fn graph_radius_matches_measured_reach() {
    let (_t1, stack) = temp_model("stack", 2, 5, &conv_stack_x2(7));
    let (_t2, bicubic) = temp_model("bicubic", 2, 2, &classic::bicubic(2));
    let (_t3, nearest) = temp_model("nearest", 3, 0, &classic::nearest(3));
    for (dir, scale, radius) in [(stack, 2, 5), (bicubic, 2, 2), (nearest, 3, 0)] {
        let model = load(&dir);
        assert_eq!(model.graph_radius(), Some(radius), "{}", dir.display());
        let up = Upscaler::new(
            model,
            UpscaleOptions {
                tile: Some(4096),
                threads: 1,
            },
        );
        assert_eq!(
            measured_reach(&up, scale),
            radius as u32,
            "{}",
            dir.display()
        );
    }
}

#[test]
fn bicubic_model_equals_reference_resampler_everywhere() {
    for scale in [2usize, 3, 4] {
        let (_tmp, dir) = temp_model("bicubic", scale, 2, &classic::bicubic(scale));
        let up = Upscaler::new(
            load(&dir),
            UpscaleOptions {
                tile: Some(16),
                threads: 2,
            },
        );
        let img = noise_rgb32f(37, 23, scale as u64);
        let out = up.run(&img).unwrap();
        let taps = edgegan_runtime::resample::UpscaleTaps::new(scale);
        for (x, y, p) in out.enumerate_pixels() {
            for c in 0..3 {
                let get = |sx: usize, sy: usize| img.get_pixel(sx as u32, sy as u32)[c];
                let want = taps.sample2(get, 37, 23, x as usize, y as usize);
                assert!(
                    (p[c] - want).abs() < 1e-5,
                    "x{scale} ({x},{y},{c}): {} vs {want}",
                    p[c]
                );
            }
        }
    }
}

#[test]
fn spare_threads_inside_a_tile_give_the_same_output() {
    // Fewer tiles than threads: the spare threads split each tile's matrix
    // products (tract's executor), which never reorders a sum, so the output
    // is the same bit for bit. The shipped sr-x2 has products large enough
    // to be split; f32 and int8.
    for precision in [Precision::F32, Precision::Int8] {
        let model = Arc::new(Model::load(Path::new("models/sr-x2"), precision).unwrap());
        let img = noise_rgb32f(96, 48, 11);
        let run = |tile, threads| {
            Upscaler::new(
                model.clone(),
                UpscaleOptions {
                    tile: Some(tile),
                    threads,
                },
            )
            .run(&img)
            .unwrap()
            .into_raw()
        };
        let one = run(4096, 1);
        assert_eq!(one.len(), 192 * 96 * 3);
        assert!(
            one.iter().any(|&v| v != one[0]),
            "{precision}: not a flat image"
        );
        // One tile on 3 threads; 2 tiles (48-pixel columns) on 5 threads.
        assert!(one == run(4096, 3), "{precision}: one tile, 3 threads");
        assert!(one == run(48, 5), "{precision}: two tiles, 5 threads");
    }
}
