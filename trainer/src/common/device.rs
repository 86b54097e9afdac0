//! Where training runs: burn's `flex` CPU backend (always built), or an
//! NVIDIA GPU through burn's LibTorch backend (`--features cuda-train`,
//! linked against a PyTorch 2.11 installation's libtorch at build time and
//! loaded from it at run time).
//!
//! ```
//! use edgegan_trainer::common::device::TrainDevice;
//! assert_eq!("cpu".parse::<TrainDevice>(), Ok(TrainDevice::Cpu));
//! assert_eq!(TrainDevice::Cuda.to_string(), "cuda");
//! assert!(TrainDevice::Cpu.device().is_ok());
//! ```

use burn::prelude::Device;
use serde::{Deserialize, Serialize};

use crate::error::TrainError;

/// A training device.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrainDevice {
    /// burn `flex` on the host's cores.
    #[default]
    Cpu,
    /// The first CUDA GPU, through LibTorch.
    Cuda,
}

impl TrainDevice {
    /// Whether this build can train on CUDA GPUs.
    pub const CUDA_BUILT: bool = cfg!(feature = "cuda-train");

    /// The burn device (without autodiff), or why this build has none.
    pub fn device(self) -> Result<Device, TrainError> {
        match self {
            TrainDevice::Cpu => Ok(Device::flex()),
            TrainDevice::Cuda => cuda(),
        }
    }

    /// How the card names the backend.
    pub fn backend(self) -> String {
        match self {
            // flex runs on rayon's pool: RAYON_NUM_THREADS when set.
            TrainDevice::Cpu => format!(
                "burn 0.22.1 flex (CPU, {} threads)",
                std::env::var("RAYON_NUM_THREADS")
                    .ok()
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or_else(edgegan_runtime::sr::available_threads)
            ),
            TrainDevice::Cuda => "burn 0.22.1 tch (LibTorch 2.11, CUDA GPU 0)".into(),
        }
    }
}

#[cfg(feature = "cuda-train")]
fn cuda() -> Result<Device, TrainError> {
    if !tch::Cuda::is_available() {
        return Err(TrainError::Config(
            "--device cuda: LibTorch sees no CUDA GPU (no NVIDIA driver, or PyTorch's CUDA libraries not on LD_LIBRARY_PATH)".into(),
        ));
    }
    // LibTorch is burn's only CUDA backend that builds without downloading
    // a toolchain at build time (burn `cuda` fetches LLVM).
    #[allow(deprecated)]
    Ok(Device::libtorch_cuda(0))
}

#[cfg(not(feature = "cuda-train"))]
fn cuda() -> Result<Device, TrainError> {
    Err(TrainError::Config(
        "--device cuda: this edgegan was built without CUDA training; rebuild with `--features cuda-train` (scripts/build_cuda_train.sh)".into(),
    ))
}

impl std::fmt::Display for TrainDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TrainDevice::Cpu => "cpu",
            TrainDevice::Cuda => "cuda",
        })
    }
}

impl std::str::FromStr for TrainDevice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cpu" => Ok(TrainDevice::Cpu),
            "cuda" => Ok(TrainDevice::Cuda),
            other => Err(format!("unknown device {other:?}: expected cpu or cuda")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_are_refused() {
        for d in [TrainDevice::Cpu, TrainDevice::Cuda] {
            assert_eq!(d.to_string().parse::<TrainDevice>(), Ok(d));
        }
        assert_eq!(
            "gpu".parse::<TrainDevice>(),
            Err("unknown device \"gpu\": expected cpu or cuda".to_string())
        );
    }

    #[cfg(not(feature = "cuda-train"))]
    #[test]
    fn cuda_without_the_feature_says_how_to_build_it() {
        match TrainDevice::Cuda.device() {
            Err(TrainError::Config(m)) => assert!(m.contains("--features cuda-train"), "{m}"),
            other => panic!("expected a config error, got {other:?}"),
        }
    }
}
