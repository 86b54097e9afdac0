//! # edgegan-trainer
//!
//! Host-side half of edgegan: datasets and degradations, the SR generator
//! and the spectrally normalized PatchGAN discriminator in burn (CPU backend
//! `flex`; the inpainting trainer also runs on an NVIDIA GPU through burn's
//! LibTorch backend with feature `cuda-train`, see [`device`]), the L1 and
//! RaGAN training loops with their diagnostics,
//! checkpoints, evolution grids and plots, and ONNX export of generators
//! into model directories that the runtime loads and verifies.

pub mod checkpoint;
pub mod classic;
pub mod classifier;
pub mod data;
pub mod dcgan;
pub mod dcgan_export;
pub mod dcgan_train;
pub mod dead_leaves;
pub mod degrade;
pub mod device;
pub mod disc;
pub mod evolution;
pub mod export;
pub mod gan;
pub mod imageset;
pub mod inpaint_attn;
pub mod inpaint_checkpoint;
pub mod inpaint_config;
pub mod inpaint_data;
pub mod inpaint_export;
pub mod inpaint_import;
pub mod inpaint_net;
pub mod inpaint_train;
pub mod inpaint_widen;
pub mod net;
pub mod onnx;
pub mod params;
pub mod plot;
pub mod quant;
pub mod sample_stats;
pub mod sr_export;
pub mod train;
