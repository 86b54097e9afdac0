//! Layers the generators share, appended to a [`GraphBuilder`] from their
//! burn modules: convolutions with "same" padding and the LeakyReLU.

use burn::nn::conv::Conv2d;

use crate::common::params::values;
use crate::common::LEAKY_SLOPE;
use crate::onnx::{attr_int, attr_ints, AttributeProto, GraphBuilder};

/// The ONNX attributes of `conv`: kernel, "same" padding for its dilation,
/// and strides / dilations where they are not 1.
pub(crate) fn conv_attrs(conv: &Conv2d) -> Vec<AttributeProto> {
    let k = conv.weight.dims()[2] as i64;
    let [dy, dx] = conv.dilation.map(|d| d as i64);
    let (py, px) = (dy * (k / 2), dx * (k / 2));
    let mut attrs = vec![
        attr_ints("kernel_shape", &[k, k]),
        attr_ints("pads", &[py, px, py, px]),
    ];
    let [sy, sx] = conv.stride.map(|s| s as i64);
    if (sy, sx) != (1, 1) {
        attrs.push(attr_ints("strides", &[sy, sx]));
    }
    if (dy, dx) != (1, 1) {
        attrs.push(attr_ints("dilations", &[dy, dx]));
    }
    attrs
}

/// Append `conv` ("same" padding, its own stride and dilation) from `input`
/// to `output`, its weights as initializers `{name}_w` / `{name}_b`.
pub(crate) fn add_conv(g: &mut GraphBuilder, conv: &Conv2d, name: &str, input: &str, output: &str) {
    let dims = conv.weight.dims();
    let w = format!("{name}_w");
    g.initializer(&w, &dims.map(|d| d as i64), values(conv.weight.val()));
    let mut inputs = vec![input.to_string(), w];
    if let Some(bias) = &conv.bias {
        let b = format!("{name}_b");
        let data = values(bias.val());
        g.initializer(&b, &[dims[0] as i64], data);
        inputs.push(b);
    }
    let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    g.node("Conv", &refs, &[output], conv_attrs(conv));
}

/// Append `LeakyRelu` (the generator's slope) from `input` to `output`.
pub fn add_leaky(g: &mut GraphBuilder, input: &str, output: &str) {
    let mut a = attr_int("alpha", 0);
    a.r#type = tract_onnx::pb::attribute_proto::AttributeType::Float as i32;
    a.f = LEAKY_SLOPE as f32;
    g.node("LeakyRelu", &[input], &[output], vec![a]);
}
