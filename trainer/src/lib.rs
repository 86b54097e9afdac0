//! # edgegan-trainer
//!
//! Host-side half of edgegan: datasets, the SR generator in burn (CPU backend
//! `flex`), its training loop, and ONNX export of generators into model
//! directories that the runtime loads and verifies.

pub mod classic;
pub mod data;
pub mod export;
pub mod net;
pub mod onnx;
pub mod sr_export;
pub mod train;
