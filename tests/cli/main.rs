//! edgegan's integration tests, one harness (one link of tract and burn
//! instead of one per file): the CLI end to end, and the runtime's
//! cross-crate contracts that need the trainer's ONNX writer. Each module
//! is one area; `common` builds model directories and test images.
//! The allocation-budget test stays its own binary (`tests/alloc_budget.rs`):
//! it installs a counting global allocator.

mod common;

mod bench_cli;
mod boards_cli;
mod cli;
mod dev_photos;
mod eval;
mod faults;
mod generate_cli;
mod inpaint;
mod quantize_cli;
mod resume;
mod runtime;
mod show_cli;
mod train_cli;
