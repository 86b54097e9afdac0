//! [`super::QConv`]'s inner loops: packing input rows four channels to a
//! 32-bit lane, and the band kernels — AMX-INT8 tiles where the CPU has
//! them, AVX-512 VNNI, AVX2 where it
//! has only that (for weights it is exact on), a scalar one of the same
//! arithmetic (the reference in tests).

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod amx;
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
pub(crate) use amx::Tiling;
/// No AMX here: [`Kind::tiling`] is always `None`.
#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tiling;
#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod scalar;

#[cfg(test)]
pub(crate) use scalar::tail_f32;

use super::op::{Geometry, QConv};

/// tract's quantizer rounding (`ops/quant.rs`), which the SIMD tails
/// repeat: half to even by adding and subtracting 1.5·2^23 (tract first
/// clamps |v| to 2^22, which cannot change a result the tails store; see
/// the AVX-512 tail).
#[cfg(target_arch = "x86_64")]
const MAGIC: f32 = 12582912.0;

/// The band kernels there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Plain Rust, one output value at a time: the tests' reference.
    #[cfg_attr(not(test), allow(dead_code))]
    Scalar,
    /// AVX-512 VNNI: 16 pixels × 16 output channels per block.
    #[cfg(target_arch = "x86_64")]
    Avx512Vnni,
    /// AMX-INT8: 32 pixels × 32 output channels per block in four tiles;
    /// the convs whose shape [`Kind::for_conv`] accepts, the others on
    /// [`Kind::Avx512Vnni`].
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    Amx,
    /// AVX2: 8 pixels × 8 output channels per block; exact only for
    /// weights [`Kind::runs`] accepts.
    #[cfg(target_arch = "x86_64")]
    Avx2,
}

/// The fastest kernel this CPU has, if any is faster than tract's path
/// (whether it suits a conv's weights is [`Kind::runs`]).
pub(crate) fn best() -> Option<Kind> {
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    if amx::available() {
        return Some(Kind::Amx);
    }
    #[cfg(target_arch = "x86_64")]
    {
        if avx512::available() {
            return Some(Kind::Avx512Vnni);
        }
        if avx2::available() {
            return Some(Kind::Avx2);
        }
    }
    None
}

/// The kernel `kind` leaves a conv to when it does not take it
/// ([`Kind::for_conv`]), if any.
#[cfg(all(test, target_arch = "x86_64"))]
pub(crate) fn under(kind: Kind) -> Option<Kind> {
    match kind {
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        Kind::Amx => Some(Kind::Avx512Vnni),
        _ => None,
    }
}

/// Whether tract's `TRACT_CPU_ISA` knob masks `feature` (`-avx512vnni`,
/// say): the fused conv then does without it too, as tract does, so
/// forcing tract's AVX2 kernels times and tests what a CPU without VNNI
/// runs.
#[cfg(target_arch = "x86_64")]
fn masked(feature: &str) -> bool {
    tract_linalg::knobs::TRACT_CPU_ISA
        .get()
        .is_some_and(|isa| masks(&isa, feature))
}

/// Whether the `TRACT_CPU_ISA` value `isa` (`+sve2,-fp16`, say) removes
/// `feature`.
#[cfg(target_arch = "x86_64")]
fn masks(isa: &str, feature: &str) -> bool {
    isa.split(',')
        .any(|f| f.trim().strip_prefix('-') == Some(feature))
}

impl Kind {
    /// The kernel's name, for plan dumps.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Scalar => "scalar",
            #[cfg(target_arch = "x86_64")]
            Kind::Avx512Vnni => "avx512vnni",
            #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
            Kind::Amx => "amx",
            #[cfg(target_arch = "x86_64")]
            Kind::Avx2 => "avx2",
        }
    }

    /// The kernel a conv of this geometry runs on: this one, or for AMX
    /// and a conv its tiles would leave mostly idle (5 to 12 input
    /// channels, say), AVX-512 VNNI.
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn for_conv(self, geo: &Geometry) -> Kind {
        match self {
            #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
            Kind::Amx if amx::Tiling::of(geo).is_none() => Kind::Avx512Vnni,
            _ => self,
        }
    }

    /// The AMX tiling of a conv of this geometry, whose weight layout
    /// [`QConv::pack_weights`](super::op::QConv::pack_weights) follows;
    /// `None` for the other kernels (`[block][ky][kx][group][16 outputs][4]`).
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn tiling(self, geo: &Geometry) -> Option<Tiling> {
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        if self == Kind::Amx {
            return amx::Tiling::of(geo);
        }
        None
    }

    /// Whether this kernel computes exact sums with these packed weights.
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    pub(crate) fn runs(self, weights: &[i8]) -> bool {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kind::Avx2 => avx2::bounded(weights),
            _ => true,
        }
    }
}

