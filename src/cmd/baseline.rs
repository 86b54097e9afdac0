//! `edgegan baseline`: write a classical upscaler (bicubic or nearest) as a
//! model directory. Bicubic is the reference every trained model is compared
//! against; both are exact, untrained graphs.

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use edgegan_trainer::onnx::{classic, export};
use std::path::PathBuf;
use std::process::ExitCode;

/// Which classical upscaler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// Keys bicubic (a = -0.5, MATLAB imresize convention, replicated borders).
    Bicubic,
    /// Nearest neighbour.
    Nearest,
}

/// Arguments of `edgegan baseline`.
#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// Interpolation kernel.
    #[arg(long, value_enum, default_value_t = Kind::Bicubic)]
    pub kind: Kind,
    /// Upscaling factor.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(2..=8))]
    pub scale: u32,
    /// Model directory to create (must not exist yet).
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,
}

pub fn run(args: BaselineArgs) -> Result<ExitCode> {
    if args.out.exists() {
        bail!(
            "{}: already exists; choose a new model directory",
            args.out.display()
        );
    }
    let s = args.scale as usize;
    let (model, radius, what) = match args.kind {
        Kind::Bicubic => (
            classic::bicubic(s),
            2,
            "Keys bicubic (a = -0.5), MATLAB imresize convention, replicated borders",
        ),
        Kind::Nearest => (classic::nearest(s), 0, "nearest neighbour"),
    };
    let name = format!(
        "{}-x{s}",
        if args.kind == Kind::Bicubic {
            "bicubic"
        } else {
            "nearest"
        }
    );
    let mut card = export::sr_card(&name, s, radius, &format!("Classical upscaler ({what}) written as an ONNX graph. Not trained: the baseline trained models are measured against."));
    card.training.insert(
        "method".into(),
        "none (closed-form weights from edgegan_trainer::onnx::classic)".into(),
    );
    export::write_model_dir(&args.out, card, &model)?;
    eprintln!("wrote {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}
