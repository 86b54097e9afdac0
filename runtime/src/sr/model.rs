//! Model directories: load `card.toml` + ONNX, check that they agree, and
//! build one optimized tract plan per window shape.
//!
//! Conv path: the card's `runtime.conv_path` decides whether tract may use its
//! `DirectSpatialConv` lowering. With `auto` (the default) the loader builds
//! the first window shape both ways, times three runs of each, keeps the
//! faster and logs the choice; every later plan of that model uses it, and
//! the machine's cache of measured choices keeps it for later runs (the two
//! lowerings round differently, so a re-measured close call could change
//! output bits from run to run).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tract_onnx::prelude::*;

use crate::card::{ConvPath, ModelCard, Precision, Task};
use crate::engine::choice;
use crate::engine::plan::{check_embedded, optimized_plan, read_model_dir, tract_defaults, Plan};
use crate::engine::slots::Slots;
use crate::error::{Result, RuntimeError};

/// Window shapes whose optimized plans a [`Model`] keeps (one image uses one;
/// a batch of images of many sizes in whole-image mode cycles through them).
pub const PLAN_SLOTS: usize = 4;

/// A loaded and validated super-resolution model (card task
/// `super-resolution`; any other task is refused when it loads).
pub struct Model {
    card: ModelCard,
    precision: Precision,
    onnx_path: PathBuf,
    graph: InferenceModel,
    graph_radius: Option<usize>,
    macs_per_input_pixel: Option<f64>,
    conv_path: Mutex<ConvPath>,
    plans: Mutex<Slots<(usize, usize), Arc<Plan>, PLAN_SLOTS>>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("name", &self.card.name)
            .field("precision", &self.precision)
            .field("onnx", &self.onnx_path)
            .finish()
    }
}

impl Model {
    /// Load the model in `dir` at `precision`, checking card, checksum and graph.
    pub fn load(dir: &Path, precision: Precision) -> Result<Model> {
        let (card, onnx_path, bytes) = read_model_dir(dir, precision)?;
        Self::from_bytes(card, precision, onnx_path, &bytes)
    }

    /// Load a model embedded in the binary: card text and ONNX bytes, checked
    /// like a directory (`label` names it in errors, e.g. `embedded:sr-x2`).
    pub fn from_embedded(
        label: &str,
        card_toml: &str,
        onnx: &[u8],
        precision: Precision,
    ) -> Result<Model> {
        let (card, onnx_path) = check_embedded(label, card_toml, onnx, precision)?;
        Self::from_bytes(card, precision, onnx_path, onnx)
    }

    /// Build from a card and ONNX bytes already in memory (no checksum
    /// check). A graph that makes tract panic is an [`RuntimeError::Onnx`].
    pub fn from_bytes(
        card: ModelCard,
        precision: Precision,
        onnx_path: PathBuf,
        bytes: &[u8],
    ) -> Result<Model> {
        let path = onnx_path.clone();
        crate::error::untrusted(&path, || {
            Self::from_bytes_unguarded(card, precision, onnx_path, bytes)
        })
    }

    /// Build from a card and ONNX bytes already in memory (no checksum check).
    fn from_bytes_unguarded(
        card: ModelCard,
        precision: Precision,
        onnx_path: PathBuf,
        bytes: &[u8],
    ) -> Result<Model> {
        if card.task != Task::SuperResolution {
            return Err(RuntimeError::Unsupported {
                path: onnx_path,
                reason: format!(
                    "model {} is for {:?}, not super-resolution",
                    card.name, card.task
                ),
            });
        }
        tract_defaults();
        let onnx = tract_onnx::onnx();
        let proto = onnx
            .proto_model_for_read(&mut &bytes[..])
            .map_err(|e| RuntimeError::onnx(&onnx_path, e))?;
        check_declared_input(&proto, &card, &onnx_path)?;
        let graph_radius = match crate::engine::graph::receptive_radius(&proto) {
            Ok(r) if r > card.io.receptive_field => {
                return Err(RuntimeError::mismatch(
                    &onnx_path,
                    format!(
                        "graph reaches {r} input pixels, card states receptive_field = {}",
                        card.io.receptive_field
                    ),
                ))
            }
            Ok(r) => Some(r),
            Err(why) => {
                tracing::warn!(
                    "{}: receptive field not computed ({why}); trusting the card",
                    onnx_path.display()
                );
                None
            }
        };
        let macs_per_input_pixel = crate::engine::graph::conv_macs_per_input_pixel(&proto).ok();
        // One pixel shuffle instead of two: the same output, bit for bit.
        let mut proto = proto;
        crate::engine::shuffle::sum_before_shuffle(&mut proto);
        let graph = onnx
            .model_for_proto_model(&proto)
            .map_err(|e| RuntimeError::onnx(&onnx_path, e))?;
        if graph.inputs.len() != 1 || graph.outputs.len() != 1 {
            return Err(RuntimeError::mismatch(
                &onnx_path,
                format!(
                    "graph has {} inputs and {} outputs, expected 1 and 1",
                    graph.inputs.len(),
                    graph.outputs.len()
                ),
            ));
        }
        let model = Model {
            conv_path: Mutex::new(card.runtime.conv_path),
            card,
            precision,
            onnx_path,
            graph,
            graph_radius,
            macs_per_input_pixel,
            plans: Mutex::new(Slots::new()),
        };
        model.check_output_shape(16, 16)?;
        Ok(model)
    }

