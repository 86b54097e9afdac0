//! The gated product in f32 as one multi-threaded pass: the inpainting
//! network's layers compute `f · sigmoid(g)` from two convs, and its
//! decoder then upsamples the product 2× (nearest) and adds a skip. tract
//! runs that as a `Sigmoid`, a `Mul`, a broadcast and an `Add`, each a
//! single-threaded pass over whole tensors (about a tenth of the f32
//! network's time at 256², one thread, on the dev Xeon). [`Gate`] does
//! them in one pass, block of rows by block of rows, on every thread of
//! the image's pool (one after another outside one), in place in the gate
//! conv's output (or the skip's), which no other node reads: a fresh
//! output tensor costs as much in page faults as the pass itself.
//!
//! **The same values as tract.** The sigmoid is tract's own kernel for
//! this CPU (`tract_linalg`'s `Func::Sigmoid`, what its `Sigmoid` op runs,
//! element by element whatever a value's place in the slice), the product
//! one f32 multiply, the upsampling a copy and the skip's Add one f32 add:
//! the output equals the unfused plan's bit for bit, on every architecture
//! (the tests below compare whole graphs). The convs are left to tract.

use rayon::prelude::*;
use tract_linalg::routines::Func;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::nn::Sigmoid;

use super::pattern::{binary_after, element_wise, rewrite_unless_off, up2_skip_add};

/// f32 elements of `g` per block: a block's rows stay in L2 between the
/// sigmoid, the product and the store.
const BLOCK: usize = 8192;

/// `f · sigmoid(g)` of two f32 `[n, c, h, w]` tensors (inputs 0 and 1);
/// with `up2`, upsampled 2× (nearest) and added to input 2 (f32,
/// `[n, c, 2h, 2w]`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Gate {
    /// Whether the nearest 2× upsampling and the skip's Add follow.
    pub up2: bool,
}

impl Gate {
    /// The output shape for inputs of `shape` (`[n, c, h, w]`).
    fn out_shape<D: Clone + std::ops::Mul<usize, Output = D>>(&self, shape: &[D]) -> TVec<D> {
        let mut s: TVec<D> = shape.iter().cloned().collect();
        if self.up2 {
            s[2] = s[2].clone() * 2;
            s[3] = s[3].clone() * 2;
        }
        s
    }

    /// The gate in place: `g` (`[n, c, h, w]`, rows `w` long) becomes
    /// `f · sigmoid(g)`; with `up2`, that is then added, upsampled, into
    /// `skip` (`[n, c, 2h, 2w]`).
    fn run(&self, f: &[f32], g: &mut [f32], skip: &mut [f32], w: usize) -> TractResult<()> {
        let sigmoid = Func::Sigmoid.ew_f32()?;
        if g.is_empty() {
            return Ok(());
        }
        // Rows of g per block.
        let rows = (BLOCK / w.max(1)).max(1);
        let skips: Box<dyn Iterator<Item = &mut [f32]>> = if self.up2 {
            Box::new(skip.chunks_mut(rows * 4 * w))
        } else {
            Box::new(std::iter::repeat_with(|| &mut [][..]))
        };
        let blocks: Vec<_> = g
            .chunks_mut(rows * w)
            .zip(f.chunks(rows * w))
            .zip(skips)
            .collect();
        let block = |((p, f), s): ((&mut [f32], &[f32]), &mut [f32])| {
            // tract's element-wise runner returns Ok for every slice (it
            // only aligns it through a scratch buffer).
            sigmoid.run(p).expect("tract's f32 sigmoid kernel");
            p.iter_mut().zip(f).for_each(|(p, f)| *p *= f);
            if !self.up2 {
                return;
            }
            // Row y of the product is added to skip rows 2y and 2y + 1.
            let twice = p.chunks_exact(w).flat_map(|r| [r, r]);
            for (s, p) in s.chunks_exact_mut(2 * w).zip(twice) {
                for (s, &v) in s.chunks_exact_mut(2).zip(p.iter()) {
                    s[0] += v;
                    s[1] += v;
                }
            }
        };
        if rayon::current_thread_index().is_some() {
            blocks.into_par_iter().for_each(block);
        } else {
            blocks.into_iter().for_each(block);
        }
        Ok(())
    }
}

impl Op for Gate {
    fn name(&self) -> StaticName {
        "EdgeganGate".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![if self.up2 {
            "f · sigmoid(g), upsampled 2× + skip".into()
        } else {
            "f · sigmoid(g)".into()
        }])
    }

    op_as_typed_op!();
}

