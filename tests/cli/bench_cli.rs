//! `edgegan bench`: records carry the measured statistics consistently
//! (throughput and GFLOP/s follow from the median and the model's exact
//! arithmetic), plots are written, a GPU request on a build or machine
//! without one is skipped with its reason, and bad arguments are refused.

use crate::common::bin;
use edgegan_runtime::{Model, Precision};
use std::path::Path;
use std::process::Command;

#[test]
fn flops_per_output_pixel_are_the_conv_weights() {
    // sr-x2: bicubic 12·3·5·5 + head 32·3·5·5 + 3 body 32·32·3·3 + tail 12·32·3·3
    // = 34 404 MACs per input pixel; ×2 FLOPs, /4 output pixels each.
    // sr-x4: 48·75 + 2 400 + 4 body 36 864 + 48·288 = 56 688; ×2 / 16.
    for (name, expected) in [("sr-x2", 17_202.0), ("sr-x4", 7_086.0)] {
        for p in [Precision::F32, Precision::Int8] {
            let m = Model::load(&Path::new("models").join(name), p).unwrap();
            assert_eq!(m.flops_per_output_pixel(), Some(expected), "{name} {p}");
        }
    }
}

#[test]
fn bench_writes_consistent_records_and_plots() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bench.json");
    let o = Command::new(bin())
        .args([
            "bench",
            "--models",
            "sr-x2",
            "--sizes",
            "24,32",
            "--threads",
            "1",
            "--tiles",
            "0,16",
            "--precision",
            "f32,int8",
            "--seconds",
            "0.05",
            "--gpu",
            "--json",
            "--out",
        ])
        .arg(&out)
        .arg("--plot")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(printed, saved);
    let records = saved["records"].as_array().unwrap();
    // 2 sizes × 2 tiles × 2 precisions on the CPU; the GPU cell is either
    // measured (a gpu build on a GPU machine: 2 records per size) or skipped.
    let gpu = records.iter().filter(|r| r["path"] != "cpu").count();
    assert_eq!(records.len() - gpu, 8);
    if gpu == 0 {
        let skipped = saved["skipped"].as_array().unwrap();
        assert_eq!(skipped.len(), 2, "{skipped:?}");
    }
    for r in records.iter().filter(|r| r["path"] == "cpu") {
        let side = r["input"][0].as_f64().unwrap();
        let tile = r["tile"].as_u64().unwrap();
        assert!(
            tile == 16 || tile == side as u64,
            "tile 0 means the whole image"
        );
        let p50 = r["p50_ms"].as_f64().unwrap();
        assert!(p50 > 0.0 && r["p95_ms"].as_f64().unwrap() >= p50);
        assert!(r["runs"].as_u64().unwrap() >= 3);
        let out_px = (side * 2.0).powi(2);
        let mp = out_px / 1e6 / (p50 / 1e3);
        assert!((r["mp_per_s"].as_f64().unwrap() - mp).abs() < 1e-9 * mp.max(1.0));
        let gf = out_px * 17_202.0 / 1e9 / (p50 / 1e3);
        assert!((r["gflop_per_s"].as_f64().unwrap() - gf).abs() < 1e-9 * gf.max(1.0));
        assert!(r["peak_rss_mb"].as_f64().unwrap() > 1.0);
    }
    let svg = std::fs::read_to_string(dir.path().join("latency-sr-x2.svg")).unwrap();
    for label in ["cpu f32 t1 tile16", "cpu int8 t1 tile16", "<polyline"] {
        assert!(svg.contains(label), "plot lacks {label}");
    }
}

#[test]
fn an_inpainting_model_gets_one_fill_per_precision_and_thread_count() {
    let o = Command::new(bin())
        .args([
            "bench",
            "--models",
            "inpaint",
            "--sizes",
            "256",
            "--threads",
            "1,all",
            "--tiles",
            "0,128",
            "--seconds",
            "0.05",
            "--gpu",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let records = r["records"].as_array().unwrap();
    let cpu: Vec<&serde_json::Value> = records.iter().filter(|r| r["path"] == "cpu").collect();
    // Threads multiply an inpainting fill (one image on that many cores),
    // tiles do not.
    let all = edgegan_runtime::sr::available_threads() as u64;
    let threads: Vec<u64> = if all > 1 { vec![1, all] } else { vec![1] };
    let cells: Vec<(&str, u64)> = cpu
        .iter()
        .map(|r| {
            (
                r["precision"].as_str().unwrap(),
                r["threads"].as_u64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(&str, u64)> = ["f32", "int8"]
        .iter()
        .flat_map(|p| threads.iter().map(move |t| (*p, *t)))
        .collect();
    assert_eq!(cells, want);
    for r in &cpu {
        assert_eq!(r["model"].as_str(), Some("inpaint"));
        assert_eq!(
            (r["tile"].as_u64(), r["gflop_per_s"].as_f64()),
            (Some(256), Some(0.0))
        );
        let p50 = r["p50_ms"].as_f64().unwrap();
        let mp = 256.0 * 256.0 / 1e6 / (p50 / 1e3);
        assert!((r["mp_per_s"].as_f64().unwrap() - mp).abs() < 1e-9 * mp);
        assert!(r["runs"].as_u64().unwrap() >= 3);
    }
    // The network alone on one window, per precision and thread count.
    let net: Vec<&serde_json::Value> = records.iter().filter(|r| r["path"] == "cpu-net").collect();
    assert_eq!(net.len(), want.len());
    for r in &net {
        assert_eq!(r["input"], serde_json::json!([256, 256]));
        assert!(r["p50_ms"].as_f64().unwrap() > 0.0);
    }
    // The GPU cell: measured (gpu and gpu-resident) or skipped with its reason.
    let gpu = records.len() - cpu.len() - net.len();
    let skipped = r["skipped"].as_array().unwrap();
    assert!(gpu == 2 || (gpu == 0 && skipped.len() == 1), "{skipped:?}");
}

#[test]
fn bad_bench_arguments_are_refused() {
    for (flag, value, says) in [
        (
            "--threads",
            "many",
            "--threads: many is not a number or `all`",
        ),
        (
            "--precision",
            "fp16",
            "--precision: fp16 is not f32 or int8",
        ),
        ("--models", "no-such-model", "no-such-model: no such model"),
    ] {
        let o = Command::new(bin())
            .args(["bench", "--sizes", "16", "--seconds", "0.01", flag, value])
            .output()
            .unwrap();
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}
