//! Models embedded in the binary, so `edgegan upscale photo.jpg` works with
//! no model directory on disk. `--model` resolves a directory first, then
//! `models/NAME`, then an embedded name
//! ([`ModelSource::resolve`](edgegan_runtime::source::ModelSource::resolve)).

use anyhow::Result;
use edgegan_runtime::source::{Embedded, ModelSource};

/// The model used when `--model` is not given.
pub const DEFAULT_MODEL: &str = "sr-x2";

/// The digit classifier that judges `digits` (used by `eval`, a host command).
#[cfg(feature = "train")]
const DIGITS_CLASSIFIER: Option<&[u8]> = Some(include_bytes!("../models/digits/classifier.onnx"));
#[cfg(not(feature = "train"))]
const DIGITS_CLASSIFIER: Option<&[u8]> = None;

/// Every embedded model.
pub static EMBEDDED: &[Embedded] = &[
    Embedded {
        name: "sr-x2",
        card: include_str!("../models/sr-x2/card.toml"),
        onnx: include_bytes!("../models/sr-x2/model.onnx"),
        int8: Some(include_bytes!("../models/sr-x2/model.int8.onnx")),
        classifier: None,
    },
    Embedded {
        name: "sr-x4",
        card: include_str!("../models/sr-x4/card.toml"),
        onnx: include_bytes!("../models/sr-x4/model.onnx"),
        int8: Some(include_bytes!("../models/sr-x4/model.int8.onnx")),
        classifier: None,
    },
    Embedded {
        name: "sr-x2-gan",
        card: include_str!("../models/sr-x2-gan/card.toml"),
        onnx: include_bytes!("../models/sr-x2-gan/model.onnx"),
        int8: None,
        classifier: None,
    },
    Embedded {
        name: "sr-x4-gan",
        card: include_str!("../models/sr-x4-gan/card.toml"),
        onnx: include_bytes!("../models/sr-x4-gan/model.onnx"),
        int8: None,
        classifier: None,
    },
    Embedded {
        name: "inpaint",
        card: include_str!("../models/inpaint/card.toml"),
        onnx: include_bytes!("../models/inpaint/model.onnx"),
        int8: Some(include_bytes!("../models/inpaint/model.int8.onnx")),
        classifier: None,
    },
    Embedded {
        name: "digits",
        card: include_str!("../models/digits/card.toml"),
        onnx: include_bytes!("../models/digits/model.onnx"),
        int8: Some(include_bytes!("../models/digits/model.int8.onnx")),
        classifier: DIGITS_CLASSIFIER,
    },
];

/// The model `arg` names (directory, `models/NAME` or embedded).
pub fn source(arg: &str) -> Result<ModelSource> {
    Ok(ModelSource::resolve(arg, EMBEDDED)?)
}
