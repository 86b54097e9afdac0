//! Checkpoints of a DCGAN run, written after every epoch so an interrupted
//! run resumes at the last finished epoch and ends exactly where an unbroken
//! one does: generator, discriminator, the selected (best) generator and
//! both optimizers as burnpack files, plus the loop state (epoch, RNG, the
//! detectors' memory, every epoch's report) in `state.toml`. Files and the
//! `checkpoint.part/` → `checkpoint/` swap are the shared ones
//! (`crate::common::checkpoint`).

use burn::optim::ModuleOptimizer;
use edgegan_runtime::noise::fnv1a;
use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::common::checkpoint::{
    load_module, load_optim, read_state, save_module, save_optims, start_part, swap_in, write_state,
};
use crate::dcgan::imageset::ImageSet;
use crate::dcgan::model::{DcDiscriminator, DcGenerator};
use crate::dcgan::training::{DcganConfig, EpochReport};
use crate::error::TrainError;

/// The loop state besides the nets.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DcganState {
    /// Settings and data the run was started with ([`fingerprint`]); a
    /// checkpoint is resumed only by the same.
    pub fingerprint: String,
    /// Epochs finished.
    pub epoch: usize,
    /// The run's RNG (batches, noise, dropout masks), hex.
    pub rng: String,
    /// G's gradient norm in epoch 1 (the too-good detector's reference).
    pub first_grad: Option<f64>,
    /// Epoch of the selected generator (0: none yet).
    pub best_epoch: usize,
    /// Its KID (`None`: none measured yet, or no classifier).
    pub best_kid: Option<f64>,
    /// Whether the plateau warning was given.
    pub plateau_warned: bool,
    /// Every finished epoch's report.
    pub reports: Vec<EpochReport>,
}

/// What a checkpoint must match to be resumed: every setting except the
/// number of epochs (a finished run can be extended), and the training
/// images (count and an FNV-1a hash of their pixels).
pub fn fingerprint(cfg: &DcganConfig, data: &ImageSet) -> String {
    let h = fnv1a(data.pixels.iter().flat_map(|p| p.to_le_bytes()));
    let settings = DcganConfig {
        epochs: 0,
        ..cfg.clone()
    };
    format!("{settings:?} images={} pixels={h:016x}", data.len())
}

/// Networks and optimizers of a run.
pub struct DcganNets {
    /// The generator being trained (autodiff device).
    pub g: DcGenerator,
    /// The discriminator (autodiff device).
    pub d: DcDiscriminator,
    /// The selected generator so far (plain device).
    pub best: DcGenerator,
    /// Generator optimizer.
    pub opt_g: ModuleOptimizer,
    /// Discriminator optimizer.
    pub opt_d: ModuleOptimizer,
}

/// Save `nets` and `state` under `work/checkpoint`.
pub fn save(work: &Path, nets: &DcganNets, state: &DcganState) -> Result<(), TrainError> {
    let part = start_part(work)?;
    save_module(nets.g.clone(), &part.join("generator.bpk"))?;
    save_module(nets.d.clone(), &part.join("disc.bpk"))?;
    save_module(nets.best.clone(), &part.join("best.bpk"))?;
    save_optims(&part, &nets.opt_g, &nets.opt_d)?;
    write_state(&part, state)?;
    swap_in(work)
}

/// Load the checkpoint in `dir` into freshly built `nets` of the same shapes.
pub fn load(dir: &Path, nets: DcganNets) -> Result<(DcganNets, DcganState), TrainError> {
    let state: DcganState = read_state(dir)?;
    let nets = DcganNets {
        g: load_module(nets.g, dir, "generator.bpk")?,
        d: load_module(nets.d, dir, "disc.bpk")?,
        best: load_module(nets.best, dir, "best.bpk")?,
        opt_g: load_optim(nets.opt_g, dir, "optim_g.bpk")?,
        opt_d: load_optim(nets.opt_d, dir, "optim_d.bpk")?,
    };
    Ok((nets, state))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::params::values;
    use crate::common::Rng;
    use crate::dcgan::training::{grid_noise, train, DcganRun, Judge};
    use burn::prelude::Device;

    /// 24 random 16×16 gray images.
    fn images() -> ImageSet {
        let mut rng = Rng(9);
        ImageSet {
            side: 16,
            channels: 1,
            pixels: (0..24 * 256).map(|_| rng.unit() * 2.0 - 1.0).collect(),
            labels: None,
        }
    }

    fn config(epochs: usize) -> DcganConfig {
        DcganConfig {
            epochs,
            batch: 8,
            judge_samples: 16,
            spectral: true,
            dropout: 0.3,
            seed: 4,
            ..DcganConfig::new(16, 1)
        }
    }

    fn run(epochs: usize, work: &Path, resume: bool) -> Result<(DcganRun, usize), TrainError> {
        let set = images();
        let judge = Judge::new(None, &set);
        let mut restored = 0;
        let run = train(
            &set,
            &judge,
            &config(epochs),
            Some(work),
            resume,
            &mut |_, grid| {
                restored += usize::from(grid.is_none());
            },
        )?;
        Ok((run, restored))
    }

    /// A run stopped after epoch 1 (what a kill during epoch 2 leaves) and
    /// resumed to epoch 3 draws the same batches, noise and dropout masks
    /// and ends with the same reports and generator as one unbroken run.
    #[test]
    fn a_resumed_run_ends_where_an_unbroken_one_does() {
        let dir = tempfile::tempdir().unwrap();
        let (whole, split) = (dir.path().join("whole"), dir.path().join("split"));
        let (a, _) = run(3, &whole, false).unwrap();
        let (cut, _) = run(1, &split, false).unwrap();
        assert_eq!(cut.reports.len(), 1);
        let refused = run(3, &split, false).err().expect("refused without resume");
        assert!(
            refused.to_string().contains("resume it or remove it"),
            "{refused}"
        );
        let (b, restored) = run(3, &split, true).unwrap();
        assert_eq!(restored, 1);
        assert_eq!(a.reports, b.reports);
        assert_eq!(a.best_epoch, 3);
        assert_eq!(b.best_epoch, 3);
        let z = grid_noise(&config(3), &Device::flex());
        assert_eq!(values(a.best.forward(z.clone())), values(b.best.forward(z)));
        // The state on disk is the run's, in TOML that reads back the same.
        let state: DcganState =
            crate::common::checkpoint::read_state(&split.join("checkpoint")).unwrap();
        assert_eq!((state.epoch, state.reports), (3, b.reports));
    }

    /// Other settings or other images do not resume a checkpoint.
    #[test]
    fn a_checkpoint_of_other_settings_or_data_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        run(1, dir.path(), false).unwrap();
        let set = images();
        let judge = Judge::new(None, &set);
        let other = DcganConfig {
            dropout: 0.2,
            ..config(2)
        };
        let e = train(&set, &judge, &other, Some(dir.path()), true, &mut |_, _| {})
            .err()
            .expect("other settings refused");
        assert!(e.to_string().contains("another configuration"), "{e}");
        let mut moved = images();
        moved.pixels[0] += 0.5;
        let e = train(
            &moved,
            &judge,
            &config(2),
            Some(dir.path()),
            true,
            &mut |_, _| {},
        )
        .err()
        .expect("other images refused");
        assert!(
            e.to_string().contains("another configuration or data"),
            "{e}"
        );
    }
}
