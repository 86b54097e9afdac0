//! Per-node time of an ONNX generator in tract, for one fixed window: where
//! does a plan spend its time (e.g. int8 im2col and requantization vs f32
//! direct convolution)?
//!
//! `cargo run --release -p edgegan-runtime --example profile -- MODEL.onnx [SIDE]`
//!
//! Prints nodes over 1 % of the total, averaged over 5 runs after a warm-up,
//! single-threaded, input 1×3×SIDE×SIDE (default 140: a 128 tile + halos).

use std::collections::BTreeMap;
use std::time::Instant;
use tract_onnx::prelude::*;

fn main() -> TractResult<()> {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: profile MODEL.onnx [SIDE]");
    let side: usize = args
        .next()
        .map_or(140, |s| s.parse().expect("SIDE is a number"));
    let plan = tract_onnx::onnx()
        .model_for_path(&path)?
        .with_input_fact(0, f32::fact([1, 3, side, side]).into())?
        .into_optimized()?
        .into_runnable()?;
    let input: Tensor =
        tract_ndarray::Array4::<f32>::from_shape_fn((1, 3, side, side), |(_, c, y, x)| {
            ((x * 7 + y * 3 + c) % 255) as f32 / 255.0
        })
        .into();
    let mut times: BTreeMap<(usize, String), f64> = BTreeMap::new();
    let mut state = TypedSimpleState::new(&plan)?;
    let runs = 5;
    for it in 0..=runs {
        state.run_plan_with_eval(tvec!(input.clone().into()), |s, st, node, inputs| {
            let t = Instant::now();
            let r = tract_onnx::tract_core::plan::eval(s, st, node, inputs);
            if it > 0 {
                let key = (node.id, format!("{} {}", node.op().name(), node.name));
                *times.entry(key).or_default() += t.elapsed().as_secs_f64() * 1e3 / runs as f64;
            }
            r
        })?;
    }
    let total: f64 = times.values().sum();
    for ((id, what), ms) in &times {
        if *ms > total * 0.01 {
            println!("{ms:8.2} ms  {id:>4} {what}");
        }
    }
    println!("{total:8.2} ms  total ({side}x{side}, 1 thread)");
    Ok(())
}
