//! A fused int8 direct convolution for tract plans (vendor/README.md's
//! "int8 that pays"): the chain an int8 edgegan graph spells out for every
//! conv — `ConvInteger` (u8 activations, s8 weights, i32 sums) → `Cast` to
//! f32 → `Mul` by the per-channel scale → `Add` of the bias → `LeakyRelu`
//! → `QuantizeLinear` to the next layer's u8 — becomes one [`QConv`] node.
//!
//! tract runs that chain as an eager im2col, an i32 matrix product and four
//! element-wise passes over the activation. [`QConv`] packs each input row
//! once (four channels per 32-bit lane; strided convs as column phases),
//! accumulates with AMX-INT8 tile products where the CPU has them (Intel
//! Sapphire Rapids and later, Linux: 32 pixels × 32 output channels per
//! block, read straight from the packed rows), AVX-512 VNNI `vpdpbusd`
//! (16 pixels × 16 output channels per block) or, on CPUs without VNNI,
//! AVX2 `vpmaddubsw` + `vpmaddwd` (exact only for weights whose
//! input-channel pairs sum to at most 128 in magnitude, which edgegan's
//! export guarantees), and does the whole f32 tail in registers, writing
//! the next layer's u8 (or the f32 of a last conv) straight out.
//!
//! [`QConv`]: op::QConv
//!
//! **The same integers as tract.** The sums are exact; the tail repeats
//! tract's own f32 operations one by one (cast, multiply, add, the
//! LeakyRelu select, tract's branchless ties-to-even quantizer), never
//! fused into an FMA, so every output equals the unfused plan's bit for bit
//! (tested on the shipped models, real and random inputs, odd sizes; and
//! the SIMD kernel against the scalar one on odd geometries).
//!
//! Gated convolutions (the inpainting network's `f(x) · sigmoid(g(x))`)
//! then become one node of two [`QConv`]s, which packs the input once and
//! gates and quantizes in cache ([`gated`]).
//!
//! [`fuse`] rewrites a decluttered graph; a chain it does not recognise
//! (groups, a weight zero point, a layout other than NCHW/OIHW, no SIMD
//! kernel exact on its weights) stays as tract lowers it.
//! `EDGEGAN_QCONV=off` turns it off for side-by-side runs;
//! `TRACT_CPU_ISA=-amx-int8` (or `-avx512vnni`, ...) in the environment
//! masks a kernel as it masks tract's.

mod gated;
mod kernel;
mod op;
mod pattern;

pub(crate) use pattern::fuse;

/// The kernel [`fuse`] uses here: this CPU's best, unless
/// `EDGEGAN_QCONV=off`; with none, [`fuse`] leaves the graph as it is.
fn kernel_here() -> Option<kernel::Kind> {
    kernel::best().filter(|_| std::env::var("EDGEGAN_QCONV").as_deref() != Ok("off"))
}

/// Whether [`fuse`] has a kernel to fuse with here.
pub(crate) fn available() -> bool {
    kernel_here().is_some()
}

#[cfg(test)]
mod tests;
