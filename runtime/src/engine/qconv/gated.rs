//! Gated convolutions as one node: the inpainting network's layers compute
//! `f(x) · sigmoid(g(x))` from two convs of the same input (a feature half
//! with LeakyRelu, a gate half with its bias only), and most then quantize
//! the product for the next conv. Fused one by one, that is two
//! [`QConv`]s each packing the input and writing an f32 tensor, then
//! tract's `Sigmoid`, `Mul` and `QuantizeLinearU8` passes over whole
//! tensors. [`QGated`] packs each band's input rows once, runs both convs
//! into a few rows of f32 scratch that stay in cache, and gates and
//! quantizes those rows there, band by band on every thread. What follows
//! the product is taken in too ([`Then`]): the quantizer; or the quantizer
//! and the f32 product both (an encoder layer whose product is also a
//! decoder's skip); or a decoder's nearest 2× upsampling, the Add of its
//! skip and the quantizer.
//!
//! **The same values as tract.** Both convs are [`QConv`]s as they were;
//! the sigmoid is tract's own kernel for this CPU (`tract_linalg`'s
//! `Func::Sigmoid`, the one its `Sigmoid` op runs, element by element
//! independent of where a value sits), the product one f32 multiply, the
//! upsampling a copy, the skip's Add one f32 add, the quantizer tract's
//! function, so the node's outputs equal the unfused plan's bit for bit
//! (the whole-graph tests check it).

use tract_linalg::routines::Func;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::nn::Sigmoid;

use super::kernel;
use super::op::{each_band, Input, Output, QConv, Quant};
use super::pattern::quantizer;
use crate::engine::pattern::{binary_after, element_wise, next, rewrite_unless_off, up2_skip_add};

/// About the f32 scratch a band's sub-bands fill (both halves): rows of
/// it are gated while they are still in L2.
const SCRATCH_BYTES: usize = 256 << 10;

thread_local! {
    /// The two halves' f32 rows of the sub-band this thread gates.
    static SCRATCH: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// What [`QGated`] makes of the product `p = f · sigmoid(g)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Then {
    /// `p` (f32).
    F32,
    /// `p` quantized (u8).
    U8(Quant),
    /// Two outputs: `p`, and `p` quantized.
    Both(Quant),
    /// `p` upsampled 2× (nearest), plus the node's second input (f32, the
    /// upsampled shape), quantized: one u8 output at twice the size.
    Up2Add(Quant),
}

/// `f · sigmoid(g)` of two fused convs of one input, then [`Then`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QGated {
    /// The feature half (f32 out, no skip).
    pub f: QConv,
    /// The gate half: the same geometry, input zero point and kernel.
    pub g: QConv,
    pub then: Then,
}

// Constants compare bit for bit, so `==` is an equivalence.
impl Eq for QGated {}

/// Where one image's outputs go: the f32 output's and the u8 output's
/// first element (0 when the node has no such output), and the skip
/// input's (null without one).
#[derive(Clone, Copy)]
struct Dst {
    f32s: usize,
    u8s: usize,
    skip: *const f32,
}

// SAFETY: the pointers are the node's own output tensors and its skip
// input, which outlive the bands; bands write disjoint rows.
unsafe impl Send for Dst {}
unsafe impl Sync for Dst {}

impl QGated {
    /// The output types, in order.
    fn output_types(&self) -> TVec<DatumType> {
        match self.then {
            Then::F32 => tvec!(f32::datum_type()),
            Then::U8(_) | Then::Up2Add(_) => tvec!(u8::datum_type()),
            Then::Both(_) => tvec!(f32::datum_type(), u8::datum_type()),
        }
    }

    /// The outputs' height and width for a conv output of `oh`×`ow`.
    fn out_size(&self, (oh, ow): (usize, usize)) -> (usize, usize) {
        match self.then {
            Then::Up2Add(_) => (2 * oh, 2 * ow),
            _ => (oh, ow),
        }
    }

    /// Output rows per sub-band: both halves' f32 rows within
    /// [`SCRATCH_BYTES`].
    fn sub_rows(&self, ow: usize) -> usize {
        (SCRATCH_BYTES / (2 * 4 * self.f.geo.cout * ow)).max(1)
    }

