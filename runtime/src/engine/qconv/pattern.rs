//! Finding the chains [`QConv`] replaces in a decluttered graph: a
//! quantized `Conv` with an i32 output (what tract makes of ONNX
//! `ConvInteger`), then `Cast` to f32, `Mul` and `Add` by per-channel
//! constants, optionally `LeakyRelu` and optionally `QuantizeLinearU8`,
//! each link the only reader of the one before.

use std::sync::Arc;

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::cast::Cast;
use tract_onnx::tract_core::ops::cnn::{Conv, KernelFormat, PaddingSpec};
use tract_onnx::tract_core::ops::nn::{DataFormat, LeakyRelu};
use tract_onnx::tract_core::ops::quant::QuantizeLinearU8;

use super::kernel::Kind;
use super::op::{Geometry, Output, QConv, Quant, Tail};
use crate::engine::pattern::{binary_after, element_wise, next, rewrite, skip_add};

/// `model` (decluttered) with every chain this module recognises replaced
/// by a [`QConv`] on the CPU's best kernel, where that kernel is exact on
/// the conv's weights; unchanged where the CPU has none or
/// `EDGEGAN_QCONV=off`.
pub(crate) fn fuse(model: TypedModel) -> TractResult<TypedModel> {
    match super::kernel_here() {
        Some(kind) => fuse_with(model, kind),
        None => Ok(model),
    }
}

/// [`fuse`] with the kernel `kind` (tests run the scalar one anywhere).
/// One pass in evaluation order: a patch leaves every other node's id as
/// it was (the chain it replaces becomes dummies, which are no convs), and
/// a later conv reading a fused chain reads the new node. Then gated
/// pairs of fused convs become one node ([`super::gated`]).
pub(crate) fn fuse_with(model: TypedModel, kind: Kind) -> TractResult<TypedModel> {
    let model = rewrite(model, |m, node| chain(m, node, kind))?;
    super::gated::fuse_gates(model)
}

/// The patch replacing the chain that starts at `node`, if it is one.
fn chain(model: &TypedModel, node: &TypedNode, kind: Kind) -> TractResult<Option<TypedModelPatch>> {
    let Some(conv) = node.op_as::<Conv>() else {
        return Ok(None);
    };
    let Some((geo, zp_in, kernel, bias)) = conv_parts(model, node, conv)? else {
        return Ok(None);
    };
    // Cast to f32, Mul, Add: required.
    let Some(cast) = next(model, node)? else {
        return Ok(None);
    };
    if cast.op_as::<Cast>().map(|c| c.to) != Some(f32::datum_type()) {
        return Ok(None);
    }
    let Some((mul_node, mul)) = per_channel(model, cast, "Mul", geo.cout)? else {
        return Ok(None);
    };
    let Some((add_node, add)) = per_channel(model, mul_node, "Add", geo.cout)? else {
        return Ok(None);
    };
    // LeakyRelu and QuantizeLinearU8: taken when they follow.
    let mut last = add_node;
    let mut alpha = None;
    if let Some(n) = next(model, last)? {
        if let Some(a) = element_wise::<LeakyRelu>(n).map(|l| l.alpha) {
            if (0.0..=1.0).contains(&a) {
                alpha = Some(a);
                last = n;
            }
        }
    }
    let mut output = Output::F32;
    if let Some(n) = next(model, last)? {
        if let Some(q) = quantizer(n) {
            output = Output::U8(q);
            last = n;
        }
    }
    // An Add of an f32 tensor shaped as the output (an SR model's bicubic
    // branch once `sum_before_shuffle` has moved the sum before the
    // shuffle, the inpainting network's input image): taken after an f32
    // end.
    let mut skip = None;
    if output == Output::F32 {
        if let Some((add, other)) = skip_add(model, last)? {
            skip = Some(other);
            last = add;
        }
    }
    let blocks = geo.blocks() * 16;
    let mut corr = vec![0i32; blocks];
    for (o, c) in corr.iter_mut().enumerate().take(geo.cout) {
        let taps = geo.cin * geo.kh * geo.kw;
        let sum: i32 = kernel[o * taps..][..taps].iter().map(|&k| k as i32).sum();
        *c = bias[o] - zp_in as i32 * sum;
    }
    let pad = |mut v: Vec<f32>| {
        v.resize(blocks, 0.0);
        v
    };
    let kind = kind.for_conv(&geo);
    let weights = QConv::pack_weights(&geo, &kernel, kind);
    if !kind.runs(&weights) {
        return Ok(None);
    }
    let tail = Tail {
        corr,
        mul: pad(mul),
        add: pad(add),
        alpha,
        skip: skip.is_some(),
        output,
    };
    if !tail.bounded() {
        return Ok(None);
    }
    let op = QConv {
        weights: Arc::new(weights),
        geo,
        zp_in,
        tail,
        kind,
    };
    let mut patch = TypedModelPatch::default();
    let mut inputs = vec![patch.tap_model(model, node.inputs[0])?];
    if let Some(other) = skip {
        inputs.push(patch.tap_model(model, other)?);
    }
    let y = patch.wire_node(format!("{}.qconv", node.name), op, &inputs)?[0];
    patch.shunt_outside(model, OutletId::new(last.id, 0), y)?;
    Ok(Some(patch))
}

/// A conv [`QConv`] can run: its geometry, input zero point, OIHW s8
/// weights and i32 bias per output channel.
type ConvParts = (Geometry, u8, Vec<i8>, Vec<i32>);

