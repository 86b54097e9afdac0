use crate::internal::*;
use crate::ops::cnn::Patch;
use crate::ops::nn::DataShape;

thread_local! {
    /// edgegan patch: each thread's buffer of padded input rows (and a strided row's scratch),
    /// reused from one evaluation to the next instead of allocated per chunk of rows.
    static ROW_BUFFER: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A group-1 NCHW f32 convolution computed as a filter along W, four output channels at a time,
/// instead of im2col and a matrix product. `Conv` builds it at codegen on hosts that have the
/// `conv_w4` kernel, and the `depthwise_w` one too when the output channels are not a multiple
/// of four.
#[derive(Debug, Clone, new, Hash, PartialEq, Eq)]
pub struct DirectSpatialConv {
    patch: Patch,
    input_shape: DataShape,
    output_shape: DataShape,
    /// edgegan patch: the slope of a LeakyRelu fused into the convolution (its f32 bits, so the
    /// op stays `Hash` and `Eq`), applied by the `conv_w4` kernel to each point as it stores it.
    #[new(default)]
    leaky_alpha: Option<u32>,
}

impl Op for DirectSpatialConv {
    fn name(&self) -> StaticName {
        "DirectSpatialConv".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        let mut info = vec![format!("{:?}", self.patch)];
        if let Some(alpha) = self.leaky_alpha {
            info.push(format!("fused leaky_relu({})", f32::from_bits(alpha)));
        }
        Ok(info)
    }

    fn validation(&self) -> Validation {
        Validation::Rounding
    }

    op_as_typed_op!();
}

impl EvalOp for DirectSpatialConv {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let (img, kernel, bias) = args_3!(inputs);
        ensure!(img.datum_type() == f32::datum_type(), "DirectSpatialConv is f32 only");
        let output = unsafe { self.eval_f32(&img, &kernel, &bias)? };
        Ok(tvec!(output.into_tvalue()))
    }
}

