//! Static analysis of an ONNX graph: how far each output pixel reaches into
//! the input (the receptive-field radius that tiling halos must cover).
//!
//! The walk follows the graph in topological order and keeps, per tensor, the
//! longest reach in *input* pixels and the resolution factor of that tensor
//! (DepthToSpace and Resize multiply it). A convolution of kernel `k` and
//! dilation `d` reaches `ceil((k-1)·d/2)` pixels at its own resolution, i.e.
//! that divided by the factor in input pixels. Pointwise ops reach nothing;
//! any other op makes the reach unknown and the card's value is trusted.

use std::collections::HashMap;
use tract_onnx::pb::{AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto};

/// Ops that combine values at the same pixel only.
const POINTWISE: &[&str] = &[
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Relu",
    "LeakyRelu",
    "PRelu",
    "Sigmoid",
    "Tanh",
    "Clip",
    "Identity",
    "Concat",
    "Cast",
    "BatchNormalization",
    "HardSigmoid",
    "HardSwish",
    "Elu",
    "Selu",
    "Min",
    "Max",
    "Sqrt",
    "Neg",
    "Abs",
    "Exp",
    "Pow",
    "Round",
    "Floor",
    "QuantizeLinear",
    "DequantizeLinear",
    "Constant",
    "Split",
    "Pad",
    "Softplus",
    "Erf",
    "Gelu",
];

/// A node's attribute by name.
pub(crate) fn attr<'a>(node: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

fn kernel_shape(node: &NodeProto, graph: &GraphProto) -> Result<Vec<i64>, String> {
    if let Some(a) = attr(node, "kernel_shape") {
        return Ok(a.ints.clone());
    }
    Ok(conv_weights(node, graph)?
        .dims
        .iter()
        .skip(2)
        .copied()
        .collect())
}

/// The constant weight tensor of a `Conv`, `ConvInteger` or `QLinearConv`.
fn conv_weights<'a>(node: &NodeProto, graph: &'a GraphProto) -> Result<&'a TensorProto, String> {
    let w_ix = if node.op_type == "QLinearConv" { 3 } else { 1 };
    let w_name = node.input.get(w_ix).ok_or("conv without weights")?;
    graph
        .initializer
        .iter()
        .find(|t| &t.name == w_name)
        .ok_or_else(|| format!("{}: weights {w_name} are not an initializer", node.name))
}

/// Receptive-field radius of the model's (single) output, in input pixels.
///
/// Returns `Err(reason)` when the graph contains an op whose spatial reach this
/// analysis does not know (the card's stated radius is then trusted).
pub fn receptive_radius(model: &ModelProto) -> Result<usize, String> {
    let graph = model.graph.as_ref().ok_or("model has no graph")?;
    // tensor name -> (reach in input pixels, resolution factor)
    let mut reach: HashMap<&str, (f64, f64)> = HashMap::new();
    for node in &graph.node {
        let (r_in, f_in) = node
            .input
            .iter()
            .filter_map(|i| reach.get(i.as_str()))
            .fold((0.0f64, 1.0f64), |(r, f), &(ri, fi)| (r.max(ri), f.max(fi)));
        let (r_out, f_out) = match node.op_type.as_str() {
            "Conv" | "ConvInteger" | "QLinearConv" => {
                if let Some(s) = attr(node, "strides") {
                    if s.ints.iter().any(|&s| s != 1) {
                        return Err(format!("{}: strided convolution", node.name));
                    }
                }
                let k = kernel_shape(node, graph)?;
                let d = attr(node, "dilations")
                    .map(|a| a.ints.clone())
                    .unwrap_or_default();
                let own = k
                    .iter()
                    .enumerate()
                    .map(|(i, &k)| ((k - 1) * d.get(i).copied().unwrap_or(1)) as f64 / 2.0)
                    .fold(0.0, f64::max)
                    .ceil();
                (r_in + own / f_in, f_in)
            }
            "DepthToSpace" => {
                let b = attr(node, "blocksize")
                    .map(|a| a.i)
                    .ok_or("DepthToSpace without blocksize")?;
                (r_in, f_in * b as f64)
            }
            op if POINTWISE.contains(&op) => (r_in, f_in),
            op => {
                return Err(format!(
                    "op {op} ({}) has no known spatial reach",
                    node.name
                ))
            }
        };
        for o in &node.output {
            reach.insert(o.as_str(), (r_out, f_out));
        }
    }
    let out = graph.output.first().ok_or("graph has no output")?;
    let (r, _) = reach.get(out.name.as_str()).copied().unwrap_or((0.0, 1.0));
    Ok(r.ceil() as usize)
}

/// Multiply-accumulates per *input* pixel over all convolutions
/// (`Conv`, `ConvInteger`, `QLinearConv`): each conv adds the size of its
/// weight tensor, times the square of the resolution factor it runs at
/// (DepthToSpace multiplies the factor). Pointwise ops are not counted.
pub fn conv_macs_per_input_pixel(model: &ModelProto) -> Result<f64, String> {
    let graph = model.graph.as_ref().ok_or("model has no graph")?;
    let mut factor: HashMap<&str, f64> = HashMap::new();
    let mut macs = 0.0;
    for node in &graph.node {
        let f = node
            .input
            .iter()
            .filter_map(|i| factor.get(i.as_str()))
            .fold(1.0f64, |a, &b| a.max(b));
        let f_out = match node.op_type.as_str() {
            "Conv" | "ConvInteger" | "QLinearConv" => {
                let w = conv_weights(node, graph)?;
                macs += w.dims.iter().product::<i64>() as f64 * f * f;
                f
            }
            "DepthToSpace" => f * attr(node, "blocksize").map_or(1, |a| a.i) as f64,
            _ => f,
        };
        for o in &node.output {
            factor.insert(o.as_str(), f_out);
        }
    }
    Ok(macs)
}
