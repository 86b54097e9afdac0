//! The trainer's integration tests, one harness (one link of burn and
//! tract): exports checked against the runtime, quantization, training
//! loops and the DCGAN failure detectors. One module per area.

mod dcgan_detectors;
mod export;
mod inpaint_export;
mod quant;
mod train;
