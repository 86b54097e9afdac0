//! Seeded randomness shared by trainer and runtime: SplitMix64 and standard
//! normal noise (Box–Muller), identical on every platform, so
//! `edgegan generate --seed S` draws the same latent vectors everywhere.
//!
//! ```
//! use edgegan_runtime::noise::{latents, Rng};
//! let z = latents(7, 2, 100);
//! assert_eq!(z.len(), 200);
//! assert_eq!(z, latents(7, 2, 100));
//! assert_ne!(z[..100], z[100..]);
//! assert!(Rng(1).unit() < 1.0);
//! ```

/// SplitMix64: small, seedable, reproducible across platforms.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
    /// Uniform integer in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// Standard normal (Box–Muller on two 53-bit uniforms, cosine branch).
    pub fn normal(&mut self) -> f32 {
        let u = ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64; // (0, 1]
        let v = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
    }
}

/// FNV-1a (64-bit) of `bytes`: a stable fingerprint for seeding from
/// content (not a cryptographic hash).
///
/// ```
/// // The reference value of "a".
/// assert_eq!(edgegan_runtime::noise::fnv1a(*b"a"), 0xaf63_dc4c_8601_ec8c);
/// ```
pub fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `n` latent vectors of `dim` standard normals from seed `seed`, row-major.
pub fn latents(seed: u64, n: usize, dim: usize) -> Vec<f32> {
    let mut rng = Rng(seed);
    (0..n * dim).map(|_| rng.normal()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_reference_values_and_normal_moments() {
        // SplitMix64 from state 0 (Vigna's reference sequence)
        let mut r = Rng(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        let z = latents(3, 1000, 100);
        let mean = z.iter().map(|&x| x as f64).sum::<f64>() / z.len() as f64;
        let var = z.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / z.len() as f64;
        assert!(
            mean.abs() < 0.01 && (var - 1.0).abs() < 0.02,
            "{mean} {var}"
        );
    }
}
