//! The AVX-512 VNNI kernel: per block of 16 pixels × 16 output channels,
//! sixteen zmm accumulators; each 64-byte load (16 pixels × 4 channels) is
//! multiplied by each channel's 4 weights broadcast from memory
//! (`vpdpbusd`), then the f32 tail runs in registers and stores the
//! block's live channels (masked at the row's end).

use std::arch::x86_64::*;

use super::Band;
use super::MAGIC;
use crate::engine::qconv::op::{Output, QConv, Quant};

/// Whether the CPU has every extension [`band`] uses (and tract's
/// `TRACT_CPU_ISA` masks neither AVX-512 nor VNNI).
pub(super) fn available() -> bool {
    !super::masked("avx512f")
        && !super::masked("avx512vnni")
        && is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vl")
        && is_x86_feature_detected!("avx512vnni")
}

/// Output rows `0..n` of a band (see `run_band`).
///
/// # Safety
/// As `super::run_band`, on a CPU where [`available`] holds.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
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
        block_weights,
    } = b;
    let g = &q.geo;
    let elem = q.output_type().size_of();
    for y in 0..n {
        for b in 0..g.blocks() {
            let live = (g.cout - b * 16).min(16);
            // SAFETY (all pointer arithmetic below): rows up to
            // y·sy + (kh-1)·dy exist (checked by run_band); a block's
            // columns reach at most x0 + 15 + (kw-1)·dx / sx < phase_width
            // in their phase; weights hold whole blocks.
            let wb = unsafe { (q.weights.as_ptr() as *const i32).add(b * block_weights) };
            for x0 in (0..w).step_by(16) {
                let mut acc = [_mm512_setzero_si512(); 16];
                for ky in 0..g.kh {
                    let row = unsafe { packed.as_ptr().add((y * g.sy + ky * g.dy) * row_bytes) };
                    for kx in 0..g.kw {
                        let col = unsafe { row.add(g.tap_offset(w, kx, x0)) };
                        let wt = unsafe { wb.add((ky * g.kw + kx) * groups * 16) };
                        for gi in 0..groups {
                            let a = unsafe { _mm512_loadu_si512(col.add(gi * pw * 4) as *const _) };
                            let wg = unsafe { wt.add(gi * 16) };
                            for (o, acc) in acc.iter_mut().enumerate() {
                                let k = _mm512_set1_epi32(unsafe { *wg.add(o) });
                                *acc = _mm512_dpbusd_epi32(*acc, a, k);
                            }
                        }
                    }
                }
                let mask = row_mask(w - x0);
                for (o, acc) in acc.iter().enumerate().take(live) {
                    let oc = b * 16 + o;
                    let at = oc * plane + y * w + x0;
                    // SAFETY: the caller's output and skip input, masked to
                    // the row's live pixels.
                    unsafe {
                        tail_store(
                            q,
                            oc,
                            *acc,
                            (out.add(at * elem), skip.wrapping_add(at)),
                            mask,
                        )
                    };
                }
            }
        }
    }
}

/// The store mask of a 16-pixel block with `left` pixels left in its row.
#[inline]
pub(super) fn row_mask(left: usize) -> __mmask16 {
    if left >= 16 {
        0xffff
    } else {
        ((1u32 << left) - 1) as u16
    }
}

/// Channel `oc`'s tail on 16 pixels' sums `acc`, stored at `dst` under
/// `mask` (`skip`, ignored where the tail adds none, at the same element
/// of the skip input): tract's Cast, Mul, Add, LeakyRelu select, then f32 or its
/// branchless quantizer, each rounded on its own (no FMA), for a tail
/// whose constants are [`Tail::bounded`](crate::engine::qconv::op::Tail::bounded).
///
/// # Safety
/// `dst` must be valid for the masked pixels' writes of the conv's output
/// type, and `skip` for their f32 reads when the tail adds it; the CPU
/// must have AVX-512 F/BW/VL.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
pub(super) unsafe fn tail_store(
    q: &QConv,
    oc: usize,
    acc: __m512i,
    (dst, skip): (*mut u8, *const f32),
    mask: __mmask16,
) {
    let t = &q.tail;
    let zero = _mm512_setzero_ps();
    let s = _mm512_add_epi32(acc, _mm512_set1_epi32(t.corr[oc]));
    let v = _mm512_cvtepi32_ps(s);
    let v = _mm512_mul_ps(v, _mm512_set1_ps(t.mul[oc]));
    let mut v = _mm512_add_ps(v, _mm512_set1_ps(t.add[oc]));
    if let Some(alpha) = t.alpha {
        let neg = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(v, zero);
        v = _mm512_mask_mul_ps(v, neg, v, _mm512_set1_ps(alpha));
    }
    if t.skip {
        // tract's Add of the skip branch: one rounding, either order.
        // SAFETY: forwarded from the caller.
        v = _mm512_add_ps(v, unsafe { _mm512_maskz_loadu_ps(mask, skip) });
    }
    match t.output {
        // SAFETY (both stores): forwarded from the caller.
        Output::F32 => unsafe { _mm512_mask_storeu_ps(dst as *mut f32, mask, v) },
        Output::U8(Quant {
            inv_scale,
            zero_point,
        }) => {
            // tract zeroes NaNs and clamps |v| to 2^22 before rounding. Here
            // v is never NaN (`Tail::bounded`: the sum times `mul` plus
            // `add` is finite, and so is the LeakyRelu of it; times
            // `inv_scale` it may overflow to ±inf, never to NaN), and a
            // |v| ≥ 2^22, or ±inf, still lands beyond [0, 255] after the
            // rounding below and the zero point, so the final clamp gives
            // tract's 0 or 255: both steps are left out.
            let v = _mm512_mul_ps(v, _mm512_set1_ps(inv_scale));
            let magic = _mm512_set1_ps(MAGIC);
            let v = _mm512_sub_ps(_mm512_add_ps(v, magic), magic);
            let v = _mm512_add_ps(v, _mm512_set1_ps(zero_point as f32));
            let v = _mm512_min_ps(_mm512_max_ps(v, zero), _mm512_set1_ps(255.0));
            let bytes = _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(v));
            unsafe { _mm_mask_storeu_epi8(dst as *mut i8, mask, bytes) };
        }
    }
}
