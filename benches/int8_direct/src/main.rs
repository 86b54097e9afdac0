//! One 3×3, 32→32, stride-1, "same" convolution layer (an SR body conv at
//! LR resolution) run two ways on AVX-512, side by side:
//!
//! * **int8**: u8 activations (per-tensor zero point), s8 weights (per
//!   output channel, no zero point), `vpdpbusd` accumulating 4 input
//!   channels × 16 pixels per instruction, then requantized in registers
//!   (i32 → f32 · scale + bias, LeakyReLU 0.1, quantize to the next layer's
//!   u8) and written in the layout the next layer reads. No im2col, no
//!   separate Cast / rescale / QuantizeLinear passes.
//! * **f32**: the same loop with `vfmadd` (16 pixels × 1 input channel per
//!   instruction) and the same fused bias + LeakyReLU.
//!
//! Layouts (rows padded by one pixel on each side, the padding holding the
//! zero point): int8 rows are `[channel group of 4][x][4 bytes]`, so 16
//! pixels of one group are 64 contiguous bytes; f32 rows are `[channel][x]`.
//!
//!     cargo run --release -- [SIDE] [ROUNDS]
//!
//! Prints the CPU, the median ms of each kernel over ROUNDS alternated
//! rounds and their ratio, after checking the int8 output against a scalar
//! reference of the same arithmetic (exact, every byte).

use std::arch::x86_64::*;
use std::time::Instant;

const C: usize = 32;
const G: usize = C / 4;
const SLOPE: f32 = 0.1;

/// Quantization of one layer.
struct Layer {
    /// s8 weights `[o][ky][kx][g][4]`.
    w8: Vec<i8>,
    /// f32 weights `[o][ky][kx][c]` (the dequantized s8 ones).
    wf: Vec<f32>,
    /// Per output channel: combined scale (input scale × weight scale ÷ next scale).
    scale: Vec<f32>,
    /// Per output channel: bias in next-layer units, the input zero point folded in.
    bias: Vec<f32>,
    /// f32 bias per output channel.
    bias_f: Vec<f32>,
    zp_in: u8,
    zp_out: u8,
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
}

fn layer(rng: &mut Rng) -> Layer {
    let (s_in, s_out, zp_in, zp_out) = (0.02f32, 0.03f32, 20u8, 12u8);
    let mut w8 = vec![0i8; C * 9 * C];
    let mut wf = vec![0f32; C * 9 * C];
    let mut scale = vec![0f32; C];
    let mut bias = vec![0f32; C];
    let mut bias_f = vec![0f32; C];
    for o in 0..C {
        let sw = 0.002 + 0.002 * rng.unit();
        let b = rng.unit() - 0.5;
        let mut sum = 0i32;
        for t in 0..9 {
            for c in 0..C {
                let q = (rng.next() % 255) as i32 - 127;
                sum += q;
                w8[((o * 9 + t) * G + c / 4) * 4 + c % 4] = q as i8;
                wf[(o * 9 + t) * C + c] = q as f32 * sw;
            }
        }
        scale[o] = s_in * sw / s_out;
        bias[o] = (b - s_in * sw * zp_in as f32 * sum as f32) / s_out;
        bias_f[o] = b;
    }
    Layer {
        w8,
        wf,
        scale,
        bias,
        bias_f,
        zp_in,
        zp_out,
    }
}

/// Requantize one i32 sum as the kernel does (f32 multiply-add, LeakyReLU
/// as a max, round to nearest even, saturate).
fn requant(acc: i32, l: &Layer, o: usize) -> u8 {
    let v = (acc as f32).mul_add(l.scale[o], l.bias[o]);
    // LeakyReLU in real units: the zero of the output is at zp_out.
    let v = v.max(v * SLOPE);
    (v.round_ties_even() + l.zp_out as f32).clamp(0.0, 255.0) as u8
}