fn conv_parts(model: &TypedModel, node: &TypedNode, conv: &Conv) -> TractResult<Option<ConvParts>> {
    let ps = &conv.pool_spec;
    if conv.q_params != Some(i32::datum_type())
        || conv.group != 1
        || conv.kernel_fmt != KernelFormat::OIHW
        || ps.data_format != DataFormat::NCHW
        || ps.kernel_shape.len() != 2
    {
        return Ok(None);
    }
    let dil = ps.dilations.clone().unwrap_or_else(|| tvec!(1, 1));
    let strides = ps.strides.clone().unwrap_or_else(|| tvec!(1, 1));
    let PaddingSpec::Explicit(before, after) = &ps.padding else {
        return Ok(None);
    };
    let degenerate = |v: &[usize]| v.len() != 2 || v.contains(&0);
    if before.len() != 2
        || after.len() != 2
        || degenerate(&strides)
        || degenerate(&dil)
        || degenerate(&ps.kernel_shape)
    {
        return Ok(None);
    }
    let geo = Geometry {
        cin: ps.input_channels,
        cout: ps.output_channels,
        kh: ps.kernel_shape[0],
        kw: ps.kernel_shape[1],
        dy: dil[0],
        dx: dil[1],
        sy: strides[0],
        sx: strides[1],
        pad: [before[0], before[1], after[0], after[1]],
    };
    // The output tract computes must be the one the kernels write.
    let in_shape = &model.outlet_fact(node.inputs[0])?.shape;
    let out_shape = &model.outlet_fact(OutletId::new(node.id, 0))?.shape;
    let dims = |s: &ShapeFact| s.as_concrete().map(|s| s.to_vec());
    let (Some(i), Some(o)) = (dims(in_shape), dims(out_shape)) else {
        return Ok(None);
    };
    if i.len() != 4 || geo.output(i[2], i[3]) != Some((o[2], o[3])) || o[1] != geo.cout {
        return Ok(None);
    }
    let facts = model.node_input_facts(node.id)?;
    if facts.len() != 9 || facts[0].datum_type != u8::datum_type() || facts[0].rank() != 4 {
        return Ok(None);
    }
    let konst = |i: usize| facts[i].konst.clone();
    let (Some(k), Some(bias), Some(a0), Some(b0)) = (konst(1), konst(2), konst(3), konst(5)) else {
        return Ok(None);
    };
    if k.datum_type() != i8::datum_type() || k.shape() != [geo.cout, geo.cin, geo.kh, geo.kw] {
        return Ok(None);
    }
    let ints = |t: &Tensor| -> TractResult<Vec<i32>> {
        Ok(t.cast_to::<i32>()?
            .try_as_plain_ram()?
            .as_slice::<i32>()?
            .to_vec())
    };
    let (bias, a0, b0) = (ints(&bias)?, ints(&a0)?, ints(&b0)?);
    let bias = match bias.len() {
        1 => vec![bias[0]; geo.cout],
        n if n == geo.cout => bias,
        _ => return Ok(None),
    };
    let (&[a0], true) = (&a0[..], b0.iter().all(|&b| b == 0)) else {
        return Ok(None);
    };
    let Ok(zp_in) = u8::try_from(a0) else {
        return Ok(None);
    };
    let kernel = k.try_as_plain_ram()?.as_slice::<i8>()?.to_vec();
    Ok(Some((geo, zp_in, kernel, bias)))
}

/// `prev`'s only reader, if it is the binary `name` ("Mul", "Add") of
/// `prev`'s f32 output by a constant that is one value or one per channel
/// (axis 1 of NCHW), with the output shaped as its input: that node and
/// the constant, one value per channel.
fn per_channel<'m>(
    model: &'m TypedModel,
    prev: &TypedNode,
    name: &str,
    cout: usize,
) -> TractResult<Option<(&'m TypedNode, Vec<f32>)>> {
    let Some((node, out, other)) = binary_after(model, prev, name)? else {
        return Ok(None);
    };
    let fact = model.outlet_fact(other)?;
    let wire = OutletId::new(prev.id, 0);
    if out.shape != model.outlet_fact(wire)?.shape || out.datum_type != f32::datum_type() {
        return Ok(None);
    }
    let Some(k) = fact
        .konst
        .as_ref()
        .filter(|k| k.datum_type() == f32::datum_type())
    else {
        return Ok(None);
    };
    let shape = k.shape();
    let channel_axis = shape.len() >= 3
        && shape[..shape.len() - 3].iter().all(|&d| d == 1)
        && shape[shape.len() - 2..] == [1, 1];
    let values = k.try_as_plain_ram()?.as_slice::<f32>()?;
    let values = match values.len() {
        1 => vec![values[0]; cout],
        n if n == cout && channel_axis => values.to_vec(),
        _ => return Ok(None),
    };
    if values.iter().any(|v| !v.is_finite()) {
        return Ok(None);
    }
    Ok(Some((node, values)))
}

/// `node` as tract's `QuantizeLinearU8` with a finite scale: its parameters.
pub(super) fn quantizer(node: &TypedNode) -> Option<Quant> {
    let q = element_wise::<QuantizeLinearU8>(node).filter(|q| q.scale.is_finite())?;
    Some(Quant {
        inv_scale: q.scale,
        zero_point: q.zero_point,
    })
}
