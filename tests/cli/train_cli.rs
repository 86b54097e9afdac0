//! `edgegan train sr` end to end on a tiny budget: a few steps on a few
//! crops, a model directory that the runtime loads, and a card that records
//! the run and metrics `edgegan eval` reproduces.

use crate::common::bin;
use edgegan_runtime::{Model, Precision, Task};
use std::path::Path;
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
    // Validations at steps 0 (the initial generator), 2 and 4.
    assert_eq!(stderr.matches("val PSNR-Y").count(), 3, "{stderr}");
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
    // Stage 2 fine-tunes it adversarially: D diagnostics in the log and the
    // card, a plot and an evolution grid in the model directory.
    let gan = tmp.path().join("sr-tiny-gan");
    let work = tmp.path().join("sr-tiny-gan.work");
    let gan_run = |extra: &[&str], to: &Path| {
        Command::new(bin())
            .args([
                "train", "sr", "--stage", "gan", "--scale", "2", "--steps", "4",
            ])
            .args(["--batch", "2", "--patch", "16", "--val-every", "2"])
            .args(["--prescale", "1", "--max-psnr-drop", "100"])
            .args(extra)
            .arg("--work")
            .arg(&work)
            .arg("--init")
            .arg(&out)
            .arg("--data")
            .arg(&photos)
            .arg("--val")
            .arg(&photos)
            .arg("--out")
            .arg(to)
            .output()
            .unwrap()
    };
    let o = gan_run(&[], &gan);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert_eq!(stderr.matches("D(real)").count(), 2, "{stderr}");
    let card = Model::load(&gan, Precision::F32).unwrap().card().clone();
    assert_eq!(card.training["steps"].as_integer(), Some(8));
    assert_eq!(card.training["disc_parameters"].as_integer(), Some(136_833));
    let acc = card.training["final_d_accuracy"].as_float().unwrap();
    assert!((0.0..=1.0).contains(&acc), "{acc}");
    for f in ["plot.svg", "evolution.png", "model.onnx"] {
        assert!(gan.join(f).is_file(), "{f}");
    }
    let log = std::fs::read_to_string(work.join("log.csv")).unwrap();
    assert_eq!(log.lines().count(), 4, "header + steps 0, 2, 4:\n{log}");
    // Its checkpoint is refused without --resume, then resumed (nothing left to do).
    let rerun = |extra: &[&str], to: &str| gan_run(extra, &tmp.path().join(to));
    let refused = rerun(&[], "again");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("resume it or remove it"));
    assert!(!tmp.path().join("again").exists());
    let resumed = rerun(&["--resume"], "resumed");
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert_eq!(
        std::fs::read(tmp.path().join("resumed/model.onnx")).unwrap(),
        std::fs::read(gan.join("model.onnx")).unwrap()
    );
    // A GAN stage without a generator to start from is refused.
    let no_init = Command::new(bin())
        .args(["train", "sr", "--stage", "gan", "--scale", "2"])
        .arg("--data")
        .arg(&photos)
        .arg("--val")
        .arg(&photos)
        .arg("--out")
        .arg(tmp.path().join("x"))
        .output()
        .unwrap();
    assert!(!no_init.status.success());
    assert!(String::from_utf8_lossy(&no_init.stderr).contains("--init"));
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

/// `edgegan train dcgan` stopped after epoch 2 (the checkpoint a kill during
/// epoch 3 leaves) and run again with `--resume` writes the model, log and
/// animation of an unbroken 3-epoch run, byte for byte; without `--resume`
/// the checkpoint is refused.
#[test]
fn a_resumed_dcgan_run_equals_an_unbroken_one() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/astronaut.png");
    let img = image::open(example).unwrap();
    for i in 0..8u32 {
        img.crop_imm(i * 20, i * 10, 96, 96)
            .save(photos.join(format!("{i}.png")))
            .unwrap();
    }
    let train = |epochs: &str, out: &str, extra: &[&str]| {
        Command::new(bin())
            .args([
                "train", "dcgan", "--side", "16", "--batch", "4", "--seed", "3",
            ])
            .args(["--epochs", epochs])
            .arg("--data")
            .arg(&photos)
            .arg("--out")
            .arg(tmp.path().join(out))
            .args(extra)
            .output()
            .unwrap()
    };
    let ok = |o: &std::process::Output| {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    ok(&train("3", "whole", &[]));
    ok(&train("2", "cut", &[]));
    let cut_work = tmp.path().join("cut.work");
    let work = cut_work.to_str().unwrap();
    let refused = train("3", "resumed", &["--work", work]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("pass --resume or remove it"), "{stderr}");
    assert!(!tmp.path().join("resumed").exists());
    ok(&train("3", "resumed", &["--work", work, "--resume"]));
    let read = |p: &str| std::fs::read(tmp.path().join(p)).unwrap();
    for f in ["model.onnx", "model.int8.onnx"] {
        assert_eq!(
            read(&format!("whole/{f}")),
            read(&format!("resumed/{f}")),
            "{f}"
        );
    }
    for f in ["log.jsonl", "evolution.png", "evolution/epoch_003.png"] {
        assert_eq!(
            read(&format!("whole.work/{f}")),
            read(&format!("cut.work/{f}")),
            "{f}"
        );
    }
    let log = String::from_utf8(read("cut.work/log.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 3);
}