fn reference(inp: &[u8], w: usize, h: usize, l: &Layer) -> Vec<u8> {
    let pw = w + 2;
    let mut out = vec![l.zp_out; G * pw * 4 * (h + 2)];
    for y in 0..h {
        for x in 0..w {
            for o in 0..C {
                let mut acc = 0i32;
                for ky in 0..3 {
                    for kx in 0..3 {
                        for c in 0..C {
                            let a = inp[((y + ky) * G + c / 4) * pw * 4 + (x + kx) * 4 + c % 4];
                            let b = l.w8[((o * 9 + ky * 3 + kx) * G + c / 4) * 4 + c % 4];
                            acc += a as i32 * b as i32;
                        }
                    }
                }
                out[((y + 1) * G + o / 4) * pw * 4 + (x + 1) * 4 + o % 4] = requant(acc, l, o);
            }
        }
    }
    out
}

/// The int8 layer: `inp` and `out` are `(h + 2)` padded rows of
/// `[g][w + 2][4]` bytes; `w` a multiple of 16.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn conv_i8(inp: &[u8], out: &mut [u8], w: usize, h: usize, l: &Layer) {
    let pw = w + 2;
    let row = G * pw * 4;
    let slope = _mm512_set1_ps(SLOPE);
    let zp = _mm512_set1_ps(l.zp_out as f32);
    let zero = _mm512_setzero_ps();
    for y in 0..h {
        for x0 in (0..w).step_by(16) {
            for half in 0..2 {
                let mut acc = [_mm512_setzero_si512(); 16];
                for ky in 0..3 {
                    let r = inp.as_ptr().add((y + ky) * row);
                    for kx in 0..3 {
                        for g in 0..G {
                            let a = _mm512_loadu_si512(r.add((g * pw + x0 + kx) * 4) as *const _);
                            let wp =
                                l.w8.as_ptr()
                                    .add(((half * 16 * 9 + ky * 3 + kx) * G + g) * 4)
                                    as *const i32;
                            for (o, acc) in acc.iter_mut().enumerate() {
                                let b = _mm512_set1_epi32(*wp.add(o * 9 * G));
                                *acc = _mm512_dpbusd_epi32(*acc, a, b);
                            }
                        }
                    }
                }
                let mut q = [_mm_setzero_si128(); 16];
                for o in 0..16 {
                    let oc = half * 16 + o;
                    let v = _mm512_fmadd_ps(
                        _mm512_cvtepi32_ps(acc[o]),
                        _mm512_set1_ps(l.scale[oc]),
                        _mm512_set1_ps(l.bias[oc]),
                    );
                    let v = _mm512_max_ps(v, _mm512_mul_ps(v, slope));
                    let v = _mm512_max_ps(_mm512_add_ps(_mm512_roundscale_ps::<0>(v), zp), zero);
                    q[o] = _mm512_cvtusepi32_epi8(_mm512_cvtps_epu32(v));
                }
                for g4 in 0..4 {
                    let [a, b, c, d] = [q[g4 * 4], q[g4 * 4 + 1], q[g4 * 4 + 2], q[g4 * 4 + 3]];
                    let (t0, t1) = (_mm_unpacklo_epi8(a, b), _mm_unpackhi_epi8(a, b));
                    let (t2, t3) = (_mm_unpacklo_epi8(c, d), _mm_unpackhi_epi8(c, d));
                    let g = half * 4 + g4;
                    let dst = out.as_mut_ptr().add((y + 1) * row + (g * pw + x0 + 1) * 4);
                    _mm_storeu_si128(dst as *mut _, _mm_unpacklo_epi16(t0, t2));
                    _mm_storeu_si128(dst.add(16) as *mut _, _mm_unpackhi_epi16(t0, t2));
                    _mm_storeu_si128(dst.add(32) as *mut _, _mm_unpacklo_epi16(t1, t3));
                    _mm_storeu_si128(dst.add(48) as *mut _, _mm_unpackhi_epi16(t1, t3));
                }
            }
        }
    }
}

