//! `edgegan`: the command-line front end. Parses arguments, sets up logging
//! and dispatches to the commands; the work happens in the library crates.

mod alloc;
#[cfg(feature = "train")]
mod apng;
mod args;
mod batch;
mod cmd;
mod models;

use clap::{Parser, Subcommand};
use cmd::*;
use std::process::ExitCode;

/// Train small GAN generators on a host and run them on Raspberry-Pi-class boards.
#[derive(Debug, Parser)]
#[command(name = "edgegan", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Upscale images or folders of images with a super-resolution model.
    Upscale(upscale::UpscaleArgs),
    /// Measure a super-resolution model against bicubic (PSNR/SSIM on Y).
    Eval(eval::EvalArgs),
    /// Board profiles: `list`, `show NAME` (apply one with `upscale --board NAME`).
    #[command(subcommand)]
    Boards(boards::BoardsCommand),
    /// Images from noise with a generation model (the DCGAN demo: `digits`).
    Generate(generate::GenerateArgs),
    /// Fill the white pixels of a mask with an inpainting model.
    Inpaint(inpaint::InpaintArgs),
    /// Write a free-form mask (white = fill) of a hole-ratio bin from a seed.
    Mask(mask::MaskArgs),
    /// Upscale one image and draw a before/after frame on the framebuffer (or a PNG).
    Show(show::ShowArgs),
    /// Time models per path (CPU f32/int8, threads, tiles; GPU with `--features gpu`).
    Bench(bench::BenchArgs),
    /// Write a classical (bicubic or nearest) upscaler as a model directory.
    #[cfg(feature = "train")]
    Baseline(baseline::BaselineArgs),
    /// Quantize a model directory's generator to int8 (QOperator ONNX), calibrated on photos.
    #[cfg(feature = "train")]
    Quantize(quantize::QuantizeArgs),
    /// Train a generator (host builds only).
    #[cfg(feature = "train")]
    #[command(subcommand)]
    Train(train::TrainCommand),
}

fn main() -> ExitCode {
    alloc::keep_freed_memory();
    // A file-size limit (RLIMIT_FSIZE) must fail the write that crosses it
    // (EFBIG: one error line, the temporary file removed), not kill the
    // process with SIGXFSZ halfway through a batch.
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_IGN before any thread
    // starts; no handler runs.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("EDGEGAN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let cli = Cli::parse();
    // Panics the runtime catches (tract on a hostile graph) must not print a
    // backtrace; one that escapes is reported below on one line.
    std::panic::set_hook(Box::new(|info| tracing::debug!("panic: {info}")));
    let run = std::panic::AssertUnwindSafe(|| dispatch(cli.command));
    let result = std::panic::catch_unwind(run).unwrap_or_else(|payload| {
        Err(anyhow::anyhow!(
            "internal error (a bug; please report it): {}",
            edgegan_runtime::error::panic_message(&*payload)
        ))
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// Run one command.
fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Upscale(args) => upscale::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Show(args) => show::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Inpaint(args) => inpaint::run(args),
        Command::Mask(args) => mask::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Boards(cmd) => boards::run(cmd),
        #[cfg(feature = "train")]
        Command::Baseline(args) => baseline::run(args),
        #[cfg(feature = "train")]
        Command::Quantize(args) => quantize::run(args),
        #[cfg(feature = "train")]
        Command::Train(cmd) => train::run(cmd),
    }
}

/// An error and its causes on one line.
pub(crate) fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
