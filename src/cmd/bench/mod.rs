//! `edgegan bench`: the latency matrix (model × path × precision × threads ×
//! tile × input size), printed as a table or as JSON records. Each cell runs
//! in a child process of this binary, so each record's peak RSS is that
//! cell's own and a crashing GPU driver cannot take the others down.
//! Inpainting models get one cell per precision (and the GPU's):
//! [`crate::cmd::bench::inpaint`].

mod plot;

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use edgegan_runtime::bench::{machine, matrix, peaks, Cell, Record, Report, Spec};
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Duration;

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

/// Run `edgegan bench`.
pub fn run(args: BenchArgs) -> Result<ExitCode> {
    if let Some(cell) = &args.one {
        let cell: Cell = serde_json::from_str(cell).context("--one: bad cell")?;
        let records = cell.run(crate::models::EMBEDDED)?;
        println!("{}", serde_json::to_string(&records)?);
        return Ok(ExitCode::SUCCESS);
    }
    let cells = matrix(&spec(&args)?, crate::models::EMBEDDED)?;
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
                    bar.suspend(|| eprintln!("{}", r.row()));
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
        let budget = Duration::from_secs_f64(args.seconds);
        report.peaks = peaks(args.gpu, budget, &mut report.skipped);
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
        print!("{}", report.table());
    }
    Ok(ExitCode::SUCCESS)
}

/// The flags as a typed matrix spec (`all` threads: every core).
fn spec(args: &BenchArgs) -> Result<Spec> {
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
    let mut precisions = Vec::new();
    for p in &args.precision {
        precisions.push(p.parse().map_err(|e| anyhow!("--precision: {e}"))?);
    }
    Ok(Spec {
        models: args.models.clone(),
        sizes: args.sizes.clone(),
        precisions,
        threads,
        tiles: args.tiles.clone(),
        gpu: args.gpu,
        seconds: args.seconds,
    })
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
