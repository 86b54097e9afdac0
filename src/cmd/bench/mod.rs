//! `edgegan bench`: the latency matrix (model × path × precision × threads ×
//! tile × input size), printed as a table or as JSON records. Each cell runs
//! in a child process of this binary, so each record's peak RSS is that
//! cell's own and a crashing GPU driver cannot take the others down.
//! Inpainting models get one cell per precision (and the GPU's):
//! [`crate::cmd::bench::inpaint`].

mod inpaint;
mod plot;

use anyhow::{bail, Context, Result};
use clap::Args;
use edgegan_runtime::bench::{cpu_matmul_gflops, time_runs, Record};
use edgegan_runtime::{Precision, Task, UpscaleOptions, Upscaler};
use image::{DynamicImage, ImageBuffer, Rgb, RgbImage};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Arguments of `edgegan bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Models (names, directories or embedded names), comma separated.
    #[arg(long, value_delimiter = ',', default_value = "sr-x2,sr-x4")]
    pub models: Vec<String>,
    /// Square input sides in pixels, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "256")]
    pub sizes: Vec<usize>,
    /// CPU precisions, comma separated (`f32`, `int8`).
    #[arg(long, value_delimiter = ',', default_value = "f32,int8")]
    pub precision: Vec<String>,
    /// CPU worker threads, comma separated numbers or `all`.
    #[arg(long, value_delimiter = ',', default_value = "1,all")]
    pub threads: Vec<String>,
    /// CPU tile sides in input pixels, comma separated (0: one tile, the whole image).
    #[arg(long, value_delimiter = ',', default_value = "128")]
    pub tiles: Vec<usize>,
    /// Also time the GPU path (a build with `--features gpu` and an NVIDIA GPU).
    #[arg(long)]
    pub gpu: bool,
    /// Also measure the machine's matmul peak (tract, 1024² f32; 4096² on the GPU).
    #[arg(long)]
    pub peak: bool,
    /// Timing budget per cell in seconds (at least 3 timed runs each).
    #[arg(long, default_value_t = 2.0)]
    pub seconds: f64,
    /// Print JSON (machine, peaks, one record per path) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also write the JSON report to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write latency-vs-size plots (one SVG per model) into this folder.
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
    /// Internal: run one cell (JSON) and print its records.
    #[arg(long, hide = true)]
    pub one: Option<String>,
}

/// One cell of the matrix, as handed to a child process.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cell {
    model: String,
    /// An inpainting model (one fill per image on `threads` cores; tiles do
    /// not apply).
    #[serde(default)]
    inpainting: bool,
    gpu: bool,
    precision: String,
    threads: usize,
    tile: usize,
    size: usize,
    seconds: f64,
}

impl Cell {
    /// The cell's CPU precision (`int8`, else f32).
    fn precision(&self) -> Precision {
        if self.precision == "int8" {
            Precision::Int8
        } else {
            Precision::F32
        }
    }
}

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
    /// Where it ran.
    pub machine: serde_json::Value,
    /// Matmul peaks.
    pub peaks: Vec<Peak>,
    /// One record per measured path.
    pub records: Vec<Record>,
    /// Cells that could not run, with the reason.
    pub skipped: Vec<String>,
}

/// Run `edgegan bench`.
pub fn run(args: BenchArgs) -> Result<ExitCode> {
    if let Some(cell) = &args.one {
        let cell: Cell = serde_json::from_str(cell).context("--one: bad cell")?;
        let records = match (cell.inpainting, cell.gpu) {
            (false, true) => gpu_cell(&cell)?,
            (false, false) => vec![cpu_cell(&cell)?],
            (true, true) => inpaint_gpu_cell(&cell)?,
            (true, false) => {
                let img = DynamicImage::ImageRgb8(test_image(cell.size));
                let p = cell.precision();
                inpaint::cpu_cell(&cell.model, p, cell.threads, &img, cell.seconds)?
            }
        };
        println!("{}", serde_json::to_string(&records)?);
        return Ok(ExitCode::SUCCESS);
    }
    let cells = matrix(&args)?;
    let mut report = Report {
        machine: machine(),
        peaks: vec![],
        records: vec![],
        skipped: vec![],
    };
    let bar = indicatif::ProgressBar::new(cells.len() as u64);
    for cell in &cells {
        bar.set_message(format!("{} {}", cell.model, cell.size));
        match child(cell) {
            Ok(mut r) => {
                for r in &r {
                    bar.suspend(|| eprintln!("{}", row(r)));
                }
                report.records.append(&mut r)
            }
            Err(e) if cell.gpu => report.skipped.push(format!("gpu {}: {e:#}", cell.model)),
            Err(e) => return Err(e),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if args.peak {
        report.peaks = peaks(&args, &mut report.skipped);
    }
    let json = serde_json::to_string_pretty(&report)?;
    if let Some(out) = &args.out {
        crate::batch::write_atomic(out, true, |w| {
            use std::io::Write;
            w.write_all(json.as_bytes())
                .with_context(|| format!("{}: write failed", out.display()))
        })?;
    }
    if let Some(dir) = &args.plot {
        plot::write_plots(dir, &report.records)?;
    }
    if args.json {
        println!("{json}");
    } else {
        print_table(&report);
    }
    Ok(ExitCode::SUCCESS)
}

fn matrix(args: &BenchArgs) -> Result<Vec<Cell>> {
    let all = edgegan_runtime::sr::available_threads();
    let mut threads = Vec::new();
    for t in &args.threads {
        let n = match t.as_str() {
            "all" => all,
            n => n
                .parse()
                .with_context(|| format!("--threads: {n} is not a number or `all`"))?,
        };
        if !threads.contains(&n) {
            threads.push(n);
        }
    }
    for p in &args.precision {
        if p != "f32" && p != "int8" {
            bail!("--precision: {p} is not f32 or int8");
        }
    }
    let mut cells = Vec::new();
    for model in &args.models {
        let inpainting = crate::models::source(model)?.task()? == Task::Inpainting;
        for &size in &args.sizes {
            let base = Cell {
                model: model.clone(),
                inpainting,
                gpu: false,
                precision: "f32".into(),
                threads: 0,
                tile: 0,
                size,
                seconds: args.seconds,
            };
            if inpainting {
                for p in &args.precision {
                    for &threads in &threads {
                        cells.push(Cell {
                            precision: p.clone(),
                            threads,
                            ..base.clone()
                        });
                    }
                }
                if args.gpu {
                    cells.push(Cell { gpu: true, ..base });
                }
                continue;
            }
            for p in &args.precision {
                for &t in &threads {
                    for &tile in &args.tiles {
                        let precision = p.clone();
                        let tile = if tile == 0 { size } else { tile };
                        cells.push(Cell {
                            precision,
                            threads: t,
                            tile,
                            ..base.clone()
                        });
                    }
                }
            }
            if args.gpu {
                cells.push(Cell { gpu: true, ..base });
            }
        }
    }
    Ok(cells)
}

fn child(cell: &Cell) -> Result<Vec<Record>> {
    let exe = std::env::current_exe().context("cannot find this executable")?;
    let out = Command::new(exe)
        .args(["bench", "--one", &serde_json::to_string(cell)?])
        .output()
        .context("cannot start a bench child")?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        bail!(
            "{}",
            err.lines()
                .last()
                .unwrap_or("failed")
                .trim_start_matches("error: ")
        );
    }
    serde_json::from_slice(&out.stdout).context("bench child printed no records")
}

/// A deterministic test card: gradients plus a fine checkerboard.
fn test_image(size: usize) -> RgbImage {
    ImageBuffer::from_fn(size as u32, size as u32, |x, y| {
        let c = if (x / 3 + y / 3) % 2 == 0 { 40 } else { 0 };
        Rgb([
            (x * 255 / size as u32) as u8,
            (y * 255 / size as u32) as u8,
            100 + c,
        ])
    })
}

fn base_record(cell: &Cell, model: &edgegan_runtime::Model, path: &str) -> Record {
    let input = [cell.size, cell.size];
    let name = &model.card().name;
    Record::new(name, path, &cell.precision, cell.threads, cell.tile, input)
}

fn work(model: &edgegan_runtime::Model, size: usize) -> (f64, f64) {
    let s = model.scale();
    let out_pixels = (size * s * size * s) as f64;
    (
        out_pixels,
        out_pixels * model.flops_per_output_pixel().unwrap_or(0.0),
    )
}

fn cpu_cell(cell: &Cell) -> Result<Record> {
    let precision = cell.precision();
    let model = Arc::new(crate::models::source(&cell.model)?.sr(precision)?);
    let up = Upscaler::new(
        model.clone(),
        UpscaleOptions {
            tile: Some(cell.tile),
            threads: cell.threads,
        },
    );
    let img = test_image(cell.size);
    let t = Instant::now();
    up.run(&img)?;
    let prepare_s = t.elapsed().as_secs_f64();
    let budget = Duration::from_secs_f64(cell.seconds);
    let samples = time_runs(|| up.run(&img).map(|_| ()), 0, 3, budget)?;
    let (px, flops) = work(&model, cell.size);
    let r = base_record(cell, &model, "cpu");
    Ok(Record { prepare_s, ..r }.with_samples(&samples, px, flops))
}

#[cfg(feature = "gpu")]
fn gpu_cell(cell: &Cell) -> Result<Vec<Record>> {
    use edgegan_runtime::gpu::image_to_tensor;
    use edgegan_runtime::gpu::GpuPlan;
    let model = crate::models::source(&cell.model)?.sr(Precision::F32)?;
    let t = Instant::now();
    let mut plan = GpuPlan::new(&model, cell.size, cell.size)?;
    let prepare_s = t.elapsed().as_secs_f64();
    let img = test_image(cell.size);
    check_against_cpu(&mut plan, &cell.model, &img)?;
    let budget = Duration::from_secs_f64(cell.seconds);
    let (px, flops) = work(&model, cell.size);
    let host = time_runs(
        || -> Result<()> {
            plan.run_image(&img)?;
            Ok(())
        },
        2,
        3,
        budget,
    )?;
    let resident_in = plan.upload(image_to_tensor(&img))?;
    let resident = time_runs(|| plan.run_resident(&resident_in).map(|_| ()), 2, 3, budget)?;
    let r = Record {
        prepare_s,
        ..base_record(cell, &model, "gpu")
    };
    Ok(vec![
        r.clone().with_samples(&host, px, flops),
        Record {
            path: "gpu-resident".into(),
            ..r
        }
        .with_samples(&resident, px, flops),
    ])
}

/// The GPU image must match the CPU runtime's (whole image, one tile) to
/// within one 8-bit level: float summation order differs, rounding may flip.
#[cfg(feature = "gpu")]
fn check_against_cpu(
    plan: &mut edgegan_runtime::gpu::GpuPlan,
    model: &str,
    img: &RgbImage,
) -> Result<()> {
    let cpu_model = crate::models::source(model)?.sr(Precision::F32)?;
    let options = UpscaleOptions {
        tile: Some(img.width() as usize),
        threads: 1,
    };
    let cpu = Upscaler::new(Arc::new(cpu_model), options).run(img)?;
    let gpu = plan.run_image(img)?;
    let worst = cpu
        .iter()
        .zip(gpu.iter())
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap_or(0);
    if worst > 1 {
        bail!("GPU output differs from the CPU runtime's by {worst} levels");
    }
    Ok(())
}

#[cfg(not(feature = "gpu"))]
fn gpu_cell(_cell: &Cell) -> Result<Vec<Record>> {
    bail!("this edgegan was built without the `gpu` feature (cargo build --features gpu)")
}

#[cfg(feature = "gpu")]
fn inpaint_gpu_cell(cell: &Cell) -> Result<Vec<Record>> {
    let img = DynamicImage::ImageRgb8(test_image(cell.size));
    inpaint::gpu_cell(&cell.model, &img, cell.seconds)
}

#[cfg(not(feature = "gpu"))]
fn inpaint_gpu_cell(cell: &Cell) -> Result<Vec<Record>> {
    gpu_cell(cell)
}

fn peaks(args: &BenchArgs, skipped: &mut Vec<String>) -> Vec<Peak> {
    let mut out = Vec::new();
    let budget = Duration::from_secs_f64(args.seconds);
    for t in [1, edgegan_runtime::sr::available_threads()] {
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
    if args.gpu {
        match edgegan_runtime::gpu::matmul_gflops(4096, budget) {
            Ok(g) => out.push(Peak {
                path: "gpu-matmul".into(),
                threads: 0,
                n: 4096,
                gflop_per_s: g,
            }),
            Err(e) => skipped.push(format!("gpu-matmul: {e:#}")),
        }
    }
    out
}

/// CPU model and core count (from /proc/cpuinfo), the GPU if asked for.
fn machine() -> serde_json::Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let gpu = Command::new("nvidia-smi")
        .args(["--query-gpu=name,driver_version", "--format=csv,noheader"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    serde_json::json!({
        "cpu": cpu,
        "cores": edgegan_runtime::sr::available_threads(),
        "arch": std::env::consts::ARCH,
        "gpu": gpu,
        "edgegan": env!("CARGO_PKG_VERSION"),
        "tract": "0.23.9",
        "gpu_feature": cfg!(feature = "gpu"),
    })
}

/// One table row.
fn row(r: &Record) -> String {
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

fn print_table(report: &Report) {
    println!(
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
    );
    for r in &report.records {
        println!("{}", row(r));
    }
    for p in &report.peaks {
        println!(
            "peak {} ({} threads, n={}): {:.1} GFLOP/s",
            p.path, p.threads, p.n, p.gflop_per_s
        );
    }
    for s in &report.skipped {
        println!("skipped: {s}");
    }
}
