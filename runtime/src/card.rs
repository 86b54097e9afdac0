//! The model card (`card.toml`): the one place that says how to run a model.
//!
//! ```
//! use edgegan_runtime::card::{ModelCard, Task};
//! let card: ModelCard = toml::from_str(r#"
//!     name = "demo"
//!     task = "super-resolution"
//!     scale = 2
//!     [io]
//!     receptive_field = 2
//!     [files.f32]
//!     path = "model.onnx"
//!     sha256 = "00"
//! "#).unwrap();
//! assert_eq!(card.task, Task::SuperResolution);
//! assert_eq!(card.io.channels, 3);
//! assert_eq!(card.runtime.tile, 128);
//! ```

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

use crate::error::{Result, RuntimeError};

/// What a model does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// Image → image `scale` times larger.
    SuperResolution,
    /// Image + mask → filled image.
    Inpainting,
    /// Noise → image.
    Generation,
}

/// Numeric precision of a model file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Precision {
    /// 32-bit float graph (`model.onnx`).
    F32,
    /// Quantized QOperator graph (`model.int8.onnx`).
    Int8,
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Precision::F32 => "f32",
            Precision::Int8 => "int8",
        })
    }
}

/// The precision asked for: a file's, or `auto`, which measures and picks
/// (see [`crate::sr::choose_precision`], [`crate::inpaint::choose_precision`]).
///
/// ```
/// use edgegan_runtime::card::{Precision, PrecisionChoice};
/// assert_eq!("auto".parse::<PrecisionChoice>(), Ok(PrecisionChoice::Auto));
/// assert_eq!(PrecisionChoice::Auto.fixed(), Precision::F32);
/// assert!("fp16".parse::<Precision>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum PrecisionChoice {
    /// 32-bit float graph.
    F32,
    /// Quantized int8 graph (the card must list one).
    Int8,
    /// int8 where the model ships one, its card's quality loss is within its
    /// bound, and it is measured faster than f32 on this machine; else f32.
    Auto,
}

impl PrecisionChoice {
    /// The precision where nothing is measured (`auto` means f32).
    pub fn fixed(self) -> Precision {
        match self {
            PrecisionChoice::Int8 => Precision::Int8,
            PrecisionChoice::F32 | PrecisionChoice::Auto => Precision::F32,
        }
    }
}

impl std::str::FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "f32" => Ok(Precision::F32),
            "int8" => Ok(Precision::Int8),
            _ => Err(format!("{s} is not f32 or int8")),
        }
    }
}

impl std::str::FromStr for PrecisionChoice {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(PrecisionChoice::Auto),
            _ => match s.parse::<Precision>() {
                Ok(Precision::F32) => Ok(PrecisionChoice::F32),
                Ok(Precision::Int8) => Ok(PrecisionChoice::Int8),
                Err(_) => Err(format!("{s} is not f32, int8 or auto")),
            },
        }
    }
}

/// How tract lowers the model's f32 convolutions (the `TRACT_DISABLE_DIRECT_SPATIAL` knob).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum ConvPath {
    /// Time both paths on the first tile shape at load and keep the faster.
    #[default]
    Auto,
    /// im2col + matrix product (direct spatial conv disabled).
    Im2col,
    /// tract's `DirectSpatialConv` where it applies.
    Direct,
}

/// Input/output contract of the graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IoSpec {
    /// Tensor layout; only `"NCHW"` is supported.
    #[serde(default = "default_layout")]
    pub layout: String,
    /// Colour channels of input and output (3 = RGB).
    #[serde(default = "default_channels")]
    pub channels: usize,
    /// Value range of pixels in and out.
    #[serde(default = "default_range")]
    pub range: [f32; 2],
    /// Receptive-field radius in input pixels: the halo a tile needs so that
    /// tiled output equals whole-image output. The loader checks it is at least
    /// what the graph's convolutions reach.
    pub receptive_field: usize,
}

