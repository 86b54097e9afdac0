//! `edgegan inpaint` and `edgegan eval` on the shipped `inpaint` model:
//! pixels outside the mask come back bit for bit (one window, several holes,
//! a resized window on a larger image, 16-bit and alpha inputs), holes are
//! filled, one image on three threads is filled exactly as on one, a resized
//! window keeps the sign of the model's residual, a batch (a
//! folder with a folder of masks, or one mask for several files) writes what
//! single runs write and fails only the image whose mask is missing, eval
//! reproduces the card and stays ahead of OpenCV Telea (also on larger crops,
//! through the resize path), and bad masks fail with one line naming the mask
//! and leave no output; `train inpaint --device cuda` in a CPU build is one
//! line and writes nothing.

use crate::common::bin;
use edgegan_runtime::inpaint::{free_form, HoleBin, Mask};
use image::{DynamicImage, GenericImageView, Rgba};
use std::path::{Path, PathBuf};
use std::process::Command;

fn run(args: &[&str]) -> std::process::Output {
    Command::new(bin()).args(args).output().unwrap()
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/astronaut.png")
}

/// Inpaint `img` with `mask` in `dir`; the output and the inputs' paths.
fn inpaint(dir: &Path, img: &DynamicImage, mask: &Mask, extra: &[&str]) -> DynamicImage {
    let (i, m, o) = (
        dir.join("in.png"),
        dir.join("mask.png"),
        dir.join("out.png"),
    );
    img.save(&i).unwrap();
    mask.to_luma().save(&m).unwrap();
    let mut args = vec![
        "inpaint",
        i.to_str().unwrap(),
        "--mask",
        m.to_str().unwrap(),
        "-o",
        o.to_str().unwrap(),
        "--overwrite",
    ];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    image::open(&o).unwrap()
}

/// Every pixel outside the mask equals the input's; the hole was repainted.
fn check(input: &DynamicImage, output: &DynamicImage, mask: &Mask, hole_colour: Rgba<u8>) {
    assert_eq!(input.dimensions(), output.dimensions());
    assert_eq!(input.color(), output.color());
    let (mut holes, mut changed) = (0, 0);
    for (x, y, p) in input.pixels() {
        let q = output.get_pixel(x, y);
        if mask.is_hole(x, y) {
            holes += 1;
            changed += (q != hole_colour) as usize;
        } else {
            assert_eq!(p, q, "pixel ({x}, {y}) outside the mask changed");
        }
    }
    assert_eq!(input.as_bytes().len(), output.as_bytes().len());
    assert!(
        changed * 10 > holes * 9,
        "{changed} of {holes} hole pixels filled"
    );
}

fn painted(img: &DynamicImage, mask: &Mask, c: Rgba<u8>) -> DynamicImage {
    let mut out = img.clone();
    for (x, y, _) in img.pixels() {
        if mask.is_hole(x, y) {
            image::GenericImage::put_pixel(&mut out, x, y, c);
        }
    }
    out
}

#[test]
fn outside_the_mask_is_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    let magenta = Rgba([255, 0, 255, 255]);
    let photo = image::open(example()).unwrap();
    // Free-form strokes (several components) on the 256×256 example, both precisions.
    let mask = free_form(256, 256, 5, HoleBin::new(20));
    let img = painted(&photo, &mask, magenta);
    for p in ["f32", "int8"] {
        check(
            &img,
            &inpaint(dir.path(), &img, &mask, &["--precision", p]),
            &mask,
            magenta,
        );
    }
    // A 600×420 image (tiled example) with two far-apart holes: one small
    // (a native 256 window), one large (a resized window).
    let big = DynamicImage::ImageRgb8(image::RgbImage::from_fn(600, 420, |x, y| {
        photo.to_rgb8().get_pixel(x % 256, y % 256).to_owned()
    }));
    let mut m = image::GrayImage::new(600, 420);
    for (x, y, p) in m.enumerate_pixels_mut() {
        let small = (20..40).contains(&x) && (30..44).contains(&y);
        let large = (300..560).contains(&x) && (150..400).contains(&y);
        p.0 = [if small || large { 255 } else { 0 }];
    }
    let mask = Mask::from_luma(&m);
    let img = painted(&big, &mask, magenta);
    check(&img, &inpaint(dir.path(), &img, &mask, &[]), &mask, magenta);
    // 16-bit RGBA keeps depth and alpha outside the hole.
    let rgba16 = DynamicImage::ImageRgba16(image::ImageBuffer::from_fn(256, 256, |x, y| {
        let p = photo.to_rgb16().get_pixel(x, y).0;
        image::Rgba([p[0], p[1], p[2], (x * 200) as u16])
    }));
    let mask = free_form(256, 256, 9, HoleBin::new(10));
    let out = inpaint(dir.path(), &rgba16, &mask, &[]);
    assert_eq!(out.color(), image::ColorType::Rgba16);
    let (a, b) = (rgba16.to_rgba16(), out.to_rgba16());
    for (x, y, p) in a.enumerate_pixels() {
        if !mask.is_hole(x, y) {
            assert_eq!(p, b.get_pixel(x, y));
        } else {
            assert_eq!(p[3], b.get_pixel(x, y)[3], "alpha kept in the hole");
        }
    }
}

