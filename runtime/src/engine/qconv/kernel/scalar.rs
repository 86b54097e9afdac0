//! The reference kernel: one output value at a time, the same integer sum
//! and the same f32 tail as the SIMD kernels (and as tract's unfused ops).

use super::Band;
use crate::engine::qconv::op::{Output, Tail};

/// Channel `o`'s f32 value for the i32 sum `acc`: tract's Cast, Mul, Add
/// and LeakyRelu, each rounded on its own.
pub(crate) fn tail_f32(t: &Tail, o: usize, acc: i32) -> f32 {
    let v = (acc + t.corr[o]) as f32;
    let v = v * t.mul[o];
    let v = v + t.add[o];
    match t.alpha {
        Some(a) if v < 0.0 => v * a,
        _ => v,
    }
}

/// Output rows `0..n` of a band (see `run_band`).
///
/// # Safety
/// As `super::run_band`.
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
    for y in 0..n {
        for o in 0..g.cout {
            let (b, oo) = (o / 16, o % 16);
            for x in 0..w {
                let mut acc = 0i32;
                for ky in 0..g.kh {
                    for kx in 0..g.kw {
                        let tap = (b * g.kh + ky) * g.kw + kx;
                        for c in 0..groups * 4 {
                            let a = packed[(y * g.sy + ky * g.dy) * row_bytes
                                + g.tap_offset(w, kx, x)
                                + (c / 4) * pw * 4
                                + c % 4];
                            let k = q.weights[((tap * groups + c / 4) * 16 + oo) * 4 + c % 4];
                            acc += a as i32 * k as i32;
                        }
                    }
                }
                let at = o * plane + y * w + x;
                let mut v = tail_f32(&q.tail, o, acc);
                if q.tail.skip {
                    // SAFETY: the skip element the caller vouched for.
                    v += unsafe { *skip.add(at) };
                }
                // SAFETY: `at` is inside the output the caller vouched for.
                unsafe {
                    match q.tail.output {
                        Output::F32 => *(out as *mut f32).add(at) = v,
                        Output::U8(quant) => *out.add(at) = quant.apply(v),
                    }
                }
            }
        }
    }
}
