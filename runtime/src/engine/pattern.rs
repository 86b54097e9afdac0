//! Recognising node chains in a decluttered tract graph, for the rewrites
//! the engine makes before tract optimizes a plan (the int8 conv chains of
//! [`super::qconv`], the gated products of [`super::gate`]): who reads a
//! node, a binary op after it, an element-wise op, a nearest 2×
//! upsampling and a skip `Add`, and the loop that applies the patches.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::array::MultiBroadcastTo;
use tract_onnx::tract_core::ops::binary::TypedBinOp;
use tract_onnx::tract_core::ops::change_axes::AxisOp;
use tract_onnx::tract_core::ops::element_wise::{ElementWiseMiniOp, ElementWiseOp};

/// `model` with the patch `patch` finds at each node, in evaluation order,
/// applied (the nodes a patch replaces become dummies, which no finder
/// takes), then compacted.
pub(crate) fn rewrite(
    mut model: TypedModel,
    patch: impl Fn(&TypedModel, &TypedNode) -> TractResult<Option<TypedModelPatch>>,
) -> TractResult<TypedModel> {
    for id in model.eval_order()? {
        if let Some(p) = patch(&model, &model.nodes()[id])? {
            p.apply(&mut model)?;
        }
    }
    model.into_compact()
}

/// [`rewrite`], unless the environment variable `knob` is `off` (the
/// rewrites' switch for side-by-side runs): then `model` as it is.
pub(crate) fn rewrite_unless_off(
    knob: &str,
    model: TypedModel,
    patch: impl Fn(&TypedModel, &TypedNode) -> TractResult<Option<TypedModelPatch>>,
) -> TractResult<TypedModel> {
    if std::env::var(knob).as_deref() == Ok("off") {
        return Ok(model);
    }
    rewrite(model, patch)
}

/// The only reader of `node`'s single output, unless that output is also a
/// model output.
pub(crate) fn next<'m>(
    model: &'m TypedModel,
    node: &TypedNode,
) -> TractResult<Option<&'m TypedNode>> {
    if model.output_outlets()?.contains(&OutletId::new(node.id, 0)) {
        return Ok(None);
    }
    model.single_succ(node.id)
}

/// `prev`'s only reader, if it is the binary `name` ("Mul", "Add") of
/// `prev`'s output and another wire: that node, its output fact and the
/// other wire.
pub(crate) fn binary_after<'m>(
    model: &'m TypedModel,
    prev: &TypedNode,
    name: &str,
) -> TractResult<Option<(&'m TypedNode, &'m TypedFact, OutletId)>> {
    let Some(node) = next(model, prev)? else {
        return Ok(None);
    };
    let is_op = node
        .op_as::<TypedBinOp>()
        .is_some_and(|b| b.0.name() == name);
    if !is_op || node.inputs.len() != 2 {
        return Ok(None);
    }
    let wire = OutletId::new(prev.id, 0);
    let Some(&other) = node.inputs.iter().find(|&&i| i != wire) else {
        return Ok(None);
    };
    Ok(Some((
        node,
        model.outlet_fact(OutletId::new(node.id, 0))?,
        other,
    )))
}

/// `prev`'s only reader, if it is an `Add` of `prev`'s f32 output and
/// another f32 wire of the same concrete shape (no broadcast): that node
/// and the other wire.
pub(crate) fn skip_add<'m>(
    model: &'m TypedModel,
    prev: &TypedNode,
) -> TractResult<Option<(&'m TypedNode, OutletId)>> {
    let Some((node, out, other)) = binary_after(model, prev, "Add")? else {
        return Ok(None);
    };
    let ours = model.outlet_fact(OutletId::new(prev.id, 0))?;
    let same = |f: &TypedFact| {
        f.datum_type == f32::datum_type()
            && f.shape.as_concrete().is_some()
            && f.shape == ours.shape
    };
    if !same(model.outlet_fact(other)?) || !same(out) {
        return Ok(None);
    }
    Ok(Some((node, other)))
}

/// `node`'s element-wise mini-op as `T`, if it is one.
pub(crate) fn element_wise<T: ElementWiseMiniOp>(node: &TypedNode) -> Option<&T> {
    node.op_as::<ElementWiseOp>()
        .and_then(|e| e.0.downcast_ref::<T>())
}

/// After `prev` (f32, `[n, c, h, w]`): a nearest 2× upsampling spelt as
/// the ONNX export writes it (reshape to `[n, c, h, 1, w, 1]`, broadcast to
/// `[n, c, h, 2, w, 2]`, reshape to `[n, c, 2h, 2w]`), then an Add of an
/// f32 input of that shape, each the only reader of the one before: the
/// Add and its other input.
pub(crate) fn up2_skip_add<'m>(
    model: &'m TypedModel,
    prev: &TypedNode,
) -> TractResult<Option<(&'m TypedNode, OutletId)>> {
    let shape_of = |n: &TypedNode| -> TractResult<Option<Vec<usize>>> {
        let fact = model.outlet_fact(OutletId::new(n.id, 0))?;
        Ok(fact.shape.as_concrete().map(|s| s.to_vec()))
    };
    let Some(s) = shape_of(prev)? else {
        return Ok(None);
    };
    let [n, c, h, w] = s[..] else {
        return Ok(None);
    };
    // Reshapes that keep the elements in order (no axis moved), as many
    // as follow one another: the last of them.
    let reshaped = |mut node: &'m TypedNode| -> TractResult<&'m TypedNode> {
        while let Some(r) = next(model, node)? {
            let keeps = matches!(
                r.op_as::<AxisOp>(),
                Some(AxisOp::Add(_) | AxisOp::Rm(_) | AxisOp::Reshape(..))
            );
            if !keeps {
                break;
            }
            node = r;
        }
        Ok(node)
    };
    let r1 = reshaped(&model.nodes()[prev.id])?;
    let Some(b) = next(model, r1)?.filter(|b| b.op_is::<MultiBroadcastTo>()) else {
        return Ok(None);
    };
    let r2 = reshaped(b)?;
    if shape_of(r1)? != Some(vec![n, c, h, 1, w, 1])
        || shape_of(b)? != Some(vec![n, c, h, 2, w, 2])
        || shape_of(r2)? != Some(vec![n, c, 2 * h, 2 * w])
    {
        return Ok(None);
    }
    skip_add(model, r2)
}
