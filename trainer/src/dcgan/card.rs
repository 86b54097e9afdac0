//! The model directory of a finished DCGAN run: both graphs, the card with
//! the training settings and the selected epoch's numbers, and the judge's
//! numbers measured through the runtime as `edgegan eval` measures them.

use edgegan_runtime::card::{sha256_hex, Files, IoSpec, ModelCard, RuntimeSpec, Task};
use edgegan_runtime::generate::{self, GenReport, ImageClassifier, Sampler};
use edgegan_runtime::Precision;
use std::path::Path;

use super::classifier::{classifier_onnx, Classifier};
use super::export::generator_onnx;
use super::imageset::ImageSet;
use super::model::DcGenerator;
use super::training::{DcganConfig, EpochReport};
use crate::error::TrainError;

/// Write the model directory: both graphs, the card with training settings
/// and the selected epoch's numbers, checked by loading it in the runtime;
/// returns the model name and the judge's report of each precision.
#[allow(clippy::too_many_arguments)] // one per thing the card records
pub fn export_model(
    out: &Path,
    data: &Path,
    cfg: &DcganConfig,
    g: &DcGenerator,
    best: &EpochReport,
    accuracy: Option<f64>,
    (train_set, held_out): (&ImageSet, &ImageSet),
    classifier: Option<&Classifier>,
) -> Result<(String, Vec<GenReport>), TrainError> {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut training = toml::Table::new();
    let round = |v: f64| (v * 1e4).round() / 1e4;
    training.insert("data".into(), data.display().to_string().into());
    training.insert("images".into(), (train_set.len() as i64).into());
    for (k, v) in [
        ("epochs", cfg.epochs),
        ("batch", cfg.batch),
        ("d_steps", cfg.d_steps),
        ("side", cfg.shape.side),
        ("latent", cfg.shape.latent),
    ] {
        training.insert(k.into(), (v as i64).into());
    }
    for (k, v) in [
        ("lr_g", cfg.lr_g),
        ("lr_d", cfg.lr_d),
        ("real_label", cfg.real_label),
        ("dropout", cfg.dropout),
    ] {
        training.insert(k.into(), v.into());
    }
    training.insert("spectral_norm".into(), cfg.spectral.into());
    training.insert("seed".into(), (cfg.seed as i64).into());
    training.insert("selected_epoch".into(), (best.epoch as i64).into());
    let mut metrics = toml::Table::new();
    if let Some(acc) = accuracy {
        metrics.insert("train_classifier_accuracy".into(), round(acc).into());
    }
    if let (Some(c), Some(e), Some(k)) = (best.coverage, best.entropy, best.kid) {
        metrics.insert("train_coverage".into(), (c as i64).into());
        metrics.insert("train_entropy".into(), round(e).into());
        metrics.insert("train_kid".into(), round(k).into());
    }
    let card = ModelCard {
        name: name.clone(),
        task: Task::Generation,
        scale: 1,
        description: format!(
            "DCGAN generator, {}x{} px from {}-d noise",
            cfg.shape.side, cfg.shape.side, cfg.shape.latent
        ),
        io: IoSpec {
            layout: "NCHW".into(),
            channels: cfg.shape.channels,
            range: [0.0, 1.0],
            receptive_field: 0,
        },
        runtime: RuntimeSpec::default(),
        files: Files::f32_and_int8(),
        training,
        metrics,
    };
    let f32_bytes = generator_onnx(g, false).encode();
    let int8_bytes = generator_onnx(g, true).encode();
    let mut card = card;
    card.files.f32.sha256 = sha256_hex(&f32_bytes);
    if let Some(spec) = card.files.int8.as_mut() {
        spec.sha256 = sha256_hex(&int8_bytes);
    }
    let mut extras = vec![("model.int8.onnx", int8_bytes.clone())];
    let mut reports = Vec::new();
    // The card's numbers, measured through the runtime as `edgegan eval` does.
    if let (Some(c), Some(_)) = (classifier, &held_out.labels) {
        let cls_bytes = classifier_onnx(c, held_out.channels, held_out.side).encode();
        let cls = ImageClassifier::from_bytes("classifier.onnx", &cls_bytes)?;
        let acc = held_out.accuracy_of(&cls)?;
        card.metrics
            .insert("classifier_accuracy".into(), round(acc).into());
        let text = card.to_toml();
        for (p, bytes) in [(Precision::F32, &f32_bytes), (Precision::Int8, &int8_bytes)] {
            let s = Sampler::from_embedded(&out.display().to_string(), &text, bytes, p)?;
            let r = generate::report(&s, p, &cls, acc)?;
            card.metrics
                .insert(format!("{p}_coverage"), (r.coverage as i64).into());
            card.metrics
                .insert(format!("{p}_entropy"), r.entropy.into());
            reports.push(r);
        }
        card.metrics
            .insert("samples".into(), (generate::SAMPLES as i64).into());
        card.metrics
            .insert("seed".into(), (generate::SEED as i64).into());
        card.metrics
            .insert("data".into(), data.display().to_string().into());
        extras.push(("classifier.onnx", cls_bytes));
    }
    let card = crate::onnx::export::write_model_files(out, card, &f32_bytes, &extras)?;
    for p in [Precision::F32, Precision::Int8] {
        Sampler::load(out, p)?;
    }
    Ok((card.name, reports))
}
