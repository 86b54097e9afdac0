//! Checkpoints that let a training run resume after an interruption exactly
//! where it stopped: generator, EMA, discriminator and both optimizers'
//! states as burnpack files, plus the loop's own state (step, RNG, history,
//! best point so far) in `state.toml` and the best generator as ONNX.
//!
//! A checkpoint is written to `checkpoint.part/` and swapped in with two
//! renames, so an interruption while saving leaves the previous one usable.

use burn::module::Module;
use burn::optim::record::OptimizerRecord;
use burn::optim::ModuleOptimizer;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use crate::disc::Discriminator;
use crate::net::Generator;
use crate::train::{TrainError, ValPoint};

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

pub(crate) fn err(path: &Path, reason: impl std::fmt::Display) -> TrainError {
    TrainError::Checkpoint {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

pub(crate) fn save_module<M: Module>(m: M, p: &Path) -> Result<(), TrainError> {
    m.save_file(p).map_err(|e| err(p, e))
}

pub(crate) fn load_module<M: Module>(m: M, dir: &Path, name: &str) -> Result<M, TrainError> {
    let p = dir.join(name);
    m.try_load_file(&p).map_err(|e| err(&p, e))
}

/// Save both optimizers' states as `optim_g.bpk` and `optim_d.bpk` in `dir`.
pub(crate) fn save_optims(
    dir: &Path,
    g: &ModuleOptimizer,
    d: &ModuleOptimizer,
) -> Result<(), TrainError> {
    for (optim, name) in [(g, "optim_g.bpk"), (d, "optim_d.bpk")] {
        let p = dir.join(name);
        optim.to_record().save(&p).map_err(|e| err(&p, e))?;
    }
    Ok(())
}

/// `o` with the state saved as `name` in `dir`.
pub(crate) fn load_optim(
    o: ModuleOptimizer,
    dir: &Path,
    name: &str,
) -> Result<ModuleOptimizer, TrainError> {
    let p = dir.join(name);
    OptimizerRecord::load(&p)
        .map(|r| o.load_record(r))
        .map_err(|e| err(&p, e))
}

/// Write `state` as `state.toml` in `dir`.
pub(crate) fn write_state<S: Serialize>(dir: &Path, state: &S) -> Result<(), TrainError> {
    let p = dir.join("state.toml");
    let text = toml::to_string(state).map_err(|e| err(&p, e))?;
    std::fs::write(&p, text).map_err(|e| err(&p, e))
}

/// Read `state.toml` in `dir`.
pub(crate) fn read_state<S: DeserializeOwned>(dir: &Path) -> Result<S, TrainError> {
    let p = dir.join("state.toml");
    let text = std::fs::read_to_string(&p).map_err(|e| err(&p, e))?;
    toml::from_str(&text).map_err(|e| err(&p, e))
}

/// A fresh, empty `work/checkpoint.part/` to save into.
pub(crate) fn start_part(work: &Path) -> Result<PathBuf, TrainError> {
    let part = work.join("checkpoint.part");
    let _ = std::fs::remove_dir_all(&part);
    std::fs::create_dir_all(&part).map_err(|e| err(&part, e))?;
    Ok(part)
}

/// Swap a complete `work/checkpoint.part/` in as `work/checkpoint/` with two
/// renames (the previous one stays as `checkpoint.old` until then).
pub(crate) fn swap_in(work: &Path) -> Result<(), TrainError> {
    let part = work.join("checkpoint.part");
    let (cur, old) = (work.join("checkpoint"), work.join("checkpoint.old"));
    let _ = std::fs::remove_dir_all(&old);
    if cur.exists() {
        std::fs::rename(&cur, &old).map_err(|e| err(&cur, e))?;
    }
    std::fs::rename(&part, &cur).map_err(|e| err(&cur, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// Directory of the current checkpoint under `work`, if one exists
/// (falling back to the previous one when a save was interrupted).
pub fn existing(work: &Path) -> Option<PathBuf> {
    ["checkpoint", "checkpoint.old"]
        .iter()
        .map(|n| work.join(n))
        .find(|d| d.join("state.toml").is_file())
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