/// `--precision auto` measures both graphs once, caches the choice, fills
/// as that precision does, and follows the cache after.
#[test]
fn auto_precision_fills_as_the_precision_it_chose_and_follows_its_cache() {
    let dir = tempfile::tempdir().unwrap();
    let mask = free_form(256, 256, 3, HoleBin::new(20));
    let img = image::open(example()).unwrap();
    let fill = |precision: &str| {
        let out = dir.path().join(format!("{precision}.png"));
        let (i, m) = (dir.path().join("in.png"), dir.path().join("mask.png"));
        img.save(&i).unwrap();
        mask.to_luma().save(&m).unwrap();
        let o = Command::new(bin())
            .args(["inpaint", "--precision", precision, "--overwrite", "--mask"])
            .args([&m, &i])
            .arg("-o")
            .arg(&out)
            .env("XDG_CACHE_HOME", dir.path())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(&out).unwrap()
    };
    let auto = fill("auto");
    let cache = dir.path().join("edgegan/precision.toml");
    let text = std::fs::read_to_string(&cache).unwrap();
    let table: toml::Table = text.parse().unwrap();
    assert_eq!(table.len(), 1, "{text}");
    let (key, chosen) = table.iter().next().unwrap();
    let chosen = chosen.as_str().unwrap().to_string();
    let card = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("models/inpaint/card.toml"),
    )
    .unwrap();
    let card: toml::Table = card.parse().unwrap();
    let sha = card["files"]["f32"]["sha256"].as_str().unwrap();
    assert!(key.contains(sha), "the key names the graphs: {key}");
    assert_eq!(auto, fill(&chosen), "auto fills as {chosen} does");
    // The other precision written into the cache: auto follows it.
    let other = if chosen == "int8" { "f32" } else { "int8" };
    std::fs::write(&cache, format!("{key:?} = {other:?}\n")).unwrap();
    assert_eq!(fill("auto"), fill(other), "auto follows the cache");
    assert_ne!(
        fill("f32"),
        fill("int8"),
        "the two precisions fill differently"
    );
}

#[test]
fn one_image_on_several_threads_is_filled_as_on_one() {
    use edgegan_runtime::{inpaint::Inpainter, Precision};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/inpaint");
    let photo = image::open(example()).unwrap();
    // The 256² window as is, and a 600×420 image whose hole needs a
    // resized window (and the cascade prefill).
    let big = DynamicImage::ImageRgb8(image::RgbImage::from_fn(600, 420, |x, y| {
        photo.to_rgb8().get_pixel(x % 256, y % 256).to_owned()
    }));
    let cases = [
        (photo.clone(), free_form(256, 256, 7, HoleBin::new(30))),
        (big, free_form(600, 420, 8, HoleBin::new(20))),
    ];
    for precision in [Precision::F32, Precision::Int8] {
        let one = Inpainter::load(&dir, precision).unwrap();
        let three = Inpainter::load(&dir, precision)
            .unwrap()
            .with_threads(3)
            .unwrap();
        assert_eq!((one.threads(), three.threads()), (1, 3));
        for (img, mask) in &cases {
            let (a, b) = (
                one.inpaint(img, mask).unwrap(),
                three.inpaint(img, mask).unwrap(),
            );
            assert_ne!(&a, img, "{precision}: the holes were filled");
            assert_eq!(a, b, "{precision}, {}x{}", img.width(), img.height());
        }
    }
}

