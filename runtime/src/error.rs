//! Typed errors of the runtime. Every variant names the file it is about, so a
//! CLI can print one line that tells the user what to fix.

use std::path::PathBuf;

/// Everything that can go wrong while loading a model or processing an image.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The file could not be read or written.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The operating-system error.
        error: std::io::Error,
    },
    /// The file is not a decodable image (wrong format, truncated, corrupt).
    #[error("{}: not a readable image: {reason}", path.display())]
    Decode {
        /// The image file.
        path: PathBuf,
        /// What the decoder reported.
        reason: String,
    },
    /// The image has a zero width or height.
    #[error("{}: image is empty ({width}x{height})", path.display())]
    EmptyImage {
        /// The image file.
        path: PathBuf,
        /// Decoded width.
        width: u32,
        /// Decoded height.
        height: u32,
    },
    /// The image (or the output it would produce) exceeds the configured limits.
    #[error("{}: {what} {width}x{height} exceeds the limit of {limit} pixels per side / {max_pixels} pixels", path.display())]
    TooLarge {
        /// The image file.
        path: PathBuf,
        /// "input" or "output".
        what: &'static str,
        /// Width that was refused.
        width: u64,
        /// Height that was refused.
        height: u64,
        /// Largest side accepted.
        limit: u64,
        /// Largest pixel count accepted.
        max_pixels: u64,
    },
    /// The image could not be encoded to the requested output.
    #[error("{}: cannot write image: {reason}", path.display())]
    Encode {
        /// The output file.
        path: PathBuf,
        /// What the encoder reported.
        reason: String,
    },
    /// `card.toml` is missing a field, has a wrong type or an unknown value.
    #[error("{}: invalid model card: {reason}", path.display())]
    Card {
        /// The card file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The ONNX file could not be parsed or analysed by tract.
    #[error("{}: invalid ONNX model: {reason}", path.display())]
    Onnx {
        /// The ONNX file.
        path: PathBuf,
        /// What tract reported.
        reason: String,
    },
    /// The card and the ONNX graph (or file) disagree.
    #[error("{}: card and model disagree: {what}", path.display())]
    Mismatch {
        /// The ONNX file that does not match its card.
        path: PathBuf,
        /// The disagreement.
        what: String,
    },
    /// An inpainting mask that cannot be used.
    #[error("{}: mask {reason}", path.display())]
    BadMask {
        /// The mask file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The request is valid but this runtime cannot serve it.
    #[error("{}: {reason}", path.display())]
    Unsupported {
        /// The file concerned.
        path: PathBuf,
        /// Why it is not supported.
        reason: String,
    },
    /// A model argument that names no directory and no embedded model.
    #[error("{name}: {reason}")]
    NoModel {
        /// The argument as given.
        name: String,
        /// What was looked for.
        reason: String,
    },
    /// An output file could not be written in place (see [`crate::io::write_atomic`]).
    #[error("{}: {what}", path.display())]
    Write {
        /// The output file or its folder.
        path: PathBuf,
        /// What failed.
        what: &'static str,
        /// The OS error.
        #[source]
        error: std::io::Error,
    },
    /// The OpenCV inpainting baseline could not run (host-side evaluation).
    #[error("{}: OpenCV baseline failed ({reason}); run scripts/setup_opencv.sh", program.display())]
    Baseline {
        /// The Python it ran under.
        program: PathBuf,
        /// What went wrong (its last error line).
        reason: String,
    },
    /// tract failed while building or running a plan.
    #[error("{}: inference failed: {reason}", path.display())]
    Inference {
        /// The model file that was running.
        path: PathBuf,
        /// What tract reported.
        reason: String,
    },
    /// The operating system would not start the worker threads asked for.
    #[error("cannot start {threads} worker threads: {reason}")]
    Threads {
        /// How many were asked for.
        threads: usize,
        /// What the operating system reported.
        reason: String,
    },
}

/// Result alias for the runtime.
pub type Result<T, E = RuntimeError> = std::result::Result<T, E>;

impl RuntimeError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        RuntimeError::Io {
            path: path.into(),
            error: source,
        }
    }
    pub(crate) fn onnx(path: impl Into<PathBuf>, e: impl std::fmt::Display) -> Self {
        RuntimeError::Onnx {
            path: path.into(),
            reason: flat(e),
        }
    }
    pub(crate) fn inference(path: impl Into<PathBuf>, e: impl std::fmt::Display) -> Self {
        RuntimeError::Inference {
            path: path.into(),
            reason: flat(e),
        }
    }
    pub(crate) fn mismatch(path: impl Into<PathBuf>, what: impl Into<String>) -> Self {
        RuntimeError::Mismatch {
            path: path.into(),
            what: what.into(),
        }
    }
}

/// Collapse a multi-line error chain (tract/anyhow style) into one line.
pub(crate) fn flat(e: impl std::fmt::Display) -> String {
    let s = format!("{e:#}");
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The message a panic was raised with (`panic!`'s text), or "unknown".
///
/// ```
/// let p = std::panic::catch_unwind(|| panic!("at {}", 3)).unwrap_err();
/// assert_eq!(edgegan_runtime::error::panic_message(&*p), "at 3");
/// ```
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown".into())
}

/// Run `f`, which hands outside bytes to tract: a panic inside tract (it
/// panics on some malformed graphs, found by fuzzing) becomes an
/// [`RuntimeError::Onnx`] naming `path` instead of taking the process down.
pub(crate) fn untrusted<T>(path: &std::path::Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        Err(RuntimeError::onnx(
            path,
            format!(
                "tract panicked on this graph ({})",
                panic_message(&*payload)
            ),
        ))
    })
}
