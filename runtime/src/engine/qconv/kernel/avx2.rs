//! The AVX2 kernel, for x86 CPUs without VNNI: per block of 8 pixels × 8
//! output channels, eight ymm accumulators; `vpmaddubsw` multiplies the
//! 8 pixels × 4 channels of a load by a channel's 4 weights and adds
//! adjacent pairs into i16, `vpmaddwd` by ones adds the two pairs into i32.
//! The i16 pair sums are exact only while |w₀| + |w₁| ≤ 128 for every
//! pair of input channels (2j, 2j + 1) of a tap (255 · 128 < 2¹⁵), so
//! [`bounded`] gates it; edgegan's export keeps its weights so.

use std::arch::x86_64::*;

use super::Band;
use super::{LIMIT, MAGIC};
use crate::engine::qconv::op::Output;

/// Whether the CPU has AVX2 (and tract's `TRACT_CPU_ISA` does not mask it).
pub(super) fn available() -> bool {
    is_x86_feature_detected!("avx2") && !super::masked("avx2")
}

/// Whether every pair of input channels (2j, 2j + 1) of every tap of
/// every output channel of the packed `weights` has |w₀| + |w₁| ≤ 128,
/// so `vpmaddubsw`'s i16 sums never saturate.
pub(crate) fn bounded(weights: &[i8]) -> bool {
    weights
        .chunks_exact(2)
        .all(|p| (p[0] as i32).abs() + (p[1] as i32).abs() <= 128)
}

/// Output rows `0..n` of a band (see `run_band`).
///
/// # Safety
/// As `super::run_band`, on a CPU where [`available`] holds, with weights
/// for which [`bounded`] holds (else sums saturate: wrong, not unsafe).
#[target_feature(enable = "avx2")]
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
    let (g, t) = (&q.geo, &q.tail);
    let ones = _mm256_set1_epi16(1);
    let zero = _mm256_setzero_ps();
    for y in 0..n {
        for o0 in (0..g.cout).step_by(8) {
            let live = (g.cout - o0).min(8);
            // SAFETY (all pointer arithmetic below): as in the AVX-512
            // kernel; an 8-pixel block ends at most at x0 + 7 + (kw-1)·dx
            // / sx < phase_width; half blocks of weights are inside blocks.
            let wb = unsafe {
                (q.weights.as_ptr() as *const i32).add((o0 / 16) * block_weights + o0 % 16)
            };
            for x0 in (0..w).step_by(8) {
                let mut acc = [_mm256_setzero_si256(); 8];
                for ky in 0..g.kh {
                    let row = unsafe { packed.as_ptr().add((y * g.sy + ky * g.dy) * row_bytes) };
                    for kx in 0..g.kw {
                        let col = unsafe { row.add(g.tap_offset(w, kx, x0)) };
                        let wt = unsafe { wb.add((ky * g.kw + kx) * groups * 16) };
                        for gi in 0..groups {
                            let a = unsafe { _mm256_loadu_si256(col.add(gi * pw * 4) as *const _) };
                            let wg = unsafe { wt.add(gi * 16) };
                            for (o, acc) in acc.iter_mut().enumerate() {
                                let k = _mm256_set1_epi32(unsafe { *wg.add(o) });
                                let pairs = _mm256_maddubs_epi16(a, k);
                                *acc = _mm256_add_epi32(*acc, _mm256_madd_epi16(pairs, ones));
                            }
                        }
                    }
                }
                let left = (w - x0).min(8);
                for (o, acc) in acc.iter().enumerate().take(live) {
                    let oc = o0 + o;
                    let s = _mm256_add_epi32(*acc, _mm256_set1_epi32(t.corr[oc]));
                    let v = _mm256_cvtepi32_ps(s);
                    let v = _mm256_mul_ps(v, _mm256_set1_ps(t.mul[oc]));
                    let mut v = _mm256_add_ps(v, _mm256_set1_ps(t.add[oc]));
                    if let Some(alpha) = t.alpha {
                        let neg = _mm256_cmp_ps::<_CMP_LT_OQ>(v, zero);
                        v = _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_set1_ps(alpha)), neg);
                    }
                    let at = oc * plane + y * w + x0;
                    match t.output {
                        Output::F32 => {
                            let mut lanes = [0f32; 8];
                            unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), v) };
                            if t.skip {
                                // tract's Add of the skip branch, lane by lane.
                                for (i, l) in lanes.iter_mut().take(left).enumerate() {
                                    *l += unsafe { *skip.add(at + i) };
                                }
                            }
                            let dst = unsafe { (out as *mut f32).add(at) };
                            unsafe { std::ptr::copy_nonoverlapping(lanes.as_ptr(), dst, left) };
                        }
                        Output::U8 {
                            inv_scale,
                            zero_point,
                        } => {
                            let v = _mm256_mul_ps(v, _mm256_set1_ps(inv_scale));
                            let v = _mm256_and_ps(v, _mm256_cmp_ps::<_CMP_ORD_Q>(v, v));
                            let v = _mm256_min_ps(
                                _mm256_max_ps(v, _mm256_set1_ps(-LIMIT)),
                                _mm256_set1_ps(LIMIT),
                            );
                            let magic = _mm256_set1_ps(MAGIC);
                            let v = _mm256_sub_ps(_mm256_add_ps(v, magic), magic);
                            let v = _mm256_add_ps(v, _mm256_set1_ps(zero_point as f32));
                            let v = _mm256_min_ps(_mm256_max_ps(v, zero), _mm256_set1_ps(255.0));
                            let mut lanes = [0i32; 8];
                            unsafe {
                                _mm256_storeu_si256(
                                    lanes.as_mut_ptr() as *mut _,
                                    _mm256_cvttps_epi32(v),
                                )
                            };
                            for (i, l) in lanes.iter().take(left).enumerate() {
                                unsafe { *out.add(at + i) = *l as u8 };
                            }
                        }
                    }
                }
            }
        }
    }
}
