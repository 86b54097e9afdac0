//! The [`QConv`] node: its constants (packed weights, the per-channel f32
//! tail), tract's op traits, and its evaluation — output rows split into
//! bands over the caller's rayon pool, each band packing the input rows it
//! reads and running the kernel.

use std::sync::Arc;

use rayon::prelude::*;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;

use super::kernel::{self, Kind};

/// Shape of one fused convolution: one group, NCHW, explicit padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Geometry {
    /// Input channels.
    pub cin: usize,
    /// Output channels.
    pub cout: usize,
    /// Kernel height and width.
    pub kh: usize,
    pub kw: usize,
    /// Dilations.
    pub dy: usize,
    pub dx: usize,
    /// Strides.
    pub sy: usize,
    pub sx: usize,
    /// Padding: top, left, bottom, right.
    pub pad: [usize; 4],
}

impl Geometry {
    /// Groups of four input channels (one 32-bit lane each).
    pub fn groups(&self) -> usize {
        self.cin.div_ceil(4)
    }

    /// Blocks of 16 output channels.
    pub fn blocks(&self) -> usize {
        self.cout.div_ceil(16)
    }

    /// Output height and width for an `h`×`w` input; `None` where the
    /// kernel does not fit.
    pub fn output(&self, h: usize, w: usize) -> Option<(usize, usize)> {
        let dim = |n: usize, k: usize, d: usize, s: usize, before: usize, after: usize| {
            (n + before + after)
                .checked_sub((k - 1) * d + 1)
                .map(|v| v / s + 1)
        };
        Some((
            dim(h, self.kh, self.dy, self.sy, self.pad[0], self.pad[2])?,
            dim(w, self.kw, self.dx, self.sx, self.pad[1], self.pad[3])?,
        ))
    }

    /// Padded input rows that `n` consecutive output rows read.
    pub fn band_rows(&self, n: usize) -> usize {
        (n - 1) * self.sy + (self.kh - 1) * self.dy + 1
    }

    /// Pixels in one column phase of a packed row, for output width `ow`:
    /// a packed row holds padded column `j·sx + p` at index `j` of phase
    /// `p`, so a tap reads 16 consecutive pixels of one phase.
    pub fn phase_width(&self, ow: usize) -> usize {
        ow.next_multiple_of(16) + (self.kw - 1) * self.dx / self.sx
    }

    /// Bytes of one packed row: `[phase][group][phase_width][4]`.
    pub fn row_bytes(&self, ow: usize) -> usize {
        self.sx * self.groups() * self.phase_width(ow) * 4
    }

    /// Byte offset in a packed row of group 0's pixel for output column
    /// `x` and kernel column `kx` (group `g` is `g · phase_width · 4`
    /// further on).
    pub fn tap_offset(&self, ow: usize, kx: usize, x: usize) -> usize {
        let off = kx * self.dx;
        ((off % self.sx) * self.groups() * self.phase_width(ow) + x + off / self.sx) * 4
    }
}

/// About the packed input rows a band should hold (see `run_image`).
const BAND_BYTES: usize = 1 << 20;

thread_local! {
    /// The packed input rows of the band this thread runs.
    static PACKED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// What a conv's output becomes after its i32 sum, in tract's order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Output {
    /// f32 (the chain ended at the bias or the activation).
    F32,
    /// u8 by tract's `QuantizeLinearU8`.
    U8(Quant),
}

/// tract's `QuantizeLinearU8`: `inv_scale` is its (reciprocal) scale,
/// multiplied, as tract does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Quant {
    pub inv_scale: f32,
    pub zero_point: u8,
}

impl Quant {
    /// `v` quantized by tract's own function.
    #[inline(always)]
    pub fn apply(self, v: f32) -> u8 {
        tract_onnx::tract_core::ops::quant::quantize_linear_f32_u8(
            v,
            self.inv_scale,
            self.zero_point as i32,
        )
    }
}

/// The per-output-channel tail: `((sum + corr) as f32 * mul + add)`, then
/// LeakyRelu(`alpha`) if any, then, for an f32 output with `skip`, plus
/// the node's second input (an f32 tensor of the output's shape: an SR
/// model's bicubic branch, the inpainting network's prefill), then
/// [`Output`]. Vectors are padded to whole
/// blocks of 16.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tail {
    /// The conv's i32 bias minus the input zero point times the channel's
    /// weight sum: what turns Σ x·w over zero-point padding into tract's sum.
    pub corr: Vec<i32>,
    pub mul: Vec<f32>,
    pub add: Vec<f32>,
    pub alpha: Option<f32>,
    /// Whether the node adds its second input (f32 outputs only).
    pub skip: bool,
    pub output: Output,
}

