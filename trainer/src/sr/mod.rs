//! Super-resolution: the edge-sized generator ([`model`]), its training data
//! and degradations ([`data`], [`degrade`]), the L1 and RaGAN training loops
//! ([`training`]) with checkpoints and evolution grids, and its ONNX export
//! ([`export`]).

pub mod card;
pub mod checkpoint;
pub mod data;
pub mod degrade;
pub mod evolution;
pub mod export;
pub mod model;
pub mod training;

pub use data::PhotoSet;
pub use model::{Generator, GeneratorShape};
pub use training::{train_sr, GanConfig, Observer, Stage, TrainConfig, TrainOutcome};