    /// The model card.
    pub fn card(&self) -> &ModelCard {
        &self.card
    }
    /// Precision of the loaded file.
    pub fn precision(&self) -> Precision {
        self.precision
    }
    /// Path of the loaded ONNX file.
    pub fn onnx_path(&self) -> &Path {
        &self.onnx_path
    }
    /// Upscaling factor.
    pub fn scale(&self) -> usize {
        self.card.scale
    }
    /// Halo used for tiling (the card's receptive field).
    pub fn halo(&self) -> usize {
        self.card.io.receptive_field
    }
    /// Receptive-field radius computed from the graph, when every op is known.
    pub fn graph_radius(&self) -> Option<usize> {
        self.graph_radius
    }
    /// Arithmetic per output pixel: 2 × the convolutions' multiply-accumulates
    /// per input pixel / scale² (`None` if a conv's weights are not constant).
    pub fn flops_per_output_pixel(&self) -> Option<f64> {
        let s = self.card.scale as f64;
        self.macs_per_input_pixel.map(|m| 2.0 * m / (s * s))
    }
    /// The conv path in use (`Auto` until the first plan is built).
    pub fn conv_path(&self) -> ConvPath {
        *self.conv_path.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Use `path` instead of the card's `runtime.conv_path` (plans built so
    /// far are dropped). The two lowerings sum in different orders, so a
    /// fixed path is what makes outputs comparable bit for bit across
    /// machines; `Auto` picks by timing on the machine that runs it.
    pub fn with_conv_path(self, path: ConvPath) -> Model {
        *self.conv_path.lock().unwrap_or_else(|p| p.into_inner()) = path;
        self.plans.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self
    }

    /// The graph typed and decluttered for a fixed `h`×`w` input, not yet
    /// optimized for a CPU: what another tract runtime (the GPU path) prepares.
    pub fn decluttered(&self, h: usize, w: usize) -> Result<TypedModel> {
        self.graph
            .clone()
            .with_input_fact(0, self.input_fact(h, w))
            .and_then(|m| m.into_typed())
            .and_then(|m| m.into_decluttered())
            .map_err(|e| RuntimeError::onnx(&self.onnx_path, e))
    }

    fn input_fact(&self, h: usize, w: usize) -> InferenceFact {
        f32::fact([1, self.card.io.channels, h, w]).into()
    }

    fn check_output_shape(&self, h: usize, w: usize) -> Result<()> {
        let typed = self
            .graph
            .clone()
            .with_input_fact(0, self.input_fact(h, w))
            .and_then(|m| m.into_typed())
            .map_err(|e| RuntimeError::onnx(&self.onnx_path, e))?;
        let fact = typed
            .output_fact(0)
            .map_err(|e| RuntimeError::onnx(&self.onnx_path, e))?;
        let s = self.card.scale;
        let expected = [1, self.card.io.channels, h * s, w * s];
        let got: Option<Vec<usize>> = fact.shape.as_concrete().map(|s| s.to_vec());
        if fact.datum_type != f32::datum_type() {
            return Err(RuntimeError::mismatch(
                &self.onnx_path,
                format!("output is {:?}, card expects f32 pixels", fact.datum_type),
            ));
        }
        if got.as_deref() != Some(&expected[..]) {
            return Err(RuntimeError::mismatch(
                &self.onnx_path,
                format!(
                    "a 1x{}x{h}x{w} input gives output {:?}, card (scale {s}) expects {expected:?}",
                    self.card.io.channels, fact.shape
                ),
            ));
        }
        Ok(())
    }

    fn build(&self, h: usize, w: usize, path: ConvPath) -> Result<Arc<Plan>> {
        optimized_plan(&self.graph, self.input_fact(h, w), path, &self.onnx_path)
    }

    /// The plan for a `h`×`w` input window, built on first use and kept for
    /// the last [`PLAN_SLOTS`] window shapes.
    pub fn plan(&self, h: usize, w: usize) -> Result<Arc<Plan>> {
        let mut plans = self.plans.lock().unwrap_or_else(|p| p.into_inner());
        let plan = plans.get_or_try_insert((h, w), || {
            let mut path = self.conv_path.lock().unwrap_or_else(|p| p.into_inner());
            if *path == ConvPath::Auto {
                let (chosen, plan) = self.choose_conv_path(h, w)?;
                *path = chosen;
                Ok(plan)
            } else {
                self.build(h, w, *path)
            }
        })?;
        Ok(plan.clone())
    }

    fn choose_conv_path(&self, h: usize, w: usize) -> Result<(ConvPath, Arc<Plan>)> {
        // This machine's earlier measurement for this graph and window
        // shape, if any (engine::choice): the same lowering, the same bits.
        let sha = self.card.file(self.precision).map(|f| f.sha256.as_str());
        let key = choice::key(&["conv-path", sha.unwrap_or(""), &format!("{h}x{w}")]);
        let known = match choice::cached(&key).as_deref() {
            Some("direct") => Some(ConvPath::Direct),
            Some("im2col") => Some(ConvPath::Im2col),
            _ => None,
        };
        if let Some(path) = known {
            return Ok((path, self.build(h, w, path)?));
        }
        let im2col = self.build(h, w, ConvPath::Im2col)?;
        let direct = self.build(h, w, ConvPath::Direct)?;
        let uses_direct = direct
            .model()
            .nodes()
            .iter()
            .any(|n| n.op.name().contains("DirectSpatial"));
        if !uses_direct {
            tracing::info!(
                "{}: no convolution takes the direct path; using im2col",
                self.card.name
            );
            return Ok((ConvPath::Im2col, im2col));
        }
        let t_im2col = self.time_plan(&im2col, h, w)?;
        let t_direct = self.time_plan(&direct, h, w)?;
        tracing::info!(
            "{}: conv path im2col {:.2} ms, direct {:.2} ms on {h}x{w}",
            self.card.name,
            t_im2col.as_secs_f64() * 1e3,
            t_direct.as_secs_f64() * 1e3
        );
        let chosen = if t_direct < t_im2col {
            (ConvPath::Direct, direct)
        } else {
            (ConvPath::Im2col, im2col)
        };
        let name = if chosen.0 == ConvPath::Direct {
            "direct"
        } else {
            "im2col"
        };
        choice::remember(&key, name);
        Ok(chosen)
    }

    fn time_plan(&self, plan: &Arc<Plan>, h: usize, w: usize) -> Result<Duration> {
        let input = Tensor::zero::<f32>(&[1, self.card.io.channels, h, w])
            .map_err(|e| RuntimeError::inference(&self.onnx_path, e))?
            .into_tvalue();
        let mut state =
            TypedSimpleState::new(plan).map_err(|e| RuntimeError::inference(&self.onnx_path, e))?;
        let mut best = Duration::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            state
                .run(tvec![input.clone()])
                .map_err(|e| RuntimeError::inference(&self.onnx_path, e))?;
            best = best.min(t.elapsed());
        }
        Ok(best)
    }
}