/// The f32 layer: `inp` and `out` are `(h + 2)` padded rows of `[c][w + 2]`.
#[target_feature(enable = "avx512f")]
unsafe fn conv_f32(inp: &[f32], out: &mut [f32], w: usize, h: usize, l: &Layer) {
    let pw = w + 2;
    let row = C * pw;
    let slope = _mm512_set1_ps(SLOPE);
    for y in 0..h {
        for x0 in (0..w).step_by(16) {
            for half in 0..2 {
                let mut acc = [_mm512_setzero_ps(); 16];
                for ky in 0..3 {
                    let r = inp.as_ptr().add((y + ky) * row);
                    for kx in 0..3 {
                        for c in 0..C {
                            let a = _mm512_loadu_ps(r.add(c * pw + x0 + kx));
                            let wp = l.wf.as_ptr().add((half * 16 * 9 + ky * 3 + kx) * C + c);
                            for (o, acc) in acc.iter_mut().enumerate() {
                                *acc = _mm512_fmadd_ps(a, _mm512_set1_ps(*wp.add(o * 9 * C)), *acc);
                            }
                        }
                    }
                }
                for (o, acc) in acc.iter().enumerate() {
                    let oc = half * 16 + o;
                    let v = _mm512_add_ps(*acc, _mm512_set1_ps(l.bias_f[oc]));
                    let v = _mm512_max_ps(v, _mm512_mul_ps(v, slope));
                    _mm512_storeu_ps(out.as_mut_ptr().add((y + 1) * row + oc * pw + x0 + 1), v);
                }
            }
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let side = args.first().copied().unwrap_or(256) / 16 * 16;
    let rounds = args.get(1).copied().unwrap_or(15).max(1);
    let cpu = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpu
        .lines()
        .find(|l| l.starts_with("model name"))
        .unwrap_or("model name: ?");
    let flags: Vec<&str> = ["avx2", "avx512f", "avx512_vnni", "amx_int8"]
        .into_iter()
        .filter(|f| cpu.split_whitespace().any(|w| w == *f))
        .collect();
    println!("{model} ({})", flags.join(" "));
    if !(is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vnni"))
    {
        eprintln!("this CPU lacks AVX-512 VNNI: nothing to measure");
        std::process::exit(1);
    }
    let (w, h) = (side, side);
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let l = layer(&mut rng);
    let pw = w + 2;
    let mut in8 = vec![l.zp_in; G * pw * 4 * (h + 2)];
    let mut inf = vec![0f32; C * pw * (h + 2)];
    for y in 0..h {
        for x in 0..w {
            for c in 0..C {
                let q = (rng.next() % 256) as u8;
                in8[((y + 1) * G + c / 4) * pw * 4 + (x + 1) * 4 + c % 4] = q;
                inf[((y + 1) * C + c) * pw + x + 1] = (q as f32 - l.zp_in as f32) * 0.02;
            }
        }
    }
    let mut out8 = vec![l.zp_out; in8.len()];
    let mut outf = vec![0f32; inf.len()];
    // The kernels read padded rows y, y+1, y+2 for output row y, as the
    // reference does; every byte is checked once.
    let want = reference(&in8, w, h, &l);
    unsafe { conv_i8(&in8, &mut out8, w, h, &l) };
    let wrong = want.iter().zip(&out8).filter(|(a, b)| a != b).count();
    assert_eq!(
        wrong, 0,
        "int8 kernel differs from the scalar reference in {wrong} bytes"
    );
    println!("int8 kernel == scalar reference: all {} bytes", want.len());
    let (mut t8, mut tf) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t = Instant::now();
        unsafe { conv_i8(&in8, &mut out8, w, h, &l) };
        t8.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        unsafe { conv_f32(&inf, &mut outf, w, h, &l) };
        tf.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let (m8, mf) = (median(t8), median(tf));
    let macs = (w * h * 9 * C * C) as f64;
    println!(
        "{side}x{side}, 3x3 {C}->{C}, one thread, median of {rounds}: int8 {m8:.2} ms ({:.0} GMAC/s), f32 {mf:.2} ms ({:.0} GMAC/s), int8 / f32 {:.2}",
        macs / m8 / 1e6,
        macs / mf / 1e6,
        m8 / mf
    );
}
