//! Sum before shuffle: an ONNX graph's `Add(DepthToSpace(a), DepthToSpace(b))`
//! rewritten as `DepthToSpace(Add(a, b))`, so a super-resolution model's two
//! pixel shuffles (its bicubic skip and its residual) cost one pass over the
//! large output instead of two.
//!
//! A pixel shuffle only moves values, and the sum is taken element by
//! element, so adding before shuffling adds the same pairs of numbers: the
//! output is the same, bit for bit. When the two shuffles differ in mode
//! (`DCR` and `CRD`), the side computed by a `Conv` with constant weights has
//! its output channels reordered (weight rows and bias) so that the other
//! side's mode puts them where its own mode did.

use std::collections::HashMap;
use tract_onnx::pb::{GraphProto, ModelProto, NodeProto, TensorProto};

use super::graph::attr;

/// The ONNX `TensorProto` code of f32.
const FLOAT: i32 = 1;

/// Rewrites every `Add` whose two inputs are `DepthToSpace` outputs of the
/// same block size, read by nothing else, into one `Add` before one
/// `DepthToSpace` (see the module's notes); returns how many it rewrote. A
/// pair of different modes is rewritten only when one side's input is the
/// output of a `Conv` with f32 initializer weights (and bias) that nothing
/// else reads; any other graph is left as it is.
///
/// ```
/// use tract_onnx::prelude::*;
/// let onnx = tract_onnx::onnx();
/// let mut proto = onnx.proto_model_for_path("../models/sr-x4/model.onnx")?;
/// assert_eq!(edgegan_runtime::sum_before_shuffle(&mut proto), 1);
/// let shuffles = proto.graph.as_ref().unwrap().node.iter().filter(|n| n.op_type == "DepthToSpace");
/// assert_eq!(shuffles.count(), 1);
/// # Ok::<(), TractError>(())
/// ```
pub fn sum_before_shuffle(model: &mut ModelProto) -> usize {
    let Some(graph) = model.graph.as_mut() else {
        return 0;
    };
    let mut rewritten = 0;
    while let Some(pair) = find_pair(graph) {
        apply(graph, pair);
        rewritten += 1;
    }
    rewritten
}

/// An `Add` of two shuffles: node indices (the shuffles in the Add's input
/// order), the shuffle whose mode the result keeps, and which shuffle's
/// producer (a `Conv`) has its channels reordered to take that mode, if any.
struct Pair {
    add: usize,
    shuffles: [usize; 2],
    kept: usize,
    reorder: Option<(usize, usize)>,
}

fn blocksize(node: &NodeProto) -> Option<i64> {
    attr(node, "blocksize").map(|a| a.i)
}

fn mode(node: &NodeProto) -> Vec<u8> {
    attr(node, "mode").map_or(b"DCR".to_vec(), |a| a.s.clone())
}

/// How many node inputs and graph outputs read each tensor.
fn readers(graph: &GraphProto) -> HashMap<&str, usize> {
    let mut n = HashMap::new();
    let names = graph.node.iter().flat_map(|node| node.input.iter());
    for name in names.chain(graph.output.iter().map(|o| &o.name)) {
        *n.entry(name.as_str()).or_default() += 1;
    }
    n
}

fn producer(graph: &GraphProto, tensor: &str) -> Option<usize> {
    graph
        .node
        .iter()
        .position(|n| n.output.iter().any(|o| o == tensor))
}

fn initializer<'a>(graph: &'a GraphProto, name: &str) -> Option<&'a TensorProto> {
    graph.initializer.iter().find(|t| t.name == name)
}

fn find_pair(graph: &GraphProto) -> Option<Pair> {
    let readers = readers(graph);
    let read_once = |t: &str| readers.get(t) == Some(&1);
    graph.node.iter().enumerate().find_map(|(add, node)| {
        if node.op_type != "Add" || node.input.len() != 2 || node.output.len() != 1 {
            return None;
        }
        let s: Vec<usize> = node
            .input
            .iter()
            .filter_map(|i| producer(graph, i).filter(|_| read_once(i)))
            .filter(|&p| graph.node[p].op_type == "DepthToSpace")
            .collect();
        let [a, b] = s[..] else { return None };
        let (na, nb) = (&graph.node[a], &graph.node[b]);
        let bs = blocksize(na).filter(|&bs| bs > 0 && Some(bs) == blocksize(nb))?;
        if mode(na) == mode(nb) {
            return Some(Pair {
                add,
                shuffles: [a, b],
                kept: a,
                reorder: None,
            });
        }
        // Reorder whichever side a reorderable Conv computes; keep the other's mode.
        [(b, a), (a, b)].into_iter().find_map(|(reordered, kept)| {
            let input = graph.node[reordered].input.first()?;
            let conv = producer(graph, input).filter(|_| read_once(input))?;
            reorderable(graph, &graph.node[conv], bs, &read_once).then_some(Pair {
                add,
                shuffles: [a, b],
                kept,
                reorder: Some((conv, reordered)),
            })
        })
    })
}

