//! Checkpoints of an inpainting run: generator, EMA, discriminator and
//! both optimizers as burnpack files plus the loop state in `state.toml`,
//! written to `checkpoint.part/` and renamed into place.

use burn::module::Module;
use burn::optim::record::OptimizerRecord;
use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::inpaint_train::{InpaintNets, InpaintPoint};
use crate::train::TrainError;

/// Checkpoint state besides the nets.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct InpaintState {
    /// Steps done.
    pub step: usize,
    /// Sampling RNG, hex.
    pub rng: String,
    /// Seconds trained so far.
    pub seconds: f64,
    /// Validation history.
    pub history: Vec<InpaintPoint>,
    /// Backend of the run that took the latest steps (the card names it).
    #[serde(default)]
    pub backend: String,
}

/// Save nets and state under `work/checkpoint` (written aside, then renamed).
pub fn save(work: &Path, nets: &InpaintNets, state: &InpaintState) -> Result<(), TrainError> {
    let err = |p: &Path, e: &dyn std::fmt::Display| TrainError::Checkpoint {
        path: p.to_path_buf(),
        reason: e.to_string(),
    };
    let part = work.join("checkpoint.part");
    let _ = std::fs::remove_dir_all(&part);
    std::fs::create_dir_all(&part).map_err(|e| err(&part, &e))?;
    let at = |name: &str| part.join(name);
    let module = |r: Result<(), String>, name: &str| r.map_err(|e| err(&at(name), &e));
    module(
        nets.generator
            .clone()
            .save_file(at("generator.bpk"))
            .map_err(|e| e.to_string()),
        "generator.bpk",
    )?;
    module(
        nets.ema
            .clone()
            .save_file(at("ema.bpk"))
            .map_err(|e| e.to_string()),
        "ema.bpk",
    )?;
    module(
        nets.disc
            .clone()
            .save_file(at("disc.bpk"))
            .map_err(|e| e.to_string()),
        "disc.bpk",
    )?;
    for (optim, name) in [
        (&nets.optim_g, "optim_g.bpk"),
        (&nets.optim_d, "optim_d.bpk"),
    ] {
        module(
            optim.to_record().save(at(name)).map_err(|e| e.to_string()),
            name,
        )?;
    }
    let p = part.join("state.toml");
    let text = toml::to_string(state).map_err(|e| err(&p, &e))?;
    std::fs::write(&p, text).map_err(|e| err(&p, &e))?;
    let cur = work.join("checkpoint");
    let _ = std::fs::remove_dir_all(&cur);
    std::fs::rename(&part, &cur).map_err(|e| err(&cur, &e))
}

/// Load a checkpoint written by [`save`] into `nets`.
pub fn load(dir: &Path, mut nets: InpaintNets) -> Result<(InpaintNets, InpaintState), TrainError> {
    let err = |p: &Path, e: String| TrainError::Checkpoint {
        path: p.to_path_buf(),
        reason: e,
    };
    let p = dir.join("state.toml");
    let text = std::fs::read_to_string(&p).map_err(|e| err(&p, e.to_string()))?;
    let state: InpaintState = toml::from_str(&text).map_err(|e| err(&p, e.to_string()))?;
    let module = |name: &str| dir.join(name);
    nets.generator = nets
        .generator
        .try_load_file(module("generator.bpk"))
        .map_err(|e| err(&module("generator.bpk"), e.to_string()))?;
    nets.ema = nets
        .ema
        .try_load_file(module("ema.bpk"))
        .map_err(|e| err(&module("ema.bpk"), e.to_string()))?;
    nets.disc = nets
        .disc
        .try_load_file(module("disc.bpk"))
        .map_err(|e| err(&module("disc.bpk"), e.to_string()))?;
    for (name, optim) in [
        ("optim_g.bpk", &mut nets.optim_g),
        ("optim_d.bpk", &mut nets.optim_d),
    ] {
        let p = dir.join(name);
        let r = OptimizerRecord::load(&p).map_err(|e| err(&p, e.to_string()))?;
        *optim = optim.clone().load_record(r);
    }
    Ok((nets, state))
}
