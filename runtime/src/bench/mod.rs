//! Latency measurement shared by `edgegan bench` and the criterion benches:
//! one [`Record`] per (model, path, precision, threads, tile, size), timing
//! statistics, the process's peak RSS, and a machine peak from a large
//! matrix product run through tract itself, so achieved GFLOP/s of a model
//! can be read against what the same library reaches on the same machine.
//!
//! ```
//! use edgegan_runtime::bench::percentile;
//! assert_eq!(percentile(&[4.0, 1.0, 3.0, 2.0], 0.5), 2.0);
//! assert_eq!(percentile(&[4.0, 1.0, 3.0, 2.0], 0.95), 4.0);
//! ```

mod cells;
mod inpaint;
mod report;

pub use cells::{matrix, test_image, Cell, Spec};
pub use report::{machine, peaks, Peak, Report};

use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};
use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::einsum::EinSum;

/// One measured path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Model name (card `name`).
    pub model: String,
    /// `cpu` (tract, tiled), `gpu` (tract-cuda, host memory to host memory),
    /// `gpu-resident` (tract-cuda, input and output left on the GPU), or a
    /// peer: `onnxruntime-cpu`, `pytorch-cuda`, `pytorch-cuda-resident`.
    pub path: String,
    /// `f32` or `int8`.
    pub precision: String,
    /// Worker threads (CPU paths; 0 on the GPU).
    pub threads: usize,
    /// Tile side in input pixels (0: the whole image in one run).
    pub tile: usize,
    /// Input width and height.
    pub input: [usize; 2],
    /// Timed runs.
    pub runs: usize,
    /// Median latency of one image.
    pub p50_ms: f64,
    /// 95th-percentile latency.
    pub p95_ms: f64,
    /// Output megapixels per second at the median latency.
    pub mp_per_s: f64,
    /// Achieved GFLOP/s at the median (convolution arithmetic only).
    pub gflop_per_s: f64,
    /// Peak resident set of the measuring process, MiB (0 if unknown).
    pub peak_rss_mb: f64,
    /// Seconds to build the plan(s) before timing (not in the latencies).
    pub prepare_s: f64,
}

impl Record {
    /// This record as a row of `edgegan bench`'s table (see [`Report::table`]).
    pub fn row(&self) -> String {
        let r = self;
        format!(
            "{:<10} {:<13} {:<5} {:>3} {:>5} {:>10} {:>9.2} {:>9.2} {:>8.3} {:>8} {:>7.0}",
            r.model,
            r.path,
            r.precision,
            r.threads,
            r.tile,
            format!("{}x{}", r.input[0], r.input[1]),
            r.p50_ms,
            r.p95_ms,
            r.mp_per_s,
            // Not counted (inpainting graphs): a dash, not a measured zero.
            if r.gflop_per_s > 0.0 {
                format!("{:.2}", r.gflop_per_s)
            } else {
                "-".into()
            },
            r.peak_rss_mb
        )
    }

    /// A record of one path with no measurement yet.
    pub fn new(
        model: &str,
        path: &str,
        precision: &str,
        threads: usize,
        tile: usize,
        input: [usize; 2],
    ) -> Record {
        Record {
            model: model.into(),
            path: path.into(),
            precision: precision.into(),
            threads,
            tile,
            input,
            runs: 0,
            p50_ms: 0.0,
            p95_ms: 0.0,
            mp_per_s: 0.0,
            gflop_per_s: 0.0,
            peak_rss_mb: 0.0,
            prepare_s: 0.0,
        }
    }

    /// Fill the statistics of a record from latency `samples` (ms) of one
    /// image with `out_pixels` output pixels and `flops` arithmetic.
    pub fn with_samples(mut self, samples: &[f64], out_pixels: f64, flops: f64) -> Record {
        self.runs = samples.len();
        self.p50_ms = percentile(samples, 0.5);
        self.p95_ms = percentile(samples, 0.95);
        let s = self.p50_ms / 1e3;
        self.mp_per_s = out_pixels / 1e6 / s;
        self.gflop_per_s = flops / 1e9 / s;
        self.peak_rss_mb = peak_rss_mb().unwrap_or(0.0);
        self
    }
}

/// The `p` quantile (0..=1) of `samples` by the nearest-rank rule.
///
/// # Panics
/// If `samples` is empty.
pub fn percentile(samples: &[f64], p: f64) -> f64 {
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = (p * v.len() as f64).ceil().max(1.0) as usize;
    v[rank.min(v.len()) - 1]
}

