//! # edgegan-trainer
//!
//! Host-side half of edgegan: ONNX export of generators into model
//! directories that the runtime loads. Today it holds the ONNX writer, the
//! classical reference upscalers (nearest, bicubic) and the model-directory
//! exporter; GAN training arrives with its own issue.

pub mod classic;
pub mod export;
pub mod onnx;