/// The graph's declared input must be NCHW with the card's channel count and
/// free (symbolic) spatial dimensions, since the runtime picks the tile shape.
fn check_declared_input(
    proto: &tract_onnx::pb::ModelProto,
    card: &ModelCard,
    path: &Path,
) -> Result<()> {
    use tract_onnx::pb::{tensor_shape_proto::dimension::Value, type_proto::Value as TV};
    let Some(input) = proto.graph.as_ref().and_then(|g| g.input.first()) else {
        return Err(RuntimeError::onnx(path, "graph has no input"));
    };
    let Some(TV::TensorType(tt)) = input.r#type.as_ref().and_then(|t| t.value.as_ref()) else {
        return Ok(());
    };
    let Some(shape) = tt.shape.as_ref() else {
        return Ok(());
    };
    let dims: Vec<Option<i64>> = shape
        .dim
        .iter()
        .map(|d| match d.value {
            Some(Value::DimValue(v)) => Some(v),
            _ => None,
        })
        .collect();
    if dims.len() != 4 {
        return Err(RuntimeError::mismatch(
            path,
            format!(
                "input {} has rank {}, card expects NCHW",
                input.name,
                dims.len()
            ),
        ));
    }
    if let Some(c) = dims[1] {
        if c as usize != card.io.channels {
            return Err(RuntimeError::mismatch(
                path,
                format!(
                    "input {} has {c} channels, card says {}",
                    input.name, card.io.channels
                ),
            ));
        }
    }
    if dims[2].is_some() || dims[3].is_some() {
        return Err(RuntimeError::Unsupported {
            path: path.into(),
            reason: format!(
                "input {} has a fixed spatial size; export it with symbolic H and W",
                input.name
            ),
        });
    }
    Ok(())
}
