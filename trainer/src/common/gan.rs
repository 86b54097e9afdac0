//! The relativistic average GAN loss of ESRGAN (Wang et al. 2018) on
//! PatchGAN logit maps, and the discriminator diagnostics the training log
//! reports: D(real) / D(fake) means, D accuracy, and a detector for a
//! discriminator that has become too good for the generator to learn from.
//!
//! With `C` the logits and `E` the mean over batch and patches:
//! `D_Ra(a, b) = σ(C(a) − E[C(b)])`,
//! `L_D = ½(−E log D_Ra(real, fake) − E log(1 − D_Ra(fake, real)))`,
//! `L_G = ½(−E log(1 − D_Ra(real, fake)) − E log D_Ra(fake, real))`,
//! written with softplus (`−log σ(z) = softplus(−z)`) for stability.

use burn::prelude::*;
use burn::tensor::activation::softplus;
use std::collections::VecDeque;

fn relative(a: Tensor<4>, b: Tensor<4>) -> Tensor<4> {
    let mean = b.mean().reshape([1, 1, 1, 1]);
    a - mean
}

/// Discriminator loss from logits of real and generated images.
pub fn d_loss(real: Tensor<4>, fake: Tensor<4>) -> Tensor<1> {
    let r = relative(real.clone(), fake.clone());
    let f = relative(fake, real);
    (softplus(r.neg(), 1.0).mean() + softplus(f, 1.0).mean()).mul_scalar(0.5)
}

/// Generator adversarial loss (`real` should be detached).
pub fn g_loss(real: Tensor<4>, fake: Tensor<4>) -> Tensor<1> {
    let r = relative(real.clone(), fake.clone());
    let f = relative(fake, real);
    (softplus(r, 1.0).mean() + softplus(f.neg(), 1.0).mean()).mul_scalar(0.5)
}

/// What the discriminator says about one batch.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DStats {
    /// Mean D_Ra(real, fake): how real the real patches look (1 = certain).
    pub real: f64,
    /// Mean D_Ra(fake, real): how real the generated patches look.
    pub fake: f64,
    /// Fraction of patches classified right (real above ½, fake below ½).
    pub accuracy: f64,
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl DStats {
    /// Statistics of logit maps `real` and `fake` (values, any layout).
    pub fn of(real: &[f32], fake: &[f32]) -> DStats {
        let mean = |v: &[f32]| v.iter().map(|&x| x as f64).sum::<f64>() / v.len().max(1) as f64;
        let (mr, mf) = (mean(real), mean(fake));
        let pr: Vec<f64> = real.iter().map(|&x| sigmoid(x as f64 - mf)).collect();
        let pf: Vec<f64> = fake.iter().map(|&x| sigmoid(x as f64 - mr)).collect();
        let right =
            pr.iter().filter(|&&p| p > 0.5).count() + pf.iter().filter(|&&p| p < 0.5).count();
        DStats {
            real: pr.iter().sum::<f64>() / pr.len().max(1) as f64,
            fake: pf.iter().sum::<f64>() / pf.len().max(1) as f64,
            accuracy: right as f64 / (pr.len() + pf.len()).max(1) as f64,
        }
    }
}

/// Watches D accuracy over a sliding window and fires when its mean stays at
/// or above a threshold: the discriminator separates real from generated so
/// well that the generator's adversarial gradient carries little information.
#[derive(Debug, Clone)]
pub struct TooGoodDetector {
    window: VecDeque<f64>,
    size: usize,
    threshold: f64,
    /// Steps at which the detector fired (at most once per window).
    pub fired: Vec<usize>,
    quiet_until: usize,
}

impl TooGoodDetector {
    /// A detector over `size` steps with accuracy `threshold` (e.g. 50, 0.95).
    pub fn new(size: usize, threshold: f64) -> TooGoodDetector {
        TooGoodDetector {
            window: VecDeque::with_capacity(size),
            size: size.max(1),
            threshold,
            fired: Vec::new(),
            quiet_until: 0,
        }
    }

    /// Record step `step`'s accuracy; returns the window mean when it fires.
    pub fn observe(&mut self, step: usize, accuracy: f64) -> Option<f64> {
        if self.window.len() == self.size {
            self.window.pop_front();
        }
        self.window.push_back(accuracy);
        let mean = self.window.iter().sum::<f64>() / self.window.len() as f64;
        if self.window.len() == self.size && mean >= self.threshold && step >= self.quiet_until {
            self.fired.push(step);
            self.quiet_until = step + self.size;
            return Some(mean);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    fn map(v: &[f32]) -> Tensor<4> {
        Tensor::from_data(
            TensorData::new(v.to_vec(), [1, 1, 1, v.len()]),
            &Device::flex(),
        )
    }

    #[test]
    fn losses_match_the_closed_form() {
        // real = [2, 0], fake = [-1, -3]: means 1 and -2.
        // real - E[fake] = [4, 2], fake - E[real] = [-2, -4].
        let sp = |z: f64| (1.0 + z.exp()).ln();
        let d = 0.5 * ((sp(-4.0) + sp(-2.0)) / 2.0 + (sp(-2.0) + sp(-4.0)) / 2.0);
        let g = 0.5 * ((sp(4.0) + sp(2.0)) / 2.0 + (sp(2.0) + sp(4.0)) / 2.0);
        let (r, f) = (map(&[2.0, 0.0]), map(&[-1.0, -3.0]));
        let got_d = d_loss(r.clone(), f.clone()).into_scalar::<f32>() as f64;
        let got_g = g_loss(r, f).into_scalar::<f32>() as f64;
        assert!((got_d - d).abs() < 1e-6, "{got_d} vs {d}");
        assert!((got_g - g).abs() < 1e-6, "{got_g} vs {g}");
    }

    #[test]
    fn stats_and_detector() {
        let s = DStats::of(&[2.0, 0.0], &[-1.0, 3.0]);
        // E[real] = 1, E[fake] = 1: real rel [1, -1], fake rel [-2, 2].
        assert_eq!(s.accuracy, 0.5);
        assert!((s.real - 0.5).abs() < 1e-12 && (s.fake - 0.5).abs() < 1e-12);
        let mut d = TooGoodDetector::new(3, 0.9);
        let fired: Vec<_> = [0.95, 0.99, 0.97, 0.98, 0.5, 0.99, 0.99, 0.99, 0.99]
            .iter()
            .enumerate()
            .filter_map(|(i, &a)| d.observe(i + 1, a).map(|_| i + 1))
            .collect();
        // Fires when the window first fills above 0.9, then stays quiet for a window.
        assert_eq!(fired, vec![3, 8]);
    }
}
