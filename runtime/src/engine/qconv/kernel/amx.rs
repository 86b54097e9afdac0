//! The AMX-INT8 kernel (Intel Sapphire Rapids and later): the sums as tile
//! products, the f32 tail as the AVX-512 kernel's.
//!
//! Per output row, a block is 32 output channels × 32 pixels in four
//! 16×16 i32 accumulator tiles (`tmm0..3`). A product loads a weight tile
//! `A` (16 output channels × `k` words of 4 input bytes; `tmm4`, `tmm5`)
//! and an input tile `B` (`k` rows of 16 pixels × 4 bytes; `tmm6`,
//! `tmm7`) and multiplies them in with `tdpbsud` (signed weights ×
//! unsigned inputs, exact i32 sums, no saturation):
//! `C[o][x] += Σ_k Σ_j A[o][4k + j] · B[k][4x + j]`. `B` is read straight
//! out of the packed rows, whose `[group][pixel][4]` layout is already a
//! tile: its rows are channel groups `phase_width · 4` bytes apart, or the
//! same row shifted tap by tap; [`Tiling`] says which words a product
//! takes, and `QConv::pack_weights` lays each output channel's words of a
//! product side by side for `A`. The accumulators are stored, one output
//! channel per 64-byte row, and each row goes through
//! [`super::avx512::tail_store`], a slice of one block's rows between the
//! next block's products, so the vector units work while the tile unit
//! multiplies.
//!
//! The tile instructions are written with `asm!`: Rust's AMX intrinsics
//! are not stable. Linux hands a process the tile state only when asked
//! (`arch_prctl(ARCH_REQ_XCOMP_PERM)`), which [`available`] does once.

use std::arch::asm;
use std::arch::x86_64::*;
use std::sync::OnceLock;

use super::Band;
use crate::engine::qconv::op::Geometry;

/// `arch_prctl` request and the tile-data state component (Linux's
/// `asm/prctl.h` and the XSAVE feature number).
const ARCH_REQ_XCOMP_PERM: libc::c_int = 0x1023;
const XFEATURE_XTILEDATA: libc::c_ulong = 18;

/// Whether the CPU has AMX-TILE and AMX-INT8 and the AVX-512 the tail
/// uses, the kernel has granted this process the tile state, and the
/// environment's `TRACT_CPU_ISA` does not mask `amx-int8`. (The runtime
/// masks it for tract's own kernels by default, `plan::tract_defaults`;
/// only a user's setting masks this one.)
pub(super) fn available() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        let masked = std::env::var("TRACT_CPU_ISA").is_ok_and(|isa| super::masks(&isa, "amx-int8"));
        if masked || !super::avx512::available() {
            return false;
        }
        // CPUID leaf 7 exists on every x86_64 CPU with AVX-512.
        let edx = __cpuid_count(7, 0).edx;
        let (tile, int8) = (edx >> 24 & 1 == 1, edx >> 25 & 1 == 1);
        // SAFETY: a plain syscall; it fails (non-zero) where the kernel or
        // the CPU lacks the tile state.
        tile && int8
            && unsafe {
                libc::syscall(
                    libc::SYS_arch_prctl,
                    ARCH_REQ_XCOMP_PERM,
                    XFEATURE_XTILEDATA,
                )
            } == 0
    })
}

/// How a conv's sums become tile products.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tiling {
    /// One product per tap and chunk of `kc` channel groups: the input
    /// tile's rows are groups (`phase_width · 4` bytes apart). `kc` is the
    /// largest divisor of the groups up to 16 (a tile row holds 64 bytes).
    /// Weights `[block][ky][16 outputs][kx][group][4]`.
    Groups { kc: usize },
    /// Stride 1 across, no dilation down: a packed row is then exactly
    /// `groups` rows of `phase_width · 4` bytes, so the kernel rows of one
    /// column are `kh · groups` input-tile rows at one stride, and one
    /// product takes `kc` of them, across kernel rows (a 3×3 conv of 32
    /// channels: 6 products of 12 groups a block, not 9 of 8). Weights
    /// `[block][kx][16 outputs][ky][group][4]`.
    Columns { kc: usize },
    /// One channel group (up to 4 input channels), stride 1: one product
    /// per kernel row, the input tile's `kw` rows being the taps (`4 · dx`
    /// bytes apart, the same packed row shifted), so a 5×5 first layer
    /// takes 5 products, not 25 nearly empty ones. Weights as
    /// [`Tiling::Groups`].
    Taps,
}