#[test]
fn a_resized_window_keeps_the_sign_of_the_models_residual() {
    use edgegan_runtime::{inpaint::cascade_prefill, inpaint::Inpainter, Precision};
    // A 512² window runs at 256: the model's residual over its prefill is
    // stretched back onto the window's native prefill. Where the model
    // darkens the prefill, the fill must be darker too. (An image resize
    // once clamped the residual to [0, 1], so no fill fell below its
    // prefill and the model's darkening was lost.)
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/inpaint");
    let model = Inpainter::load(&dir, Precision::F32).unwrap();
    let (w, h) = (512usize, 512usize);
    let photo = image::open(example())
        .unwrap()
        .resize_exact(w as u32, h as u32, image::imageops::FilterType::Triangle)
        .to_rgb32f();
    let n = w * h;
    let rgb: Vec<f32> = (0..3)
        .flat_map(|c| photo.pixels().map(move |p| p[c]))
        .collect();
    let mask = free_form(w as u32, h as u32, 9, HoleBin::new(20));
    let hole = mask.holes();
    let filled = model.fill_window(&rgb, hole, w, h).unwrap();
    let mut prefill = rgb.clone();
    cascade_prefill(&mut prefill, 3, w, h, hole, model.size());
    let level = 2.0 / 255.0;
    let (mut darker, mut brighter, mut holes) = (0, 0, 0);
    for k in (0..3 * n).filter(|k| hole[k % n]) {
        holes += 1;
        let d = filled[k] - prefill[k];
        darker += (d < -level) as usize;
        brighter += (d > level) as usize;
    }
    assert!(
        darker * 20 > holes && brighter * 20 > holes,
        "{darker} darker and {brighter} brighter of {holes} hole values"
    );
    // Outside the holes the window is the input's.
    assert!((0..3 * n).all(|k| hole[k % n] || filled[k] == rgb[k]));
}

