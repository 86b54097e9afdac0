//! Checkpoints that let a training run resume after an interruption exactly
//! where it stopped: generator, EMA, discriminator and both optimizers'
//! states as burnpack files, plus the loop's own state (step, RNG, history,
//! best point so far) in `state.toml` and the best generator as ONNX.
//!
//! A checkpoint is written to `checkpoint.part/` and swapped in with two
//! renames, so an interruption while saving leaves the previous one usable.

use burn::optim::ModuleOptimizer;
use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::common::checkpoint::{
    err, load_module, load_optim, read_state, save_module, save_optims, start_part, swap_in,
    write_state,
};
use crate::common::disc::Discriminator;
use crate::error::TrainError;
use crate::sr::model::Generator;
use crate::sr::training::ValPoint;

/// The loop state besides tensors.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LoopState {
    /// The settings the run was started with (must match to resume).
    pub fingerprint: String,
    /// Steps done.
    pub step: usize,
    /// Patch sampler state (hex: TOML integers are signed).
    pub rng: String,
    /// Wall seconds spent so far, in training steps only.
    pub train_seconds: f64,
    /// Wall seconds of the whole run so far (the `--minutes` budget).
    pub wall_seconds: f64,
    /// Steps at which the too-good-discriminator detector fired.
    pub too_good: Vec<usize>,
    /// Index into `history` of the selected point.
    pub best: Option<usize>,
    /// Validation history.
    pub history: Vec<ValPoint>,
}

/// Networks and optimizers of a run.
pub struct Nets {
    /// The generator being trained.
    pub generator: Generator,
    /// EMA of the generator's weights (`None` when EMA is off).
    pub ema: Option<Generator>,
    /// Discriminator (GAN stage only).
    pub disc: Option<Discriminator>,
    /// Generator optimizer.
    pub optim_g: ModuleOptimizer,
    /// Discriminator optimizer.
    pub optim_d: ModuleOptimizer,
}

/// Save a checkpoint under `work`.
pub fn save(
    work: &Path,
    nets: &Nets,
    state: &LoopState,
    best_onnx: &[u8],
) -> Result<(), TrainError> {
    let part = start_part(work)?;
    save_module(nets.generator.clone(), &part.join("generator.bpk"))?;
    if let Some(ema) = &nets.ema {
        save_module(ema.clone(), &part.join("ema.bpk"))?;
    }
    if let Some(d) = &nets.disc {
        save_module(d.clone(), &part.join("disc.bpk"))?;
    }
    save_optims(&part, &nets.optim_g, &nets.optim_d)?;
    let p = part.join("best.onnx");
    std::fs::write(&p, best_onnx).map_err(|e| err(&p, e))?;
    write_state(&part, state)?;
    swap_in(work)
}

/// Load the checkpoint in `dir` into freshly built `nets` (same shapes).
pub fn load(dir: &Path, nets: Nets) -> Result<(Nets, LoopState, Vec<u8>), TrainError> {
    let state: LoopState = read_state(dir)?;
    let generator = load_module(nets.generator, dir, "generator.bpk")?;
    let ema = nets
        .ema
        .map(|m| load_module(m, dir, "ema.bpk"))
        .transpose()?;
    let disc = nets
        .disc
        .map(|m| load_module(m, dir, "disc.bpk"))
        .transpose()?;
    let optim_g = load_optim(nets.optim_g, dir, "optim_g.bpk")?;
    let optim_d = load_optim(nets.optim_d, dir, "optim_d.bpk")?;
    let p = dir.join("best.onnx");
    let best = std::fs::read(&p).map_err(|e| err(&p, e))?;
    Ok((
        Nets {
            generator,
            ema,
            disc,
            optim_g,
            optim_d,
        },
        state,
        best,
    ))
}