impl DirectSpatialConv {
    /// edgegan patch: the convolution one output row at a time. A row's input rows (every input
    /// channel, every kernel row) are copied into a zero-padded buffer first, so every output
    /// point of the row takes every tap and the row is one run for the kernel: no border zones,
    /// no point-by-point runs down the left and right columns, and the buffer (input channels ×
    /// kernel rows × padded width) stays in cache while each group of four output channels
    /// reads it. A zero tap changes no sum, so a point has the value the zone-by-zone loop gave
    /// it. With a horizontal stride `sw` each padded row is stored as `sw` phases (columns
    /// `p, p + sw, p + 2 sw, ...`), so every tap reads consecutive floats and the kernel runs
    /// at unit stride. Rows split across the executor.
    unsafe fn eval_f32(&self, img: &Tensor, kernel: &Tensor, bias: &Tensor) -> TractResult<Tensor> {
        let conv_w4 = tract_linalg::routines::conv_w4_f32()
            .context("DirectSpatialConv needs a conv_w4 kernel")?;
        let ic = *self.input_shape.c();
        let oc = *self.output_shape.c();
        let conv_w1 = tract_linalg::routines::depthwise_w_f32();
        ensure!(
            oc.is_multiple_of(4) || conv_w1.is_some(),
            "DirectSpatialConv needs a depthwise_w kernel for its last channels"
        );
        let spec = &self.patch.spec;
        ensure!(spec.kernel_shape.len() == 2, "DirectSpatialConv is 2D only");
        let (ih, iw) = (spec.input_shape[0], spec.input_shape[1]);
        let (oh, ow) = (self.patch.output_shape[0], self.patch.output_shape[1]);
        let (kh, kw) = (spec.kernel_shape[0], spec.kernel_shape[1]);
        let (sh, sw) = (spec.strides[0], spec.strides[1]);
        let (dh, dw) = (spec.dilations[0], spec.dilations[1]);
        let (pad_t, pad_l) = (self.patch.pad_before[0] as isize, self.patch.pad_before[1] as isize);
        let kvol = kh * kw;
        // The padded row holds every input column an output row reads: column bx of the padded
        // row is input column bx - pad_l, and phase p holds columns p, p + sw, ...
        let wp = if ow == 0 { 0 } else { (ow - 1) * sw + (kw - 1) * dw + 1 };
        // Columns bx in `inside` come from the input; the others are padding.
        let inside =
            (pad_l.max(0) as usize).min(wp)..((iw as isize + pad_l).clamp(0, wp as isize) as usize);
        let inside = inside.start..inside.end.max(inside.start);
        // Phases start on a cache line, so a vector kernel's loads of the first tap column are
        // aligned.
        let phase_len = wp.div_ceil(sw);
        let stride = phase_len.next_multiple_of(16);
        // One padded input row: `sw` phases.
        let line_len = sw * stride;
        let n = *self.input_shape.n().unwrap_or(&1);
        let n_stride_i = *self.input_shape.n_stride().unwrap_or(&0) as isize;
        let n_stride_o = *self.output_shape.n_stride().unwrap_or(&0) as isize;
        let c_stride_i = *self.input_shape.c_stride() as isize;
        let c_stride_o = *self.output_shape.c_stride() as isize;
        let h_stride_i = *self.input_shape.h_stride() as isize;
        let w_stride_i = *self.input_shape.w_stride() as isize;
        let h_stride_o = *self.output_shape.h_stride() as isize;
        ensure!(*self.output_shape.w_stride() == 1, "DirectSpatialConv writes rows");
        let mut output = unsafe { Tensor::uninitialized::<f32>(&self.output_shape.shape)? };
        // edgegan patch: the op's own allocations per evaluation are the output and the offsets
        // (patch 13: it now takes short rows, whose tiles are many); groups and their taps are
        // walked, not collected, and each thread reuses its row buffer.
        // Output channels in groups of four, the last `oc % 4` one by one: (first, count).
        let groups = || {
            let mut o = 0;
            std::iter::from_fn(move || {
                let group = if o + 4 <= oc { 4 } else { 1 };
                (o < oc).then(|| {
                    o += group;
                    (o - group, group)
                })
            })
        };
        // The buffer holds `kh` padded input rows per channel, in slots. Without dilation the
        // rows an output row reads are consecutive, so they sit in the slots as a ring (input
        // row iy in slot iy mod kh): the next output row keeps the rows it shares with this one
        // and copies only the new ones. Tap t = (c, ky, kx) of an output row whose first input
        // row is in slot r reads the buffer at `offsets[r * ic * kvol + t]` plus the point's index.
        let ring = dh == 1;
        // One rotation after another, `ic * kvol` offsets each.
        let mut offsets: Vec<isize> = Vec::with_capacity(if ring { kh } else { 1 } * ic * kvol);
        for r in 0..if ring { kh } else { 1 } {
            for c in 0..ic {
                for ky in 0..kh {
                    let slot = if ring { (r + ky) % kh } else { ky };
                    offsets.extend((0..kw).map(|kx| {
                        let (phase, at) = ((kx * dw) % sw, (kx * dw) / sw);
                        ((c * kh + slot) * line_len + phase * stride + at) as isize
                    }));
                }
            }
        }
        let kernel_ram = kernel.try_as_plain_ram()?;
        let kernel = kernel_ram.as_slice::<f32>()?;
        let bias_ram = bias.try_as_plain_ram()?;
        let bias = bias_ram.as_slice::<f32>()?;
        ensure!(kernel.len() == oc * ic * kvol && bias.len() >= oc);
        // A group's taps, channel after channel, in the order of `offsets`.
        let taps = |o: usize, group: usize| &kernel[o * ic * kvol..][..group * ic * kvol];
        let i_base = img.as_ptr::<f32>()? as usize;
        let o_base = output.as_ptr_mut::<f32>()? as usize;
        let total = output.len();
        // The rows carry no data of their own: the executor only splits their indices.
        let mut rows = vec![(); n * oh];
        tract_linalg::multithread::par_chunks_mut(&mut rows, 1, total, |first, chunk| {
            ROW_BUFFER.with_borrow_mut(|storage| {
                // Every slot a row reads is written (copied or zeroed) before it is read, and no
                // point reads past its row's `wp` columns, so a reused buffer needs no clearing.
                let buffer_len = ic * kh * line_len;
                storage.resize(buffer_len + 16 + if sw > 1 { wp } else { 0 }, 0.0);
                let align = storage.as_ptr().align_offset(64).min(16);
                let (buffer, padded) = storage[align..].split_at_mut(buffer_len);
                // A strided row is padded in `padded`, then dealt into its phases.
                let padded = &mut padded[16 - align..];
                // The (image, input row) each slot holds, with the ring.
                let mut held: TVec<(isize, isize)> = tvec![(-1isize, 0isize); kh];
                for row in first..first + chunk.len() {
                    let (ni, y) = ((row / oh) as isize, row % oh);
                    let top = (y * sh) as isize - pad_t;
                    unsafe {
                        let iptr = (i_base as *const f32).offset(n_stride_i * ni);
                        for ky in 0..kh {
                            let iy = top + (ky * dh) as isize;
                            let slot = if ring { iy.rem_euclid(kh as isize) as usize } else { ky };
                            if ring && held[slot] == (ni, iy) {
                                continue;
                            }
                            held[slot] = (ni, iy);
                            for c in 0..ic {
                                let line = &mut buffer[(c * kh + slot) * line_len..][..line_len];
                                if iy < 0 || iy >= ih as isize || inside.is_empty() {
                                    line.fill(0.0);
                                    continue;
                                }
                                let row = if sw > 1 { &mut padded[..] } else { &mut line[..wp] };
                                row[..inside.start].fill(0.0);
                                row[inside.end..].fill(0.0);
                                let src = iptr.offset(
                                    c as isize * c_stride_i
                                        + iy * h_stride_i
                                        + (inside.start as isize - pad_l) * w_stride_i,
                                );
                                if w_stride_i == 1 {
                                    row[inside.clone()]
                                        .copy_from_slice(std::slice::from_raw_parts(src, inside.len()));
                                } else {
                                    for (j, v) in row[inside.clone()].iter_mut().enumerate() {
                                        *v = *src.offset(j as isize * w_stride_i);
                                    }
                                }
                                if sw == 2 {
                                    // edgegan patch: stride 2 dealt as pairs, which vectorises (the
                                    // generic walk below went element by element; patch 13).
                                    let half = wp / 2;
                                    let (even, odd) = line.split_at_mut(stride);
                                    let (even, odd) = (&mut even[..half], &mut odd[..half]);
                                    let pairs = &padded[..2 * half];
                                    for j in 0..half {
                                        even[j] = pairs[2 * j];
                                        odd[j] = pairs[2 * j + 1];
                                    }
                                    if wp % 2 == 1 {
                                        line[half] = padded[wp - 1];
                                    }
                                } else if sw > 1 {
                                    for (p, phase) in line.chunks_exact_mut(stride).enumerate() {
                                        for (v, x) in
                                            phase.iter_mut().zip(padded[p..].iter().step_by(sw))
                                        {
                                            *v = *x;
                                        }
                                    }
                                }
                            }
                        }
                        let r = if ring { top.rem_euclid(kh as isize) as usize } else { 0 };
                        let offsets = &offsets[r * ic * kvol..][..ic * kvol];
                        let optr =
                            (o_base as *mut f32).offset(n_stride_o * ni + h_stride_o * y as isize);
                        let leaky = self.leaky_alpha.map(f32::from_bits);
                        for (o, group) in groups() {
                            let taps = taps(o, group);
                            let op = optr.offset(c_stride_o * o as isize);
                            if group == 4 {
                                // the kernel applies the fused LeakyRelu as it stores
                                let b4 = [bias[o], bias[o + 1], bias[o + 2], bias[o + 3]];
                                let buf = buffer.as_ptr();
                                conv_w4(buf, op, taps, offsets, &b4, ow, 1, c_stride_o, leaky);
                            } else if let Some(conv_w1) = conv_w1 {
                                conv_w1(buffer.as_ptr(), op, taps, offsets, bias[o], ow, 1);
                                if let Some(alpha) = leaky {
                                    // As the LeakyRelu op computes it: x > 0 ? x : alpha * x.
                                    for v in std::slice::from_raw_parts_mut(op, ow) {
                                        *v = if *v > 0.0 { *v } else { alpha * *v };
                                    }
                                }
                            }
                        }
                    }
                }
                Ok(())
            })
        })?;
        Ok(output)
    }
}

