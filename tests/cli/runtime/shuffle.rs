//! `edgegan_runtime::sum_before_shuffle`: the SR graphs' two pixel shuffles
//! become one, and the output stays the same bit for bit, on the shipped
//! models (f32 and int8, through the runtime's int8 fusion) and on small
//! graphs of either mode pairing; graphs it cannot rewrite are left alone.

use edgegan_trainer::onnx::{attr_int, attr_str, GraphBuilder};
use tract_onnx::pb::tensor_shape_proto::dimension::Value as Dim;
use tract_onnx::pb::ModelProto;
use tract_onnx::prelude::*;

/// The graph's output for `input` through the runtime's plan steps, and how
/// many `Permute` nodes the optimized plan has.
fn run(proto: &ModelProto, input: &Tensor) -> (Tensor, usize) {
    let typed = tract_onnx::onnx()
        .model_for_proto_model(proto)
        .unwrap()
        .with_input_fact(0, f32::fact(input.shape()).into())
        .unwrap()
        .into_typed()
        .unwrap();
    let plan = edgegan_runtime::fuse_int8(typed)
        .unwrap()
        .into_optimized()
        .unwrap();
    let permutes = plan
        .nodes
        .iter()
        .filter(|n| n.op().name() == "Permute")
        .count();
    let out = plan
        .into_runnable()
        .unwrap()
        .run(tvec!(input.clone().into_tvalue()))
        .unwrap();
    (out[0].clone().into_tensor(), permutes)
}

fn input(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    tract_ndarray::ArrayD::from_shape_vec(
        shape,
        (0..n).map(|i| ((i * 7919) % 251) as f32 / 250.0).collect(),
    )
    .unwrap()
    .into_tensor()
}

fn bits(t: &Tensor) -> Vec<u32> {
    let t = t.cast_to::<f32>().unwrap();
    let v = t.to_plain_array_view::<f32>().unwrap();
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn shipped_sr_graphs_shuffle_once_with_the_same_bits() {
    let onnx = tract_onnx::onnx();
    for file in [
        "sr-x2/model.onnx",
        "sr-x2/model.int8.onnx",
        "sr-x4/model.onnx",
        "sr-x4/model.int8.onnx",
        "sr-x4-real/model.onnx",
    ] {
        let path = format!("{}/models/{file}", env!("CARGO_MANIFEST_DIR"));
        let original = onnx.proto_model_for_path(&path).unwrap();
        let mut rewritten = original.clone();
        assert_eq!(
            edgegan_runtime::sum_before_shuffle(&mut rewritten),
            1,
            "{file}"
        );
        let x = input(&[1, 3, 21, 18]);
        let (want, permutes_before) = run(&original, &x);
        let (got, permutes_after) = run(&rewritten, &x);
        assert_eq!(got.shape(), want.shape(), "{file}");
        assert!(bits(&got) == bits(&want), "{file}: values differ");
        assert_eq!(
            (permutes_before, permutes_after),
            (2, 1),
            "{file}: Permute nodes before and after"
        );
        // A second pass finds nothing left to rewrite.
        assert_eq!(edgegan_runtime::sum_before_shuffle(&mut rewritten), 0);
    }
}

/// x (8 channels) → [1×1 Conv →] DepthToSpace(mode a) ⊕ DepthToSpace(x, mode b).
fn two_shuffles(conv: bool, a: &str, b: &str) -> ModelProto {
    let mut g = GraphBuilder::new("shuffles");
    let first = if conv {
        let w: Vec<f32> = (0..64)
            .map(|i| ((i * 37) % 17) as f32 / 8.0 - 1.0)
            .collect();
        let bias: Vec<f32> = (0..8).map(|i| i as f32 * 0.25 - 1.0).collect();
        g.initializer("w", &[8, 8, 1, 1], w);
        g.initializer("b", &[8], bias);
        g.node("Conv", &["x", "w", "b"], &["c"], vec![]);
        "c"
    } else {
        "x"
    };
    let d2s = |mode| vec![attr_int("blocksize", 2), attr_str("mode", mode)];
    g.node("DepthToSpace", &[first], &["p"], d2s(a));
    g.node("DepthToSpace", &["x"], &["q"], d2s(b));
    g.node("Add", &["p", "q"], &["y"], vec![]);
    let dims = |d: &[i64]| d.iter().map(|&v| Dim::DimValue(v)).collect();
    let x = edgegan_trainer::onnx::value_info("x", dims(&[1, 8, 5, 7]));
    let y = edgegan_trainer::onnx::value_info("y", dims(&[1, 2, 10, 14]));
    let bytes = g.finish_with(x, y).encode();
    tract_onnx::onnx()
        .proto_model_for_read(&mut &bytes[..])
        .unwrap()
}

#[test]
fn any_mode_pair_with_a_conv_side_gives_the_same_bits() {
    let x = input(&[1, 8, 5, 7]);
    for (conv, a, b, rewrites) in [
        (true, "DCR", "CRD", 1),
        (true, "CRD", "DCR", 1),
        (true, "DCR", "DCR", 1),
        (false, "CRD", "CRD", 1),
        // different modes and no conv to reorder: left alone
        (false, "DCR", "CRD", 0),
    ] {
        let original = two_shuffles(conv, a, b);
        let mut rewritten = original.clone();
        let n = edgegan_runtime::sum_before_shuffle(&mut rewritten);
        assert_eq!(n, rewrites, "conv={conv} {a}/{b}");
        let (want, _) = run(&original, &x);
        let (got, _) = run(&rewritten, &x);
        assert!(
            bits(&got) == bits(&want),
            "conv={conv} {a}/{b}: values differ"
        );
        let shuffles = rewritten
            .graph
            .as_ref()
            .unwrap()
            .node
            .iter()
            .filter(|n| n.op_type == "DepthToSpace")
            .count();
        assert_eq!(shuffles, 2 - rewrites, "conv={conv} {a}/{b}");
    }
}