/// The input rows that output rows `y0 .. y0 + n` read, of one NCHW u8
/// image (`h`×`w`, `geo.cin` planes), as the kernels read them, into
/// `out` (resized to `geo.band_rows(n)` rows of `geo.row_bytes(ow)`
/// bytes; its earlier contents are all overwritten): laid out
/// `[column phase][group][phase_width][4]`, channel `4g + j` at byte `j`
/// of its pixel; padding (rows and columns outside the image, channels
/// past `cin`) holds the zero point `zp`.
pub(crate) fn pack_rows(
    geo: &Geometry,
    zp: u8,
    src: &[u8],
    (h, w): (usize, usize),
    ow: usize,
    (y0, n): (usize, usize),
    out: &mut Vec<u8>,
) {
    let (groups, pw, sx) = (geo.groups(), geo.phase_width(ow), geo.sx);
    let row_bytes = geo.row_bytes(ow);
    out.resize(geo.band_rows(n) * row_bytes, zp);
    let pad = [zp].repeat(w);
    for (r, row) in out.chunks_exact_mut(row_bytes).enumerate() {
        let Some(y) = (y0 * geo.sy + r).checked_sub(geo.pad[0]).filter(|&y| y < h) else {
            row.fill(zp);
            continue;
        };
        if sx != 1 {
            // Column phases: only the image's columns are written below.
            row.fill(zp);
        }
        for g in 0..groups {
            let plane = |j: usize| {
                let c = 4 * g + j;
                if c < geo.cin {
                    &src[(c * h + y) * w..][..w]
                } else {
                    &pad[..]
                }
            };
            let (a, b, c, d) = (plane(0), plane(1), plane(2), plane(3));
            if sx == 1 {
                // The group's pixels: left padding, the image, right padding.
                let start = (g * pw + geo.pad[1]) * 4;
                let len = w.min(pw - geo.pad[1]);
                let group = &mut row[g * pw * 4..(g + 1) * pw * 4];
                group[..geo.pad[1] * 4].fill(zp);
                group[geo.pad[1] * 4 + len * 4..].fill(zp);
                interleave4(
                    [&a[..len], &b[..len], &c[..len], &d[..len]],
                    &mut row[start..][..len * 4],
                );
            } else {
                // Column x + pad[1] is pixel j of phase p; no division.
                let (mut j, mut p) = (geo.pad[1] / sx, geo.pad[1] % sx);
                for x in 0..w {
                    if j >= pw {
                        break;
                    }
                    let at = ((p * groups + g) * pw + j) * 4;
                    row[at..at + 4].copy_from_slice(&[a[x], b[x], c[x], d[x]]);
                    p += 1;
                    if p == sx {
                        (j, p) = (j + 1, 0);
                    }
                }
            }
        }
    }
}

/// `dst[4x + j] = planes[j][x]`: four channel rows into one row of 4-byte
/// pixels (16 pixels per step with SSE2's byte unpacks on x86_64).
fn interleave4(planes: [&[u8]; 4], dst: &mut [u8]) {
    let [a, b, c, d] = planes;
    #[cfg(target_arch = "x86_64")]
    let done = {
        use std::arch::x86_64::*;
        let blocks = a.len() / 16;
        for i in 0..blocks {
            let x = i * 16;
            // SAFETY: SSE2 is part of x86_64; the loads read planes[j][x..x + 16]
            // and the stores write dst[4x..4x + 64], both in bounds.
            unsafe {
                let load = |p: &[u8]| _mm_loadu_si128(p.as_ptr().add(x) as *const __m128i);
                let (va, vb, vc, vd) = (load(a), load(b), load(c), load(d));
                let (ab_lo, ab_hi) = (_mm_unpacklo_epi8(va, vb), _mm_unpackhi_epi8(va, vb));
                let (cd_lo, cd_hi) = (_mm_unpacklo_epi8(vc, vd), _mm_unpackhi_epi8(vc, vd));
                let out = dst.as_mut_ptr().add(4 * x) as *mut __m128i;
                _mm_storeu_si128(out, _mm_unpacklo_epi16(ab_lo, cd_lo));
                _mm_storeu_si128(out.add(1), _mm_unpackhi_epi16(ab_lo, cd_lo));
                _mm_storeu_si128(out.add(2), _mm_unpacklo_epi16(ab_hi, cd_hi));
                _mm_storeu_si128(out.add(3), _mm_unpackhi_epi16(ab_hi, cd_hi));
            }
        }
        blocks * 16
    };
    #[cfg(not(target_arch = "x86_64"))]
    let done = 0;
    for x in done..a.len() {
        dst[4 * x..4 * x + 4].copy_from_slice(&[a[x], b[x], c[x], d[x]]);
    }
}

