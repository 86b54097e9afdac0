//! Inpainting (card task `inpainting`): [`Mask`]s, the classical prefill
//! ([`prefill`], [`push_pull`], the coarse-to-fine cascade for large
//! windows), the network-driven [`Inpainter`], and the metric protocol
//! ([`protocol_crop`], [`eval_mask`], [`score`]).

mod auto;
mod cascade;
mod eval;
mod fill;
mod inpainter;
mod mask;
mod protocol;

pub use auto::{choose_precision, MAX_INT8_HOLE_DROP_DB};
pub use cascade::*;
pub use eval::*;
pub use fill::*;
pub use inpainter::*;
pub use mask::*;
pub use protocol::*;
