//! The AVX2 kernel, for x86 CPUs without VNNI: per block of 8 pixels × 8
//! output channels, eight ymm accumulators; `vpmaddubsw` multiplies the
//! 8 pixels × 4 channels of a load by a channel's 4 weights and adds
//! adjacent pairs into i16, `vpmaddwd` by ones adds the two pairs into i32.
//! The i16 pair sums are exact only while |w₀| + |w₁| ≤ 128 for every
//! pair of input channels (2j, 2j + 1) of a tap (255 · 128 < 2¹⁵), so
//! [`bounded`] gates it; edgegan's export keeps its weights so.

use std::arch::x86_64::*;

use super::Band;
use super::MAGIC;
use crate::engine::qconv::op::{Output, QConv, Quant};

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
    let offsets = b.offsets();
    let Band {
        q,
        packed,
        w,
        n,
        out,
        skip,
        plane,
        row_bytes,
        block_weights,
        ..
    } = b;
    let g = &q.geo;
    let ones = _mm256_set1_epi16(1);
    for y in 0..n {
        // SAFETY (all pointer arithmetic below): as in the AVX-512
        // kernel; an 8-pixel block ends at most at x0 + 7 + (kw-1)·dx
        // / sx < phase_width; half blocks of weights are inside blocks.
        let row = unsafe { packed.as_ptr().add(y * g.sy * row_bytes) };
        for o0 in (0..g.cout).step_by(8) {
            let wb = unsafe {
                (q.weights.as_ptr() as *const i32).add((o0 / 16) * block_weights + o0 % 16)
            };
            for x0 in (0..w).step_by(8) {
                let col = unsafe { row.add(x0 * 4) };
                let mut acc = [_mm256_setzero_si256(); 8];
                for (i, &off) in offsets.iter().enumerate() {
                    let a = unsafe { _mm256_loadu_si256(col.add(off) as *const _) };
                    let wg = unsafe { wb.add(i * 16) };
                    for (o, acc) in acc.iter_mut().enumerate() {
                        let k = _mm256_set1_epi32(unsafe { *wg.add(o) });
                        let pairs = _mm256_maddubs_epi16(a, k);
                        *acc = _mm256_add_epi32(*acc, _mm256_madd_epi16(pairs, ones));
                    }
                }
                let at = o0 * plane + y * w + x0;
                // SAFETY: the caller's output and skip input, from the
                // block's first element, `plane` apart per channel.
                unsafe { tail_store(q, o0, &acc, (out, skip), (at, plane), w - x0) };
            }
        }
    }
}

/// Output channels `o0 ..` (at most 8, up to `cout`) of one block's sums
/// `acc` through the f32 tail (as the AVX-512 one: tract's Cast, Mul, Add,
/// LeakyRelu select, skip Add, then f32 or the quantizer, each rounded on
/// its own), stored at element `at` of `out` onwards, channels `plane`
/// elements apart, `left.min(8)` pixels each.
///
/// # Safety
/// `out` (and `skip` where the tail adds it, as f32) must be valid for
/// those elements of the conv's output type; the CPU must have AVX2.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn tail_store(
    q: &QConv,
    o0: usize,
    acc: &[__m256i; 8],
    (out, skip): (*mut u8, *const f32),
    (at, plane): (usize, usize),
    left: usize,
) {
    let t = &q.tail;
    let live = (q.geo.cout - o0).min(8);
    let left = left.min(8);
    let zero = _mm256_setzero_ps();
    // Lanes below `left`, for the masked loads and stores at a row's end.
    let mask = _mm256_cmpgt_epi32(
        _mm256_set1_epi32(left as i32),
        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
    );
    let mut v = [zero; 8];
    for (o, v) in v.iter_mut().enumerate().take(live) {
        let oc = o0 + o;
        let s = _mm256_add_epi32(acc[o], _mm256_set1_epi32(t.corr[oc]));
        let x = _mm256_mul_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(t.mul[oc]));
        let mut x = _mm256_add_ps(x, _mm256_set1_ps(t.add[oc]));
        if let Some(alpha) = t.alpha {
            let neg = _mm256_cmp_ps::<_CMP_LT_OQ>(x, zero);
            x = _mm256_blendv_ps(x, _mm256_mul_ps(x, _mm256_set1_ps(alpha)), neg);
        }
        if t.skip {
            // tract's Add of the skip branch: one rounding, either order.
            // SAFETY: the caller's skip input, masked to the live pixels.
            let s = unsafe { _mm256_maskload_ps(skip.add(at + o * plane), mask) };
            x = _mm256_add_ps(x, s);
        }
        *v = x;
    }
    match t.output {
        Output::F32 => {
            for (o, v) in v.iter().enumerate().take(live) {
                // SAFETY: the caller's output, masked to the live pixels.
                unsafe { _mm256_maskstore_ps((out as *mut f32).add(at + o * plane), mask, *v) };
            }
        }
        Output::U8(Quant {
            inv_scale,
            zero_point,
        }) => {
            // tract's NaN and 2^22 guards are left out, as in the AVX-512
            // tail (`Tail::bounded`): they cannot change a result.
            let magic = _mm256_set1_ps(MAGIC);
            let quantize = |x: __m256| {
                let x = _mm256_mul_ps(x, _mm256_set1_ps(inv_scale));
                let x = _mm256_sub_ps(_mm256_add_ps(x, magic), magic);
                let x = _mm256_add_ps(x, _mm256_set1_ps(zero_point as f32));
                let x = _mm256_min_ps(_mm256_max_ps(x, zero), _mm256_set1_ps(255.0));
                _mm256_cvttps_epi32(x)
            };
            // Four channels' 8 bytes each per register: the packs keep
            // 128-bit lanes apart, the permute puts each channel's two
            // halves together. Values are in [0, 255], so no pack saturates.
            let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
            for q4 in 0..live.div_ceil(4) {
                let c = |j: usize| quantize(v[4 * q4 + j]);
                let lo = _mm256_packus_epi32(c(0), c(1));
                let hi = _mm256_packus_epi32(c(2), c(3));
                let bytes = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(lo, hi), order);
                let mut lanes = [0u64; 4];
                // SAFETY: a 32-byte store into a 32-byte array.
                unsafe { _mm256_storeu_si256(lanes.as_mut_ptr() as *mut _, bytes) };
                for (j, lane) in lanes.iter().enumerate().take(live - 4 * q4) {
                    let dst = unsafe { out.add(at + (4 * q4 + j) * plane) };
                    // SAFETY: the caller's output, `left` bytes of this channel.
                    if left == 8 {
                        unsafe { (dst as *mut u64).write_unaligned(lane.to_le()) };
                    } else {
                        let bytes = lane.to_le_bytes();
                        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, left) };
                    }
                }
            }
        }
    }
}
