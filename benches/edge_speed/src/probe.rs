//! `edge-speed amx-probe`: what this core's int8 units deliver right now,
//! for reading a timing of the fused int8 conv. It times the AMX kernel's
//! inner step (two weight tiles of 16 rows × 32 bytes, two input tiles of
//! 8 rows × 64 bytes, four `tdpbsud` into four accumulators, from L1) and
//! the same multiply-adds as AVX-512 VNNI `vpdpbusd` (16 accumulators),
//! and prints GMAC/s for each. Run it pinned (`taskset -c N`) on each core:
//! on a VM whose AMX unit is shared, the tile rate moves by several times
//! from core to core and minute to minute while VNNI's barely does.

use std::arch::asm;
use std::arch::x86_64::*;
use std::time::Instant;

/// Tiles 0–3 16×16 i32, 4–5 16 rows × 32 bytes, 6–7 8 rows × 64 bytes.
#[repr(C, align(64))]
struct Palette([u8; 64]);

pub fn run() {
    let has_amx = (__cpuid_count(7, 0).edx >> 25) & 1 == 1;
    // SAFETY: a plain syscall, arch_prctl(ARCH_REQ_XCOMP_PERM, XTILEDATA).
    let granted = has_amx && unsafe { libc_arch_prctl(0x1023, 18) } == 0;
    if is_x86_feature_detected!("avx512vnni") {
        // SAFETY: the CPU has AVX-512 VNNI.
        let gmacs = unsafe { vnni(4_000_000) };
        println!("vnni {gmacs:.0} GMAC/s");
    }
    if !granted {
        println!("amx unavailable");
        return;
    }
    let mut p = [0u8; 64];
    p[0] = 1;
    for t in 0..8 {
        let (rows, bytes) = match t {
            0..=3 => (16, 64),
            4 | 5 => (16, 32),
            _ => (8, 64),
        };
        p[16 + 2 * t] = bytes;
        p[48 + t] = rows;
    }
    let palette = Palette(p);
    let data = vec![1u8; 1 << 15];
    let n = 1_000_000usize;
    // SAFETY: a valid palette; every tile load reads inside `data`.
    let secs = unsafe {
        asm!("ldtilecfg [{0}]", in(reg) &palette);
        let t = Instant::now();
        for i in 0..n {
            let at = data.as_ptr().add((i % 8) * 2048);
            asm!(
                "tileloadd tmm4, [{0} + {1}*1]",
                "tileloadd tmm6, [{0} + {2}*1]",
                "tdpbsud tmm0, tmm4, tmm6",
                "tileloadd tmm7, [{0} + 1024 + {2}*1]",
                "tdpbsud tmm1, tmm4, tmm7",
                "tileloadd tmm5, [{0} + 512 + {1}*1]",
                "tdpbsud tmm2, tmm5, tmm6",
                "tdpbsud tmm3, tmm5, tmm7",
                in(reg) at, in(reg) 32usize, in(reg) 64usize,
            );
        }
        let secs = t.elapsed().as_secs_f64();
        asm!("tilerelease");
        secs
    };
    let macs = n as f64 * 4.0 * 16.0 * 16.0 * 32.0;
    println!(
        "amx {:.0} GMAC/s ({:.1} ns per 4 loads + 4 tdpbsud)",
        macs / secs / 1e9,
        secs * 1e9 / n as f64
    );
}

/// `arch_prctl(code, arg)`, returning the raw result.
unsafe fn libc_arch_prctl(code: i64, arg: i64) -> i64 {
    let r: i64;
    // SAFETY: the caller's; syscall 158 is arch_prctl on x86_64 Linux.
    unsafe {
        asm!("syscall", inlateout("rax") 158i64 => r, in("rdi") code, in("rsi") arg,
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    r
}

/// GMAC/s of `n` rounds of 16 independent `vpdpbusd`.
#[target_feature(enable = "avx512f,avx512vnni")]
unsafe fn vnni(n: usize) -> f64 {
    let mut acc = [_mm512_setzero_si512(); 16];
    let a = _mm512_set1_epi32(0x0101_0101);
    let w = std::hint::black_box([0x0102_0304i32; 16]);
    let t = Instant::now();
    for _ in 0..n {
        for (o, acc) in acc.iter_mut().enumerate() {
            *acc = _mm512_dpbusd_epi32(*acc, a, _mm512_set1_epi32(w[o]));
        }
    }
    let secs = t.elapsed().as_secs_f64();
    std::hint::black_box(acc);
    (n * 16 * 64) as f64 / secs / 1e9
}
