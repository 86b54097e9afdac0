//! Gated convolutions as one node: the inpainting network's layers compute
//! `f(x) · sigmoid(g(x))` from two convs of the same input (a feature half
//! with LeakyRelu, a gate half with its bias only), and most then quantize
//! the product for the next conv. Fused one by one, that is two
//! [`QConv`]s each packing the input and writing an f32 tensor, then
//! tract's `Sigmoid`, `Mul` and `QuantizeLinearU8` passes over whole
//! tensors. [`QGated`] packs each band's input rows once, runs both convs
//! into a few rows of f32 scratch that stay in cache, and gates and
//! quantizes those rows there, band by band on every thread.
//!
//! **The same values as tract.** Both convs are [`QConv`]s as they were;
//! the sigmoid is tract's own kernel for this CPU (`tract_linalg`'s
//! `Func::Sigmoid`, the one its `Sigmoid` op runs, element by element
//! independent of where a value sits), the product one f32 multiply, the
//! quantizer tract's function, so the node's output equals the unfused
//! plan's bit for bit (the whole-graph tests check it).

use tract_linalg::routines::Func;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::nn::Sigmoid;
use tract_onnx::tract_core::ops::quant::{quantize_linear_f32_u8, QuantizeLinearU8};

use super::kernel;
use super::op::{each_band, Input, Output, QConv};
use super::pattern::{binary_after, element_wise, next};

/// About the f32 scratch a band's sub-bands fill (both halves): rows of
/// it are gated while they are still in L2.
const SCRATCH_BYTES: usize = 256 << 10;

