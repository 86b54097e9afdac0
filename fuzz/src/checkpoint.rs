//! The `checkpoint` target: a training checkpoint as `--resume` reads it.
//!
//! An input is `state.toml` text, a NUL byte, one byte that picks a
//! burnpack file of the checkpoint, and that file's bytes. The other files
//! come from a valid checkpoint of a tiny DCGAN written once per process, so
//! a mutated file is read beside valid ones. The state text goes through the
//! SR and inpainting trainers' state readers, and the whole folder through
//! the DCGAN trainer's loader; nets that load must run.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::{Device, Tensor};
use edgegan_trainer::common::checkpoint::read_state;
use edgegan_trainer::common::Rng;
use edgegan_trainer::dcgan::checkpoint::{load, save, DcganNets, DcganState};
use edgegan_trainer::dcgan::model::{DcDiscriminator, DcGenerator, DcganShape};
use edgegan_trainer::inpaint::checkpoint::InpaintState;
use edgegan_trainer::sr::checkpoint::LoopState;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The burnpack files of a DCGAN checkpoint, in the order the selector
/// byte picks them (modulo their count).
pub const FILES: [&str; 5] = [
    "generator.bpk",
    "disc.bpk",
    "best.bpk",
    "optim_g.bpk",
    "optim_d.bpk",
];

/// A DCGAN small enough for seeds of a few kilobytes.
const SHAPE: DcganShape = DcganShape {
    latent: 2,
    side: 4,
    channels: 1,
    width: 4,
};

/// Fresh tiny nets: the shapes the loader checks a checkpoint against.
fn nets() -> DcganNets {
    let device = Device::flex().autodiff();
    let mut rng = Rng(1);
    let g = DcGenerator::new(SHAPE, &mut rng, &device);
    let d = DcDiscriminator::new(SHAPE, true, 0.0, &mut rng, &device);
    let adam = AdamConfig::new();
    let (mut opt_g, mut opt_d) = (adam.init(), adam.init());
    // One step each, so that the optimizer files hold moment tensors.
    let z = Tensor::<2>::zeros([2, SHAPE.latent], &device);
    let x = g.forward(z.clone()).detach();
    let grads = GradientsParams::from_grads(d.forward(x).mean().backward(), &d);
    let d = opt_d.step(1e-3, d, grads);
    let grads = GradientsParams::from_grads(g.forward(z).mean().backward(), &g);
    let g = opt_g.step(1e-3, g, grads);
    DcganNets {
        best: g.clone().valid(),
        g,
        d,
        opt_g,
        opt_d,
    }
}

/// A valid checkpoint of the tiny DCGAN, written once per process.
fn template() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let work = crate::scratch("checkpoint-template");
        let state = DcganState {
            fingerprint: "fuzz".into(),
            epoch: 1,
            rng: format!("{:016x}", 7u64),
            first_grad: Some(0.5),
            best_epoch: 1,
            best_kid: None,
            plateau_warned: false,
            reports: Vec::new(),
        };
        save(&work, &nets(), &state).expect("the template checkpoint saves");
        work.join("checkpoint")
    })
}

/// A seed input: the template's state and its file `which` (CI and the
/// committed corpus use these).
pub fn seed(which: usize) -> Vec<u8> {
    let dir = template();
    let mut input = std::fs::read(dir.join("state.toml")).expect("template state");
    input.push(0);
    input.push(which as u8);
    input.extend(std::fs::read(dir.join(FILES[which])).expect("template file"));
    input
}

/// The target (see the module's text for the input's layout).
pub fn checkpoint(data: &[u8]) {
    let _ = loads(data);
}

/// Whether `data` is a checkpoint the DCGAN loader takes (its nets then
/// run); `false` for an input the loaders refuse.
pub fn loads(data: &[u8]) -> bool {
    let Some(split) = data.iter().position(|&b| b == 0) else {
        return false;
    };
    let (text, rest) = (&data[..split], &data[split + 1..]);
    let Some((&which, file)) = rest.split_first() else {
        return false;
    };
    let template = template();
    let dir = crate::scratch("checkpoint");
    for name in FILES {
        std::fs::copy(template.join(name), dir.join(name)).expect("copy the template");
    }
    std::fs::write(dir.join("state.toml"), text).expect("scratch state");
    std::fs::write(dir.join(FILES[which as usize % FILES.len()]), file).expect("scratch file");
    let _ = read_state::<LoopState>(&dir);
    let _ = read_state::<InpaintState>(&dir);
    let Ok((nets, _state)) = load(&dir, nets()) else {
        return false;
    };
    let z = Tensor::<2>::zeros([1, SHAPE.latent], &Device::flex());
    let x = nets.best.forward(z);
    assert_eq!(x.dims(), [1, 1, 4, 4]);
    true
}
