//! Reading an exported f32 inpainting graph back into a trainable
//! [`InpaintGenerator`]: the inverse of
//! [`crate::inpaint::export::inpaint_onnx`], so that a shipped model
//! (`models/inpaint/model.onnx`) can be fine-tuned without the checkpoint it
//! was exported from (`train inpaint --init-from models/inpaint/model.onnx`).
//!
//! Each conv's weights are the initializers `{layer}_w` / `{layer}_b` that
//! the export wrote (`enc0_f`, `enc0_g`, …, `mid0_f`, …, `dec0_f`, …,
//! `refine_f`, `refine_g`, `tail`, and `attn_q`, `attn_k`, `attn_v`, `attn_o`
//! where the generator has attention); the encoder's widths are read from
//! their shapes. An int8 graph or another network is refused with its file named.

use burn::module::Param;
use burn::nn::conv::Conv2d;
use burn::prelude::*;
use burn::tensor::TensorData;
use prost::Message;
use std::collections::HashMap;
use std::path::Path;
use tract_onnx::pb::{tensor_proto::DataType, ModelProto, TensorProto};

use crate::common::Rng;
use crate::error::TrainError;
use crate::inpaint::attn::MaskedAttention;
use crate::inpaint::model::{GatedConv, InpaintGenerator};

/// The f32 initializers of a graph, by name: `(dims, values)`.
type Inits = HashMap<String, (Vec<usize>, Vec<f32>)>;

fn floats(t: &TensorProto) -> Option<Vec<f32>> {
    if t.data_type != DataType::Float as i32 {
        return None;
    }
    if !t.float_data.is_empty() {
        return Some(t.float_data.clone());
    }
    let raw = t.raw_data.chunks_exact(4);
    Some(
        raw.map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
    )
}

/// The generator whose f32 graph is the ONNX file `path` (as
/// [`crate::inpaint::export::inpaint_onnx`] writes it), on `device`.
pub fn import(path: &Path, device: &Device) -> Result<InpaintGenerator, TrainError> {
    let bytes =
        std::fs::read(path).map_err(|e| TrainError::Config(format!("{}: {e}", path.display())))?;
    import_bytes(&bytes, path, device)
}

