//! Inpainting: the gated-convolution U-Net ([`model`], optional masked
//! attention in [`attn`]), its data (photos at several scales, dead leaves),
//! settings and hole loss ([`config`]), the training loop with checkpoints
//! ([`training`]), widening ([`widen`]), and ONNX export and import
//! ([`export`], [`import`]).

pub mod attn;
pub mod card;
pub mod checkpoint;
pub mod config;
pub mod data;
pub mod dead_leaves;
pub mod export;
pub mod import;
pub mod model;
pub mod quantize;
pub mod training;
pub mod widen;

pub use config::{HoleLoss, InpaintConfig};
pub use model::InpaintGenerator;
