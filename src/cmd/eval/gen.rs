//! `edgegan eval` of a generation model: 1,000 samples from seed 0 per
//! precision, classified by the model's own `classifier.onnx`: class
//! histogram, coverage and entropy, and the classifier's accuracy on the
//! held-out real digits (every 5th image of `--data`, as in training).

use anyhow::{bail, Result};
use edgegan_runtime::generate::report;
use edgegan_runtime::Precision;
use edgegan_trainer::dcgan::imageset::ImageSet;
use std::process::ExitCode;

use super::EvalArgs;

/// Run `edgegan eval` on a generation model.
pub fn run(args: &EvalArgs) -> Result<ExitCode> {
    let sampler = crate::models::source(&args.model)?.sampler(Precision::F32)?;
    let classifier = crate::models::source(&args.model)?.classifier()?;
    let set = ImageSet::load(&args.data, sampler.side())?;
    let Some(_) = &set.labels else {
        bail!(
            "{}: labelled digits needed to check the classifier",
            args.data.display()
        );
    };
    let (_, held) = set.split(5);
    let accuracy = held.accuracy_of(&classifier)?;
    let mut reports = Vec::new();
    for p in [Precision::F32, Precision::Int8] {
        if sampler.card().file(p).is_some() {
            let s = crate::models::source(&args.model)?.sampler(p)?;
            reports.push(report(&s, p, &classifier, accuracy)?);
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        println!(
            "classifier: {:.2} % on {} held-out digits",
            accuracy * 100.0,
            held.len()
        );
        for r in &reports {
            println!(
                "{} {:<4} {} samples (seed {}): {}/10 classes, entropy {:.3} nats (uniform 2.303), histogram {:?}",
                r.model, r.precision, r.samples, r.seed, r.coverage, r.entropy, r.histogram
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
