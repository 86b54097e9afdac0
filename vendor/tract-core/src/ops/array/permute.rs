//! edgegan patch: a chain of `MoveAxis` nodes as one permutation, copied in one pass.
//!
//! ONNX `DepthToSpace` and `SpaceToDepth` (and most transposes of rank 5 and more) lower to
//! a reshape and two `MoveAxis` nodes, each of which reads and writes the whole tensor. At
//! codegen, `AxisOp::Move` hands a `Move` that feeds another one to [`Permute`], which keeps
//! absorbing the `Move`s after it and evaluates with [`super::strided_copy`].

use super::strided_copy::strided_copy;
use crate::internal::*;
use crate::ops::change_axes::AxisOp;

/// Output axis `d` is input axis `perm[d]`.
#[derive(Debug, Clone, new, Hash, PartialEq, Eq)]
pub struct Permute {
    pub perm: TVec<usize>,
}

/// The permutation a `Move(from, to)` applies, in [`Permute`]'s convention.
pub fn move_as_perm(rank: usize, from: usize, to: usize) -> TVec<usize> {
    let mut perm: TVec<usize> = (0..rank).collect();
    let axis = perm.remove(from);
    perm.insert(to, axis);
    perm
}

impl Permute {
    /// This permutation followed by `then` (in the same convention, over this one's output).
    pub fn then(&self, then: &[usize]) -> Permute {
        Permute { perm: then.iter().map(|&d| self.perm[d]).collect() }
    }

    /// Absorb a following `Move` when this node is its only reader's only input.
    pub(crate) fn fuse_next_move(
        &self,
        model: &TypedModel,
        node: &TypedNode,
    ) -> TractResult<Option<TypedModelPatch>> {
        rule_if!(node.outputs[0].fact.exotic_fact.is_none());
        rule_if!(!model.output_outlets()?.contains(&node.id.into()));
        rule_if_some!(succ = model.single_succ(node.id)?);
        rule_if_some!(AxisOp::Move(from, to) = succ.op_as::<AxisOp>());
        let op = self.then(&move_as_perm(self.perm.len(), *from, *to));
        Ok(Some(TypedModelPatch::fuse_with_next(model, node, op)?))
    }
}

impl Op for Permute {
    fn name(&self) -> StaticName {
        "Permute".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!("axes {:?}", self.perm)])
    }

    op_as_typed_op!();
}

impl EvalOp for Permute {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        ensure!(input.rank() == self.perm.len(), "Permute {:?} of {:?}", self.perm, input);
        let shape: TVec<usize> = self.perm.iter().map(|&d| input.shape()[d]).collect();
        let natural = Tensor::natural_strides(input.shape());
        let strides: TVec<isize> = self.perm.iter().map(|&d| natural[d]).collect();
        if let Some(out) = strided_copy(&input, &shape, &strides)? {
            return Ok(tvec!(out.into_tvalue()));
        }
        Ok(tvec!(input.into_tensor().permute_axes(&self.perm)?.into_tvalue()))
    }
}

impl TypedOp for Permute {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(inputs[0].rank() == self.perm.len());
        let shape: TVec<TDim> = self.perm.iter().map(|&d| inputs[0].shape[d].clone()).collect();
        Ok(tvec!(inputs[0].datum_type.fact(shape)))
    }

    fn fuse(&self, model: &TypedModel, node: &TypedNode) -> TractResult<Option<TypedModelPatch>> {
        self.fuse_next_move(model, node)
    }

    as_op!();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DepthToSpace (CRD, blocksize 2) as tract lowers it: two moves, now one `Permute`, with
    /// the values ONNX defines.
    #[test]
    fn two_moves_become_one_permute_with_the_same_values() -> TractResult<()> {
        let mut model = TypedModel::default();
        let x = model.add_source("x", f32::fact([1, 2, 2, 2, 3, 3]))?;
        let a = model.wire_node("a", AxisOp::Move(3, 5), &[x])?;
        let b = model.wire_node("b", AxisOp::Move(2, 3), &a)?;
        model.select_output_outlets(&b)?;
        let input: Tensor = tensor1(&(0..72).map(|x| x as f32).collect::<Vec<_>>())
            .into_shape(&[1, 2, 2, 2, 3, 3])?;
        let want = model.clone().into_runnable()?.run(tvec!(input.clone().into_tvalue()))?;
        let optimized = model.into_optimized()?;
        let names: Vec<String> = optimized.nodes.iter().map(|n| n.op.name().to_string()).collect();
        assert!(
            names.contains(&"Permute".to_string()) && !names.contains(&"MoveAxis".to_string()),
            "{names:?}"
        );
        let got = optimized.into_runnable()?.run(tvec!(input.into_tvalue()))?;
        assert_eq!(got[0].shape(), &[1, 2, 3, 2, 3, 2]);
        got[0].close_enough(&want[0], Approximation::Exact)?;
        // out[c, h, i, w, j] = in[c, i, j, h, w]
        let out = got[0].to_plain_array_view::<f32>()?;
        // in[0, 1, 1, 1, 2, 0] is element ((((1·2 + 1)·2 + 1)·3 + 2)·3 + 0 = 69
        assert_eq!(out[[0, 1, 2, 1, 0, 1]], 69.0);
        Ok(())
    }
}