/// A `Conv` whose f32 weights (and bias) are initializers read by it alone,
/// with output channels a multiple of `bs²`.
fn reorderable(
    graph: &GraphProto,
    conv: &NodeProto,
    bs: i64,
    read_once: &dyn Fn(&str) -> bool,
) -> bool {
    let ok = |name: &String| {
        read_once(name)
            && initializer(graph, name).is_some_and(|t| {
                t.data_type == FLOAT
                    && t.dims.first().is_some_and(|&c| c > 0 && c % (bs * bs) == 0)
                    && values(t).is_some()
            })
    };
    conv.op_type == "Conv"
        && conv.output.len() == 1
        && (2..=3).contains(&conv.input.len())
        && conv.input[1..].iter().all(ok)
}

/// An f32 initializer's values, from `float_data` or little-endian `raw_data`.
fn values(t: &TensorProto) -> Option<Vec<f32>> {
    let n: i64 = t.dims.iter().product();
    let v: Vec<f32> = if t.raw_data.is_empty() {
        t.float_data.clone()
    } else {
        t.raw_data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    };
    (v.len() as i64 == n).then_some(v)
}

/// `order[k]` is the channel that a `from`-mode shuffle read where a
/// `to`-mode shuffle reads channel `k`: channels laid out in that order put
/// every value in the same output place under `to` as before under `from`.
fn channel_order(channels: usize, bs: usize, from: &[u8], to: &[u8]) -> Vec<usize> {
    let c = channels / (bs * bs);
    let index = |mode: &[u8], ch: usize, by: usize, bx: usize| {
        if mode == b"CRD" {
            (ch * bs + by) * bs + bx
        } else {
            (by * bs + bx) * c + ch
        }
    };
    let mut order = vec![0; channels];
    for ch in 0..c {
        for by in 0..bs {
            for bx in 0..bs {
                order[index(to, ch, by, bx)] = index(from, ch, by, bx);
            }
        }
    }
    order
}

/// Rewrites `t`'s rows (its first axis) in `order`, as `float_data`.
fn reorder_rows(t: &mut TensorProto, order: &[usize]) {
    let v = values(t).expect("checked by reorderable");
    let row = v.len() / order.len();
    t.float_data = order
        .iter()
        .flat_map(|&k| v[k * row..][..row].iter().copied())
        .collect();
    t.raw_data.clear();
}

fn apply(graph: &mut GraphProto, pair: Pair) {
    let kept = pair.kept;
    let other = pair.shuffles[usize::from(pair.shuffles[0] == kept)];
    let bs = blocksize(&graph.node[kept]).unwrap_or(1) as usize;
    let to = mode(&graph.node[kept]);
    if let Some((conv, shuffle)) = pair.reorder {
        let from = mode(&graph.node[shuffle]);
        for name in &graph.node[conv].input[1..] {
            let t = graph
                .initializer
                .iter_mut()
                .find(|t| t.name == *name)
                .expect("checked by reorderable");
            let order = channel_order(t.dims[0] as usize, bs, &from, &to);
            reorder_rows(t, &order);
        }
    }
    // The Add reads the shuffles' inputs and writes a fresh tensor; the kept
    // shuffle reads that and writes what the Add wrote.
    let output = graph.node[pair.add].output[0].clone();
    let summed = format!("{output}.before_shuffle");
    let inputs = pair
        .shuffles
        .map(|s| graph.node[s].input[0].clone())
        .to_vec();
    let add = &mut graph.node[pair.add];
    add.input = inputs;
    add.output = vec![summed.clone()];
    let mut shuffle = graph.node[kept].clone();
    shuffle.input = vec![summed];
    shuffle.output = vec![output];
    // The shuffle goes right after the Add (the nodes stay in topological
    // order); the two old ones go.
    let add_name = graph.node[pair.add].name.clone();
    let (hi, lo) = (kept.max(other), kept.min(other));
    graph.node.remove(hi);
    graph.node.remove(lo);
    let at = graph
        .node
        .iter()
        .position(|n| n.name == add_name && n.output.first() == shuffle.input.first())
        .expect("the Add");
    graph.node.insert(at + 1, shuffle);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_orders_map_each_value_to_the_same_place() {
        // DCR channel (by·bs + bx)·C' + c and CRD channel (c·bs + by)·bs + bx
        // of 2 channels, block 2: CRD index k' must read DCR channel order[k'].
        assert_eq!(
            channel_order(8, 2, b"DCR", b"CRD"),
            vec![0, 2, 4, 6, 1, 3, 5, 7]
        );
        assert_eq!(
            channel_order(8, 2, b"CRD", b"DCR"),
            vec![0, 4, 1, 5, 2, 6, 3, 7]
        );
        assert_eq!(
            channel_order(12, 2, b"DCR", b"DCR"),
            (0..12).collect::<Vec<_>>()
        );
    }
}
