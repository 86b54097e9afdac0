//! `edgegan eval` for inpainting models: runs
//! [`edgegan_runtime::inpaint::evaluate`] (the model beside OpenCV's Telea
//! and Navier-Stokes on the protocol's crops and masks) and prints its
//! report as a table or as JSON.

use anyhow::Result;
use edgegan_runtime::inpaint::{evaluate, BinScores, HoleBin, Inpainter, EVAL_SIZE};
use std::process::ExitCode;

use super::EvalArgs;

/// `edgegan eval` on an inpainting model.
pub fn run(args: &EvalArgs, model: &Inpainter) -> Result<ExitCode> {
    let size = args.crop.unwrap_or(EVAL_SIZE);
    let threads = crate::args::default_threads(args.threads);
    let report = evaluate(model, &args.data, size, threads)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    let (mean, baselines, lead) = (&report.mean, &report.baselines, &report.leads);
    let photos = report.images.len() / HoleBin::ALL.len();
    println!(
        "{} ({}) on {} {size}x{size} crops of {}: in-hole PSNR dB / SSIM / L1, whole-image PSNR",
        model.card().name,
        model.precision(),
        photos,
        args.data.display()
    );
    println!(
        "{:>8}  {:>24}  {:>24}  {:>24}  {:>22}",
        "bin", "model", "opencv telea", "opencv ns", "lead over telea ± se"
    );
    let cell = |b: &BinScores| {
        format!(
            "{:6.2} {:.3} {:.4} {:5.2}",
            b.mean.hole_psnr, b.mean.hole_ssim, b.mean.hole_l1, b.mean.psnr
        )
    };
    for (i, b) in mean.iter().enumerate() {
        let l = &lead["opencv_telea"][i];
        println!(
            "{:>8}  {:>24}  {:>24}  {:>24}  {:>22}",
            b.bin,
            cell(b),
            cell(&baselines["opencv_telea"][i]),
            cell(&baselines["opencv_ns"][i]),
            format!("{:+.2} ± {:.2} ({}/{})", l.mean, l.se, l.wins, l.images)
        );
    }
    Ok(ExitCode::SUCCESS)
}
