//! Whole-module parameter arithmetic the training loops need and burn does
//! not provide: the global gradient norm (a GAN diagnostic) and an
//! exponential moving average of weights (the exported generator).

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;

struct GradNorm<'a> {
    grads: &'a GradientsParams,
    sum: f64,
}

impl ModuleVisitor for GradNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            self.sum += g.powi_scalar(2).sum().into_scalar::<f32>() as f64;
        }
    }
}

/// A tensor's values as f32, row-major.
pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("f32 tensor")
}

/// The largest `|a[i] - b[i]|` (tests compare outputs with it).
#[cfg(test)]
pub(crate) fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "same length");
    a.iter()
        .zip(b)
        .map(|(p, q)| (p - q).abs())
        .fold(0.0f32, f32::max)
}

/// Every float parameter of `m`, flattened in visiting order (tests
/// compare modules with it).
#[cfg(test)]
pub(crate) fn flat_params<M: Module>(m: &M) -> Vec<f32> {
    let mut c = Collect(Vec::new());
    m.visit(&mut c);
    c.0.into_iter().flat_map(values).collect()
}

/// L2 norm of the gradients of `module`'s parameters in `grads` (parameters
/// without a gradient count as zero).
pub fn grad_norm<M: Module>(module: &M, grads: &GradientsParams) -> f64 {
    let mut v = GradNorm { grads, sum: 0.0 };
    module.visit(&mut v);
    v.sum.sqrt()
}

struct Collect(Vec<Tensor<1>>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val().detach();
        let n = t.shape().num_elements();
        self.0.push(t.reshape([n]));
    }
}

struct Blend {
    source: std::vec::IntoIter<Tensor<1>>,
    decay: f64,
}

impl ModuleMapper for Blend {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let src = self.source.next().expect("modules of the same structure");
        let decay = self.decay;
        param.map(|t| {
            let dims = t.dims();
            (t.detach().mul_scalar(decay) + src.reshape(dims).mul_scalar(1.0 - decay)).detach()
        })
    }
}

/// Move every float parameter of `ema` toward `model`'s:
/// `ema = decay · ema + (1 − decay) · model`. Both must have the same
/// structure (the EMA is a clone of the model taken at the start).
pub fn ema_update<M: Module>(ema: M, model: &M, decay: f64) -> M {
    let mut c = Collect(Vec::new());
    model.visit(&mut c);
    ema.map(&mut Blend {
        source: c.0.into_iter(),
        decay,
    })
}

struct Trainable;

impl ModuleMapper for Trainable {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.set_require_grad(true)
    }
}

/// `module` with every float parameter tracked for gradients again (after
/// [`ema_update`], whose blend is detached, when the result is trained).
pub fn trainable<M: Module>(module: M) -> M {
    module.map(&mut Trainable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::LinearConfig;
    use burn::tensor::TensorData;

    #[test]
    fn ema_blends_every_parameter() {
        let device = Device::flex();
        let a = LinearConfig::new(3, 2).init(&device);
        let b = LinearConfig::new(3, 2).init(&device);
        let (va, vb) = (flat_params(&a), flat_params(&b));
        let mixed = flat_params(&ema_update(a, &b, 0.75));
        assert_eq!(mixed.len(), 8);
        for ((m, x), y) in mixed.iter().zip(&va).zip(&vb) {
            assert!((m - (0.75 * x + 0.25 * y)).abs() < 1e-6);
        }
    }

    #[test]
    fn grad_norm_of_a_linear_loss() {
        // loss = sum(W·x + b) with x = [1, 2, 3]: dW rows = x, db = 1.
        let device = Device::flex().autodiff();
        let lin = LinearConfig::new(3, 2).init(&device);
        let x = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 2.0, 3.0], [1, 3]), &device);
        let loss = lin.forward(x).sum();
        let grads = GradientsParams::from_grads(loss.backward(), &lin);
        let expected = (2.0 * (1.0 + 4.0 + 9.0) + 2.0f64).sqrt();
        assert!((grad_norm(&lin, &grads) - expected).abs() < 1e-5);
    }
}
