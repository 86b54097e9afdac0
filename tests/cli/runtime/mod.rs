//! The runtime's own invariants, on graphs the trainer's ONNX writer builds:
//! pixel formats and EXIF, tiled = whole-image, the patched tract's int8
//! integers equal to the unpatched build's, and the graph rewrites keeping
//! every bit.

mod formats;
mod shuffle;
mod tiling;
mod tract_f32;
mod tract_moves;
mod tract_patches;