impl Tail {
    /// Whether every `(sum + corr) as f32 * mul + add` is finite for any
    /// i32 sum: `mul` and `add` finite, |mul| < 2^90 and |add| < 2^126
    /// (|sum| ≤ 2^31, f32's largest value is under 2^128). The AVX-512
    /// tail relies on it to skip tract's NaN and range guards; [`fuse`]
    /// leaves a chain with other constants to tract.
    ///
    /// [`fuse`]: super::fuse
    pub fn bounded(&self) -> bool {
        self.mul.iter().all(|m| m.abs() < 2f32.powi(90))
            && self.add.iter().all(|a| a.abs() < 2f32.powi(126))
    }
}

/// A quantized conv and its f32 tail as one node; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QConv {
    pub geo: Geometry,
    /// The input's zero point: what padding holds.
    pub zp_in: u8,
    /// s8 weights laid out for `kind` ([`QConv::pack_weights`]), zero where
    /// a block or group runs past the real channels.
    pub weights: Arc<Vec<i8>>,
    pub tail: Tail,
    /// The band kernel that runs it.
    pub kind: Kind,
}

// Constants compare bit for bit, so `==` is an equivalence.
impl Eq for QConv {}

impl QConv {
    /// Pack OIHW s8 `kernel` for the layout of kernel `kind`: per block of
    /// 16 outputs, `[ky][kx][group][16 outputs][4 inputs]`, or for AMX
    /// each output's words of one product side by side,
    /// `[ky][16 outputs][kx][group][4]` (`[kx][16 outputs][ky][group][4]`
    /// when its tiling runs down kernel columns).
    pub fn pack_weights(geo: &Geometry, kernel: &[i8], kind: Kind) -> Vec<i8> {
        let (g, b) = (geo.groups(), geo.blocks());
        let tiling = kind.tiling(geo);
        let mut out = vec![0i8; b * geo.kh * geo.kw * g * 64];
        for o in 0..geo.cout {
            let (block, oo) = (o / 16, o % 16);
            for c in 0..geo.cin {
                for ky in 0..geo.kh {
                    for kx in 0..geo.kw {
                        let src = ((o * geo.cin + c) * geo.kh + ky) * geo.kw + kx;
                        let word = match tiling {
                            None => {
                                let tap = (block * geo.kh + ky) * geo.kw + kx;
                                (tap * g + c / 4) * 16 + oo
                            }
                            #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
                            Some(t) if t.columns() => {
                                let row = (block * geo.kw + kx) * 16 + oo;
                                (row * geo.kh + ky) * g + c / 4
                            }
                            Some(_) => {
                                let row = (block * geo.kh + ky) * 16 + oo;
                                (row * geo.kw + kx) * g + c / 4
                            }
                        };
                        out[word * 4 + c % 4] = kernel[src];
                    }
                }
            }
        }
        out
    }

    /// The output datum type: f32, or u8 when the conv requantizes.
    pub(crate) fn output_type(&self) -> DatumType {
        match self.tail.output {
            Output::F32 => f32::datum_type(),
            Output::U8(_) => u8::datum_type(),
        }
    }

    /// Run one NCHW image `src` (`h`×`w`) into `dst`, which points at its
    /// first output element and has room for `cout` planes of `oh * ow`;
    /// `skip`, when the tail adds one, holds as many f32 values, laid out
    /// as the output.
    fn run_image(
        &self,
        src: &[u8],
        (h, w): (usize, usize),
        (oh, ow): (usize, usize),
        dst: usize,
        skip: Option<&[f32]>,
    ) {
        let elem = self.output_type().size_of();
        each_band(
            &self.geo,
            self.zp_in,
            src,
            (h, w),
            (oh, ow),
            |packed, y0, n| {
                // SAFETY: bands write disjoint rows of every output plane,
                // all inside the `cout * oh * ow` elements `dst` points at.
                unsafe {
                    kernel::run_band(
                        self.kind,
                        self,
                        packed,
                        (ow, n),
                        (dst + y0 * ow * elem) as *mut u8,
                        skip.map_or(std::ptr::null(), |s| s[y0 * ow..].as_ptr()),
                        oh * ow,
                    )
                }
            },
        );
    }
}

/// Run `band(packed, y0, n)` for every band of output rows `y0 .. y0 + n`
/// of one NCHW image `src` (`h`×`w`) of a conv of geometry `geo`, on the
/// caller's rayon pool (one after another on a thread outside any, as
/// `engine::threads` promises: no thread started there): `packed` holds
/// the rows the band reads, packed by [`kernel::pack_rows`] with padding
/// `zp`.
pub(super) fn each_band(
    geo: &Geometry,
    zp: u8,
    src: &[u8],
    (h, w): (usize, usize),
    (oh, ow): (usize, usize),
    band: impl Fn(&[u8], usize, usize) + Sync,
) {
    let threads = match rayon::current_thread_index() {
        Some(_) => rayon::current_num_threads(),
        None => 1,
    };
    // Output rows per band: as many as keep the band's packed input
    // rows within about a megabyte (a core's L2: packed once, read by
    // every output channel block), and on several threads at most an
    // even share of four bands a thread.
    let fit = (BAND_BYTES / geo.row_bytes(ow)) / geo.sy;
    let mut rows = fit.max(4);
    if threads > 1 {
        rows = rows.min(oh.div_ceil(4 * threads));
    }
    let rows = rows.clamp(1, oh.max(1));
    let bands = oh.div_ceil(rows);
    let run = |y0: usize| {
        let n = rows.min(oh - y0);
        // One packing buffer per thread, reused from conv to conv: a
        // fresh one was a page-faulting allocation and a fill per band.
        PACKED.with_borrow_mut(|packed| {
            kernel::pack_rows(geo, zp, src, (h, w), ow, (y0, n), packed);
            band(packed, y0, n)
        })
    };
    if bands <= 1 || threads <= 1 {
        (0..oh).step_by(rows).for_each(run);
    } else {
        (0..oh).into_par_iter().step_by(rows).for_each(run);
    }
}