/// [`import`] of the file's bytes, already read (`path` names it in errors).
pub fn import_bytes(
    bytes: &[u8],
    path: &Path,
    device: &Device,
) -> Result<InpaintGenerator, TrainError> {
    let bad = |reason: String| TrainError::Config(format!("{}: {reason}", path.display()));
    let model = ModelProto::decode(bytes).map_err(|e| bad(format!("not an ONNX model ({e})")))?;
    let graph = model.graph.ok_or_else(|| bad("no graph".into()))?;
    let inits: Inits = graph
        .initializer
        .iter()
        .filter_map(|t| {
            let dims = t.dims.iter().map(|&d| d as usize).collect();
            floats(t).map(|v| (t.name.clone(), (dims, v)))
        })
        .collect();
    let width = |i: usize| -> Result<usize, TrainError> {
        match inits.get(&format!("enc{i}_f_w")) {
            Some((dims, _)) if dims.len() == 4 => Ok(dims[0]),
            _ => Err(bad(format!(
                "no f32 weights enc{i}_f_w: not an f32 inpainting graph of edgegan's generator"
            ))),
        }
    };
    let channels = [width(0)?, width(1)?, width(2)?, width(3)?];
    // Every weight is overwritten below: the fresh draw only shapes the module.
    let mut g = InpaintGenerator::with_channels(channels, &mut Rng(0), device);
    let set = |conv: &mut Conv2d, name: &str| -> Result<(), TrainError> {
        let (w, b) = (format!("{name}_w"), format!("{name}_b"));
        let dims = conv.weight.dims();
        match inits.get(&w) {
            Some((d, v)) if d[..] == dims[..] => {
                conv.weight =
                    Param::from_tensor(Tensor::from_data(TensorData::new(v.clone(), dims), device));
            }
            Some((d, _)) => return Err(bad(format!("{w} has shape {d:?}, expected {dims:?}"))),
            None => return Err(bad(format!("no f32 weights {w}"))),
        }
        match inits.get(&b) {
            Some((d, v)) if d[..] == [dims[0]] => {
                conv.bias = Some(Param::from_tensor(Tensor::from_data(
                    TensorData::new(v.clone(), [dims[0]]),
                    device,
                )));
                Ok(())
            }
            _ => Err(bad(format!("no f32 bias {b} of {} values", dims[0]))),
        }
    };
    let gated = |gc: &mut GatedConv, name: &str| {
        set(&mut gc.feature, &format!("{name}_f"))?;
        set(&mut gc.gate, &format!("{name}_g"))
    };
    for (i, gc) in g.encoder.iter_mut().enumerate() {
        gated(gc, &format!("enc{i}"))?;
    }
    for (i, gc) in g.middle.iter_mut().enumerate() {
        gated(gc, &format!("mid{i}"))?;
    }
    for (i, gc) in g.decoder.iter_mut().enumerate() {
        gated(gc, &format!("dec{i}"))?;
    }
    gated(&mut g.refine, "refine")?;
    set(&mut g.tail, "tail")?;
    if inits.contains_key("attn_q_w") {
        let mut a = MaskedAttention::new(channels[3], &mut Rng(0), device);
        for (conv, name) in [
            (&mut a.query, "attn_q"),
            (&mut a.key, "attn_k"),
            (&mut a.value, "attn_v"),
            (&mut a.out, "attn_o"),
        ] {
            set(conv, name)?;
        }
        g.attention = Some(a);
    }
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::params::flat_params;
    use crate::inpaint::export::inpaint_onnx;

    #[test]
    fn an_exported_graph_reads_back_into_the_same_generator() {
        let device = Device::default();
        let g = InpaintGenerator::with_channels([8, 8, 16, 16], &mut Rng(3), &device);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.onnx");
        std::fs::write(&path, inpaint_onnx(&g, 16, None).encode()).unwrap();
        let back = import(&path, &device).unwrap();
        assert_eq!(back.encoder[3].feature.weight.dims(), [16, 16, 3, 3]);
        assert_eq!(flat_params(&back), flat_params(&g));
    }

    #[test]
    fn a_graph_with_attention_reads_back_with_it() {
        let device = Device::default();
        let mut g = InpaintGenerator::with_channels([8, 8, 16, 16], &mut Rng(3), &device)
            .with_attention(&mut Rng(4));
        // A trained block: its output conv no longer zero.
        let a = g.attention.as_mut().unwrap();
        a.out = crate::inpaint::model::conv(16, 16, 1, 1, 1, &mut Rng(5), &device);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.onnx");
        std::fs::write(&path, inpaint_onnx(&g, 16, None).encode()).unwrap();
        let back = import(&path, &device).unwrap();
        assert!(back.attention.is_some());
        assert_eq!(flat_params(&back), flat_params(&g));
    }

    #[test]
    fn the_shipped_model_exports_again_byte_for_byte() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/inpaint/model.onnx");
        let g = import(&path, &Device::default()).unwrap();
        assert_eq!(g.channels(), crate::inpaint::model::CHANNELS);
        let again = inpaint_onnx(&g, 256, None).encode();
        assert!(again == std::fs::read(&path).unwrap(), "same bytes");
    }

    #[test]
    fn other_files_are_refused_with_their_name() {
        let device = Device::default();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.onnx");
        std::fs::write(&path, b"not protobuf at all \xff\xff").unwrap();
        let err = import(&path, &device).unwrap_err().to_string();
        assert!(err.starts_with(&path.display().to_string()), "{err}");
        let g = InpaintGenerator::with_channels([8, 8, 16, 16], &mut Rng(3), &device);
        let ranges = vec![
            crate::quant::QParams {
                scale: 0.01,
                zero_point: 0
            };
            g.convs().len()
        ];
        std::fs::write(&path, inpaint_onnx(&g, 16, Some(&ranges)).encode()).unwrap();
        let err = import(&path, &device).unwrap_err().to_string();
        assert!(err.contains("not an f32 inpainting graph"), "{err}");
    }
}
