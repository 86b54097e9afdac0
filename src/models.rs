//! Models embedded in the binary, so `edgegan upscale photo.jpg` works with
//! no model directory on disk. `--model` resolves a directory first, then
//! `models/NAME`, then an embedded name.

use anyhow::{bail, Result};
use edgegan_runtime::card::ModelCard;
#[cfg(feature = "train")]
use edgegan_runtime::gen_eval::ImageClassifier;
use edgegan_runtime::generate::Sampler;
use edgegan_runtime::inpaint::Inpainter;
use edgegan_runtime::{Model, Precision, Task};
use std::path::{Path, PathBuf};

/// The model used when `--model` is not given.
pub const DEFAULT_MODEL: &str = "sr-x2";

/// An embedded model: name, card.toml, model.onnx, model.int8.onnx.
pub type Embedded = (
    &'static str,
    &'static str,
    &'static [u8],
    Option<&'static [u8]>,
);

/// Every embedded model.
pub const EMBEDDED: &[Embedded] = &[
    (
        "sr-x2",
        include_str!("../models/sr-x2/card.toml"),
        include_bytes!("../models/sr-x2/model.onnx"),
        Some(include_bytes!("../models/sr-x2/model.int8.onnx")),
    ),
    (
        "sr-x4",
        include_str!("../models/sr-x4/card.toml"),
        include_bytes!("../models/sr-x4/model.onnx"),
        Some(include_bytes!("../models/sr-x4/model.int8.onnx")),
    ),
    (
        "sr-x2-gan",
        include_str!("../models/sr-x2-gan/card.toml"),
        include_bytes!("../models/sr-x2-gan/model.onnx"),
        None,
    ),
    (
        "sr-x4-gan",
        include_str!("../models/sr-x4-gan/card.toml"),
        include_bytes!("../models/sr-x4-gan/model.onnx"),
        None,
    ),
    (
        "inpaint",
        include_str!("../models/inpaint/card.toml"),
        include_bytes!("../models/inpaint/model.onnx"),
        Some(include_bytes!("../models/inpaint/model.int8.onnx")),
    ),
    (
        "digits",
        include_str!("../models/digits/card.toml"),
        include_bytes!("../models/digits/model.onnx"),
        Some(include_bytes!("../models/digits/model.int8.onnx")),
    ),
];

/// Classifiers embedded beside generators: model name, classifier.onnx
/// (used by `eval`, a host command).
#[cfg(feature = "train")]
pub const CLASSIFIERS: &[(&str, &[u8])] =
    &[("digits", include_bytes!("../models/digits/classifier.onnx"))];

/// Where a `--model` argument points.
enum Source {
    Dir(PathBuf),
    Embedded(
        &'static str,
        &'static str,
        &'static [u8],
        Option<&'static [u8]>,
    ),
}

fn resolve(arg: &str) -> Result<Source> {
    let direct = PathBuf::from(arg);
    if direct.is_dir() {
        return Ok(Source::Dir(direct));
    }
    let named = Path::new("models").join(arg);
    if named.is_dir() {
        return Ok(Source::Dir(named));
    }
    if let Some(&(name, card, onnx, int8)) = EMBEDDED.iter().find(|e| e.0 == arg) {
        return Ok(Source::Embedded(name, card, onnx, int8));
    }
    let names: Vec<&str> = EMBEDDED.iter().map(|e| e.0).collect();
    bail!("{arg}: no such model (not a directory, not models/{arg}/, not one of the embedded {names:?})")
}

/// Load the model named by `arg` (or the default) at the requested
/// precision; `auto` measures (once per machine and model, cached).
pub fn load_for(arg: Option<&str>, precision: crate::upscale::PrecisionArg) -> Result<Model> {
    use crate::upscale::PrecisionArg;
    match precision {
        PrecisionArg::F32 => load(arg, Precision::F32),
        PrecisionArg::Int8 => load(arg, Precision::Int8),
        PrecisionArg::Auto => {
            let f32_model = load(arg, Precision::F32)?;
            if f32_model.card().files.int8.is_none() {
                return Ok(f32_model);
            }
            let int8_model = load(arg, Precision::Int8)?;
            Ok(crate::auto::choose(f32_model, int8_model))
        }
    }
}

/// The embedded graph for `precision` (without an int8 graph, the f32 one:
/// the card check then names what is missing).
fn pick(onnx: &'static [u8], int8: Option<&'static [u8]>, precision: Precision) -> &'static [u8] {
    match precision {
        Precision::F32 => onnx,
        Precision::Int8 => int8.unwrap_or(onnx),
    }
}

/// Load the model named by `arg` (or the default) at `precision`.
pub fn load(arg: Option<&str>, precision: Precision) -> Result<Model> {
    Ok(match resolve(arg.unwrap_or(DEFAULT_MODEL))? {
        Source::Dir(dir) => Model::load(&dir, precision)?,
        Source::Embedded(name, card, onnx, int8) => {
            let bytes = pick(onnx, int8, precision);
            Model::from_embedded(&format!("embedded:{name}"), card, bytes, precision)?
        }
    })
}

/// The task of the model named by `arg` (from its card).
pub fn task(arg: &str) -> Result<Task> {
    Ok(match resolve(arg)? {
        Source::Dir(dir) => ModelCard::load(&dir.join("card.toml"))?.task,
        Source::Embedded(name, card, ..) => {
            ModelCard::parse(card, &Path::new("embedded:").join(name).join("card.toml"))?.task
        }
    })
}

/// Load the generation model named by `arg` at `precision`.
pub fn load_sampler(arg: &str, precision: Precision) -> Result<Sampler> {
    Ok(match resolve(arg)? {
        Source::Dir(dir) => Sampler::load(&dir, precision)?,
        Source::Embedded(name, card, onnx, int8) => {
            let bytes = pick(onnx, int8, precision);
            Sampler::from_embedded(&format!("embedded:{name}"), card, bytes, precision)?
        }
    })
}

/// Load the inpainting model named by `arg` at `precision`.
pub fn load_inpainter(arg: &str, precision: Precision) -> Result<Inpainter> {
    Ok(match resolve(arg)? {
        Source::Dir(dir) => Inpainter::load(&dir, precision)?,
        Source::Embedded(name, card, onnx, int8) => {
            let bytes = pick(onnx, int8, precision);
            Inpainter::from_embedded(&format!("embedded:{name}"), card, bytes, precision)?
        }
    })
}

/// The image classifier shipped beside the generator `arg` (`classifier.onnx`).
#[cfg(feature = "train")]
pub fn classifier(arg: &str) -> Result<ImageClassifier> {
    Ok(match resolve(arg)? {
        Source::Dir(dir) => ImageClassifier::load(&dir.join("classifier.onnx"))?,
        Source::Embedded(name, ..) => match CLASSIFIERS.iter().find(|c| c.0 == name) {
            Some((_, bytes)) => {
                ImageClassifier::from_bytes(&format!("embedded:{name}/classifier.onnx"), bytes)?
            }
            None => bail!("{arg}: ships no classifier.onnx"),
        },
    })
}