/// One fused node's u8 NCHW input, checked against its geometry, and its
/// output size.
pub(super) struct Input<'a> {
    /// Every image's planes, one after another.
    pub src: &'a [u8],
    /// Input channels (planes per image).
    pub cin: usize,
    /// Images, input height and width.
    pub n: usize,
    pub h: usize,
    pub w: usize,
    /// Output height and width.
    pub oh: usize,
    pub ow: usize,
}

impl<'a> Input<'a> {
    /// `x` as a conv of geometry `geo` reads it (`node` names the op in
    /// errors).
    pub fn of(geo: &Geometry, x: &'a TValue, node: &str) -> TractResult<Input<'a>> {
        let shape = x.shape();
        if x.datum_type() != u8::datum_type() || shape.len() != 4 || shape[1] != geo.cin {
            bail!(
                "{node} expects a u8 NCHW input with {} channels, got {x:?}",
                geo.cin
            );
        }
        let (n, h, w) = (shape[0], shape[2], shape[3]);
        let Some((oh, ow)) = geo.output(h, w) else {
            bail!("{node}: a {h}x{w} input is smaller than the kernel");
        };
        let src = x.try_as_plain_ram()?.as_slice::<u8>()?;
        Ok(Input {
            src,
            cin: geo.cin,
            n,
            h,
            w,
            oh,
            ow,
        })
    }

    /// Image `i`'s planes.
    pub fn image(&self, i: usize) -> &'a [u8] {
        let len = self.cin * self.h * self.w;
        &self.src[i * len..(i + 1) * len]
    }
}

impl Op for QConv {
    fn name(&self) -> StaticName {
        "EdgeganQConv".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        let g = &self.geo;
        Ok(vec![format!(
            "{}x{} dil {}x{} stride {}x{} pad {:?} {}->{} zp {} leaky {:?} skip {} -> {:?} ({})",
            g.kh,
            g.kw,
            g.dy,
            g.dx,
            g.sy,
            g.sx,
            g.pad,
            g.cin,
            g.cout,
            self.zp_in,
            self.tail.alpha,
            self.tail.skip,
            self.tail.output,
            self.kind.name()
        )])
    }

    op_as_typed_op!();
}

impl EvalOp for QConv {
    tract_onnx::tract_core::op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = Input::of(&self.geo, &inputs[0], "EdgeganQConv")?;
        let (n, oh, ow) = (x.n, x.oh, x.ow);
        let out_shape = [n, self.geo.cout, oh, ow];
        let skip = match (self.tail.skip, inputs.get(1)) {
            (false, None) => None,
            (true, Some(s)) if s.datum_type() == f32::datum_type() && s.shape() == out_shape => {
                Some(s.try_as_plain_ram()?.as_slice::<f32>()?)
            }
            _ => bail!("EdgeganQConv: the skip input does not match the output {out_shape:?}"),
        };
        let dt = self.output_type();
        // SAFETY: every element is written below (each band writes all its
        // rows' pixels of every output channel).
        let mut out = unsafe { Tensor::uninitialized_dt(dt, &out_shape)? };
        // Elements of one image's output (and skip input).
        let per = self.geo.cout * oh * ow;
        let image = per * dt.size_of();
        let base = out.try_as_plain_ram_mut()?.as_bytes_mut().as_mut_ptr() as usize;
        for i in 0..n {
            let skip = skip.map(|s| &s[i * per..(i + 1) * per]);
            let img = x.image(i);
            self.run_image(img, (x.h, x.w), (oh, ow), base + i * image, skip);
        }
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for QConv {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let s = &inputs[0].shape;
        let (Some(h), Some(w)) = (s[2].as_i64(), s[3].as_i64()) else {
            bail!("EdgeganQConv needs a concrete input size, got {s:?}");
        };
        let Some((oh, ow)) = self.geo.output(h as usize, w as usize) else {
            bail!("EdgeganQConv: a {h}x{w} input is smaller than the kernel");
        };
        let shape: TVec<TDim> = tvec![s[0].clone(), self.geo.cout.into(), oh.into(), ow.into()];
        if self.tail.skip != (inputs.len() == 2) {
            bail!("EdgeganQConv: a skip input is expected if and only if the tail adds one");
        }
        Ok(tvec!(self.output_type().fact(shape)))
    }

    as_op!();
}
