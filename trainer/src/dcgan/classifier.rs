//! A small digit classifier the trainer trains on the real digits, used to
//! judge generated digits: the class histogram (coverage, entropy: mode
//! collapse) and 64-d features for a kernel distance between generated and
//! held-out real digits (quality per epoch, when to stop).

use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use burn::tensor::TensorData;

use crate::common::params::values;
use crate::common::uniform;
use crate::common::Rng;
use crate::dcgan::imageset::ImageSet;

/// Classes (digits 0–9).
pub const CLASSES: usize = 10;
/// Feature dimensions (the layer before the logits).
pub const FEATURES: usize = 64;

/// Conv net: 3×3 conv, two stride-2 3×3 convs, dense 64 (features), dense 10.
#[derive(Module, Debug)]
pub struct Classifier {
    convs: Vec<Conv2d>,
    fc: Linear,
    out: Linear,
    act: Relu,
}

fn conv(cin: usize, cout: usize, stride: usize, rng: &mut Rng, device: &Device) -> Conv2d {
    let mut c = Conv2dConfig::new([cin, cout], [3, 3])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(device);
    let bound = (6.0 / (cin * 9) as f64).sqrt();
    c.weight = Param::from_tensor(uniform([cout, cin, 3, 3], bound, rng, device));
    c.bias = Some(Param::from_tensor(Tensor::zeros([cout], device)));
    c
}

fn dense(cin: usize, cout: usize, rng: &mut Rng, device: &Device) -> Linear {
    let mut l = LinearConfig::new(cin, cout).init(device);
    l.weight = Param::from_tensor(uniform([cin, cout], (6.0 / cin as f64).sqrt(), rng, device));
    l.bias = Some(Param::from_tensor(Tensor::zeros([cout], device)));
    l
}

/// Images of `set` at `indices` as an N×C×side×side tensor.
pub fn batch(set: &ImageSet, indices: &[usize], device: &Device) -> Tensor<4> {
    let v: Vec<f32> = indices
        .iter()
        .flat_map(|&i| set.image(i))
        .copied()
        .collect();
    Tensor::from_data(
        TensorData::new(v, [indices.len(), set.channels, set.side, set.side]),
        device,
    )
}

impl Classifier {
    /// An untrained classifier for `channels`×`side`×`side` images.
    pub fn new(channels: usize, side: usize, rng: &mut Rng, device: &Device) -> Classifier {
        let s = side.div_ceil(4);
        Classifier {
            convs: vec![
                conv(channels, 16, 1, rng, device),
                conv(16, 32, 2, rng, device),
                conv(32, 32, 2, rng, device),
            ],
            fc: dense(32 * s * s, FEATURES, rng, device),
            out: dense(FEATURES, CLASSES, rng, device),
            act: Relu::new(),
        }
    }

    /// Features (N×64) of images `x` in [−1, 1].
    pub fn features(&self, x: Tensor<4>) -> Tensor<2> {
        let mut x = x;
        for c in &self.convs {
            x = self.act.forward(c.forward(x));
        }
        let n = x.dims()[0];
        self.act.forward(self.fc.forward(x.reshape([n as i64, -1])))
    }

    /// Class logits (N×10).
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.out.forward(self.features(x))
    }

    /// Train on a labelled set (Adam 1e-3, batches of 64, each image shifted
    /// by up to one pixel); returns the trained net (for a plain device).
    pub fn train(set: &ImageSet, epochs: usize, seed: u64) -> Classifier {
        let labels = set
            .labels
            .as_ref()
            .expect("the classifier needs labelled images");
        let device = Device::flex().autodiff();
        let mut rng = Rng(seed);
        let mut net = Classifier::new(set.channels, set.side, &mut rng, &device);
        let mut optim = AdamConfig::new().init();
        let mut order: Vec<usize> = (0..set.len()).collect();
        for _ in 0..epochs {
            shuffle(&mut order, &mut rng);
            for chunk in order.chunks(64) {
                let x = shifted(set, chunk, &mut rng, &device);
                let onehot: Vec<f32> = chunk
                    .iter()
                    .flat_map(|&i| {
                        (0..CLASSES).map(move |c| (c == labels[i] as usize) as u8 as f32)
                    })
                    .collect();
                let t = Tensor::<2>::from_data(
                    TensorData::new(onehot, [chunk.len(), CLASSES]),
                    &device,
                );
                let loss = (log_softmax(net.forward(x), 1) * t)
                    .sum()
                    .neg()
                    .div_scalar(chunk.len() as f64);
                let grads = GradientsParams::from_grads(loss.backward(), &net);
                net = optim.step(1e-3, net, grads);
            }
        }
        net.valid()
    }

    /// Predicted classes of images `x`.
    pub fn predict(&self, x: Tensor<4>) -> Vec<u8> {
        let idx: Vec<i64> = self
            .forward(x)
            .argmax(1)
            .into_data()
            .convert::<i64>()
            .try_to_vec()
            .unwrap();
        idx.into_iter().map(|c| c as u8).collect()
    }

    /// Fraction of `set` classified right.
    pub fn accuracy(&self, set: &ImageSet) -> f64 {
        let labels = set.labels.as_ref().expect("labelled");
        let all: Vec<usize> = (0..set.len()).collect();
        let pred = self.predict(batch(set, &all, &Device::flex()));
        pred.iter().zip(labels).filter(|(p, l)| p == l).count() as f64 / set.len() as f64
    }
}

