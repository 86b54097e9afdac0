//! What every task's loader shares: reading a model directory or an
//! embedded model and checking its checksum, tract's process-wide
//! defaults, and building one optimized plan per input shape.

use std::path::{Path, PathBuf};
use tract_onnx::prelude::*;
#[cfg(target_arch = "x86_64")]
use tract_onnx::tract_core::knobs::set_config_global;
use tract_onnx::tract_core::knobs::KnobScope;

use crate::card::{sha256_hex, ConvPath, ModelCard, Precision};
use crate::error::{Result, RuntimeError};

/// An optimized, runnable tract plan for one fixed input shape.
pub type Plan = TypedSimplePlan;

/// tract's defaults as this runtime sets them, once per process, below any
/// environment variable of the same name (so `TRACT_CPU_ISA=+amx-int8`
/// brings it back): Intel AMX int8 kernels off. tract fixes its instruction
/// set on first use, so every place that hands tract a graph calls this
/// first (the model, inpainter, generator and classifier loaders, and the
/// bench's matmul probe). tract 0.23.9's
/// `avx512amx_mmm_i32_16x16` faulted (SIGSEGV at a tile load) in about one
/// int8 run in four in one test process on a 2-core Xeon with AMX,
/// and never with the kernel removed; the AVX-512 VNNI kernels that run
/// instead compute the same integer sums. Only on x86_64: tract refuses
/// (panics on) a feature of another architecture in `TRACT_CPU_ISA`.
pub(crate) fn tract_defaults() {
    #[cfg(target_arch = "x86_64")]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            if let Err(e) = set_config_global("TRACT_CPU_ISA", "-amx-int8") {
                tracing::warn!("TRACT_CPU_ISA: {e}");
            }
        });
    }
}

/// `graph` with input `fact`, optimized and made runnable with `path`'s
/// lowering of f32 convolutions (`Direct` lets tract use its direct spatial
/// convolution; `Im2col` and `Auto` disable it); `onnx_path` names errors.
pub(crate) fn optimized_plan(
    graph: &InferenceModel,
    fact: InferenceFact,
    path: ConvPath,
    onnx_path: &Path,
) -> Result<Arc<Plan>> {
    let disable = if path == ConvPath::Direct {
        "false"
    } else {
        "true"
    };
    KnobScope::new([("TRACT_DISABLE_DIRECT_SPATIAL", disable)])
        .and_then(|scope| {
            scope.enter(|| {
                let typed = graph.clone().with_input_fact(0, fact)?.into_typed()?;
                fuse_graph(typed)?.into_optimized()?.into_runnable()
            })
        })
        .map_err(|e| RuntimeError::inference(onnx_path, e))
}

/// `typed` with every rewrite this runtime makes before tract optimizes a
/// plan: the int8 conv chains fused ([`fuse_int8`]), then the f32 gated
/// products left made one multi-threaded pass each (the inpainting
/// network's `f · sigmoid(g)`, with its decoder's upsampling and skip Add;
/// `EDGEGAN_GATE=off` leaves them). Every plan this runtime builds goes
/// through it, and the benches call it to time the product's plan. The
/// rewritten plan computes the same values as tract's, bit for bit. A graph
/// with neither comes back as it was; one with a sigmoid is decluttered
/// first, as the rewrites read the decluttered form.
pub fn fuse_graph(typed: TypedModel) -> TractResult<TypedModel> {
    use tract_onnx::tract_core::ops::element_wise::ElementWiseOp;
    use tract_onnx::tract_core::ops::nn::Sigmoid;
    let typed = fuse_int8(typed)?;
    let sigmoid = typed.nodes().iter().any(|n| {
        n.op_as::<ElementWiseOp>()
            .is_some_and(|e| e.0.is::<Sigmoid>())
    });
    if sigmoid {
        super::gate::fuse_gates(typed.into_decluttered()?)
    } else {
        Ok(typed)
    }
}

