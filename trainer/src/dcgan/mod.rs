//! The DCGAN demo: the classic generator and discriminator ([`model`]),
//! image sets ([`imageset`]), training with the failure detectors
//! ([`training`]) judged by a small digit classifier ([`classifier`]) and
//! sample statistics ([`sample_stats`]), per-epoch checkpoints that resume
//! a run ([`checkpoint`]), and ONNX export ([`export`]).

pub mod card;
pub mod checkpoint;
pub mod classifier;
pub mod export;
pub mod imageset;
pub mod model;
pub mod sample_stats;
pub mod training;
