//! A small ONNX graph writer over `tract_onnx::pb` (prost): enough to export
//! convolutional generators (Conv, activations, Pad, DepthToSpace) as NCHW f32
//! graphs with symbolic height and width.
//!
//! ```
//! use edgegan_trainer::onnx::{GraphBuilder, attr_ints};
//! let mut g = GraphBuilder::new("identity-conv");
//! g.initializer("w", &[3, 3, 1, 1], vec![1., 0., 0., 0., 1., 0., 0., 0., 1.]);
//! g.node("Conv", &["x", "w"], &["y"], vec![attr_ints("kernel_shape", &[1, 1])]);
//! let bytes = g.finish("x", "y", 3).encode();
//! assert!(bytes.len() > 50);
//! ```

pub mod classic;
pub mod export;
pub mod layers;

use prost::Message;
pub use tract_onnx::pb::AttributeProto;
use tract_onnx::pb::{
    attribute_proto::AttributeType, tensor_proto::DataType,
    tensor_shape_proto::dimension::Value as Dim, tensor_shape_proto::Dimension, type_proto,
    GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TensorShapeProto,
    TypeProto, ValueInfoProto,
};

/// Opset written into exported models.
pub const OPSET: i64 = 13;

/// An integer-list attribute.
pub fn attr_ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        ints: v.to_vec(),
        r#type: AttributeType::Ints as i32,
        ..Default::default()
    }
}

/// An integer attribute.
pub fn attr_int(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        i: v,
        r#type: AttributeType::Int as i32,
        ..Default::default()
    }
}

/// A string attribute.
pub fn attr_str(name: &str, v: &str) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        s: v.as_bytes().to_vec(),
        r#type: AttributeType::String as i32,
        ..Default::default()
    }
}

/// Accumulates nodes and initializers of one graph.
#[derive(Debug, Default)]
pub struct GraphBuilder {
    name: String,
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
}

/// A finished ONNX model.
#[derive(Debug, Clone)]
pub struct OnnxModel(pub ModelProto);

impl OnnxModel {
    /// Serialize to protobuf bytes.
    pub fn encode(&self) -> Vec<u8> {
        self.0.encode_to_vec()
    }
}

fn nchw_value(name: &str, channels: usize, prefix: &str) -> ValueInfoProto {
    let dims = [
        Dim::DimValue(1),
        Dim::DimValue(channels as i64),
        Dim::DimParam(format!("{prefix}H")),
        Dim::DimParam(format!("{prefix}W")),
    ];
    value_info(name, dims.into())
}

/// An f32 graph input or output of shape `dims` (fixed or named).
pub fn value_info(name: &str, dims: Vec<Dim>) -> ValueInfoProto {
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: DataType::Float as i32,
                shape: Some(TensorShapeProto {
                    dim: dims
                        .into_iter()
                        .map(|d| Dimension {
                            value: Some(d),
                            ..Default::default()
                        })
                        .collect(),
                }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

impl GraphBuilder {
    /// An empty graph called `name`.
    pub fn new(name: &str) -> Self {
        GraphBuilder {
            name: name.into(),
            ..Default::default()
        }
    }

    /// Add an f32 constant tensor.
    pub fn initializer(&mut self, name: &str, dims: &[i64], data: Vec<f32>) {
        assert_eq!(
            dims.iter().product::<i64>() as usize,
            data.len(),
            "{name}: dims and data disagree"
        );
        self.initializers.push(TensorProto {
            name: name.into(),
            dims: dims.to_vec(),
            data_type: DataType::Float as i32,
            float_data: data,
            ..Default::default()
        });
    }

    /// Add an 8-bit or 32-bit integer constant (`kind`: `u8`, `i8` or `i32`)
    /// of shape `dims` (empty: a scalar).
    pub fn initializer_int(&mut self, name: &str, kind: &str, dims: &[i64], data: &[i32]) {
        assert_eq!(
            dims.iter().product::<i64>() as usize,
            data.len(),
            "{name}: dims and data disagree"
        );
        let (data_type, raw_data, int32_data) = match kind {
            "u8" => (
                DataType::Uint8,
                data.iter().map(|&v| v as u8).collect(),
                vec![],
            ),
            "i8" => (
                DataType::Int8,
                data.iter().map(|&v| v as i8 as u8).collect(),
                vec![],
            ),
            "i32" => (DataType::Int32, vec![], data.to_vec()),
            other => panic!("{name}: unsupported integer kind {other}"),
        };
        self.initializers.push(TensorProto {
            name: name.into(),
            dims: dims.to_vec(),
            data_type: data_type as i32,
            raw_data,
            int32_data,
            ..Default::default()
        });
    }

    /// Add an i64 constant tensor.
    pub fn initializer_i64(&mut self, name: &str, data: Vec<i64>) {
        self.initializers.push(TensorProto {
            name: name.into(),
            dims: vec![data.len() as i64],
            data_type: DataType::Int64 as i32,
            int64_data: data,
            ..Default::default()
        });
    }

    /// Add a node; its name is derived from its first output.
    pub fn node(
        &mut self,
        op: &str,
        inputs: &[&str],
        outputs: &[&str],
        attributes: Vec<AttributeProto>,
    ) {
        self.nodes.push(NodeProto {
            name: format!("{op}_{}", outputs[0]),
            op_type: op.into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.iter().map(|s| s.to_string()).collect(),
            attribute: attributes,
            ..Default::default()
        });
    }

    /// Close the graph with one NCHW f32 input and output of `channels`
    /// channels and symbolic spatial size.
    pub fn finish(self, input: &str, output: &str, channels: usize) -> OnnxModel {
        let (i, o) = (
            nchw_value(input, channels, ""),
            nchw_value(output, channels, "out_"),
        );
        self.finish_with(i, o)
    }

    /// Close the graph with one input and one output of any shape.
    pub fn finish_with(self, input: ValueInfoProto, output: ValueInfoProto) -> OnnxModel {
        let graph = GraphProto {
            name: self.name,
            node: self.nodes,
            initializer: self.initializers,
            input: vec![input],
            output: vec![output],
            ..Default::default()
        };
        OnnxModel(ModelProto {
            ir_version: 8,
            producer_name: "edgegan".into(),
            producer_version: env!("CARGO_PKG_VERSION").into(),
            opset_import: vec![OperatorSetIdProto {
                domain: String::new(),
                version: OPSET,
            }],
            graph: Some(graph),
            ..Default::default()
        })
    }
}