/// Fisher–Yates with the trainer's seeded generator.
pub fn shuffle(v: &mut [usize], rng: &mut Rng) {
    for i in (1..v.len()).rev() {
        v.swap(i, rng.below(i + 1));
    }
}

/// The images at `indices`, each moved by −1..=1 pixels in x and y (edges
/// filled with the background value −1).
fn shifted(set: &ImageSet, indices: &[usize], rng: &mut Rng, device: &Device) -> Tensor<4> {
    let s = set.side as isize;
    let mut v = Vec::with_capacity(indices.len() * set.image_len());
    for &i in indices {
        let (dx, dy) = (rng.below(3) as isize - 1, rng.below(3) as isize - 1);
        let img = set.image(i);
        for c in 0..set.channels {
            for y in 0..s {
                for x in 0..s {
                    let (sx, sy) = (x - dx, y - dy);
                    let inside = (0..s).contains(&sx) && (0..s).contains(&sy);
                    let at = (c as isize * s + sy) * s + sx;
                    v.push(if inside { img[at as usize] } else { -1.0 });
                }
            }
        }
    }
    Tensor::from_data(
        TensorData::new(v, [indices.len(), set.channels, set.side, set.side]),
        device,
    )
}

/// The classifier as ONNX for the runtime: `image [N, C, s, s]` in [−1, 1]
/// → `logits [N, 10]`.
pub fn classifier_onnx(net: &Classifier, channels: usize, side: usize) -> crate::onnx::OnnxModel {
    use crate::onnx::{value_info, GraphBuilder};
    use tract_onnx::pb::tensor_shape_proto::dimension::Value as Dim;
    let mut g = GraphBuilder::new("digit-classifier");
    let mut x = "image".to_string();
    for (i, c) in net.convs.iter().enumerate() {
        let (y, r) = (format!("c{i}"), format!("c{i}_r"));
        crate::onnx::layers::add_conv(&mut g, c, &format!("c{i}"), &x, &y);
        g.node("Relu", &[&y], &[&r], vec![]);
        x = r;
    }
    g.node(
        "Flatten",
        &[&x],
        &["flat"],
        vec![crate::onnx::attr_int("axis", 1)],
    );
    for (i, l) in [&net.fc, &net.out].into_iter().enumerate() {
        let [cin, cout] = l.weight.dims();
        g.initializer(
            &format!("d{i}_w"),
            &[cin as i64, cout as i64],
            values(l.weight.val()),
        );
        let bias = l.bias.as_ref().map(|b| values(b.val()));
        g.initializer(
            &format!("d{i}_b"),
            &[cout as i64],
            bias.unwrap_or(vec![0.0; cout]),
        );
        let (input, out) = if i == 0 {
            ("flat", "d0")
        } else {
            ("d0_r", "logits")
        };
        g.node(
            "Gemm",
            &[input, &format!("d{i}_w"), &format!("d{i}_b")],
            &[out],
            vec![],
        );
        if i == 0 {
            g.node("Relu", &["d0"], &["d0_r"], vec![]);
        }
    }
    let n = || Dim::DimParam("N".into());
    let s = side as i64;
    g.finish_with(
        value_info(
            "image",
            vec![
                n(),
                Dim::DimValue(channels as i64),
                Dim::DimValue(s),
                Dim::DimValue(s),
            ],
        ),
        value_info("logits", vec![n(), Dim::DimValue(CLASSES as i64)]),
    )
}
