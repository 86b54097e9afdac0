//! The report `edgegan bench` prints or writes: the machine it ran on, its
//! matrix-product peaks, one [`Record`] per measured path and the cells
//! that could not run.

use serde::{Deserialize, Serialize};
use std::time::Duration;

use super::{cpu_matmul_gflops, Record};

/// A machine-peak measurement.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Peak {
    /// `cpu-matmul` or `gpu-matmul`.
    pub path: String,
    /// Threads (CPU) or 0 (GPU).
    pub threads: usize,
    /// Matrix side.
    pub n: usize,
    /// Measured GFLOP/s.
    pub gflop_per_s: f64,
}

/// The whole report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Where it ran ([`machine`]).
    pub machine: serde_json::Value,
    /// Matmul peaks.
    pub peaks: Vec<Peak>,
    /// One record per measured path.
    pub records: Vec<Record>,
    /// Cells that could not run, with the reason.
    pub skipped: Vec<String>,
}

impl Report {
    /// The report as `edgegan bench` prints it: a header, one row a record,
    /// then the peaks and the skipped cells.
    pub fn table(&self) -> String {
        let mut lines = vec![format!(
            "{:<10} {:<13} {:<5} {:>3} {:>5} {:>10} {:>9} {:>9} {:>8} {:>8} {:>7}",
            "model",
            "path",
            "prec",
            "thr",
            "tile",
            "input",
            "p50 ms",
            "p95 ms",
            "MP/s",
            "GFLOP/s",
            "RSS MB"
        )];
        lines.extend(self.records.iter().map(Record::row));
        lines.extend(self.peaks.iter().map(|p| {
            format!(
                "peak {} ({} threads, n={}): {:.1} GFLOP/s",
                p.path, p.threads, p.n, p.gflop_per_s
            )
        }));
        lines.extend(self.skipped.iter().map(|s| format!("skipped: {s}")));
        lines.iter().map(|l| format!("{l}\n")).collect()
    }
}

/// tract's matmul peaks: 1024² f32 on one core and on every core, and
/// 4096² on the GPU when `gpu` (in a `gpu` build). What fails is listed in
/// `skipped`.
pub fn peaks(gpu: bool, budget: Duration, skipped: &mut Vec<String>) -> Vec<Peak> {
    let mut out = Vec::new();
    for t in [1, crate::sr::available_threads()] {
        if out.iter().any(|p: &Peak| p.threads == t) {
            continue;
        }
        match cpu_matmul_gflops(1024, t, budget) {
            Ok(g) => out.push(Peak {
                path: "cpu-matmul".into(),
                threads: t,
                n: 1024,
                gflop_per_s: g,
            }),
            Err(e) => skipped.push(format!("cpu-matmul {t} threads: {e:#}")),
        }
    }
    #[cfg(feature = "gpu")]
    if gpu {
        match crate::gpu::matmul_gflops(4096, budget) {
            Ok(g) => out.push(Peak {
                path: "gpu-matmul".into(),
                threads: 0,
                n: 4096,
                gflop_per_s: g,
            }),
            Err(e) => skipped.push(format!("gpu-matmul: {e:#}")),
        }
    }
    #[cfg(not(feature = "gpu"))]
    let _ = gpu;
    out
}

/// CPU model and core count (from /proc/cpuinfo), the GPU (`nvidia-smi`)
/// where there is one, and the versions measured.
pub fn machine() -> serde_json::Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let gpu = std::process::Command::new("nvidia-smi")
        .args(["--query-gpu=name,driver_version", "--format=csv,noheader"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    serde_json::json!({
        "cpu": cpu,
        "cores": crate::sr::available_threads(),
        "arch": std::env::consts::ARCH,
        "gpu": gpu,
        "edgegan": env!("CARGO_PKG_VERSION"),
        "tract": "0.23.9",
        "gpu_feature": cfg!(feature = "gpu"),
    })
}
