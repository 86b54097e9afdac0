//! Models embedded in the binary, so `edgegan upscale photo.jpg` works with
//! no model directory on disk. `--model` resolves a directory first, then
//! `models/NAME`, then an embedded name.

use anyhow::{bail, Result};
use edgegan_runtime::{Model, Precision};
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
];

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

/// Load the model named by `arg` (or the default) at `precision`.
pub fn load(arg: Option<&str>, precision: Precision) -> Result<Model> {
    Ok(match resolve(arg.unwrap_or(DEFAULT_MODEL))? {
        Source::Dir(dir) => Model::load(&dir, precision)?,
        Source::Embedded(name, card, onnx, int8) => {
            let bytes = match precision {
                Precision::F32 => onnx,
                // Without an int8 graph, the card check below names what is missing.
                Precision::Int8 => int8.unwrap_or(onnx),
            };
            Model::from_embedded(&format!("embedded:{name}"), card, bytes, precision)?
        }
    })
}
