//! `edgegan quantize` end to end: the int8 graph is written and recorded in
//! the card, the runtime runs it (eval, upscale), and bad input changes
//! nothing.

use crate::common::bin;
use edgegan_runtime::{Model, Precision};
use std::path::Path;
use std::process::Command;

fn eval_psnr(model: &Path, precision: &str, data: &str) -> f64 {
    let o = Command::new(bin())
        .args([
            "eval",
            "--precision",
            precision,
            "--data",
            data,
            "--json",
            "--model",
        ])
        .arg(model)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["mean"]["psnr_y"].as_f64().unwrap()
}

/// `edgegan quantize MODEL --calib CALIB` fails with one line saying `says`.
fn refused(model: &Path, calib: &Path, says: &str) {
    let o = Command::new(bin())
        .arg("quantize")
        .arg(model)
        .arg("--calib")
        .arg(calib)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains(says) && err.lines().count() == 1, "{err}");
}

/// The bytes of `files` in `dir`.
fn contents(dir: &Path, files: &[&str]) -> Vec<Vec<u8>> {
    files
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect()
}

#[test]
fn quantize_writes_a_checked_int8_graph_and_refuses_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sr-x2");
    std::fs::create_dir(&dir).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/sr-x2");
    for f in ["card.toml", "model.onnx"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
    let o = Command::new(bin())
        .args([
            "quantize",
            "--method",
            "minmax",
            "--patches",
            "8",
            "--calib",
            examples,
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let card = Model::load(&dir, Precision::Int8).unwrap().card().clone();
    let q = card.training["quantization"].as_table().unwrap();
    assert_eq!(q["method"].as_str(), Some("minmax"));
    assert_eq!(q["patches"].as_integer(), Some(8));
    assert_eq!(q["lr_pixels"].as_integer(), Some(8 * 64 * 64));
    let f32_psnr = eval_psnr(&dir, "f32", examples);
    let int8_psnr = eval_psnr(&dir, "int8", examples);
    assert!(int8_psnr != f32_psnr, "the int8 graph did not run");
    assert!(
        (f32_psnr - int8_psnr).abs() < 0.3,
        "f32 {f32_psnr} vs int8 {int8_psnr}"
    );
    // Bad input: an empty calibration folder, a missing model directory.
    let files = ["card.toml", "model.int8.onnx"];
    let before = contents(&dir, &files);
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    refused(&dir, &empty, "no calibration photo");
    refused(&tmp.path().join("missing"), &empty, "not a model directory");
    assert!(
        before == contents(&dir, &files),
        "a failed quantize changed the model directory"
    );
    // The embedded default model runs as int8 too.
    let out = tmp.path().join("a_x2.png");
    let o = Command::new(bin())
        .args(["upscale", "--precision", "int8"])
        .arg(Path::new(examples).join("astronaut.png"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(image::image_dimensions(&out).unwrap(), (512, 512));
}

/// An inpainting model directory goes through the inpainting exporter;
/// what it refuses leaves the directory as it was. (Its happy path takes
/// minutes of calibration and measurement: it wrote the shipped int8
/// graph and card, which `eval_reproduces_the_card_and_beats_telea` checks.)
#[test]
fn quantize_of_an_inpainting_model_refuses_bad_input_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("inpaint");
    std::fs::create_dir(&dir).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/inpaint");
    let files = ["card.toml", "model.onnx", "model.int8.onnx"];
    for f in files {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    let card = std::fs::read_to_string(dir.join("card.toml")).unwrap();
    let data = tmp.path().join("dev");
    std::fs::create_dir(&data).unwrap();
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let here = |data: &Path| {
        let mut t: toml::Table = toml::from_str(&card).unwrap();
        let m = t["metrics"].as_table_mut().unwrap();
        m.insert("data".into(), data.display().to_string().into());
        std::fs::write(dir.join("card.toml"), toml::to_string(&t).unwrap()).unwrap();
    };
    for (metrics_data, calib, says) in [
        (tmp.path().join("gone"), examples.into(), "metrics.data"),
        (data.clone(), empty.clone(), "no calibration photo"),
    ] {
        here(&metrics_data);
        let before = contents(&dir, &files);
        refused(&dir, &calib, says);
        assert!(
            before == contents(&dir, &files),
            "a failed quantize changed {}",
            dir.display()
        );
    }
}
