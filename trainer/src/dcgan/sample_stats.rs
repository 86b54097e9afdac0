//! Numbers that judge a batch of generated images against real ones:
//! diversity (mean pairwise distance), the class histogram's coverage and
//! entropy, and the kernel inception distance (KID: unbiased MMD² with the
//! cubic polynomial kernel, Bińkowski et al. 2018) between feature sets.

/// Mean Euclidean distance over all pairs of `items` (each `len` values).
pub fn mean_pairwise_distance(values: &[f32], len: usize) -> f64 {
    let n = values.len() / len;
    let (mut sum, mut pairs) = (0.0, 0usize);
    for i in 0..n {
        for j in i + 1..n {
            let (a, b) = (&values[i * len..][..len], &values[j * len..][..len]);
            sum += a
                .iter()
                .zip(b)
                .map(|(x, y)| ((x - y) as f64).powi(2))
                .sum::<f64>()
                .sqrt();
            pairs += 1;
        }
    }
    sum / pairs.max(1) as f64
}

pub use edgegan_runtime::generate::{coverage, entropy, histogram};

/// KID between feature sets `a` and `b` (rows of `d` values): unbiased
/// MMD² with `k(x, y) = (x·y / d + 1)³`. Zero in expectation for samples of
/// one distribution; larger is further apart.
pub fn kid(a: &[f32], b: &[f32], d: usize) -> f64 {
    let k = |x: &[f32], y: &[f32]| {
        let dot: f64 = x.iter().zip(y).map(|(p, q)| *p as f64 * *q as f64).sum();
        (dot / d as f64 + 1.0).powi(3)
    };
    let a: Vec<&[f32]> = a.chunks_exact(d).collect();
    let b: Vec<&[f32]> = b.chunks_exact(d).collect();
    let within = |s: &[&[f32]]| {
        let mut t = 0.0;
        for i in 0..s.len() {
            for j in 0..s.len() {
                if i != j {
                    t += k(s[i], s[j]);
                }
            }
        }
        t / (s.len() * (s.len() - 1)).max(1) as f64
    };
    let mut cross = 0.0;
    for x in &a {
        for y in &b {
            cross += k(x, y);
        }
    }
    within(&a) + within(&b) - 2.0 * cross / (a.len() * b.len()).max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_values() {
        // points 0, 3 and 4 on a line (len 1): distances 3, 4, 1 → mean 8/3
        assert!((mean_pairwise_distance(&[0.0, 3.0, 4.0], 1) - 8.0 / 3.0).abs() < 1e-12);
        let h = histogram(&[0, 0, 1, 3], 4);
        assert_eq!(h, vec![2, 1, 0, 1]);
        assert_eq!(coverage(&h), 3);
        let want = -(0.5f64 * 0.5f64.ln() + 2.0 * 0.25 * 0.25f64.ln());
        assert!((entropy(&h) - want).abs() < 1e-12);
        assert!((entropy(&[5; 10]) - 10f64.ln()).abs() < 1e-12);
        // identical sets of two 1-d points {0, 1}: k(0,·)=1, k(1,1)=8
        // within = (k01 + k10)/2 = 1 each; cross = (1+1+1+8)/4 = 11/4
        let v = [0.0, 1.0];
        assert!((kid(&v, &v, 1) - (1.0 + 1.0 - 2.0 * 11.0 / 4.0)).abs() < 1e-12);
        // far apart sets score higher than overlapping ones
        assert!(kid(&[0.0, 1.0], &[5.0, 6.0], 1) > kid(&[0.0, 1.0], &[0.5, 1.5], 1));
    }
}