/// The largest divisor of `n` from 4 to 16: words per tile row.
fn chunk(n: usize) -> Option<usize> {
    (4..=16.min(n)).rev().find(|&k| n.is_multiple_of(k))
}

impl Tiling {
    /// The tiling for `geo`, or `None` where the tiles would be mostly
    /// idle (under 4 groups, unless [`Tiling::Taps`] fits) and the VNNI
    /// kernel is as fast.
    pub(crate) fn of(geo: &Geometry) -> Option<Tiling> {
        let groups = geo.groups();
        if groups == 1 && geo.sx == 1 && geo.kw <= 16 {
            return Some(Tiling::Taps);
        }
        let by_groups = chunk(groups);
        let by_columns = (geo.sx == 1 && geo.dy == 1)
            .then(|| chunk(geo.kh * groups))
            .flatten();
        match (by_groups, by_columns) {
            (g, Some(c)) if c > g.unwrap_or(0) => Some(Tiling::Columns { kc: c }),
            (g, _) => g.map(|kc| Tiling::Groups { kc }),
        }
    }

    /// Whether the weights are laid out kernel column first
    /// ([`Tiling::Columns`]).
    pub(crate) fn columns(self) -> bool {
        matches!(self, Tiling::Columns { .. })
    }

    /// 4-byte words in one product's weight-tile row (input-tile rows).
    fn k(self, geo: &Geometry) -> usize {
        match self {
            Tiling::Groups { kc } | Tiling::Columns { kc } => kc,
            Tiling::Taps => geo.kw,
        }
    }
}

/// The tile palette: `tmm0..3` 16×16 i32 accumulators, `tmm4..5` weight
/// tiles (16 rows of `kc` groups), `tmm6..7` input tiles (`kc` rows of 16
/// pixels).
#[repr(C, align(64))]
struct Palette([u8; 64]);

impl Palette {
    fn new(kc: usize) -> Self {
        let mut p = [0u8; 64];
        p[0] = 1;
        let mut tile = |t: usize, rows: usize, bytes: usize| {
            p[16 + 2 * t..18 + 2 * t].copy_from_slice(&(bytes as u16).to_le_bytes());
            p[48 + t] = rows as u8;
        };
        for t in 0..4 {
            tile(t, 16, 64);
        }
        tile(4, 16, kc * 4);
        tile(5, 16, kc * 4);
        tile(6, kc, 64);
        tile(7, kc, 64);
        Palette(p)
    }
}

/// Four 16×16 i32 tiles as stored, one output channel per row.
#[repr(C, align(64))]
struct Sums([[i32; 256]; 4]);

macro_rules! load {
    ($tmm:literal, $at:expr, $stride:expr) => {
        asm!(concat!("tileloadd ", $tmm, ", [{0} + {1}*1]"), in(reg) $at, in(reg) $stride,
             options(nostack, readonly, preserves_flags))
    };
}

macro_rules! dot {
    ($c:literal, $a:literal, $b:literal) => {
        asm!(
            concat!("tdpbsud ", $c, ", ", $a, ", ", $b),
            options(nomem, nostack, preserves_flags)
        )
    };
}

