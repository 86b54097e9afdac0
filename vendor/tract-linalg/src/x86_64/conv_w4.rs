#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// The inputs of eight consecutive output points, `stride` elements apart. Stride 2 loads the
/// sixteen elements from `p`, one more than it keeps.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn load8(p: *const f32, stride: isize) -> __m256 {
    unsafe {
        match stride {
            1 => _mm256_loadu_ps(p),
            2 => {
                let a = _mm256_loadu_ps(p);
                let b = _mm256_loadu_ps(p.add(8));
                let lo = _mm256_permute2f128_ps(a, b, 0x20);
                let hi = _mm256_permute2f128_ps(a, b, 0x31);
                _mm256_shuffle_ps(lo, hi, 0x88)
            }
            _ => {
                let s = stride as i32;
                let idx = _mm256_setr_epi32(0, s, 2 * s, 3 * s, 4 * s, 5 * s, 6 * s, 7 * s);
                _mm256_i32gather_ps(p, idx, 4)
            }
        }
    }
}

/// edgegan patch: the fused LeakyRelu of [`crate::routines::ConvW4F32`], `x > 0 ? x : alpha * x`
/// lane by lane, on a vector about to be stored; `x` itself without a slope.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn leaky_avx2(x: __m256, leaky: Option<f32>) -> __m256 {
    match leaky {
        Some(alpha) => {
            let positive = _mm256_cmp_ps::<_CMP_GT_OQ>(x, _mm256_setzero_ps());
            _mm256_blendv_ps(_mm256_mul_ps(_mm256_set1_ps(alpha), x), x, positive)
        }
        None => x,
    }
}

