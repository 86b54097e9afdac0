//! [`super::QConv`]'s inner loops: packing input rows four channels to a
//! 32-bit lane, and the band kernels — AVX-512 VNNI where the CPU has it,
//! a scalar one of the same arithmetic (the reference in tests).

#[cfg(target_arch = "x86_64")]
mod avx512;
mod scalar;

#[cfg(test)]
pub(crate) use scalar::tail_f32;

use super::op::{Geometry, QConv};

/// The band kernels there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Plain Rust, one output value at a time: the tests' reference.
    #[cfg_attr(not(test), allow(dead_code))]
    Scalar,
    /// AVX-512 VNNI: 16 pixels × 16 output channels per block.
    #[cfg(target_arch = "x86_64")]
    Avx512Vnni,
}

/// The fastest kernel this CPU runs, if any is faster than tract's path.
pub(crate) fn best() -> Option<Kind> {
    #[cfg(target_arch = "x86_64")]
    if avx512::available() {
        return Some(Kind::Avx512Vnni);
    }
    None
}

/// Whether [`best`] has a kernel here.
pub(crate) fn simd_available() -> bool {
    best().is_some()
}

impl Kind {
    /// The kernel's name, for plan dumps.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Scalar => "scalar",
            #[cfg(target_arch = "x86_64")]
            Kind::Avx512Vnni => "avx512vnni",
        }
    }
}

/// Input rows `y0 - py ..` of one NCHW u8 image (`h`×`w`, `geo.cin`
/// planes) as the kernels read them: `n + (kh - 1)·dy` rows of
/// `[group][packed_width][4]` bytes, channel `4g + j` at byte `j` of its
/// pixel, padding (rows and columns outside the image, channels past
/// `cin`) holding the zero point `zp`.
pub(crate) fn pack_rows(
    geo: &Geometry,
    zp: u8,
    src: &[u8],
    h: usize,
    w: usize,
    y0: usize,
    n: usize,
) -> Vec<u8> {
    let (groups, pw) = (geo.groups(), geo.packed_width(w));
    let rows = n + (geo.kh - 1) * geo.dy;
    let row_bytes = groups * pw * 4;
    let mut out = vec![zp; rows * row_bytes];
    let pad = [zp].repeat(w);
    for (r, row) in out.chunks_exact_mut(row_bytes).enumerate() {
        let Some(y) = (y0 + r).checked_sub(geo.py).filter(|&y| y < h) else {
            continue;
        };
        for (g, dst) in row.chunks_exact_mut(pw * 4).enumerate() {
            let plane = |j: usize| {
                let c = 4 * g + j;
                if c < geo.cin {
                    &src[(c * h + y) * w..][..w]
                } else {
                    &pad[..]
                }
            };
            let (a, b, c, d) = (plane(0), plane(1), plane(2), plane(3));
            let dst = &mut dst[geo.px * 4..][..w * 4];
            for (x, px) in dst.chunks_exact_mut(4).enumerate() {
                px.copy_from_slice(&[a[x], b[x], c[x], d[x]]);
            }
        }
    }
    out
}

/// Run output rows `0..n` of a band with kernel `kind`: `packed` from
/// [`pack_rows`], `out` at the band's first output element of channel 0,
/// channel planes `plane` elements apart, rows `w` apart.
///
/// # Safety
/// `out` must be valid for writes of `cout` planes of `plane` elements of
/// the conv's output type from there, `n * w` of each written; `kind` must
/// run on this CPU.
pub(crate) unsafe fn run_band(
    kind: Kind,
    conv: &QConv,
    packed: &[u8],
    w: usize,
    n: usize,
    out: *mut u8,
    plane: usize,
) {
    let need =
        (n + (conv.geo.kh - 1) * conv.geo.dy) * conv.geo.groups() * conv.geo.packed_width(w) * 4;
    assert!(packed.len() >= need, "packed rows too short");
    match kind {
        Kind::Scalar => scalar::band(conv, packed, w, n, out, plane),
        // SAFETY: forwarded from the caller, rows checked above.
        #[cfg(target_arch = "x86_64")]
        Kind::Avx512Vnni => unsafe { avx512::band(conv, packed, w, n, out, plane) },
    }
}
