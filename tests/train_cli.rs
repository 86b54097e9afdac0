//! `edgegan train sr` end to end on a tiny budget: a few steps on a few
//! crops, a model directory that the runtime loads, and a card that records
//! the run and metrics `edgegan eval` reproduces.

mod common;

use common::bin;
use edgegan_runtime::{Model, Precision, Task};
use std::process::Command;

#[test]
fn tiny_training_run_produces_a_loadable_model_with_a_true_card() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/astronaut.png");
    std::fs::copy(example, photos.join("a.png")).unwrap();
    let out = tmp.path().join("sr-tiny");
    let o = Command::new(bin())
        .args([
            "train", "sr", "--scale", "2", "--steps", "4", "--batch", "2", "--patch", "16",
        ])
        .args(["--val-every", "2", "--prescale", "1", "--seed", "5"])
        .arg("--data")
        .arg(&photos)
        .arg("--val")
        .arg(&photos)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert_eq!(stderr.matches("val PSNR-Y").count(), 2, "{stderr}");
    let model = Model::load(&out, Precision::F32).unwrap();
    let card = model.card();
    assert_eq!(
        (card.task, card.scale, card.name.as_str()),
        (Task::SuperResolution, 2, "sr-tiny")
    );
    assert_eq!(card.training["steps"].as_integer(), Some(4));
    assert_eq!(card.training["seed"].as_integer(), Some(5));
    let card_psnr = card.metrics["val"]["psnr_y"].as_float().unwrap();
    // `edgegan eval` reproduces the card's number.
    let e = Command::new(bin())
        .arg("eval")
        .arg("--model")
        .arg(&out)
        .arg("--data")
        .arg(&photos)
        .arg("--json")
        .output()
        .unwrap();
    assert!(e.status.success(), "{}", String::from_utf8_lossy(&e.stderr));
    let v: serde_json::Value = serde_json::from_slice(&e.stdout).unwrap();
    let eval_psnr = v["mean"]["psnr_y"].as_f64().unwrap();
    assert!(
        (eval_psnr - card_psnr).abs() < 1e-3,
        "card {card_psnr} vs eval {eval_psnr}"
    );
    // An existing output directory is never overwritten.
    let again = Command::new(bin())
        .args(["train", "sr", "--scale", "2", "--steps", "1"])
        .arg("--data")
        .arg(&photos)
        .arg("--val")
        .arg(&photos)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}