/// One band's work as every kernel reads it: the conv, its packed input
/// rows (from [`pack_rows`]) and where its output goes, with the packed
/// layout's strides worked out once.
#[derive(Clone, Copy)]
pub(crate) struct Band<'a> {
    pub q: &'a QConv,
    pub packed: &'a [u8],
    /// Output width.
    pub w: usize,
    /// Output rows in the band.
    pub n: usize,
    /// The band's first output element of channel 0.
    pub out: *mut u8,
    /// The skip input's element there (f32, laid out as the output), or
    /// null when the tail adds none.
    pub skip: *const f32,
    /// Elements between output channel planes (rows are `w` apart).
    pub plane: usize,
    /// Groups of four input channels.
    pub groups: usize,
    /// Pixels in one column phase of a packed row.
    pub pw: usize,
    /// Bytes in one packed row.
    pub row_bytes: usize,
    /// 32-bit weight words in one block of 16 output channels (the SIMD
    /// kernels' stride; the scalar one indexes bytes).
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    pub block_weights: usize,
}

impl Band<'_> {
    /// Byte offsets from an output row's packed input (row `y · sy`,
    /// column 0) to each (kernel row, kernel column, group) the kernels
    /// read, in the weights' order: worked out once per band, so the
    /// inner loops walk one list instead of re-deriving each tap's column
    /// (a division for strided convs) per block. A block at output
    /// column `x0` reads 4 · `x0` bytes further on. (The AVX2 kernel's;
    /// in the AVX-512 one, whose taps each feed 16 outputs, it measured
    /// no faster.)
    #[cfg(target_arch = "x86_64")]
    pub fn offsets(&self) -> Vec<usize> {
        let g = &self.q.geo;
        let mut offsets = Vec::with_capacity(g.kh * g.kw * self.groups);
        for ky in 0..g.kh {
            for kx in 0..g.kw {
                let tap = ky * g.dy * self.row_bytes + g.tap_offset(self.w, kx, 0);
                offsets.extend((0..self.groups).map(|gi| tap + gi * self.pw * 4));
            }
        }
        offsets
    }
}

/// Run output rows `0..n` of a band with kernel `kind`: `packed` from
/// [`pack_rows`], `w` the output width, `out` at the band's first output
/// element of channel 0, channel planes `plane` elements apart, rows `w`
/// apart; `skip` (null when the tail adds none) at the same element of
/// the skip input.
///
/// # Safety
/// `out` must be valid for writes of `cout` planes of `plane` elements of
/// the conv's output type from there, `n * w` of each written, and `skip`,
/// when the tail adds it, for reads of the same f32 elements; `kind` must
/// run on this CPU.
pub(crate) unsafe fn run_band(
    kind: Kind,
    q: &QConv,
    packed: &[u8],
    (w, n): (usize, usize),
    out: *mut u8,
    skip: *const f32,
    plane: usize,
) {
    let g = &q.geo;
    let band = Band {
        q,
        packed,
        w,
        n,
        out,
        skip,
        plane,
        groups: g.groups(),
        pw: g.phase_width(w),
        row_bytes: g.row_bytes(w),
        block_weights: g.kh * g.kw * g.groups() * 16,
    };
    assert!(
        packed.len() >= g.band_rows(n) * band.row_bytes,
        "packed rows too short"
    );
    // SAFETY (each arm): forwarded from the caller, rows checked above.
    match kind {
        Kind::Scalar => unsafe { scalar::band(band) },
        #[cfg(target_arch = "x86_64")]
        Kind::Avx512Vnni => unsafe { avx512::band(band) },
        #[cfg(target_arch = "x86_64")]
        Kind::Avx2 => unsafe { avx2::band(band) },
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        Kind::Amx => unsafe { amx::band(band) },
    }
}
