//! Where a model comes from: a model directory, or a card and graphs
//! embedded in a binary (so `edgegan upscale photo.jpg` needs nothing on
//! disk). A name resolves to a directory first, then `models/NAME`, then an
//! embedded model of that name; every task's loader takes the result.
//!
//! ```
//! use edgegan_runtime::source::{Embedded, ModelSource};
//! static NONE: &[Embedded] = &[];
//! let err = ModelSource::resolve("no-such-model", NONE).unwrap_err();
//! assert!(err.to_string().starts_with("no-such-model: no such model"));
//! ```

use std::path::{Path, PathBuf};

use crate::card::{ModelCard, Precision, Task};
use crate::error::{Result, RuntimeError};
use crate::generate::{ImageClassifier, Sampler};
use crate::inpaint::Inpainter;
use crate::sr::Model;

/// A model embedded in a binary: its card and graphs as static bytes.
#[derive(Debug, Clone, Copy)]
pub struct Embedded {
    /// The name it resolves by (`sr-x2`).
    pub name: &'static str,
    /// `card.toml`.
    pub card: &'static str,
    /// `model.onnx` (f32).
    pub onnx: &'static [u8],
    /// `model.int8.onnx`, where the model ships one.
    pub int8: Option<&'static [u8]>,
    /// `classifier.onnx`, the judge shipped beside a generation model.
    pub classifier: Option<&'static [u8]>,
}

impl Embedded {
    /// The graph for `precision` (without an int8 graph, the f32 one: the
    /// card check then names what is missing).
    fn graph(&self, precision: Precision) -> &'static [u8] {
        match precision {
            Precision::F32 => self.onnx,
            Precision::Int8 => self.int8.unwrap_or(self.onnx),
        }
    }

    /// How errors name it: `embedded:NAME`.
    fn label(&self) -> String {
        format!("embedded:{}", self.name)
    }
}

/// A resolved model argument.
#[derive(Debug, Clone)]
pub enum ModelSource {
    /// A model directory (`card.toml` + graphs).
    Dir(PathBuf),
    /// A model embedded in the binary.
    Embedded(&'static Embedded),
}

impl ModelSource {
    /// `arg` as a directory, else `models/ARG`, else one of `embedded`.
    pub fn resolve(arg: &str, embedded: &'static [Embedded]) -> Result<ModelSource> {
        let direct = PathBuf::from(arg);
        if direct.is_dir() {
            return Ok(ModelSource::Dir(direct));
        }
        let named = Path::new("models").join(arg);
        if named.is_dir() {
            return Ok(ModelSource::Dir(named));
        }
        if let Some(e) = embedded.iter().find(|e| e.name == arg) {
            return Ok(ModelSource::Embedded(e));
        }
        let names: Vec<&str> = embedded.iter().map(|e| e.name).collect();
        Err(RuntimeError::NoModel {
            name: arg.into(),
            reason: format!(
                "no such model (not a directory, not models/{arg}/, not one of the embedded {names:?})"
            ),
        })
    }

    /// The model's task, from its card.
    pub fn task(&self) -> Result<Task> {
        Ok(match self {
            ModelSource::Dir(dir) => ModelCard::load(&dir.join("card.toml"))?.task,
            ModelSource::Embedded(e) => {
                let path = Path::new("embedded:").join(e.name).join("card.toml");
                ModelCard::parse(e.card, &path)?.task
            }
        })
    }

    /// The super-resolution model at `precision`.
    pub fn sr(&self, precision: Precision) -> Result<Model> {
        match self {
            ModelSource::Dir(dir) => Model::load(dir, precision),
            ModelSource::Embedded(e) => {
                Model::from_embedded(&e.label(), e.card, e.graph(precision), precision)
            }
        }
    }

    /// The super-resolution model at the precision [`crate::sr::choose_precision`]
    /// measures faster here (f32 where the card lists no int8 graph).
    pub fn sr_auto(&self) -> Result<Model> {
        let f32_model = self.sr(Precision::F32)?;
        if f32_model.card().files.int8.is_none() {
            return Ok(f32_model);
        }
        let int8_model = self.sr(Precision::Int8)?;
        Ok(crate::sr::choose_precision(f32_model, int8_model))
    }

    /// The inpainting model at the precision
    /// [`crate::inpaint::choose_precision`] measures faster here (f32 where
    /// the card lists no int8 graph).
    pub fn inpainter_auto(&self) -> Result<Inpainter> {
        let f32_model = self.inpainter(Precision::F32)?;
        if f32_model.card().files.int8.is_none() {
            return Ok(f32_model);
        }
        let int8_model = self.inpainter(Precision::Int8)?;
        Ok(crate::inpaint::choose_precision(f32_model, int8_model))
    }

    /// The inpainting model at `precision`.
    pub fn inpainter(&self, precision: Precision) -> Result<Inpainter> {
        match self {
            ModelSource::Dir(dir) => Inpainter::load(dir, precision),
            ModelSource::Embedded(e) => {
                Inpainter::from_embedded(&e.label(), e.card, e.graph(precision), precision)
            }
        }
    }

    /// The generation model at `precision`.
    pub fn sampler(&self, precision: Precision) -> Result<Sampler> {
        match self {
            ModelSource::Dir(dir) => Sampler::load(dir, precision),
            ModelSource::Embedded(e) => {
                Sampler::from_embedded(&e.label(), e.card, e.graph(precision), precision)
            }
        }
    }

    /// The image classifier shipped beside a generation model
    /// (`classifier.onnx`).
    pub fn classifier(&self) -> Result<ImageClassifier> {
        match self {
            ModelSource::Dir(dir) => ImageClassifier::load(&dir.join("classifier.onnx")),
            ModelSource::Embedded(e) => match e.classifier {
                Some(bytes) => {
                    ImageClassifier::from_bytes(&format!("{}/classifier.onnx", e.label()), bytes)
                }
                None => Err(RuntimeError::NoModel {
                    name: e.name.into(),
                    reason: "ships no classifier.onnx".into(),
                }),
            },
        }
    }
}
