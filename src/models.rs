//! Models embedded in the binary, so `edgegan upscale photo.jpg` works with
//! no model directory on disk. `--model` resolves a directory first, then
//! `models/NAME`, then an embedded name.

use anyhow::{bail, Result};
use edgegan_runtime::{Model, Precision};
use std::path::{Path, PathBuf};

/// The model used when `--model` is not given.
pub const DEFAULT_MODEL: &str = "sr-x2";

/// (name, card.toml, model.onnx) of every embedded model.
pub const EMBEDDED: &[(&str, &str, &[u8])] = &[
    (
        "sr-x2",
        include_str!("../models/sr-x2/card.toml"),
        include_bytes!("../models/sr-x2/model.onnx"),
    ),
    (
        "sr-x4",
        include_str!("../models/sr-x4/card.toml"),
        include_bytes!("../models/sr-x4/model.onnx"),
    ),
    (
        "sr-x2-gan",
        include_str!("../models/sr-x2-gan/card.toml"),
        include_bytes!("../models/sr-x2-gan/model.onnx"),
    ),
    (
        "sr-x4-gan",
        include_str!("../models/sr-x4-gan/card.toml"),
        include_bytes!("../models/sr-x4-gan/model.onnx"),
    ),
];

/// Where a `--model` argument points.
enum Source {
    Dir(PathBuf),
    Embedded(&'static str, &'static str, &'static [u8]),
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
    if let Some(&(name, card, onnx)) = EMBEDDED.iter().find(|(n, _, _)| *n == arg) {
        return Ok(Source::Embedded(name, card, onnx));
    }
    let names: Vec<&str> = EMBEDDED.iter().map(|e| e.0).collect();
    bail!("{arg}: no such model (not a directory, not models/{arg}/, not one of the embedded {names:?})")
}

/// Load the model named by `arg` (or the default) at `precision`.
pub fn load(arg: Option<&str>, precision: Precision) -> Result<Model> {
    Ok(match resolve(arg.unwrap_or(DEFAULT_MODEL))? {
        Source::Dir(dir) => Model::load(&dir, precision)?,
        Source::Embedded(name, card, onnx) => {
            Model::from_embedded(&format!("embedded:{name}"), card, onnx, precision)?
        }
    })
}
