//! The names an integrator needs for each task, in one import:
//! `use edgegan_runtime::prelude::*;`.

pub use crate::card::{ModelCard, Precision, Task};
pub use crate::error::{Result, RuntimeError};
pub use crate::generate::Sampler;
pub use crate::inpaint::{Inpainter, Mask};
pub use crate::io::{read_image, ImageLimits};
pub use crate::sr::{Model, UpscaleOptions, Upscaler};
