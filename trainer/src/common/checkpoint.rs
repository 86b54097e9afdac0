//! Checkpoint files every trainer uses: burnpack modules and optimizer
//! states, `state.toml`, and the `checkpoint.part/` → `checkpoint/` swap
//! (two renames, so an interruption while saving leaves the previous
//! checkpoint usable).

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::record::OptimizerRecord;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};

use crate::error::TrainError;

pub(crate) fn err(path: &Path, reason: impl std::fmt::Display) -> TrainError {
    TrainError::Checkpoint {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// `f`, which hands a file's bytes to burn, with a panic turned into an
/// error naming `path` (burn 0.22 panics on some malformed records, found
/// by fuzzing, instead of returning an error).
fn untrusted<T>(path: &Path, f: impl FnOnce() -> Result<T, TrainError>) -> Result<T, TrainError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let what = edgegan_runtime::error::panic_message(&*payload);
        Err(err(
            path,
            format!("burn panicked reading this file ({what})"),
        ))
    })
}

pub(crate) fn save_module<M: Module>(m: M, p: &Path) -> Result<(), TrainError> {
    m.save_file(p).map_err(|e| err(p, e))
}

/// Shapes of a module's float tensors, in visiting order.
struct Shapes(Vec<Vec<usize>>);

impl ModuleVisitor for Shapes {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push(param.val().dims().to_vec());
    }
}

fn shapes<M: Module>(m: &M) -> Vec<Vec<usize>> {
    let mut s = Shapes(Vec::new());
    m.visit(&mut s);
    s.0
}

/// `m` with the weights of `dir/name`, which must have `m`'s shapes (a
/// burnpack file of another network is an error here, not a panic in the
/// first step).
pub(crate) fn load_module<M: Module>(m: M, dir: &Path, name: &str) -> Result<M, TrainError> {
    let p = dir.join(name);
    let want = shapes(&m);
    let (loaded, got) = untrusted(&p, || {
        let loaded = m.try_load_file(&p).map_err(|e| err(&p, e))?;
        let got = shapes(&loaded);
        Ok((loaded, got))
    })?;
    match got.iter().zip(&want).position(|(g, w)| g != w) {
        Some(i) => Err(err(
            &p,
            format!(
                "tensor {i} has shape {:?}, this network's has {:?}",
                got[i], want[i]
            ),
        )),
        None if got.len() != want.len() => Err(err(
            &p,
            format!("{} tensors, this network has {}", got.len(), want.len()),
        )),
        None => Ok(loaded),
    }
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
    untrusted(&p, || {
        OptimizerRecord::load(&p)
            .map(|r| o.load_record(r))
            .map_err(|e| err(&p, e))
    })
}

/// Write `state` as `state.toml` in `dir`.
pub(crate) fn write_state<S: Serialize>(dir: &Path, state: &S) -> Result<(), TrainError> {
    let p = dir.join("state.toml");
    let text = toml::to_string(state).map_err(|e| err(&p, e))?;
    std::fs::write(&p, text).map_err(|e| err(&p, e))
}

/// Read `state.toml` in `dir`.
pub fn read_state<S: DeserializeOwned>(dir: &Path) -> Result<S, TrainError> {
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

/// The checkpoint under `work` a run should resume: `None` without `work`
/// or without a checkpoint there; an error when one is there and `resume`
/// is false (an earlier run is never overwritten by accident).
pub(crate) fn to_resume(work: Option<&Path>, resume: bool) -> Result<Option<PathBuf>, TrainError> {
    match work.and_then(existing) {
        Some(dir) if !resume => Err(err(
            &dir,
            "a checkpoint of an earlier run is here; resume it or remove it",
        )),
        found => Ok(found),
    }
}
