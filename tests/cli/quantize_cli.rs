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
    let before: Vec<Vec<u8>> = ["card.toml", "model.int8.onnx"]
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for (model, calib, says) in [
        (dir.clone(), empty.clone(), "no calibration photo"),
        (
            tmp.path().join("missing"),
            empty.clone(),
            "not a model directory",
        ),
    ] {
        let o = Command::new(bin())
            .arg("quantize")
            .arg(&model)
            .arg("--calib")
            .arg(&calib)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success());
        assert!(err.contains(says) && err.lines().count() == 1, "{err}");
    }
    let after: Vec<Vec<u8>> = ["card.toml", "model.int8.onnx"]
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    assert!(
        before == after,
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
