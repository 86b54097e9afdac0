//! # edgegan-runtime
//!
//! The part of edgegan that ships to the board: it loads a model directory
//! (`card.toml` + ONNX), checks that card and graph agree, builds optimized
//! [tract](https://github.com/sonos/tract) plans for fixed window shapes and
//! upscales images of any size tile by tile, with output equal to a
//! whole-image run. It never depends on the trainer.
//!
//! ```no_run
//! use edgegan_runtime::{Model, Precision, Upscaler, UpscaleOptions, io};
//! use std::{path::Path, sync::Arc};
//! let model = Arc::new(Model::load(Path::new("models/bicubic-x2"), Precision::F32)?);
//! let up = Upscaler::new(model, UpscaleOptions { tile: Some(128), threads: 2 });
//! let input = io::read_image(Path::new("in.png"), &io::ImageLimits::input())?;
//! let output = up.upscale(&input, Path::new("in.png"))?;
//! assert_eq!(output.width(), 2 * input.width());
//! # Ok::<(), edgegan_runtime::RuntimeError>(())
//! ```

pub mod bench;
pub mod card;
pub(crate) mod engine;
pub mod error;
pub mod generate;
#[cfg(feature = "gpu")]
pub mod gpu;
pub mod inpaint;
pub mod io;
pub mod metrics;
pub mod noise;
pub mod prelude;
pub mod resample;
pub mod source;
pub mod sr;

pub use card::{ModelCard, Precision, Task};
pub use engine::plan::{fuse_graph, fuse_int8};
pub use engine::shuffle::sum_before_shuffle;
pub use error::{Result, RuntimeError};
pub use sr::{Model, UpscaleOptions, Upscaler};
