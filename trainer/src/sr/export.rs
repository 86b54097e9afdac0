//! Export of a trained [`Generator`] as an ONNX graph the runtime runs:
//! bicubic branch (Pad edge + 5×5 Conv + DepthToSpace DCR) + learned branch
//! (Conv/LeakyRelu stack + DepthToSpace CRD, i.e. PixelShuffle), then Add.

use burn::nn::conv::Conv2d;

use crate::onnx::classic::add_bicubic;
use crate::onnx::layers::{add_conv, add_leaky};
use crate::onnx::{attr_int, attr_str, GraphBuilder, OnnxModel};
use crate::sr::model::{Generator, GeneratorShape};

/// The ONNX graph of `generator`.
pub fn generator_onnx(generator: &Generator, name: &str) -> OnnxModel {
    let shape = generator.shape();
    let mut g = GraphBuilder::new(name);
    add_bicubic(&mut g, "input", "bicubic", shape.scale);
    add_conv(&mut g, &generator.head, "head", "input", "head_y");
    add_leaky(&mut g, "head_y", "head_a");
    let mut x = "head_a".to_string();
    for (i, c) in generator.body.iter().enumerate() {
        let (y, a) = (format!("body{i}_y"), format!("body{i}_a"));
        add_conv(&mut g, c, &format!("body{i}"), &x, &y);
        add_leaky(&mut g, &y, &a);
        x = a;
    }
    add_conv(&mut g, &generator.tail, "tail", &x, "tail_y");
    finish_sr(g, shape.scale)
}

/// Close an SR generator graph: PixelShuffle (DepthToSpace CRD) of `tail_y`
/// into the residual, added to `bicubic`, as the graph's `output`.
pub(crate) fn finish_sr(mut g: GraphBuilder, scale: usize) -> OnnxModel {
    g.node(
        "DepthToSpace",
        &["tail_y"],
        &["residual"],
        vec![attr_int("blocksize", scale as i64), attr_str("mode", "CRD")],
    );
    g.node("Add", &["bicubic", "residual"], &["output"], vec![]);
    g.finish("input", "output", 3)
}

/// The shape of the generator in ONNX bytes written by [`generator_onnx`].
pub fn generator_shape(bytes: &[u8]) -> Result<GeneratorShape, String> {
    use prost::Message;
    let model = tract_onnx::pb::ModelProto::decode(bytes).map_err(|e| e.to_string())?;
    shape_of(&model.graph.ok_or("no graph")?)
}

fn shape_of(graph: &tract_onnx::pb::GraphProto) -> Result<GeneratorShape, String> {
    let get = |name: &str| graph.initializer.iter().find(|t| t.name == name);
    let dims = |name: &str| -> Result<Vec<usize>, String> {
        let t = get(name).ok_or_else(|| format!("initializer {name} missing"))?;
        Ok(t.dims.iter().map(|&d| d as usize).collect())
    };
    let (hd, td) = (dims("head_w")?, dims("tail_w")?);
    if hd.len() != 4 || td.len() != 4 {
        return Err("head_w and tail_w must be 4-d conv weights".into());
    }
    Ok(GeneratorShape {
        scale: ((td[0] / 3) as f64).sqrt().round() as usize,
        channels: hd[0],
        head_kernel: hd[2],
        body: (0..)
            .take_while(|i| get(&format!("body{i}_w")).is_some())
            .count(),
    })
}

/// Rebuild a [`Generator`] from ONNX bytes written by [`generator_onnx`]
/// (to resume training or fine-tune a shipped model).
pub fn generator_from_onnx(
    bytes: &[u8],
    device: &burn::prelude::Device,
) -> Result<Generator, String> {
    use burn::module::Param;
    use burn::prelude::Tensor;
    use burn::tensor::TensorData;
    use prost::Message;
    let model = tract_onnx::pb::ModelProto::decode(bytes).map_err(|e| e.to_string())?;
    let graph = model.graph.ok_or("no graph")?;
    let get = |name: &str| graph.initializer.iter().find(|t| t.name == name);
    let weight = |name: &str| -> Result<(Vec<usize>, Vec<f32>), String> {
        let t = get(name).ok_or_else(|| format!("initializer {name} missing"))?;
        Ok((
            t.dims.iter().map(|&d| d as usize).collect(),
            t.float_data.clone(),
        ))
    };
    let shape = shape_of(&graph)?;
    let mut g = Generator::new(shape, &mut crate::common::Rng(0), device);
    let load = |conv: &mut Conv2d, name: &str| -> Result<(), String> {
        let (d, w) = weight(&format!("{name}_w"))?;
        if d != conv.weight.dims() {
            return Err(format!(
                "{name}_w has dims {d:?}, expected {:?}",
                conv.weight.dims()
            ));
        }
        conv.weight = Param::from_tensor(Tensor::<4>::from_data(
            TensorData::new(w, [d[0], d[1], d[2], d[3]]),
            device,
        ));
        let (bd, b) = weight(&format!("{name}_b"))?;
        conv.bias = Some(Param::from_tensor(Tensor::<1>::from_data(
            TensorData::new(b, [bd[0]]),
            device,
        )));
        Ok(())
    };
    load(&mut g.head, "head")?;
    for (i, c) in g.body.iter_mut().enumerate() {
        load(c, &format!("body{i}"))?;
    }
    load(&mut g.tail, "tail")?;
    Ok(g)
}
