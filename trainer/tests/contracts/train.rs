//! Training-loop contracts: a fixed seed reproduces a CPU run bit for bit,
//! and a run interrupted at a checkpoint and resumed ends exactly where the
//! uninterrupted run ends (weights, history, selection).

use edgegan_trainer::common::device::TrainDevice;
use edgegan_trainer::sr::data::PhotoSet;
use edgegan_trainer::sr::export::generator_from_onnx;
use edgegan_trainer::sr::model::GeneratorShape;
use edgegan_trainer::sr::training::{
    train_sr, GanConfig, Observer, Stage, TrainConfig, TrainOutcome,
};
use std::path::{Path, PathBuf};

/// The bundled photo as a training set; its LR precomputed (as the CLI does
/// for clean training) when `cfg` has no degradations.
fn photos(cfg: &TrainConfig) -> (tempfile::TempDir, PhotoSet, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/astronaut.png");
    let dst = dir.path().join("astronaut.png");
    std::fs::copy(src, &dst).unwrap();
    let mut set = PhotoSet::load(dir.path(), 1, 64).unwrap();
    if !cfg.degrade.any() {
        set.precompute_lr(cfg.shape.scale);
    }
    (dir, set, vec![dst])
}

fn config(stage: Stage, work: Option<PathBuf>) -> TrainConfig {
    TrainConfig {
        shape: GeneratorShape {
            scale: 2,
            channels: 8,
            head_kernel: 5,
            body: 1,
        },
        stage,
        steps: 4,
        batch: 2,
        lr_patch: 16,
        learning_rate: 1e-3,
        seed: 7,
        val_every: 2,
        ema: 0.9,
        degrade: "blur,noise,jpeg".parse().unwrap(),
        init: None,
        time_limit: None,
        work,
        device: TrainDevice::Cpu,
    }
}

const GAN: Stage = Stage::Gan(GanConfig {
    adv_weight: 0.05,
    d_learning_rate: 1e-3,
    max_psnr_drop: 10.0,
    too_good: (2, 0.9),
});

struct StopAt(usize, usize);

impl Observer for StopAt {
    fn step(&mut self, step: usize, _: &edgegan_trainer::sr::training::StepStats) {
        self.1 = step;
    }
    fn stop(&mut self) -> bool {
        self.1 >= self.0
    }
}

fn run(cfg: &TrainConfig, resume: bool, observer: &mut dyn Observer) -> TrainOutcome {
    let (_dir, set, val) = photos(cfg);
    train_sr(cfg, &set, &val, resume, observer).unwrap()
}

#[test]
fn a_fixed_seed_reproduces_the_run() {
    for stage in [Stage::L1, GAN] {
        let a = run(&config(stage, None), false, &mut ());
        let b = run(&config(stage, None), false, &mut ());
        assert!(a.onnx == b.onnx, "{stage:?}: exports differ");
        assert_eq!(a.history, b.history);
        assert_eq!(a.history.len(), 3, "steps 0, 2, 4");
        assert_eq!(a.steps, 4);
    }
    let gan = run(&config(GAN, None), false, &mut ());
    assert_eq!(gan.disc_parameters, Some(136_833));
    assert!(gan.history[1..]
        .iter()
        .all(|p| p.d_loss > 0.0 && p.g_grad_norm > 0.0 && p.d_grad_norm > 0.0));
}

/// GAN with degraded inputs (patches downscaled one by one), and L1 on clean
/// inputs (patches cropped from precomputed LR photos); in both the next
/// batch is made while a step runs.
#[test]
fn an_interrupted_run_resumes_exactly() {
    let mut clean = config(Stage::L1, None);
    clean.degrade = Default::default();
    for (stage, degrade) in [(GAN, config(GAN, None).degrade), (Stage::L1, clean.degrade)] {
        let with = |work: &Path| TrainConfig {
            degrade,
            ..config(stage, Some(work.into()))
        };
        let whole_dir = tempfile::tempdir().unwrap();
        let whole = run(&with(whole_dir.path()), false, &mut ());
        let work = tempfile::tempdir().unwrap();
        let cfg = with(work.path());
        let first = run(&cfg, false, &mut StopAt(2, 0));
        assert_eq!(first.steps, 2);
        // A second start without --resume refuses to overwrite the checkpoint.
        let (_d, set, val) = photos(&cfg);
        let err = train_sr(&cfg, &set, &val, false, &mut ()).unwrap_err();
        assert!(err.to_string().contains("checkpoint"), "{err}");
        // Another configuration cannot resume it.
        let mut other = cfg.clone();
        other.seed = 8;
        let err = train_sr(&other, &set, &val, true, &mut ()).unwrap_err();
        assert!(err.to_string().contains("another configuration"), "{err}");
        let resumed = run(&cfg, true, &mut ());
        assert_eq!(resumed.steps, 4);
        assert_eq!(resumed.history, whole.history, "{stage:?}");
        assert!(resumed.onnx == whole.onnx, "{stage:?}: exports differ");
        for step in [0, 2, 4] {
            let name = format!("evolution/step_{step:06}.png");
            assert!(work.path().join(&name).is_file(), "{name}");
        }
    }
}

/// A run may start from a trained generator with fewer body convs (same
/// width): it is deepened by identity convs, so the deeper run starts near
/// where the shallow one ended; an init of another width is refused.
#[test]
fn a_shallower_init_is_deepened() {
    let mut cfg = config(Stage::L1, None);
    cfg.degrade = Default::default();
    let shallow = run(&cfg, false, &mut ());
    cfg.shape.body = 3;
    cfg.init = Some(shallow.onnx.clone());
    let deep = run(&cfg, false, &mut ());
    let g = generator_from_onnx(&deep.onnx, &burn::prelude::Device::flex()).unwrap();
    assert_eq!(g.shape(), cfg.shape);
    let (start, before) = (deep.history[0].psnr_y, shallow.best.psnr_y);
    assert!((start - before).abs() < 0.05, "{start} vs {before}");
    cfg.shape.channels = 16;
    let (_d, set, val) = photos(&cfg);
    let err = train_sr(&cfg, &set, &val, false, &mut ()).unwrap_err();
    assert!(err.to_string().contains("initial generator is"), "{err}");
}

/// `Stage::L2` runs the same loop on the squared error: the same start as
/// L1, other weights after it.
#[test]
fn an_l2_run_differs_from_l1_only_by_its_loss() {
    let mut cfg = config(Stage::L1, None);
    cfg.degrade = Default::default();
    let l1 = run(&cfg, false, &mut ());
    let l2 = run(
        &TrainConfig {
            stage: Stage::L2,
            ..cfg.clone()
        },
        false,
        &mut (),
    );
    assert_eq!(l1.history[0], l2.history[0], "same starting generator");
    assert!(l1.onnx != l2.onnx, "the loss changes the weights");
    assert!(l2.history[1..]
        .iter()
        .all(|p| p.l1 > 0.0 && p.g_grad_norm > 0.0));
}
