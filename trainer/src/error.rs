//! The trainer's error type, shared by every task's training loop,
//! checkpoints and exports.

use edgegan_runtime::RuntimeError;
use std::path::PathBuf;

/// Errors of a training run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// Reading photos, validating or exporting through the runtime failed.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// A checkpoint could not be written or read back.
    #[error("{}: {reason}", path.display())]
    Checkpoint {
        /// The file or directory concerned.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A file of the run could not be written or read.
    #[error("{}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Writing or verifying a model directory failed.
    #[error(transparent)]
    Export(#[from] crate::onnx::export::ExportError),
    /// The settings cannot be used (e.g. an initial generator of another shape).
    #[error("{0}")]
    Config(String),
}