    /// Run one image, as `QConv::run_image`, into `dst`.
    fn run_image(
        &self,
        src: &[u8],
        (h, w): (usize, usize),
        (oh, ow): (usize, usize),
        dst: Dst,
    ) -> TractResult<()> {
        let sigmoid = Func::Sigmoid.ew_f32()?;
        let geo = &self.f.geo;
        let (cout, row_bytes) = (geo.cout, geo.row_bytes(ow));
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
                    // tract's element-wise runner returns Ok for every
                    // slice (it only aligns it through a scratch buffer).
                    sigmoid.run(gs).expect("tract's f32 sigmoid kernel");
                    // The product, in place of the feature half.
                    fs.iter_mut().zip(&*gs).for_each(|(f, s)| *f *= s);
                    for o in 0..cout {
                        for r in 0..k {
                            let p = &fs[(o * k + r) * ow..][..ow];
                            // SAFETY: sub-bands of bands write disjoint rows
                            // of every output plane, inside the image's.
                            unsafe { self.store(p, dst, o, y0 + y + r, (oh, ow)) };
                        }
                    }
                }
            })
        });
        Ok(())
    }

    /// Store product row `p` (conv output row `y` of channel `o`) as
    /// [`Then`] says.
    ///
    /// # Safety
    /// `dst` must hold the image's outputs (and skip input) for a conv
    /// output of `oh`×`ow`, and no other thread may write that row.
    #[inline]
    unsafe fn store(&self, p: &[f32], dst: Dst, o: usize, y: usize, (oh, ow): (usize, usize)) {
        let at = o * oh * ow + y * ow;
        let f32s = |at: usize| unsafe {
            std::slice::from_raw_parts_mut((dst.f32s as *mut f32).add(at), ow)
        };
        let u8s = |at: usize, len: usize| unsafe {
            std::slice::from_raw_parts_mut((dst.u8s as *mut u8).add(at), len)
        };
        if let Then::F32 | Then::Both(_) = self.then {
            f32s(at).copy_from_slice(p);
        }
        match self.then {
            Then::F32 => {}
            Then::U8(q) | Then::Both(q) => u8s(at, ow)
                .iter_mut()
                .zip(p)
                .for_each(|(d, &v)| *d = q.apply(v)),
            Then::Up2Add(q) => {
                // Output rows 2y and 2y + 1 of the 2oh × 2ow plane.
                for dy in 0..2 {
                    let at = o * 4 * oh * ow + (2 * y + dy) * 2 * ow;
                    let skip = unsafe { std::slice::from_raw_parts(dst.skip.add(at), 2 * ow) };
                    let d = u8s(at, 2 * ow);
                    for ((d, s), &v) in d.chunks_exact_mut(2).zip(skip.chunks_exact(2)).zip(p) {
                        d[0] = q.apply(v + s[0]);
                        d[1] = q.apply(v + s[1]);
                    }
                }
            }
        }
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
            format!("-> {:?}", self.then),
        ])
    }

    op_as_typed_op!();
}

impl EvalOp for QGated {
    tract_onnx::tract_core::op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let geo = &self.f.geo;
        let x = Input::of(geo, &inputs[0], "EdgeganQGated")?;
        let (oh2, ow2) = self.out_size((x.oh, x.ow));
        let out_shape = [x.n, geo.cout, oh2, ow2];
        let per = geo.cout * oh2 * ow2;
        let skip = match (self.then, inputs.get(1)) {
            (Then::Up2Add(_), Some(s))
                if s.datum_type() == f32::datum_type() && s.shape() == out_shape =>
            {
                Some(s.try_as_plain_ram()?.as_slice::<f32>()?)
            }
            (Then::Up2Add(_), _) => {
                bail!("EdgeganQGated: the skip input does not match the output {out_shape:?}")
            }
            _ => None,
        };
        // SAFETY: every element is written below (each sub-band writes all
        // its rows' pixels of every output channel).
        let mut outs: TVec<Tensor> = self
            .output_types()
            .iter()
            .map(|&dt| unsafe { Tensor::uninitialized_dt(dt, &out_shape) })
            .collect::<TractResult<_>>()?;
        let mut base = [0usize; 2];
        for t in outs.iter_mut() {
            let slot = (t.datum_type() == u8::datum_type()) as usize;
            base[slot] = t.try_as_plain_ram_mut()?.as_bytes_mut().as_mut_ptr() as usize;
        }
        for i in 0..x.n {
            let dst = Dst {
                f32s: base[0] + i * per * 4,
                u8s: base[1] + i * per,
                skip: skip.map_or(std::ptr::null(), |s| s[i * per..].as_ptr()),
            };
            self.run_image(x.image(i), (x.h, x.w), (x.oh, x.ow), dst)?;
        }
        Ok(outs.into_iter().map(|t| t.into_tvalue()).collect())
    }
}