/// `typed` with its int8 conv chains fused into one direct-convolution node
/// each, where this CPU has a kernel for it (AVX-512 VNNI; AVX2 for weights
/// within the export's pair bound) and `EDGEGAN_QCONV` is not `off`, nor
/// the CPU feature masked by `TRACT_CPU_ISA`. The fused plan computes the same values as tract's, bit for bit. A graph with no
/// quantized conv comes back untouched; one with some is decluttered first,
/// as the fusion reads the decluttered form. [`fuse_graph`] calls it.
///
/// ```
/// use edgegan_runtime::fuse_int8;
/// use tract_onnx::prelude::*;
/// let typed = tract_onnx::onnx()
///     .model_for_path("../models/sr-x2/model.int8.onnx")?
///     .with_input_fact(0, f32::fact([1, 3, 24, 20]).into())?
///     .into_typed()?;
/// let fused = fuse_int8(typed.clone())?;
/// let x: Tensor = tract_ndarray::Array4::from_shape_fn((1, 3, 24, 20), |(_, c, y, x)| {
///     ((x * 7 + y * 3 + c) % 255) as f32 / 255.0
/// })
/// .into();
/// let run = |m: TypedModel| m.into_optimized()?.into_runnable()?.run(tvec!(x.clone().into()));
/// assert_eq!(run(fused)?[0], run(typed)?[0]);
/// # Ok::<(), TractError>(())
/// ```
pub fn fuse_int8(typed: TypedModel) -> TractResult<TypedModel> {
    use tract_onnx::tract_core::ops::cnn::Conv;
    let quantized = typed
        .nodes()
        .iter()
        .any(|n| n.op_as::<Conv>().is_some_and(|c| c.q_params.is_some()));
    if quantized && super::qconv::available() {
        super::qconv::fuse(typed.into_decluttered()?)
    } else {
        Ok(typed)
    }
}

/// A model directory's card and its `precision` graph, checked against the
/// card's sha256: (card, graph path, graph bytes).
pub(crate) fn read_model_dir(
    dir: &Path,
    precision: Precision,
) -> Result<(ModelCard, PathBuf, Vec<u8>)> {
    if !dir.is_dir() {
        return Err(RuntimeError::io(
            dir,
            std::io::Error::new(std::io::ErrorKind::NotFound, "model directory not found"),
        ));
    }
    let card = ModelCard::load(&dir.join("card.toml"))?;
    let (path, sha256) = file_spec(&card, precision, dir)?;
    let bytes = std::fs::read(&path).map_err(|e| RuntimeError::io(&path, e))?;
    check_sha256(&bytes, &sha256, &path)?;
    Ok((card, path, bytes))
}

/// An embedded model's card (`label` names it in errors) with `onnx`
/// checked as its `precision` graph: (card, graph path for errors).
pub(crate) fn check_embedded(
    label: &str,
    card_toml: &str,
    onnx: &[u8],
    precision: Precision,
) -> Result<(ModelCard, PathBuf)> {
    let base = Path::new(label);
    let card = ModelCard::parse(card_toml, &base.join("card.toml"))?;
    let (path, sha256) = file_spec(&card, precision, base)?;
    check_sha256(onnx, &sha256, &path)?;
    Ok((card, path))
}

/// `bytes` must hash to the card's `sha256` (`path` names the file in errors).
fn check_sha256(bytes: &[u8], sha256: &str, path: &Path) -> Result<()> {
    let actual = sha256_hex(bytes);
    if !actual.eq_ignore_ascii_case(sha256) {
        return Err(RuntimeError::mismatch(
            path,
            format!("sha256 is {actual}, card says {sha256}"),
        ));
    }
    Ok(())
}

/// The file a card names for `precision`, under `base`, and its sha256.
fn file_spec(card: &ModelCard, precision: Precision, base: &Path) -> Result<(PathBuf, String)> {
    let spec = card
        .file(precision)
        .ok_or_else(|| RuntimeError::Unsupported {
            path: base.join("card.toml"),
            reason: format!("model {} has no {precision} file", card.name),
        })?;
    Ok((base.join(&spec.path), spec.sha256.clone()))
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    #[test]
    fn amx_int8_is_off_by_default_and_the_environment_still_decides() {
        tract_defaults();
        tract_defaults();
        let isa = tract_linalg::knobs::TRACT_CPU_ISA.get();
        match std::env::var("TRACT_CPU_ISA") {
            Ok(env) => assert_eq!(isa.as_deref(), Some(env.as_str())),
            Err(_) => assert_eq!(isa.as_deref(), Some("-amx-int8")),
        }
    }
}
