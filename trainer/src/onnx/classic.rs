//! Classical (untrained) upscalers written as ONNX graphs: nearest-neighbour
//! and Keys bicubic. They are exact references for the runtime's tests and
//! the bicubic baseline that trained models are compared against.

use edgegan_runtime::resample::UpscaleTaps;

use crate::onnx::{attr_int, attr_ints, attr_str, GraphBuilder, OnnxModel};

/// Output channel of a DepthToSpace (DCR) input for colour `c` and sub-pixel `(py, px)`.
fn dcr_channel(c: usize, py: usize, px: usize, scale: usize, channels: usize) -> usize {
    (py * scale + px) * channels + c
}

/// Nearest-neighbour ×`scale` on 3 channels: a 1×1 conv that copies each
/// colour into its `scale²` sub-pixels, then DepthToSpace. Exact on 8- and 16-bit data.
pub fn nearest(scale: usize) -> OnnxModel {
    let c = 3;
    let oc = c * scale * scale;
    let mut w = vec![0.0f32; oc * c];
    for ch in 0..c {
        for py in 0..scale {
            for px in 0..scale {
                w[dcr_channel(ch, py, px, scale, c) * c + ch] = 1.0;
            }
        }
    }
    let mut g = GraphBuilder::new(&format!("nearest-x{scale}"));
    g.initializer("w", &[oc as i64, c as i64, 1, 1], w);
    g.node(
        "Conv",
        &["input", "w"],
        &["features"],
        vec![attr_ints("kernel_shape", &[1, 1])],
    );
    g.node(
        "DepthToSpace",
        &["features"],
        &["output"],
        vec![attr_int("blocksize", scale as i64), attr_str("mode", "DCR")],
    );
    g.finish("input", "output", c)
}

/// Keys bicubic (a = −0.5) ×`scale`, MATLAB `imresize` convention with
/// replicated borders: edge Pad by 2, a 5×5 polyphase conv, DepthToSpace.
/// Its output equals [`UpscaleTaps`] sampling everywhere, borders included.
pub fn bicubic(scale: usize) -> OnnxModel {
    let mut g = GraphBuilder::new(&format!("bicubic-x{scale}"));
    add_bicubic(&mut g, "input", "output", scale);
    g.finish("input", "output", 3)
}

/// Append the bicubic ×`scale` branch reading `input` and writing `out` to a
/// graph (node and initializer names are prefixed with `out`).
pub fn add_bicubic(g: &mut GraphBuilder, input: &str, out: &str, scale: usize) {
    let c = 3;
    let taps = UpscaleTaps::new(scale);
    // 1-D 5-tap kernel per phase: tap k reads source offset k - 2.
    let phase: Vec<[f32; 5]> = (0..scale)
        .map(|p| {
            let mut k5 = [0.0f32; 5];
            // output p of source block 2 reads indices first..first+4 (relative to 2)
            let (ix, w) = taps.taps(2 * scale + p, 100);
            for (i, wt) in ix.iter().zip(w) {
                k5[*i] += wt;
            }
            k5
        })
        .collect();
    let oc = c * scale * scale;
    let mut w = vec![0.0f32; oc * c * 25];
    for ch in 0..c {
        for py in 0..scale {
            for px in 0..scale {
                let o = dcr_channel(ch, py, px, scale, c);
                for ky in 0..5 {
                    for kx in 0..5 {
                        w[((o * c + ch) * 5 + ky) * 5 + kx] = phase[py][ky] * phase[px][kx];
                    }
                }
            }
        }
    }
    g.initializer_i64(&format!("{out}_pads"), vec![0, 0, 2, 2, 0, 0, 2, 2]);
    g.initializer(&format!("{out}_w"), &[oc as i64, c as i64, 5, 5], w);
    let (pads, padded, feats) = (
        format!("{out}_pads"),
        format!("{out}_padded"),
        format!("{out}_features"),
    );
    g.node(
        "Pad",
        &[input, &pads],
        &[&padded],
        vec![attr_str("mode", "edge")],
    );
    g.node(
        "Conv",
        &[&padded, &format!("{out}_w")],
        &[&feats],
        vec![attr_ints("kernel_shape", &[5, 5])],
    );
    g.node(
        "DepthToSpace",
        &[&feats],
        &[out],
        vec![attr_int("blocksize", scale as i64), attr_str("mode", "DCR")],
    );
}
