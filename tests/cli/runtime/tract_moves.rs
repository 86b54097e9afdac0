//! The patched tract's data-movement ops (vendor/README.md, patch 11)
//! against their ONNX definitions, exactly: `DepthToSpace` in both modes
//! (tract lowers it to two `MoveAxis` nodes, which the patch runs as one
//! `Permute` pass), a `Transpose` big enough for the tiled path, and nearest
//! upsampling written as Reshape + Expand + Reshape (a `MultiBroadcastTo`
//! whose innermost axis repeats), the way the inpainting network upsamples.

use edgegan_trainer::onnx::{attr_int, attr_ints, attr_str, GraphBuilder};
use tract_onnx::pb::tensor_shape_proto::dimension::Value as Dim;
use tract_onnx::prelude::*;

/// A one-input graph's plan for a fixed input shape: the output and the
/// names of the plan's ops.
fn run(g: GraphBuilder, in_shape: &[usize], out_rank: usize) -> (Tensor, Vec<String>) {
    let dims = |shape: &[usize]| shape.iter().map(|&d| Dim::DimValue(d as i64)).collect();
    let x = edgegan_trainer::onnx::value_info("x", dims(in_shape));
    let y = edgegan_trainer::onnx::value_info(
        "y",
        (0..out_rank)
            .map(|i| Dim::DimParam(format!("d{i}")))
            .collect(),
    );
    let bytes = g.finish_with(x, y).encode();
    let plan = tract_onnx::onnx()
        .model_for_read(&mut &bytes[..])
        .unwrap()
        .with_input_fact(0, f32::fact(in_shape).into())
        .unwrap()
        .into_optimized()
        .unwrap();
    let ops = plan
        .nodes
        .iter()
        .map(|n| n.op().name().to_string())
        .collect();
    let n: usize = in_shape.iter().product();
    let input = tract_ndarray::ArrayD::from_shape_vec(
        in_shape,
        (0..n).map(|i| (i as f32) * 0.5 - 7.0).collect(),
    )
    .unwrap()
    .into_tensor();
    let out = plan
        .into_runnable()
        .unwrap()
        .run(tvec!(input.into_tvalue()))
        .unwrap();
    (out[0].clone().into_tensor(), ops)
}

/// The input's value at a flat index (as `run` fills it).
fn value(i: usize) -> f32 {
    (i as f32) * 0.5 - 7.0
}

#[test]
fn depth_to_space_is_one_permute_with_onnx_values() {
    let (c, h, w) = (3, 5, 7);
    for (r, mode) in [(2usize, "DCR"), (4, "DCR"), (2, "CRD"), (4, "CRD")] {
        let mut g = GraphBuilder::new("d2s");
        g.node(
            "DepthToSpace",
            &["x"],
            &["y"],
            vec![attr_int("blocksize", r as i64), attr_str("mode", mode)],
        );
        let (y, ops) = run(g, &[1, c * r * r, h, w], 4);
        assert!(
            ops.iter().any(|o| o == "Permute") && !ops.iter().any(|o| o == "MoveAxis"),
            "{mode} r={r}: {ops:?}"
        );
        assert_eq!(y.shape(), &[1, c, h * r, w * r]);
        let y = y.to_plain_array_view::<f32>().unwrap();
        for ci in 0..c {
            for yy in 0..h * r {
                for xx in 0..w * r {
                    let (i, j) = (yy % r, xx % r);
                    // ONNX: DCR reads channel (i·r + j)·C + c, CRD c·r² + i·r + j
                    let ch = if mode == "DCR" {
                        (i * r + j) * c + ci
                    } else {
                        ci * r * r + i * r + j
                    };
                    let want = value((ch * h + yy / r) * w + xx / r);
                    assert_eq!(y[[0, ci, yy, xx]], want, "{mode} r={r} at {ci},{yy},{xx}");
                }
            }
        }
    }
}

#[test]
fn transposes_match_the_definition() {
    // NCHW to NHWC (a 2-D transpose of 40 × 33 cells per image, tiled) and
    // a rank-5 rotation.
    for (shape, perm) in [
        (vec![2usize, 40, 3, 11], vec![0usize, 2, 3, 1]),
        (vec![2, 3, 4, 5, 6], vec![3, 0, 4, 2, 1]),
    ] {
        let mut g = GraphBuilder::new("transpose");
        let p: Vec<i64> = perm.iter().map(|&d| d as i64).collect();
        g.node("Transpose", &["x"], &["y"], vec![attr_ints("perm", &p)]);
        let (y, _) = run(g, &shape, shape.len());
        let out_shape: Vec<usize> = perm.iter().map(|&d| shape[d]).collect();
        assert_eq!(y.shape(), &out_shape[..]);
        let y = y.to_plain_array_view::<f32>().unwrap();
        for (ix, got) in y.indexed_iter() {
            let mut src = vec![0; shape.len()];
            for (d, &p) in perm.iter().enumerate() {
                src[p] = ix[d];
            }
            let flat = src.iter().zip(&shape).fold(0, |acc, (i, n)| acc * n + i);
            assert_eq!(*got, value(flat), "{perm:?} at {ix:?}");
        }
    }
}

#[test]
fn nearest_upsampling_by_expand_repeats_each_value() {
    let (c, h, w) = (16, 6, 9);
    let mut g = GraphBuilder::new("up");
    g.initializer_i64("s0", vec![1, c as i64, h as i64, 1, w as i64, 1]);
    g.initializer_i64("s1", vec![1, c as i64, h as i64, 2, w as i64, 2]);
    g.initializer_i64("s2", vec![1, c as i64, 2 * h as i64, 2 * w as i64]);
    g.node("Reshape", &["x", "s0"], &["r"], vec![]);
    g.node("Expand", &["r", "s1"], &["e"], vec![]);
    g.node("Reshape", &["e", "s2"], &["y"], vec![]);
    let (y, _) = run(g, &[1, c, h, w], 4);
    assert_eq!(y.shape(), &[1, c, 2 * h, 2 * w]);
    let y = y.to_plain_array_view::<f32>().unwrap();
    for ((_, ci, yy, xx), got) in y
        .into_dimensionality::<tract_ndarray::Ix4>()
        .unwrap()
        .indexed_iter()
    {
        assert_eq!(
            *got,
            value((ci * h + yy / 2) * w + xx / 2),
            "at {ci},{yy},{xx}"
        );
    }
}