impl TypedOp for DirectSpatialConv {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(inputs.len() == 3);
        Ok(tvec!(inputs[0].datum_type.fact(&self.output_shape.shape)))
    }

    fn cost(&self, inputs: &[&TypedFact]) -> TractResult<TVec<(Cost, TDim)>> {
        let [_input, kernel, _bias] = inputs else {
            bail!("DirectSpatialConv expects three inputs");
        };
        let n_output_points = self.patch.output_shape.iter().cloned().product::<usize>();
        Ok(tvec!((
            Cost::FMA(inputs[0].datum_type),
            kernel.shape.volume() * self.input_shape.n().unwrap_or(&1) * n_output_points
        )))
    }

    /// edgegan patch: absorbs a following LeakyRelu, which would otherwise read and write the
    /// whole output once more.
    fn fuse(&self, model: &TypedModel, node: &TypedNode) -> TractResult<Option<TypedModelPatch>> {
        rule_if!(self.leaky_alpha.is_none());
        rule_if!(node.outputs.len() == 1);
        rule_if!(node.outputs[0].successors.len() == 1);
        rule_if!(!model.output_outlets()?.contains(&node.id.into()));
        let succ = model.node(node.outputs[0].successors[0].node);
        rule_if_some!(ew = succ.op_as::<crate::ops::element_wise::ElementWiseOp>());
        rule_if_some!(leaky = ew.0.as_ref().downcast_ref::<crate::ops::nn::LeakyRelu>());
        let op = Self { leaky_alpha: Some(leaky.alpha.to_bits()), ..self.clone() };
        Ok(Some(TypedModelPatch::fuse_with_next(model, node, op)?))
    }

    as_op!();
}
