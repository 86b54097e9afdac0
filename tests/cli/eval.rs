//! `edgegan eval`: the protocol's numbers on the bundled photo, the bicubic
//! model reproducing the bicubic baseline, and the JSON shape.

use crate::common::*;
use edgegan_runtime::sr::evaluate_image;
use edgegan_runtime::{UpscaleOptions, Upscaler};
use edgegan_trainer::onnx::classic;
use std::path::Path;
use std::process::Command;

const PHOTO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/astronaut.png");

#[test]
fn bicubic_model_reproduces_the_bicubic_baseline_and_nearest_is_worse() {
    for scale in [2, 4] {
        let (_t1, bic) = temp_model("bicubic", scale, 2, &classic::bicubic(scale));
        let (_t2, near) = temp_model("nearest", scale, 0, &classic::nearest(scale));
        let run = |dir: &Path| {
            let up = Upscaler::new(
                load(dir),
                UpscaleOptions {
                    tile: Some(48),
                    threads: 2,
                },
            );
            evaluate_image(&up, Path::new(PHOTO), "astronaut.png", &Default::default()).unwrap()
        };
        let (b, n) = (run(&bic), run(&near));
        // Same LR, same kernel, border cropped: equal up to f32 rounding of a few pixels.
        assert!(
            (b.psnr_y - b.bicubic_psnr_y).abs() < 0.01,
            "x{scale}: {b:?}"
        );
        assert!(
            (b.ssim_y - b.bicubic_ssim_y).abs() < 1e-4,
            "x{scale}: {b:?}"
        );
        assert_eq!(n.bicubic_psnr_y, b.bicubic_psnr_y);
        assert!(
            n.psnr_y < b.bicubic_psnr_y - 0.5,
            "x{scale}: nearest {} vs bicubic {}",
            n.psnr_y,
            b.bicubic_psnr_y
        );
        assert!(b.bicubic_ssim_y > 0.5 && b.bicubic_ssim_y < 1.0);
    }
}

#[test]
fn eval_json_has_the_documented_shape() {
    let (tmp, bic) = temp_model("bicubic-x2", 2, 2, &classic::bicubic(2));
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::copy(PHOTO, data.join("a.png")).unwrap();
    let o = Command::new(bin())
        .arg("eval")
        .arg("--model")
        .arg(&bic)
        .arg("--data")
        .arg(&data)
        .arg("--json")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["model"], "bicubic-x2");
    assert_eq!(v["scale"], 2);
    assert_eq!(v["images"][0]["file"], "a.png");
    for k in ["psnr_y", "ssim_y", "bicubic_psnr_y", "bicubic_ssim_y"] {
        assert!(v["images"][0][k].is_f64(), "{k}");
        assert_eq!(v["mean"][k], v["images"][0][k], "{k}");
    }
}

/// The shipped generators, embedded in the binary, beat bicubic on the
/// bundled photo (not part of training): sr-x2 by 3.01 dB, sr-x4 by 2.12 dB
/// when measured (2.33 and 1.65 before the GPU training, sr-x4 1.95 with 3
/// body convs); the bounds leave room for float differences across CPUs.
#[test]
fn shipped_models_beat_bicubic_on_the_bundled_photo() {
    for (model, gain) in [("sr-x2", 2.7), ("sr-x4", 1.8)] {
        let m = mean_scores(model);
        let d = m["psnr_y"].as_f64().unwrap() - m["bicubic_psnr_y"].as_f64().unwrap();
        assert!(d >= gain, "{model}: gain {d:.3} dB < {gain}");
        assert!(m["ssim_y"].as_f64().unwrap() > m["bicubic_ssim_y"].as_f64().unwrap());
    }
}