impl EvalOp for Gate {
    tract_onnx::tract_core::op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, mut inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let shape: TVec<usize> = inputs[0].shape().into();
        let want = usize::from(self.up2) + 2;
        if inputs.len() != want
            || shape.len() != 4
            || inputs[1].shape() != &*shape
            || (self.up2 && inputs[2].shape() != &*self.out_shape(&shape))
        {
            bail!("EdgeganGate: inputs do not match {shape:?}");
        }
        let w = shape[3];
        // The inputs this node reads last, taken over when no other node
        // holds them (tract hands over a value at its last reader).
        let mut skip = match self.up2 {
            true => Some(inputs.pop().unwrap().into_tensor()),
            false => None,
        };
        let mut g = inputs.pop().unwrap().into_tensor();
        let f = inputs[0].try_as_plain_ram()?.as_slice::<f32>()?;
        let mut g_ram = g.try_as_plain_ram_mut()?;
        let mut s_ram = skip
            .as_mut()
            .map(|s| s.try_as_plain_ram_mut())
            .transpose()?;
        let s = match &mut s_ram {
            Some(r) => r.as_slice_mut::<f32>()?,
            None => &mut [],
        };
        self.run(f, g_ram.as_slice_mut::<f32>()?, s, w)?;
        Ok(tvec!(skip.unwrap_or(g).into_tvalue()))
    }
}

impl TypedOp for Gate {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let f32s = inputs.iter().all(|i| i.datum_type == f32::datum_type());
        if !f32s
            || inputs.len() != usize::from(self.up2) + 2
            || inputs[0].rank() != 4
            || inputs[1].shape != inputs[0].shape
        {
            bail!("EdgeganGate: two f32 [n, c, h, w] inputs of one shape (and a skip) expected");
        }
        let shape: Vec<TDim> = inputs[0].shape.iter().cloned().collect();
        let out = self.out_shape(&shape);
        if self.up2 && inputs[2].shape.iter().cloned().collect::<TVec<_>>() != out {
            bail!("EdgeganGate: the skip input does not match the output {out:?}");
        }
        Ok(tvec!(f32::fact(out)))
    }

    as_op!();
}

/// `model` (decluttered) with every gated product made one [`Gate`]: a
/// `Sigmoid` of an f32 `[n, c, h, w]` wire `g`, read only by a `Mul` with
/// another f32 wire `f` of that shape; with, where they follow, the
/// decoder's 2× upsampling and skip Add ([`up2_skip_add`]).
/// `EDGEGAN_GATE=off` leaves them as tract lowers them (for side-by-side
/// runs).
pub(crate) fn fuse_gates(model: TypedModel) -> TractResult<TypedModel> {
    rewrite_unless_off("EDGEGAN_GATE", model, gate)
}