/// Output rows `0..n` of a band (see `run_band`).
///
/// # Safety
/// As `super::run_band`, on a CPU where [`available`] holds, with weights
/// packed for this kind and [`Tiling::of`] the conv's geometry `Some`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
pub(super) unsafe fn band(b: Band) {
    let Band {
        q,
        packed,
        w,
        n,
        out,
        skip,
        plane,
        groups,
        pw,
        row_bytes,
        ..
    } = b;
    let g = &q.geo;
    let tiling = Tiling::of(g).expect("AMX conv without a tiling");
    let elem = q.output_type().size_of();
    // One output channel's weights of one kernel row (of one kernel
    // column for `Columns`) are `a_stride` bytes; `line_bytes` are 16
    // channels' of them, and a block is every row (column).
    let (lines, a_words) = match tiling {
        Tiling::Columns { .. } => (g.kw, g.kh * groups),
        _ => (g.kh, g.kw * groups),
    };
    let (a_stride, line_bytes) = (a_words * 4, 16 * a_words * 4);
    let block_bytes = lines * line_bytes;
    let blocks = g.blocks();
    let weights = q.weights.as_ptr() as *const u8;
    let palette = Palette::new(tiling.k(g));
    let mut sums = Sums([[0; 256]; 4]);
    let sums = sums.0.as_mut_ptr() as *mut i32;
    // The tail of rows `rows` (tile `r / 16`, output channel `r % 16` of
    // it) of the block at output row `y`, channel blocks `b0, b0 + 1`,
    // pixels `x0 .. x0 + 32`, whose sums are stored.
    let tail = |(y, b0, x0): (usize, usize, usize), rows: std::ops::Range<usize>| {
        debug_assert!(rows.end <= 64);
        for r in rows {
            let (t, o) = (r / 16, r % 16);
            let (ob, xb) = (b0 + t / 2, x0 + 16 * (t % 2));
            if ob >= blocks || xb >= w || ob * 16 + o >= g.cout {
                continue;
            }
            let mask = super::avx512::row_mask(w - xb);
            let oc = ob * 16 + o;
            // SAFETY: row `r` of the stored tiles, 64 aligned bytes; the
            // output the caller vouched for, masked to the row's live
            // pixels.
            unsafe {
                let acc = _mm512_load_si512(sums.add(r * 16) as *const _);
                let at = oc * plane + y * w + xb;
                super::avx512::tail_store(
                    q,
                    oc,
                    acc,
                    (out.add(at * elem), skip.wrapping_add(at)),
                    mask,
                );
            }
        }
    };
    // Steps of one block's products, and the block whose tail runs a slice
    // at a time between them: the vector units work through one block's
    // tail while the tile unit multiplies the next.
    let steps = match tiling {
        Tiling::Groups { .. } => g.kh * g.kw,
        Tiling::Columns { .. } => g.kw,
        Tiling::Taps => g.kh,
    };
    // Rows of step `step`'s slice; none past the last step (a tap's
    // chunks before its last).
    let slice = |step: usize| {
        if step < steps {
            64 * step / steps..64 * (step + 1) / steps
        } else {
            0..0
        }
    };
    let mut pending = None;
    // SAFETY: the palette is valid (rows ≤ 16, 64-byte rows at most).
    unsafe { asm!("ldtilecfg [{0}]", in(reg) &palette, options(nostack, readonly)) };
    for y in 0..n {
        for b0 in (0..blocks).step_by(2) {
            let two_oc = b0 + 1 < blocks;
            for x0 in (0..w).step_by(32) {
                let two_px = x0 + 16 < w;
                // The products of one weight tile `a` and one input tile `x`
                // (rows `stride` bytes apart) into the four accumulators,
                // then step `step`'s slice of the pending tail.
                let product = |a: *const u8, x: *const u8, stride: usize, step: usize| {
                    // SAFETY (the tile loads): as the AVX-512 kernel's loads,
                    // input rows up to y·sy + (kh-1)·dy exist (checked by
                    // run_band) and a 16-pixel block starting at x0 or
                    // x0 + 16 < w, shifted by up to (kw-1)·dx, reads inside
                    // its phase; weight tiles lie inside whole blocks, the
                    // second block's only when it exists.
                    unsafe {
                        load!("tmm4", a, a_stride);
                        load!("tmm6", x, stride);
                        dot!("tmm0", "tmm4", "tmm6");
                        if two_px {
                            load!("tmm7", x.add(64), stride);
                            dot!("tmm1", "tmm4", "tmm7");
                        }
                        if two_oc {
                            load!("tmm5", a.add(block_bytes), a_stride);
                            dot!("tmm2", "tmm5", "tmm6");
                            if two_px {
                                dot!("tmm3", "tmm5", "tmm7");
                            }
                        }
                    }
                    if let Some(block) = pending {
                        tail(block, slice(step));
                    }
                };
                // SAFETY: no memory operands.
                unsafe {
                    asm!(
                        "tilezero tmm0",
                        "tilezero tmm1",
                        "tilezero tmm2",
                        "tilezero tmm3",
                        options(nomem, nostack, preserves_flags)
                    )
                };
                for line in 0..lines {
                    // SAFETY: weight offsets as the loads above.
                    let wl = unsafe { weights.add(b0 * block_bytes + line * line_bytes) };
                    match tiling {
                        Tiling::Groups { kc } => {
                            let ky = line;
                            // SAFETY: row offsets as the loads above.
                            let row =
                                unsafe { packed.as_ptr().add((y * g.sy + ky * g.dy) * row_bytes) };
                            for kx in 0..g.kw {
                                for c in (0..groups).step_by(kc) {
                                    // SAFETY: as above.
                                    let (a, x) = unsafe {
                                        (
                                            wl.add((kx * groups + c) * 4),
                                            row.add(g.tap_offset(w, kx, x0) + c * pw * 4),
                                        )
                                    };
                                    // The tail slice after a tap's last chunk.
                                    let step = if c + kc == groups {
                                        ky * g.kw + kx
                                    } else {
                                        steps
                                    };
                                    product(a, x, pw * 4, step);
                                }
                            }
                        }
                        Tiling::Columns { kc } => {
                            // Input-tile row `c` is group `c % groups` of
                            // packed row `y·sy + c / groups` (rows are
                            // `groups · phase_width · 4` bytes when sx = 1).
                            let kx = line;
                            // SAFETY: as above.
                            let col = unsafe {
                                packed
                                    .as_ptr()
                                    .add(y * g.sy * row_bytes + g.tap_offset(w, kx, x0))
                            };
                            for c in (0..g.kh * groups).step_by(kc) {
                                // SAFETY: as above.
                                let (a, x) = unsafe { (wl.add(c * 4), col.add(c * pw * 4)) };
                                let step = if c + kc == g.kh * groups { kx } else { steps };
                                product(a, x, pw * 4, step);
                            }
                        }
                        Tiling::Taps => {
                            let ky = line;
                            // SAFETY: as above.
                            let x = unsafe {
                                packed.as_ptr().add(
                                    (y * g.sy + ky * g.dy) * row_bytes + g.tap_offset(w, 0, x0),
                                )
                            };
                            product(wl, x, 4 * g.dx, ky);
                        }
                    }
                }
                // SAFETY: stores four 1 KiB tiles into `sums`, whose
                // previous block's tail is done.
                unsafe {
                    asm!(
                        "tilestored [{0} + {1}*1], tmm0",
                        "tilestored [{0} + 1024 + {1}*1], tmm1",
                        "tilestored [{0} + 2048 + {1}*1], tmm2",
                        "tilestored [{0} + 3072 + {1}*1], tmm3",
                        in(reg) sums, in(reg) 64usize,
                        options(nostack, preserves_flags)
                    );
                }
                pending = Some((y, b0, x0));
            }
        }
    }
    if let Some(block) = pending {
        tail(block, 0..64);
    }
    // SAFETY: gives the tile state back; nothing reads the tiles after.
    unsafe { asm!("tilerelease", options(nomem, nostack, preserves_flags)) };
}
