//! Checkpoints of an inpainting run: generator, EMA, discriminator and
//! both optimizers as burnpack files plus the loop state in `state.toml`,
//! with the shared file helpers and swap (`crate::common::checkpoint`).

use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::common::checkpoint::{
    load_module, load_optim, read_state, save_module, save_optims, start_part, swap_in, write_state,
};
use crate::error::TrainError;
use crate::inpaint::model::CHANNELS;
use crate::inpaint::training::{InpaintNets, InpaintPoint};

/// Checkpoint state besides the nets.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// The generator's encoder channels.
    #[serde(default = "crate::inpaint::model::default_channels")]
    pub channels: [usize; 4],
    /// Whether the generator has a bottleneck attention block.
    #[serde(default)]
    pub attention: bool,
}

impl Default for InpaintState {
    fn default() -> Self {
        InpaintState {
            step: 0,
            rng: String::new(),
            seconds: 0.0,
            history: Vec::new(),
            backend: String::new(),
            channels: CHANNELS,
            attention: false,
        }
    }
}

/// Save nets and state under `work/checkpoint` (written to
/// `checkpoint.part/`, then swapped in as the SR trainer's checkpoints are).
pub fn save(work: &Path, nets: &InpaintNets, state: &InpaintState) -> Result<(), TrainError> {
    let part = start_part(work)?;
    save_module(nets.generator.clone(), &part.join("generator.bpk"))?;
    save_module(nets.ema.clone(), &part.join("ema.bpk"))?;
    save_module(nets.disc.clone(), &part.join("disc.bpk"))?;
    save_optims(&part, &nets.optim_g, &nets.optim_d)?;
    write_state(&part, state)?;
    swap_in(work)
}

/// Load a checkpoint written by [`save`] into `nets`, whose generator has
/// encoder channels `channels` and an attention block if `attention` (a
/// checkpoint of another shape is refused).
pub fn load(
    dir: &Path,
    nets: InpaintNets,
    channels: [usize; 4],
    attention: bool,
) -> Result<(InpaintNets, InpaintState), TrainError> {
    let state: InpaintState = read_state(dir)?;
    if (state.channels, state.attention) != (channels, attention) {
        return Err(TrainError::Config(format!(
            "{}: the checkpoint's generator has channels {:?} (attention: {}), this run asks for {:?} (attention: {})",
            dir.display(),
            state.channels,
            state.attention,
            channels,
            attention
        )));
    }
    let nets = InpaintNets {
        generator: load_module(nets.generator, dir, "generator.bpk")?,
        ema: load_module(nets.ema, dir, "ema.bpk")?,
        disc: load_module(nets.disc, dir, "disc.bpk")?,
        optim_g: load_optim(nets.optim_g, dir, "optim_g.bpk")?,
        optim_d: load_optim(nets.optim_d, dir, "optim_d.bpk")?,
    };
    Ok((nets, state))
}
