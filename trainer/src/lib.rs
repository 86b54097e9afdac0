//! # edgegan-trainer
//!
//! Host-side half of edgegan: one folder per task over a shared layer.
//!
//! | module | what |
//! |---|---|
//! | [`sr`] | the super-resolution generator, its data, L1/RaGAN training, export |
//! | [`inpaint`] | the inpainting generator, its data, training, widening, export/import |
//! | [`dcgan`] | the DCGAN demo: model, training with failure detectors, export |
//! | [`quant`] | post-training int8 quantization of exported generators |
//! | [`onnx`] | the ONNX graph writer, shared layers, classical graphs, model directories |
//! | [`common`] | RNG, initialization, EMA, discriminator, GAN losses, checkpoints, plots, device |
//! | [`error`] | [`TrainError`], shared by every task |
//!
//! Training runs on burn's CPU backend `flex`, or on an NVIDIA GPU through
//! burn's LibTorch backend with feature `cuda-train` (see
//! [`common::device`]). Every export is loaded back and verified by the
//! runtime before it is written as a model directory.

pub mod common;
pub mod dcgan;
pub mod error;
pub mod inpaint;
pub mod onnx;
pub mod quant;
pub mod sr;

pub use common::Rng;
pub use error::TrainError;