fn default_layout() -> String {
    "NCHW".into()
}
fn default_channels() -> usize {
    3
}
fn default_range() -> [f32; 2] {
    [0.0, 1.0]
}

/// Runtime preferences stored with the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeSpec {
    /// Default tile size (input pixels per side, halo excluded).
    #[serde(default = "default_tile")]
    pub tile: usize,
    /// Convolution lowering; see [`ConvPath`].
    #[serde(default)]
    pub conv_path: ConvPath,
}

fn default_tile() -> usize {
    128
}

impl Default for RuntimeSpec {
    fn default() -> Self {
        RuntimeSpec {
            tile: default_tile(),
            conv_path: ConvPath::Auto,
        }
    }
}

/// One model file and its checksum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    /// Path relative to the model directory.
    pub path: String,
    /// Lower-case hex sha256 of the file.
    pub sha256: String,
}

/// Model files per precision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Files {
    /// The f32 graph (always present).
    pub f32: FileSpec,
    /// The int8 QOperator graph, when the model was quantized.
    #[serde(default)]
    pub int8: Option<FileSpec>,
}

impl Files {
    /// `model.onnx` and `model.int8.onnx`, checksums still to fill in.
    pub fn f32_and_int8() -> Files {
        let file = |path: &str| FileSpec {
            path: path.into(),
            sha256: String::new(),
        };
        Files {
            f32: file("model.onnx"),
            int8: Some(file("model.int8.onnx")),
        }
    }
}

/// The whole card. Training and metric sections are free-form tables written
/// by the trainer and `edgegan eval`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// Short model name (`sr-x2`).
    pub name: String,
    /// What the model does.
    pub task: Task,
    /// Upscaling factor (1 for inpainting/generation).
    #[serde(default = "one")]
    pub scale: usize,
    /// One-paragraph description.
    #[serde(default)]
    pub description: String,
    /// Input/output contract.
    pub io: IoSpec,
    /// Runtime preferences.
    #[serde(default)]
    pub runtime: RuntimeSpec,
    /// Model files.
    pub files: Files,
    /// How it was made (data, steps, losses, seed, commit).
    #[serde(default)]
    pub training: toml::Table,
    /// Measured metrics.
    #[serde(default)]
    pub metrics: toml::Table,
}

fn one() -> usize {
    1
}

impl ModelCard {
    /// Read and check a card file.
    pub fn load(path: &Path) -> Result<ModelCard> {
        let text = std::fs::read_to_string(path).map_err(|e| RuntimeError::io(path, e))?;
        Self::parse(&text, path)
    }

    /// Parse and check card text; `path` is only used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<ModelCard> {
        let bad = |reason: String| RuntimeError::Card {
            path: path.into(),
            reason,
        };
        let card: ModelCard =
            toml::from_str(text).map_err(|e| bad(crate::error::flat(e.message())))?;
        if card.io.layout != "NCHW" {
            return Err(bad(format!(
                "io.layout {:?} is not supported (NCHW only)",
                card.io.layout
            )));
        }
        let gray_ok = card.task == Task::Generation && card.io.channels == 1;
        if card.io.channels != 3 && !gray_ok {
            return Err(bad(format!(
                "io.channels = {} (only 3-channel RGB models run; generators may be 1-channel gray)",
                card.io.channels
            )));
        }
        if !(1..=8).contains(&card.scale) {
            return Err(bad(format!("scale = {} is outside 1..=8", card.scale)));
        }
        if !(16..=4096).contains(&card.runtime.tile) {
            return Err(bad(format!(
                "runtime.tile = {} is outside 16..=4096",
                card.runtime.tile
            )));
        }
        Ok(card)
    }

    /// The file spec for `precision`, if the card lists one.
    pub fn file(&self, precision: Precision) -> Option<&FileSpec> {
        match precision {
            Precision::F32 => Some(&self.files.f32),
            Precision::Int8 => self.files.int8.as_ref(),
        }
    }

    /// Serialize to TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a card always serializes")
    }
}

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