/// The patch for the gated product whose sigmoid is `node`, if it is one.
fn gate(model: &TypedModel, node: &TypedNode) -> TractResult<Option<TypedModelPatch>> {
    if element_wise::<Sigmoid>(node).is_none() || node.inputs.len() != 1 {
        return Ok(None);
    }
    let g = node.inputs[0];
    let g_fact = model.outlet_fact(g)?;
    if g_fact.datum_type != f32::datum_type()
        || g_fact.rank() != 4
        || g_fact.shape.as_concrete().is_none()
    {
        return Ok(None);
    }
    let Some((mul, mul_fact, f)) = binary_after(model, node, "Mul")? else {
        return Ok(None);
    };
    let f_fact = model.outlet_fact(f)?;
    if f_fact.datum_type != f32::datum_type()
        || f_fact.shape != g_fact.shape
        || mul_fact.shape != g_fact.shape
    {
        return Ok(None);
    }
    let mut inputs = vec![f, g];
    let (replaced, up2) = match up2_skip_add(model, mul)? {
        Some((add, skip)) => {
            inputs.push(skip);
            (OutletId::new(add.id, 0), true)
        }
        None => (OutletId::new(mul.id, 0), false),
    };
    let mut patch = TypedModelPatch::default();
    let taps = inputs
        .iter()
        .map(|&i| patch.tap_model(model, i))
        .collect::<TractResult<Vec<_>>>()?;
    let y = patch.wire_node(format!("{}.gate", mul.name), Gate { up2 }, &taps)?[0];
    patch.shunt_outside(model, replaced, y)?;
    Ok(Some(patch))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::threads::Pool;
    use crate::noise::Rng;

    fn noise(shape: &[usize], rng: &mut Rng) -> Tensor {
        let n = shape.iter().product();
        let v: Vec<f32> = (0..n).map(|_| rng.unit() * 16.0 - 8.0).collect();
        tract_ndarray::ArrayD::from_shape_vec(shape, v)
            .unwrap()
            .into()
    }

    /// tract's own ops, one after another: `Sigmoid` of `g`, times `f`,
    /// then (with a skip) the nearest 2× upsampling and the Add.
    fn tract_ops(f: &Tensor, g: &Tensor, skip: Option<&Tensor>) -> Tensor {
        let sig = tract_onnx::tract_core::ops::nn::sigmoid()
            .eval(&EvalContext::out_of_plan(), tvec!(g.clone().into_tvalue()))
            .unwrap()
            .remove(0);
        let p = f.to_plain_array_view::<f32>().unwrap().to_owned()
            * sig.to_plain_array_view::<f32>().unwrap();
        let Some(skip) = skip else {
            return p.into();
        };
        let mut out = skip.to_plain_array_view::<f32>().unwrap().to_owned();
        out.indexed_iter_mut()
            .for_each(|(i, o)| *o += p[[i[0], i[1], i[2] / 2, i[3] / 2]]);
        out.into()
    }

    fn gate(up2: bool, inputs: &[&Tensor]) -> Tensor {
        let inputs = inputs.iter().map(|t| (*t).clone().into_tvalue()).collect();
        Gate { up2 }
            .eval(&EvalContext::out_of_plan(), inputs)
            .unwrap()
            .remove(0)
            .into_tensor()
    }

    /// Odd shapes: rows shorter and longer than a block, a block boundary
    /// inside an image, two images; one thread and pools of two and three.
    #[test]
    fn equals_tracts_sigmoid_mul_and_add_bit_for_bit() {
        let mut rng = Rng(11);
        for shape in [
            [1, 1, 1, 1],
            [2, 3, 5, 7],
            [1, 5, 3, 3000],
            [2, 17, 33, 129],
            [1, 2, 3, 0],
        ] {
            let (f, g) = (noise(&shape, &mut rng), noise(&shape, &mut rng));
            let [n, c, h, w] = shape;
            let skip = noise(&[n, c, 2 * h, 2 * w], &mut rng);
            let plain = tract_ops(&f, &g, None);
            let up = tract_ops(&f, &g, Some(&skip));
            for threads in [1, 2, 3] {
                let pool = Pool::new(threads).unwrap();
                let ours = |up2, ins: &[&Tensor]| pool.install(|| gate(up2, ins));
                assert_eq!(
                    ours(false, &[&f, &g]),
                    plain,
                    "{shape:?}, {threads} threads"
                );
                assert_eq!(
                    ours(true, &[&f, &g, &skip]),
                    up,
                    "{shape:?} up2, {threads} threads"
                );
            }
            assert_eq!(gate(false, &[&f, &g]), plain, "{shape:?} outside a pool");
        }
    }

    #[test]
    fn a_skip_of_the_wrong_shape_is_an_error() {
        let mut rng = Rng(3);
        let (f, g) = (
            noise(&[1, 2, 3, 4], &mut rng),
            noise(&[1, 2, 3, 4], &mut rng),
        );
        let skip = noise(&[1, 2, 6, 7], &mut rng);
        let ins = [&f, &g, &skip].map(|t| t.clone().into_tvalue());
        let err = Gate { up2: true }
            .eval(&EvalContext::out_of_plan(), ins.into_iter().collect())
            .unwrap_err();
        assert!(err.to_string().contains("EdgeganGate"), "{err}");
    }

    /// The shipped inpainting network (f32), as the runtime plans it,
    /// against tract's own plan: the same output bit for bit, with every
    /// gated layer made one node (eight plain, three with the decoder's
    /// upsampling and skip).
    #[test]
    fn the_inpainting_graph_gives_tracts_output_bit_for_bit() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/inpaint/model.onnx");
        let (h, w) = (256, 256);
        let typed = tract_onnx::onnx()
            .model_for_path(path)
            .and_then(|m| m.with_input_fact(0, f32::fact([1, 4, h, w]).into()))
            .and_then(|m| m.into_typed())
            .unwrap();
        let fused = crate::engine::plan::fuse_graph(typed.clone()).unwrap();
        let gates: Vec<bool> = fused
            .nodes()
            .iter()
            .filter_map(|n| n.op_as::<Gate>().map(|g| g.up2))
            .collect();
        assert_eq!(gates.iter().filter(|&&u| !u).count(), 8);
        assert_eq!(gates.iter().filter(|&&u| u).count(), 3);
        let mut rng = Rng(5);
        let x: Tensor = tract_ndarray::Array4::from_shape_fn((1, 4, h, w), |_| rng.unit()).into();
        let run = |m: TypedModel| {
            let plan = m.into_optimized().unwrap().into_runnable().unwrap();
            plan.run(tvec!(x.clone().into_tvalue()))
                .unwrap()
                .remove(0)
                .into_tensor()
        };
        let want = run(typed);
        assert_eq!(run(fused.clone()), want);
        let pool = Pool::new(2).unwrap();
        assert_eq!(pool.install(|| run(fused)), want, "two threads");
    }
}