impl TypedOp for QGated {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let conv = self.f.output_facts(&inputs[..1])?.remove(0);
        let mut shape: TVec<TDim> = conv.shape.iter().cloned().collect();
        if let Then::Up2Add(_) = self.then {
            shape[2] = shape[2].clone() * 2;
            shape[3] = shape[3].clone() * 2;
            if inputs.len() != 2 || inputs[1].shape.iter().cloned().collect::<TVec<_>>() != shape {
                bail!("EdgeganQGated: the skip input does not match the output {shape:?}");
            }
        }
        Ok(self
            .output_types()
            .into_iter()
            .map(|dt| dt.fact(shape.clone()))
            .collect())
    }

    as_op!();
}

/// `model` with every gated pair of fused convs made one [`QGated`]: a
/// `Sigmoid` reading (only) the f32 output of a [`QConv`] `g`, a `Mul` of
/// it and (only) the f32 output of a [`QConv`] `f` of the same input,
/// geometry, zero point and kernel, neither with a skip; then what [`Then`]
/// lists, where it follows. `EDGEGAN_QGATED=off` leaves the pairs as two
/// [`QConv`]s (for side-by-side runs).
pub(crate) fn fuse_gates(model: TypedModel) -> TractResult<TypedModel> {
    rewrite_unless_off("EDGEGAN_QGATED", model, gate)
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
    let product = OutletId::new(mul.id, 0);
    let mut inputs = vec![node.inputs[0]];
    // The outlets the node's outputs replace, in order, and what it does.
    let quantized = |n: &TypedNode| quantizer(n).map(|q| (n.id, q));
    let (replaced, then) = if let Some((q, quant)) = next(model, mul)?.and_then(quantized) {
        (vec![OutletId::new(q, 0)], Then::U8(quant))
    } else if let Some((q, skip, quant)) = up2_add(model, mul)? {
        inputs.push(skip);
        (vec![OutletId::new(q, 0)], Then::Up2Add(quant))
    } else if let Some((q, quant)) = beside(model, mul)? {
        (vec![product, OutletId::new(q, 0)], Then::Both(quant))
    } else {
        (vec![product], Then::F32)
    };
    let name = format!("{}.gated", f_node.name);
    let mut patch = TypedModelPatch::default();
    let taps = inputs
        .iter()
        .map(|&i| patch.tap_model(model, i))
        .collect::<TractResult<Vec<_>>>()?;
    let ys = patch.wire_node(name, QGated { f, g, then }, &taps)?;
    for (old, y) in replaced.into_iter().zip(ys) {
        patch.shunt_outside(model, old, y)?;
    }
    Ok(Some(patch))
}

/// A quantizer reading `mul`'s output beside exactly one other reader:
/// that quantizer's id and parameters. The product stays an output too.
fn beside(model: &TypedModel, mul: &TypedNode) -> TractResult<Option<(usize, Quant)>> {
    let readers = &mul.outputs[0].successors;
    if readers.len() != 2 {
        return Ok(None);
    }
    let found = readers
        .iter()
        .filter_map(|r| quantizer(&model.nodes()[r.node]).map(|q| (r.node, q)))
        .collect::<Vec<_>>();
    Ok(match found[..] {
        [one] => Some(one),
        _ => None,
    })
}

/// After `mul`: [`up2_skip_add`], then a quantizer, the Add's only reader:
/// the quantizer's id, the Add's other input and the quantizer's
/// parameters.
fn up2_add(model: &TypedModel, mul: &TypedNode) -> TractResult<Option<(usize, OutletId, Quant)>> {
    let Some((add, skip)) = up2_skip_add(model, mul)? else {
        return Ok(None);
    };
    Ok(next(model, add)?.and_then(|q| quantizer(q).map(|quant| (q.id, skip, quant))))
}