thread_local! {
    /// The two halves' f32 rows of the sub-band this thread gates.
    static SCRATCH: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `f · sigmoid(g)` of two fused convs of one input, then [`Output`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QGated {
    /// The feature half (f32 out, no skip).
    pub f: QConv,
    /// The gate half: the same geometry, input zero point and kernel.
    pub g: QConv,
    /// The product as it is, or quantized to u8.
    pub output: Output,
}

// Constants compare bit for bit, so `==` is an equivalence.
impl Eq for QGated {}

impl QGated {
    fn output_type(&self) -> DatumType {
        match self.output {
            Output::F32 => f32::datum_type(),
            Output::U8 { .. } => u8::datum_type(),
        }
    }

    /// Output rows per sub-band: both halves' f32 rows within
    /// [`SCRATCH_BYTES`].
    fn sub_rows(&self, ow: usize) -> usize {
        (SCRATCH_BYTES / (2 * 4 * self.f.geo.cout * ow)).max(1)
    }

    /// Run one image, as `QConv::run_image` (no skip).
    fn run_image(
        &self,
        src: &[u8],
        (h, w): (usize, usize),
        (oh, ow): (usize, usize),
        dst: usize,
    ) -> TractResult<()> {
        let sigmoid = Func::Sigmoid.ew_f32()?;
        let geo = &self.f.geo;
        let (cout, row_bytes) = (geo.cout, geo.row_bytes(ow));
        let elem = self.output_type().size_of();
        let sub = self.sub_rows(ow);
        each_band(geo, self.f.zp_in, src, (h, w), (oh, ow), |packed, y0, n| {
            SCRATCH.with_borrow_mut(|scratch| {
                for y in (0..n).step_by(sub) {
                    let k = sub.min(n - y);
                    let per = cout * k * ow;
                    scratch.resize(2 * per, 0.0);
                    let (fs, gs) = scratch.split_at_mut(per);
                    let rows = &packed[y * geo.sy * row_bytes..];
                    for (q, s) in [(&self.f, &mut *fs), (&self.g, &mut *gs)] {
                        // SAFETY: `s` holds `cout` planes of the `k` rows,
                        // `k * ow` apart; `rows` starts at sub-band row y's
                        // packed input, and the band's rows reach its end.
                        unsafe {
                            kernel::run_band(
                                q.kind,
                                q,
                                rows,
                                (ow, k),
                                s.as_mut_ptr() as *mut u8,
                                std::ptr::null(),
                                k * ow,
                            )
                        }
                    }
                    sigmoid.run(gs).expect("tract's f32 sigmoid kernel");
                    for o in 0..cout {
                        let at = o * oh * ow + (y0 + y) * ow;
                        let (f, s) = (&fs[o * k * ow..][..k * ow], &gs[o * k * ow..][..k * ow]);
                        // SAFETY: sub-bands of bands write disjoint rows of
                        // every output plane, inside the image's output.
                        let dst = (dst + at * elem) as *mut u8;
                        match self.output {
                            Output::F32 => {
                                let d = unsafe {
                                    std::slice::from_raw_parts_mut(dst as *mut f32, k * ow)
                                };
                                d.iter_mut()
                                    .zip(f.iter().zip(s))
                                    .for_each(|(d, (f, s))| *d = f * s);
                            }
                            Output::U8 {
                                inv_scale,
                                zero_point,
                            } => {
                                let d = unsafe { std::slice::from_raw_parts_mut(dst, k * ow) };
                                d.iter_mut().zip(f.iter().zip(s)).for_each(|(d, (f, s))| {
                                    *d = quantize_linear_f32_u8(f * s, inv_scale, zero_point as i32)
                                });
                            }
                        }
                    }
                }
            })
        });
        Ok(())
    }
}

impl Op for QGated {
    fn name(&self) -> StaticName {
        "EdgeganQGated".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        let (f, g) = (self.f.info()?, self.g.info()?);
        Ok(vec![
            format!("f: {}", f.join(" ")),
            format!("g: {}", g.join(" ")),
            format!("-> {:?}", self.output),
        ])
    }

    op_as_typed_op!();
}

impl EvalOp for QGated {
    tract_onnx::tract_core::op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let geo = &self.f.geo;
        let x = Input::of(geo, &inputs[0], "EdgeganQGated")?;
        let dt = self.output_type();
        let out_shape = [x.n, geo.cout, x.oh, x.ow];
        // SAFETY: every element is written below (each sub-band writes all
        // its rows' pixels of every output channel).
        let mut out = unsafe { Tensor::uninitialized_dt(dt, &out_shape)? };
        let image = geo.cout * x.oh * x.ow * dt.size_of();
        let base = out.try_as_plain_ram_mut()?.as_bytes_mut().as_mut_ptr() as usize;
        for i in 0..x.n {
            let img = x.image(i, geo.cin);
            self.run_image(img, (x.h, x.w), (x.oh, x.ow), base + i * image)?;
        }
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for QGated {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let mut fact = self.f.output_facts(inputs)?.remove(0);
        fact.datum_type = self.output_type();
        Ok(tvec!(fact))
    }

    as_op!();
}

/// `model` with every gated pair of fused convs made one [`QGated`]: a
/// `Sigmoid` reading (only) the f32 output of a [`QConv`] `g`, a `Mul` of
/// it and (only) the f32 output of a [`QConv`] `f` of the same input,
/// geometry, zero point and kernel, neither with a skip, and a
/// `QuantizeLinearU8` after the `Mul` if it is the product's only reader.
/// `EDGEGAN_QGATED=off` leaves the pairs as two [`QConv`]s (for
/// side-by-side runs).
pub(crate) fn fuse_gates(mut model: TypedModel) -> TractResult<TypedModel> {
    if std::env::var("EDGEGAN_QGATED").as_deref() == Ok("off") {
        return Ok(model);
    }
    for id in model.eval_order()? {
        if let Some(patch) = gate(&model, &model.nodes()[id])? {
            patch.apply(&mut model)?;
        }
    }
    model.into_compact()
}

/// The patch for the gated pair whose gate conv is `node`, if it is one.
fn gate(model: &TypedModel, node: &TypedNode) -> TractResult<Option<TypedModelPatch>> {
    let half = |n: &TypedNode| {
        n.op_as::<QConv>()
            .filter(|q| q.tail.output == Output::F32 && !q.tail.skip)
            .cloned()
    };
    let Some(g) = half(node) else {
        return Ok(None);
    };
    let Some(sig) = next(model, node)? else {
        return Ok(None);
    };
    if element_wise::<Sigmoid>(sig).is_none() {
        return Ok(None);
    }
    let Some((mul, mul_fact, other)) = binary_after(model, sig, "Mul")? else {
        return Ok(None);
    };
    let f_node = &model.nodes()[other.node];
    let Some(f) = half(f_node) else {
        return Ok(None);
    };
    let same = f.geo == g.geo
        && f.zp_in == g.zp_in
        && f.kind == g.kind
        && f_node.inputs == node.inputs
        && other.slot == 0
        && mul_fact.shape == model.outlet_fact(OutletId::new(node.id, 0))?.shape
        && next(model, f_node)?.is_some_and(|n| n.id == mul.id);
    if !same {
        return Ok(None);
    }
    let mut last = mul;
    let mut output = Output::F32;
    if let Some(n) = next(model, mul)? {
        if let Some(q) = element_wise::<QuantizeLinearU8>(n) {
            if q.scale.is_finite() {
                output = Output::U8 {
                    inv_scale: q.scale,
                    zero_point: q.zero_point,
                };
                last = n;
            }
        }
    }
    let name = format!("{}.gated", f_node.name);
    let mut patch = TypedModelPatch::default();
    let x = patch.tap_model(model, node.inputs[0])?;
    let y = patch.wire_node(name, QGated { f, g, output }, &[x])?[0];
    patch.shunt_outside(model, OutletId::new(last.id, 0), y)?;
    Ok(Some(patch))
}