/// Four channels of a convolution along W, as [`crate::routines::ConvW4F32`] describes, eight
/// output points to a vector. Input strides 1, 2 and 3 are vectorised; any other stride, and the
/// last few points of a run, are computed one point at a time. No load reaches past
/// `offsets[t] + (len - 1) * in_stride`.
///
/// # Safety
/// As [`crate::routines::ConvW4F32`], on a machine with AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
pub unsafe fn conv_w4_f32(
    input: *const f32,
    output: *mut f32,
    taps: &[f32],
    offsets: &[isize],
    bias: &[f32; 4],
    len: usize,
    in_stride: isize,
    oc_stride: isize,
    leaky: Option<f32>,
) {
    unsafe {
        let n = offsets.len();
        let mut i = 0usize;
        if (1..=3).contains(&in_stride) {
            let b0 = _mm256_set1_ps(bias[0]);
            let b1 = _mm256_set1_ps(bias[1]);
            let b2 = _mm256_set1_ps(bias[2]);
            let b3 = _mm256_set1_ps(bias[3]);
            // load8 reads one element past its last point at stride 2, which belongs to the
            // next output point, so that point has to be in the run too.
            let block = if in_stride == 2 { 9 } else { 8 };
            while i + 8 + block <= len {
                let (mut a0, mut a1, mut a2, mut a3) = (b0, b1, b2, b3);
                let (mut a4, mut a5, mut a6, mut a7) = (b0, b1, b2, b3);
                for t in 0..n {
                    let p = input.offset(offsets[t] + i as isize * in_stride);
                    let x = load8(p, in_stride);
                    let y = load8(p.offset(8 * in_stride), in_stride);
                    let k0 = _mm256_set1_ps(taps[t]);
                    let k1 = _mm256_set1_ps(taps[n + t]);
                    let k2 = _mm256_set1_ps(taps[2 * n + t]);
                    let k3 = _mm256_set1_ps(taps[3 * n + t]);
                    a0 = _mm256_fmadd_ps(x, k0, a0);
                    a1 = _mm256_fmadd_ps(x, k1, a1);
                    a2 = _mm256_fmadd_ps(x, k2, a2);
                    a3 = _mm256_fmadd_ps(x, k3, a3);
                    a4 = _mm256_fmadd_ps(y, k0, a4);
                    a5 = _mm256_fmadd_ps(y, k1, a5);
                    a6 = _mm256_fmadd_ps(y, k2, a6);
                    a7 = _mm256_fmadd_ps(y, k3, a7);
                }
                _mm256_storeu_ps(output.add(i), leaky_avx2(a0, leaky));
                _mm256_storeu_ps(output.offset(oc_stride).add(i), leaky_avx2(a1, leaky));
                _mm256_storeu_ps(output.offset(2 * oc_stride).add(i), leaky_avx2(a2, leaky));
                _mm256_storeu_ps(output.offset(3 * oc_stride).add(i), leaky_avx2(a3, leaky));
                _mm256_storeu_ps(output.add(i + 8), leaky_avx2(a4, leaky));
                _mm256_storeu_ps(output.offset(oc_stride).add(i + 8), leaky_avx2(a5, leaky));
                _mm256_storeu_ps(output.offset(2 * oc_stride).add(i + 8), leaky_avx2(a6, leaky));
                _mm256_storeu_ps(output.offset(3 * oc_stride).add(i + 8), leaky_avx2(a7, leaky));
                i += 16;
            }
            while i + block <= len {
                let (mut a0, mut a1, mut a2, mut a3) = (b0, b1, b2, b3);
                for t in 0..n {
                    let x = load8(input.offset(offsets[t] + i as isize * in_stride), in_stride);
                    a0 = _mm256_fmadd_ps(x, _mm256_set1_ps(taps[t]), a0);
                    a1 = _mm256_fmadd_ps(x, _mm256_set1_ps(taps[n + t]), a1);
                    a2 = _mm256_fmadd_ps(x, _mm256_set1_ps(taps[2 * n + t]), a2);
                    a3 = _mm256_fmadd_ps(x, _mm256_set1_ps(taps[3 * n + t]), a3);
                }
                _mm256_storeu_ps(output.add(i), leaky_avx2(a0, leaky));
                _mm256_storeu_ps(output.offset(oc_stride).add(i), leaky_avx2(a1, leaky));
                _mm256_storeu_ps(output.offset(2 * oc_stride).add(i), leaky_avx2(a2, leaky));
                _mm256_storeu_ps(output.offset(3 * oc_stride).add(i), leaky_avx2(a3, leaky));
                i += 8;
            }
        }
        scalar(input, output, taps, offsets, bias, i, len, in_stride, oc_stride, leaky);
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
unsafe fn scalar(
    input: *const f32,
    output: *mut f32,
    taps: &[f32],
    offsets: &[isize],
    bias: &[f32; 4],
    from: usize,
    len: usize,
    in_stride: isize,
    oc_stride: isize,
    leaky: Option<f32>,
) {
    unsafe {
        let n = offsets.len();
        for i in from..len {
            for o in 0..4 {
                let mut sum = bias[o];
                // edgegan patch: one fused multiply-add per tap, as the vector points get, so a
                // point's value does not depend on whether it falls in a vector or in the tail
                // (nor on the kernel: AVX-512 has no scalar tail, NEON's is `len % 4` points).
                for t in 0..n {
                    let x = *input.offset(offsets[t] + i as isize * in_stride);
                    sum = taps[o * n + t].mul_add(x, sum);
                }
                if let Some(alpha) = leaky {
                    sum = if sum > 0.0 { sum } else { alpha * sum };
                }
                *output.offset(o as isize * oc_stride).add(i) = sum;
            }
        }
    }
}

/// edgegan patch: `V` vectors of sixteen consecutive output points (stride 1) from `i`, four
/// channels, the last vector masked by `last`. Each point is `bias` plus every tap in order,
/// one fused multiply-add each, as [`conv_w4_f32`] computes its vector points.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
#[inline]
unsafe fn avx512_tile<const V: usize>(
    input: *const f32,
    output: *mut f32,
    taps: &[f32],
    offsets: &[isize],
    bias: &[f32; 4],
    i: usize,
    last: __mmask16,
    oc_stride: isize,
    leaky: Option<f32>,
) {
    unsafe {
        let n = offsets.len();
        let mut acc = [[_mm512_setzero_ps(); V]; 4];
        for (o, acc) in acc.iter_mut().enumerate() {
            for a in acc.iter_mut() {
                *a = _mm512_set1_ps(bias[o]);
            }
        }
        let mask = |v: usize| if v + 1 == V { last } else { 0xFFFF };
        for t in 0..n {
            let p = input.offset(*offsets.get_unchecked(t)).add(i);
            let mut x = [_mm512_setzero_ps(); V];
            for (v, x) in x.iter_mut().enumerate() {
                *x = _mm512_maskz_loadu_ps(mask(v), p.add(16 * v));
            }
            for (o, acc) in acc.iter_mut().enumerate() {
                let k = _mm512_set1_ps(*taps.get_unchecked(o * n + t));
                for (a, x) in acc.iter_mut().zip(x.iter()) {
                    *a = _mm512_fmadd_ps(*x, k, *a);
                }
            }
        }
        // edgegan patch: the fused LeakyRelu, x > 0 ? x : alpha * x, in the register.
        let alpha = _mm512_set1_ps(leaky.unwrap_or(1.0));
        for (o, acc) in acc.iter().enumerate() {
            let out = output.offset(o as isize * oc_stride).add(i);
            for (v, &a) in acc.iter().enumerate() {
                let a = match leaky {
                    Some(_) => {
                        let positive = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(a, _mm512_setzero_ps());
                        _mm512_mask_mul_ps(a, !positive, alpha, a)
                    }
                    None => a,
                };
                _mm512_mask_storeu_ps(out.add(16 * v), mask(v), a);
            }
        }
    }
}

/// edgegan patch: [`conv_w4_f32`] with 512-bit vectors, four of them (64 points) a tile at
/// stride 1, and masked loads and stores for the end of a run instead of a scalar loop, so a
/// tile does sixteen multiply-adds for eight loads. Other strides go to [`conv_w4_f32`].
///
/// # Safety
/// As [`crate::routines::ConvW4F32`], on a machine with AVX-512F, AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
#[allow(clippy::too_many_arguments)]
pub unsafe fn conv_w4_f32_avx512(
    input: *const f32,
    output: *mut f32,
    taps: &[f32],
    offsets: &[isize],
    bias: &[f32; 4],
    len: usize,
    in_stride: isize,
    oc_stride: isize,
    leaky: Option<f32>,
) {
    unsafe {
        if in_stride != 1 {
            return conv_w4_f32(input, output, taps, offsets, bias, len, in_stride, oc_stride, leaky);
        }
        let mut i = 0usize;
        while i + 64 <= len {
            avx512_tile::<4>(input, output, taps, offsets, bias, i, 0xFFFF, oc_stride, leaky);
            i += 64;
        }
        let rem = len - i;
        let last = if rem % 16 == 0 { 0xFFFF } else { (1u16 << (rem % 16)) - 1 };
        match rem.div_ceil(16) {
            1 => avx512_tile::<1>(input, output, taps, offsets, bias, i, last, oc_stride, leaky),
            2 => avx512_tile::<2>(input, output, taps, offsets, bias, i, last, oc_stride, leaky),
            3 => avx512_tile::<3>(input, output, taps, offsets, bias, i, last, oc_stride, leaky),
            4 => avx512_tile::<4>(input, output, taps, offsets, bias, i, last, oc_stride, leaky),
            _ => (),
        }
    }
}

bail_stub!(x86_64; pub unsafe fn conv_w4_f32_avx512(
    *const f32, *mut f32, &[f32], &[isize], &[f32; 4], usize, isize, isize, Option<f32>
));

submit_routine!(x86_64; ConvW4F32, ConvW4, "x86_64_avx512_conv_w4_f32", conv_w4_f32_avx512,
    isa(X86_64Avx512f, X86_64Avx2, X86_64Fma));

bail_stub!(x86_64; pub unsafe fn conv_w4_f32(
    *const f32, *mut f32, &[f32], &[isize], &[f32; 4], usize, isize, isize, Option<f32>
));

submit_routine!(x86_64; ConvW4F32, ConvW4, "x86_64_fma_conv_w4_f32", conv_w4_f32,
    isa(X86_64Avx2, X86_64Fma));

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    const SENTINEL: f32 = -1234.5;

    fn check(in_stride: isize, len: usize, channels: usize, kernel: usize) {
        for leaky in [None, Some(0.1), Some(0.0), Some(1.0)] {
            check_with(conv_w4_f32, in_stride, len, channels, kernel, leaky)
        }
    }

    fn check_with(
        run: crate::routines::ConvW4F32,
        in_stride: isize,
        len: usize,
        channels: usize,
        kernel: usize,
        leaky: Option<f32>,
    ) {
        let row = 64 + len * in_stride as usize;
        let offsets: Vec<isize> =
            (0..channels).flat_map(|c| (0..kernel).map(move |k| (c * row + k) as isize)).collect();
        let n = offsets.len();
        let extent = offsets[n - 1] as usize + len.saturating_sub(1) * in_stride as usize + 1;
        let input: Vec<f32> = (0..extent).map(|i| ((i * 7919 % 211) as f32 - 105.) / 50.).collect();
        let taps: Vec<f32> = (0..4 * n).map(|t| ((t * 104729 % 97) as f32 - 48.) / 30.).collect();
        let bias = [0.5, -1.25, 2.0, 0.0];
        let oc_stride = len + 5;
        let mut output = vec![SENTINEL; 4 * oc_stride];
        unsafe {
            run(
                input.as_ptr(),
                output.as_mut_ptr(),
                &taps,
                &offsets,
                &bias,
                len,
                in_stride,
                oc_stride as isize,
                leaky,
            )
        };
        for o in 0..4 {
            for i in 0..oc_stride {
                let got = output[o * oc_stride + i];
                if i >= len {
                    assert_eq!(got, SENTINEL, "wrote past the run: o={o} i={i}");
                    continue;
                }
                let sum = (0..n).fold(bias[o], |sum, t| {
                    sum + taps[o * n + t] * input[(offsets[t] + (i as isize) * in_stride) as usize]
                });
                let want = match leaky {
                    Some(alpha) if sum <= 0.0 => alpha * sum,
                    _ => sum,
                };
                let tol = 1e-5 * (1. + want.abs());
                assert!(
                    (got - want).abs() <= tol,
                    "stride {in_stride} len {len} {leaky:?} o={o} i={i}: got {got}, want {want}"
                );
            }
        }
    }

    #[test]
    fn matches_reference() {
        if !(is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")) {
            return;
        }
        for in_stride in 1..=4 {
            for len in 0..40 {
                check(in_stride, len, 3, 3);
                check(in_stride, len, 1, 2);
            }
        }
    }

    #[test]
    fn avx512_matches_reference() {
        if !(is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("fma"))
        {
            return;
        }
        for in_stride in 1..=3 {
            for len in 0..150 {
                for leaky in [None, Some(0.1), Some(0.0), Some(1.0)] {
                    check_with(conv_w4_f32_avx512, in_stride, len, 3, 3, leaky);
                    check_with(conv_w4_f32_avx512, in_stride, len, 1, 2, leaky);
                }
            }
        }
    }
}
