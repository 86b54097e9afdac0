//! Judging a generator the way its card reports it: `n` samples from a
//! fixed seed, classified by the digit classifier shipped in the model
//! directory (`classifier.onnx`, trained by the trainer on real digits), give
//! the class histogram, its coverage and entropy (mode collapse shows as
//! missing classes and low entropy; uniform over 10 classes is ln 10 = 2.303).
//!
//! ```
//! use edgegan_runtime::generate::{coverage, entropy, histogram};
//! let h = histogram(&[0, 0, 1, 3], 4);
//! assert_eq!((h.clone(), coverage(&h)), (vec![2, 1, 0, 1], 3));
//! assert!((entropy(&[5; 10]) - 10f64.ln()).abs() < 1e-12);
//! ```

use serde::Serialize;
use std::path::{Path, PathBuf};
use tract_onnx::prelude::*;

use crate::error::{Result, RuntimeError};
use crate::generate::Sampler;

/// Counts per class of `labels` (classes `0..classes`).
pub fn histogram(labels: &[u8], classes: usize) -> Vec<usize> {
    let mut h = vec![0; classes];
    for &l in labels {
        h[l as usize] += 1;
    }
    h
}

/// Classes seen at least once.
pub fn coverage(hist: &[usize]) -> usize {
    hist.iter().filter(|&&c| c > 0).count()
}

/// Entropy of a histogram, nats.
pub fn entropy(hist: &[usize]) -> f64 {
    let n: usize = hist.iter().sum();
    hist.iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n as f64;
            -p * p.ln()
        })
        .sum()
}

/// An image classifier graph: `[N, C, s, s]` in [−1, 1] → `[N, classes]` logits.
pub struct ImageClassifier {
    path: PathBuf,
    graph: InferenceModel,
}

impl ImageClassifier {
    /// Load `classifier.onnx` (or any such graph) from `path`.
    pub fn load(path: &Path) -> Result<ImageClassifier> {
        let bytes = std::fs::read(path).map_err(|e| RuntimeError::io(path, e))?;
        ImageClassifier::from_bytes(&path.display().to_string(), &bytes)
    }

    /// A classifier graph in memory (`label` names it in errors).
    pub fn from_bytes(label: &str, bytes: &[u8]) -> Result<ImageClassifier> {
        crate::engine::plan::tract_defaults();
        let graph = tract_onnx::onnx()
            .model_for_read(&mut &bytes[..])
            .map_err(|e| RuntimeError::onnx(label, e))?;
        Ok(ImageClassifier {
            path: label.into(),
            graph,
        })
    }

    /// Classes of `n` images (C×s×s each) with values in [0, 1].
    pub fn classify(&self, images: &[f32], n: usize, c: usize, s: usize) -> Result<Vec<u8>> {
        let err = |e| RuntimeError::inference(&self.path, e);
        let x: Vec<f32> = images.iter().map(|v| v * 2.0 - 1.0).collect();
        let plan = self
            .graph
            .clone()
            .with_input_fact(0, f32::fact([n, c, s, s]).into())
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(err)?;
        let input = Tensor::from_shape(&[n, c, s, s], &x).map_err(err)?;
        let out = plan.run(tvec![input.into_tvalue()]).map_err(err)?;
        let logits = out[0].to_plain_array_view::<f32>().map_err(err)?;
        Ok(logits
            .outer_iter()
            .map(|row| {
                let best =
                    row.iter()
                        .enumerate()
                        .fold((0, f32::MIN), |b, (i, &v)| if v > b.1 { (i, v) } else { b });
                best.0 as u8
            })
            .collect())
    }
}

/// Fraction of `n` images (values in [0, 1]) that `classifier` puts in their `labels`' class.
pub fn accuracy(
    classifier: &ImageClassifier,
    images: &[f32],
    labels: &[u8],
    c: usize,
    s: usize,
) -> Result<f64> {
    let pred = classifier.classify(images, labels.len(), c, s)?;
    let right = pred.iter().zip(labels).filter(|(p, l)| p == l).count();
    Ok(right as f64 / labels.len().max(1) as f64)
}

/// Samples judged per precision by `edgegan eval` and on the card.
pub const SAMPLES: usize = 1000;
/// Seed of their noise.
pub const SEED: u64 = 0;

/// The report for `sampler` at its precision: [`SAMPLES`] samples from
/// [`SEED`] judged by `classifier`; `accuracy` is the classifier's.
pub fn report(
    sampler: &Sampler,
    precision: crate::Precision,
    classifier: &ImageClassifier,
    accuracy: f64,
) -> Result<GenReport> {
    let (histogram, coverage, entropy) = judge(sampler, classifier, SAMPLES, SEED, 10)?;
    Ok(GenReport {
        model: sampler.card().name.clone(),
        precision: precision.to_string(),
        samples: SAMPLES,
        seed: SEED,
        histogram,
        coverage,
        entropy: (entropy * 1e4).round() / 1e4,
        classifier_accuracy: Some((accuracy * 1e4).round() / 1e4),
    })
}

/// What `edgegan eval` reports for a generator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GenReport {
    /// Model name.
    pub model: String,
    /// Precision of the graph.
    pub precision: String,
    /// Samples judged.
    pub samples: usize,
    /// Seed of their noise.
    pub seed: u64,
    /// Samples per class.
    pub histogram: Vec<usize>,
    /// Classes seen.
    pub coverage: usize,
    /// Histogram entropy, nats.
    pub entropy: f64,
    /// Classifier accuracy on held-out real images, if given.
    pub classifier_accuracy: Option<f64>,
}

/// Judge `sampler`'s `n` samples from `seed` with `classifier`.
pub fn judge(
    sampler: &Sampler,
    classifier: &ImageClassifier,
    n: usize,
    seed: u64,
    classes: usize,
) -> Result<(Vec<usize>, usize, f64)> {
    let z = crate::noise::latents(seed, n, sampler.latent());
    let images = sampler.run(&z)?;
    let labels = classifier.classify(&images, n, sampler.card().io.channels, sampler.side())?;
    let h = histogram(&labels, classes);
    let (c, e) = (coverage(&h), entropy(&h));
    Ok((h, c, e))
}