#[test]
fn a_batch_fills_each_image_as_a_single_run_does() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let photo = image::open(example()).unwrap();
    let a = photo.clone();
    let b = photo.crop_imm(10, 30, 200, 150);
    let (ma, mb) = (
        free_form(256, 256, 3, HoleBin::new(20)),
        free_form(200, 150, 4, HoleBin::new(10)),
    );
    for (rel, img, m) in [("a", &a, &ma), ("sub/b", &b, &mb)] {
        let (i, k) = (d.join("in").join(rel), d.join("masks").join(rel));
        std::fs::create_dir_all(i.parent().unwrap()).unwrap();
        std::fs::create_dir_all(k.parent().unwrap()).unwrap();
        img.save(i.with_extension("png")).unwrap();
        m.to_luma().save(k.with_extension("png")).unwrap();
    }
    // A third image whose mask is missing fails alone, on one line.
    a.save(d.join("in/c.png")).unwrap();
    let (input, masks, out) = (d.join("in"), d.join("masks"), d.join("out"));
    let o = run(&[
        "inpaint",
        input.to_str().unwrap(),
        "--mask",
        masks.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--threads",
        "2",
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(
        errors[0].starts_with(&format!(
            "error: {}: no mask for ",
            masks.join("c.png").display()
        )),
        "{err}"
    );
    assert!(err.contains("inpainted 2 of 3 file(s)"), "{err}");
    assert!(!out.join("c.png").exists());
    let single = tempfile::tempdir().unwrap();
    for (rel, img, m) in [("a.png", &a, &ma), ("sub/b.png", &b, &mb)] {
        let batch = image::open(out.join(rel)).unwrap();
        assert_eq!(batch, inpaint(single.path(), img, m, &[]), "{rel}");
    }
    // One mask for every image of a batch of files.
    let one = d.join("masks/a.png");
    let o = run(&[
        "inpaint",
        d.join("in/a.png").to_str().unwrap(),
        d.join("in/c.png").to_str().unwrap(),
        "--mask",
        one.to_str().unwrap(),
        "-o",
        d.join("out2").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let first = image::open(d.join("out2/a.png")).unwrap();
    assert_eq!(first, image::open(d.join("out2/c.png")).unwrap());
    assert_eq!(first, image::open(out.join("a.png")).unwrap());
}

#[test]
fn bad_masks_fail_with_one_line_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let save = |name: &str, img: image::GrayImage| {
        let p = d.join(name);
        img.save(&p).unwrap();
        p
    };
    let wrong = save(
        "wrong.png",
        image::GrayImage::from_pixel(100, 80, image::Luma([255])),
    );
    let empty = save("empty.png", image::GrayImage::new(256, 256));
    let full = save(
        "full.png",
        image::GrayImage::from_pixel(256, 256, image::Luma([255])),
    );
    let text = d.join("text.png");
    std::fs::write(&text, b"not an image").unwrap();
    let cases = [
        (
            wrong,
            "mask is 100x80, the image is 256x256 (masks are not resized)",
        ),
        (empty, "mask marks no pixel to fill (white = fill)"),
        (
            full,
            "mask marks every pixel to fill (white = fill; black keeps)",
        ),
        (text.clone(), "not a readable image"),
    ];
    let out = d.join("out.png");
    let with_mask = |mask: &Path| {
        run(&[
            "inpaint",
            example().to_str().unwrap(),
            "--mask",
            mask.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
    };
    for (mask, why) in cases {
        let o = with_mask(&mask);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success());
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("error: {}: ", mask.display())),
            "{err}"
        );
        assert!(err.contains(why), "{err}");
        assert!(!out.exists(), "no output for {}", mask.display());
    }
    // An existing output is kept.
    std::fs::write(&out, b"keep").unwrap();
    let mask = save("ok.png", free_form(256, 256, 1, HoleBin::new(0)).to_luma());
    let o = with_mask(&mask);
    assert!(!o.status.success());
    assert_eq!(std::fs::read(&out).unwrap(), b"keep");
}

#[test]
fn eval_reproduces_the_card_and_beats_telea() {
    let dev = crate::common::dev_photos()
        .expect("shared/data/dev not found beside or above the checkout: set EDGEGAN_DEV_DATA");
    let o = run(&[
        "eval",
        "--model",
        "inpaint",
        "--data",
        dev.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let card: toml::Table =
        toml::from_str(include_str!("../../../models/inpaint/card.toml")).unwrap();
    let m = card["metrics"].as_table().unwrap();
    assert_eq!(r["images"].as_array().unwrap().len(), 62 * 5);
    let round = |v: &serde_json::Value| (v.as_f64().unwrap() * 1e4).round() / 1e4;
    for (i, b) in r["mean"].as_array().unwrap().iter().enumerate() {
        let bin = b["bin"].as_str().unwrap().trim_end_matches('%');
        let telea = &r["baselines"]["opencv_telea"][i];
        assert_eq!(telea["bin"], b["bin"]);
        for key in ["hole_psnr", "hole_ssim", "hole_l1", "psnr", "ssim"] {
            assert_eq!(
                round(&b["mean"][key]),
                m["f32"][bin][key].as_float().unwrap(),
                "f32 {bin} {key}"
            );
            assert_eq!(
                round(&telea["mean"][key]),
                m["opencv_telea"][bin][key].as_float().unwrap(),
                "telea {bin} {key}"
            );
        }
        let (model, telea) = (
            b["mean"]["hole_psnr"].as_f64().unwrap(),
            telea["mean"]["hole_psnr"].as_f64().unwrap(),
        );
        // Ahead of Telea in every bin (the issue's +1.5 dB in 20-40 % is not
        // reached yet: +1.40 and +1.49 dB, about +1.0 of it from the prefill).
        assert!(
            model > telea + 0.5,
            "{bin}: model {model:.2} dB vs Telea {telea:.2} dB"
        );
        let int8 = m["int8"][bin]["hole_psnr"].as_float().unwrap();
        assert!(
            (int8 - model).abs() <= 0.3,
            "{bin}: int8 {int8} vs f32 {model}"
        );
    }
    assert!(r["baselines"]["opencv_ns"].as_array().unwrap().len() == 5);
    // Each row carries the baselines' scores on its crop and mask; the
    // paired leads are their per-bin mean differences, with the standard
    // error of the differences.
    let rows = r["images"].as_array().unwrap();
    for base in ["opencv_telea", "opencv_ns"] {
        for (i, lead) in r["leads"][base].as_array().unwrap().iter().enumerate() {
            let bin = &r["mean"][i]["bin"];
            let d: Vec<f64> = rows
                .iter()
                .filter(|row| &row["bin"] == bin)
                .map(|row| {
                    row["hole_psnr"].as_f64().unwrap()
                        - row["baselines"][base]["hole_psnr"].as_f64().unwrap()
                })
                .collect();
            let n = d.len() as f64;
            let mean = d.iter().sum::<f64>() / n;
            let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
            assert_eq!((&lead["bin"], lead["images"].as_u64()), (bin, Some(62)));
            let close = |a: &serde_json::Value, b: f64| (a.as_f64().unwrap() - b).abs() < 1e-9;
            assert!(close(&lead["mean"], mean), "{base} {bin}");
            assert!(close(&lead["se"], (var / n).sqrt()), "{base} {bin}");
            let wins = d.iter().filter(|&&x| x > 0.0).count() as u64;
            assert_eq!(lead["wins"].as_u64(), Some(wins), "{base} {bin}");
            let bin_mean = r["baselines"][base][i]["mean"]["hole_psnr"]
                .as_f64()
                .unwrap();
            let rows_mean = r["mean"][i]["mean"]["hole_psnr"].as_f64().unwrap() - mean;
            assert!((bin_mean - rows_mean).abs() < 1e-9, "{base} {bin}");
        }
    }
}

#[test]
fn eval_at_a_larger_crop_runs_the_resize_path() {
    let dev = crate::common::dev_photos()
        .expect("shared/data/dev not found beside or above the checkout: set EDGEGAN_DEV_DATA");
    // Four photos at 384×384: each window is resized to the model's 256.
    let data = tempfile::tempdir().unwrap();
    for name in ["baboon.jpg", "fruits.jpg", "building.jpg", "home.jpg"] {
        let src = walk(&dev).into_iter().find(|p| p.ends_with(name)).unwrap();
        std::fs::copy(&src, data.path().join(name)).unwrap();
    }
    let o = run(&[
        "eval",
        "--model",
        "inpaint",
        "--data",
        data.path().to_str().unwrap(),
        "--crop",
        "384",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["crop"], 384);
    let rows = r["images"].as_array().unwrap();
    assert_eq!(rows.len(), 4 * 5);
    let mut lead = 0.0;
    for row in rows {
        let bin = HoleBin::ALL
            .into_iter()
            .find(|b| b.to_string() == row["bin"])
            .unwrap();
        assert!(bin.contains(row["hole_ratio"].as_f64().unwrap()), "{row}");
        lead += row["hole_psnr"].as_f64().unwrap()
            - row["baselines"]["opencv_telea"]["hole_psnr"]
                .as_f64()
                .unwrap();
    }
    // On the 62 dev photos at 512 the lead is +1.3 to +2.0 dB per bin.
    assert!(
        lead / 20.0 > 0.5,
        "mean lead over Telea {:.2} dB",
        lead / 20.0
    );
    // --crop is for inpainting models only.
    let o = run(&[
        "eval",
        "--model",
        "sr-x2",
        "--data",
        data.path().to_str().unwrap(),
        "--crop",
        "384",
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.trim().lines().count() == 1 && err.contains("--crop"),
        "{err}"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flat_map(|e| {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p)
            } else {
                vec![p]
            }
        })
        .collect()
}

/// `edgegan train inpaint` on the examples folder with `extra` arguments, in
/// a fresh temp dir: (output, stderr, whether the work or model dir exists).
fn train_with(extra: &[&str]) -> (std::process::Output, String, bool) {
    let dir = tempfile::tempdir().unwrap();
    let (work, out) = (dir.path().join("work"), dir.path().join("model"));
    let examples = example().parent().unwrap().to_path_buf();
    let mut args = vec!["train", "inpaint"];
    args.extend_from_slice(extra);
    let (e, o, w) = (
        examples.to_str().unwrap(),
        out.to_str().unwrap(),
        work.to_str().unwrap(),
    );
    args.extend_from_slice(&["--data", e, "--val", e, "-o", o, "--work", w]);
    let output = run(&args);
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, err, work.exists() || out.exists())
}

#[cfg(not(feature = "cuda-train"))]
#[test]
fn cuda_training_in_a_cpu_build_is_one_line_and_writes_nothing() {
    let (o, err, wrote) = train_with(&["--device", "cuda"]);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: --device cuda: this edgegan was built without CUDA training"),
        "{err}"
    );
    assert!(err.contains("--features cuda-train"), "{err}");
    assert!(!wrote);
}

#[test]
fn a_learning_rate_decay_outside_0_to_1_is_one_line_and_writes_nothing() {
    let (o, err, wrote) = train_with(&["--lr-decay", "1.5"]);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(
        err.trim_end(),
        "error: --lr-decay 1.5: must be a fraction from 0 to 1"
    );
    assert!(!wrote);
}

#[test]
fn channels_other_than_four_positive_widths_are_one_line_and_write_nothing() {
    for bad in ["16,32", "16,0,64,96"] {
        let (o, err, wrote) = train_with(&["--channels", bad]);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("error: --channels [") && err.contains("expected four positive widths"),
            "{err}"
        );
        assert!(!wrote);
    }
}