/// Run `f` `warmup` times untimed, then time it at least `min_runs` times
/// and until `budget` has passed (at most 1000 runs). Returns ms per run.
pub fn time_runs<E>(
    mut f: impl FnMut() -> Result<(), E>,
    warmup: usize,
    min_runs: usize,
    budget: Duration,
) -> Result<Vec<f64>, E> {
    for _ in 0..warmup {
        f()?;
    }
    let start = Instant::now();
    let mut samples = Vec::new();
    while samples.len() < min_runs.max(1) || (start.elapsed() < budget && samples.len() < 1000) {
        let t = Instant::now();
        f()?;
        samples.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok(samples)
}

/// Peak resident set size of this process in MiB (Linux `VmHWM`).
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// A tract model computing `x · W` for an `n`×`n` f32 input `x` and a
/// constant `n`×`n` `W` (values in ±1): the machine-peak probe.
pub fn matmul_model(n: usize) -> TractResult<TypedModel> {
    let mut m = TypedModel::default();
    let x = m.add_source("x", f32::fact([n, n]))?;
    let w: Vec<f32> = (0..n * n)
        .map(|i| ((i * 7919) % 2003) as f32 / 1001.5 - 1.0)
        .collect();
    let w = m.add_const("w", tensor1(&w).into_shape(&[n, n])?)?;
    let y = m.wire_node(
        "matmul",
        EinSum::new("mk,kn->mn".parse()?, f32::datum_type()),
        &[x, w],
    )?;
    m.select_output_outlets(&y)?;
    Ok(m)
}

/// Input for [`matmul_model`].
pub fn matmul_input(n: usize) -> TractResult<Tensor> {
    let v: Vec<f32> = (0..n * n).map(|i| (i % 13) as f32 / 13.0).collect();
    tensor1(&v).into_shape(&[n, n])
}

/// GFLOP/s of tract's CPU matmul on `n`×`n`×`n` f32, with `threads` threads
/// each running its own product at once (as tiles run in `edgegan upscale`).
pub fn cpu_matmul_gflops(n: usize, threads: usize, budget: Duration) -> TractResult<f64> {
    crate::engine::plan::tract_defaults();
    let plan = matmul_model(n)?.into_optimized()?.into_runnable()?;
    let flops = 2.0 * (n * n * n) as f64;
    let per_thread: Vec<TractResult<f64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.max(1))
            .map(|_| {
                let plan = plan.clone();
                s.spawn(move || -> TractResult<f64> {
                    let mut state = TypedSimpleState::new(&plan)?;
                    let x = matmul_input(n)?.into_tvalue();
                    let t = time_runs(|| state.run(tvec![x.clone()]).map(|_| ()), 1, 3, budget)?;
                    Ok(flops / 1e9 / (percentile(&t, 0.5) / 1e3))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(TractError::msg("matmul thread panicked")))
            })
            .collect()
    });
    per_thread.into_iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 10.0);
        assert_eq!(percentile(&v, 0.95), 19.0);
        assert_eq!(percentile(&v, 1.0), 20.0);
        assert_eq!(percentile(&[7.0], 0.95), 7.0);
    }

    #[test]
    fn record_statistics() {
        let r = Record::new("m", "cpu", "f32", 1, 128, [100, 100]).with_samples(
            &[10.0, 20.0, 30.0, 40.0],
            2e6,
            3e9,
        );
        assert_eq!((r.runs, r.p50_ms, r.p95_ms), (4, 20.0, 40.0));
        assert!((r.mp_per_s - 100.0).abs() < 1e-9);
        assert!((r.gflop_per_s - 150.0).abs() < 1e-9);
    }

    #[test]
    fn matmul_probe_multiplies() {
        // tract's instruction set is fixed on first use: as every plan the
        // runtime builds, this one goes through tract_defaults first, so a
        // test process never enables tract's own AMX kernel.
        crate::engine::plan::tract_defaults();
        let n = 8;
        let plan = matmul_model(n).unwrap().into_optimized().unwrap();
        let plan = plan.into_runnable().unwrap();
        let x = matmul_input(n).unwrap();
        let y = plan.run(tvec![x.clone().into_tvalue()]).unwrap().remove(0);
        let (xv, yv) = (x.try_as_plain_ram().unwrap(), y.try_as_plain_ram().unwrap());
        let (xv, yv) = (xv.as_slice::<f32>().unwrap(), yv.as_slice::<f32>().unwrap());
        let w = |k: usize, j: usize| ((k * n + j) * 7919 % 2003) as f32 / 1001.5 - 1.0;
        for i in 0..n {
            for j in 0..n {
                let e: f32 = (0..n).map(|k| xv[i * n + k] * w(k, j)).sum();
                assert!((yv[i * n + j] - e).abs() < 1e-4, "{i},{j}");
            }
        }
    }
}
