//! Super-resolution (card task `super-resolution`): a [`Model`] loaded from
//! a model directory, the seam-free tiled [`Upscaler`], and the evaluation
//! protocol of DESIGN.md ([`evaluate_image`], [`SrReport`]), on clean or
//! fixed-seed degraded inputs ([`degrade`]).

mod auto;
pub mod degrade;
mod eval;
pub(crate) mod model;
mod upscale;

pub use auto::{choose_precision, read_precision_cache};
pub use eval::*;
pub use model::*;
pub use upscale::*;
