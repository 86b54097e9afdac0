//! Writing model directories: `model.onnx` + `card.toml` with checksums, and
//! verification that the runtime loads what was written.

use edgegan_runtime::card::sha256_hex;
use edgegan_runtime::card::{FileSpec, Files, IoSpec, ModelCard, RuntimeSpec, Task};
use edgegan_runtime::generate::Sampler;
use edgegan_runtime::inpaint::Inpainter;
use edgegan_runtime::{Model, Precision};
use std::path::Path;

use crate::onnx::OnnxModel;

/// Errors while writing a model directory.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Filesystem failure.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: std::path::PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The runtime refused the written model.
    #[error("exported model does not load: {0}")]
    Verify(#[from] edgegan_runtime::RuntimeError),
}

/// A card for a super-resolution model with default runtime settings.
pub fn sr_card(name: &str, scale: usize, receptive_field: usize, description: &str) -> ModelCard {
    ModelCard {
        name: name.into(),
        task: Task::SuperResolution,
        scale,
        description: description.into(),
        io: IoSpec {
            layout: "NCHW".into(),
            channels: 3,
            range: [0.0, 1.0],
            receptive_field,
        },
        runtime: RuntimeSpec::default(),
        files: Files {
            f32: FileSpec {
                path: "model.onnx".into(),
                sha256: String::new(),
            },
            int8: None,
        },
        training: toml::Table::new(),
        metrics: toml::Table::new(),
    }
}

/// Write `model` and `card` (its f32 checksum filled in) into `dir`, then load
/// the directory with the runtime to prove card and graph agree.
pub fn write_model_dir(
    dir: &Path,
    card: ModelCard,
    model: &OnnxModel,
) -> Result<ModelCard, ExportError> {
    write_model_bytes(dir, card, &model.encode())
}

/// [`write_model_dir`] for ONNX bytes already encoded. The directory is
/// written under a temporary name and renamed into place once verified.
pub fn write_model_bytes(
    dir: &Path,
    card: ModelCard,
    bytes: &[u8],
) -> Result<ModelCard, ExportError> {
    write_model_files(dir, card, bytes, &[])
}

/// [`write_model_bytes`] plus `extras` (file name, contents) such as the
/// training plot and evolution grid.
pub fn write_model_files(
    dir: &Path,
    mut card: ModelCard,
    bytes: &[u8],
    extras: &[(&str, Vec<u8>)],
) -> Result<ModelCard, ExportError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExportError::Io { path, source }
    };
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.with_file_name(format!(".{name}.part"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    card.files.f32.sha256 = sha256_hex(bytes);
    let onnx_path = tmp.join(&card.files.f32.path);
    std::fs::write(&onnx_path, bytes).map_err(io(&onnx_path))?;
    let card_path = tmp.join("card.toml");
    std::fs::write(&card_path, card.to_toml()).map_err(io(&card_path))?;
    for (name, data) in extras {
        let path = tmp.join(name);
        std::fs::write(&path, data).map_err(io(&path))?;
    }
    let verified = match card.task {
        Task::Generation => Sampler::load(&tmp, Precision::F32).map(|_| ()),
        Task::Inpainting => Inpainter::load(&tmp, Precision::F32).map(|_| ()),
        _ => Model::load(&tmp, Precision::F32).map(|_| ()),
    };
    if let Err(e) = verified {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e.into());
    }
    std::fs::rename(&tmp, dir).map_err(io(dir))?;
    Ok(card)
}