fn mean_scores(model: &str) -> serde_json::Value {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
    let o = Command::new(bin())
        .args(["eval", "--model", model, "--data", data, "--json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["mean"].clone()
}

/// The GAN-tuned variants trade a little PSNR for detail: on the bundled
/// photo their high-frequency energy is above the PSNR variants' (the
/// "visibly sharper" of the model cards, as a number) and they still beat
/// bicubic's PSNR. Measured: ×2 0.564 vs 0.432, ×4 0.274 vs 0.104 (both
/// GAN variants re-tuned on the GPU from the GPU-trained PSNR models).
#[test]
fn gan_variants_are_sharper_than_psnr_variants() {
    for (scale, factor) in [(2, 1.25), (4, 1.25)] {
        let psnr = mean_scores(&format!("sr-x{scale}"));
        let gan = mean_scores(&format!("sr-x{scale}-gan"));
        let (sp, sg) = (
            psnr["sharpness_y"].as_f64().unwrap(),
            gan["sharpness_y"].as_f64().unwrap(),
        );
        assert!(
            sg > factor * sp,
            "x{scale}: GAN sharpness {sg:.3} vs PSNR {sp:.3}"
        );
        assert!(sp > psnr["bicubic_sharpness_y"].as_f64().unwrap());
        assert!(gan["psnr_y"].as_f64().unwrap() > gan["bicubic_psnr_y"].as_f64().unwrap());
    }
}

/// `--degrade`: the LR inputs are blurred, noisy and JPEG-compressed the same
/// way for a seed (the JSON records the degradations), bicubic loses PSNR
/// against the clean reference, another seed gives other inputs, and the
/// flag is refused for a model that is not super-resolution.
#[test]
fn degraded_inputs_are_fixed_by_their_seed_and_recorded() {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
    let run = |extra: &[&str]| {
        let o = Command::new(bin())
            .args(["eval", "--model", "bicubic-x4", "--data", data, "--json"])
            .args(extra)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let clean = run(&[]);
    assert!(clean.get("degraded").is_none());
    let all = ["--degrade", "blur,noise,jpeg"];
    let a = run(&all);
    assert_eq!(a["degraded"]["kinds"], "blur,noise,jpeg");
    assert_eq!(a["degraded"]["seed"], 1);
    let psnr = |v: &serde_json::Value| v["mean"]["bicubic_psnr_y"].as_f64().unwrap();
    assert!(
        psnr(&a) < psnr(&clean) - 0.1,
        "{} vs {}",
        psnr(&a),
        psnr(&clean)
    );
    assert_eq!(a["mean"], run(&all)["mean"]);
    let other = run(&[&all[..], &["--degrade-seed", "2"]].concat());
    assert_eq!(other["degraded"]["seed"], 2);
    assert_ne!(psnr(&other), psnr(&a));
    let refused = Command::new(bin())
        .args([
            "eval",
            "--model",
            "inpaint",
            "--data",
            data,
            "--degrade",
            "jpeg",
        ])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let e = String::from_utf8_lossy(&refused.stderr);
    assert!(e.contains("--degrade applies to super-resolution"), "{e}");
}

/// `--save`: the LR input written is the protocol's (the antialiased
/// bicubic downscale of the photo, cropped to the scale), the reference is
/// that crop, the output's
/// PSNR-Y against the photo is the JSON's to the last bit, a second run
/// never writes over the first's files, and the flag is refused for a
/// model that is not super-resolution.
#[test]
fn eval_save_writes_the_lr_input_and_the_output() {
    use edgegan_runtime::resample::downscale_u8;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(data.join("sub")).unwrap();
    std::fs::copy(PHOTO, data.join("sub").join("a.png")).unwrap();
    let out = tmp.path().join("out");
    let run = || {
        Command::new(bin())
            .args(["eval", "--model", "bicubic-x2", "--json", "--data"])
            .arg(&data)
            .arg("--save")
            .arg(&out)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap()
    };
    let o = run();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let hr = image::open(PHOTO).unwrap().to_rgb8();
    let (w, h) = (hr.width() / 2 * 2, hr.height() / 2 * 2);
    let hr = image::imageops::crop_imm(&hr, 0, 0, w, h).to_image();
    let lr = image::open(out.join("sub__a.lr.png")).unwrap().to_rgb8();
    let want = downscale_u8(hr.as_raw(), w as usize, h as usize, 3, 2);
    assert_eq!((lr.width(), lr.height()), (w / 2, h / 2));
    assert_eq!(lr.as_raw(), &want);
    assert_eq!(
        image::open(out.join("sub__a.hr.png")).unwrap().to_rgb8(),
        hr
    );
    let sr = image::open(out.join("sub__a.png")).unwrap().to_rgb8();
    let (psnr, ssim, _) = edgegan_runtime::sr::score_y(&hr, &sr, 2);
    assert_eq!(v["images"][0]["psnr_y"].as_f64().unwrap(), psnr);
    assert_eq!(v["images"][0]["ssim_y"].as_f64().unwrap(), ssim);
    let before = std::fs::read(out.join("sub__a.png")).unwrap();
    let again = run();
    assert_eq!(again.status.code(), Some(1));
    let e = String::from_utf8_lossy(&again.stderr);
    assert!(e.contains("sub__a.lr.png"), "{e}");
    assert_eq!(std::fs::read(out.join("sub__a.png")).unwrap(), before);
    let refused = Command::new(bin())
        .args(["eval", "--model", "inpaint", "--data"])
        .arg(&data)
        .arg("--save")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let e = String::from_utf8_lossy(&refused.stderr);
    assert!(e.contains("--save applies to super-resolution"), "{e}");
}
