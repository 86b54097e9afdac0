//! `edgegan generate` and `edgegan eval` on the shipped DCGAN `digits`: a seed
//! gives the same grid every time, the grid has the asked layout, eval
//! reproduces the card's numbers exactly and meets the demo's bar, and bad
//! requests fail with one line and no output.

use crate::common::bin;
use std::path::{Path, PathBuf};
use std::process::Command;

fn run(args: &[&str]) -> std::process::Output {
    Command::new(bin()).args(args).output().unwrap()
}

fn digits() -> PathBuf {
    edgegan_trainer::dcgan::imageset::locate_digits(Path::new(env!("CARGO_MANIFEST_DIR")))
        .expect("digits.csv.gz not found: run scripts/fetch_digits.py")
}

#[test]
fn a_seed_gives_the_same_grid_and_the_layout_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let grid = |out: &str, seed: &str, extra: &[&str]| {
        let o = run(&[
            &[
                "generate", "-n", "12", "--seed", seed, "--cols", "4", "-o", out,
            ][..],
            extra,
        ]
        .concat());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(out).unwrap()
    };
    let a = grid(&path("a.png"), "3", &[]);
    assert_eq!(a, grid(&path("b.png"), "3", &[]));
    assert_ne!(a, grid(&path("c.png"), "4", &[]));
    let int8 = grid(&path("d.png"), "3", &["--precision", "int8"]);
    assert_ne!(a, int8, "int8 weights round differently");
    let img = image::load_from_memory(&a).unwrap().to_rgb8();
    // 4 columns x 3 rows of 16 px at zoom 4, 2-px gaps
    assert_eq!(img.dimensions(), (4 * 66 + 2, 3 * 66 + 2));
    assert_eq!(img.get_pixel(0, 0).0, [40, 40, 40]);
    // generated digits are bright strokes on a dark ground
    let bright = img.pixels().filter(|p| p[0] > 200).count();
    assert!(bright > 500, "{bright} bright pixels");
}

#[test]
fn eval_reproduces_the_card_and_meets_the_bar() {
    let o = run(&[
        "eval",
        "--model",
        "digits",
        "--data",
        digits().to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let reports: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let card: toml::Table = toml::from_str(include_str!("../../models/digits/card.toml")).unwrap();
    let m = card["metrics"].as_table().unwrap();
    for r in reports.as_array().unwrap() {
        let p = r["precision"].as_str().unwrap();
        assert_eq!(r["samples"], 1000);
        assert_eq!(
            r["coverage"].as_i64(),
            m[&format!("{p}_coverage")].as_integer()
        );
        assert_eq!(r["entropy"].as_f64(), m[&format!("{p}_entropy")].as_float());
        assert_eq!(
            r["classifier_accuracy"].as_f64(),
            m["classifier_accuracy"].as_float()
        );
        assert_eq!(r["coverage"], 10);
        assert!(r["entropy"].as_f64().unwrap() >= 2.1);
        assert!(r["classifier_accuracy"].as_f64().unwrap() >= 0.95);
        let h: Vec<u64> = serde_json::from_value(r["histogram"].clone()).unwrap();
        assert_eq!(h.iter().sum::<u64>(), 1000);
    }
    assert_eq!(reports.as_array().unwrap().len(), 2);
}

#[test]
fn bad_requests_fail_with_one_line_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("g.png");
    let o_path = out.to_str().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &["generate", "--model", "sr-x2", "-o", o_path],
            "not generation",
        ),
        (
            &["generate", "--model", "nope", "-o", o_path],
            "nope: no such model",
        ),
        (
            &["generate", "-o", &o_path.replace(".png", ".jpg")],
            "saved as PNG",
        ),
        (&["generate", "-n", "0", "-o", o_path], "invalid value '0'"),
    ];
    for (args, says) in cases {
        let o = run(args);
        let err = String::from_utf8_lossy(&o.stderr);
        let first = err.lines().next().unwrap_or_default();
        assert!(
            !o.status.success() && first.starts_with("error: ") && first.contains(says),
            "{args:?}: {err}"
        );
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    std::fs::write(&out, b"keep").unwrap();
    let o = run(&["generate", "-o", o_path]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("exists"));
    assert_eq!(std::fs::read(&out).unwrap(), b"keep");
}
