//! One ONNX file through tract, as benches/edge_speed.sh times it:
//!
//! `edge-speed MODEL.onnx [SIDE=256] [THREADS=1] [RUNS=5] [prof|dump]`
//! (or `edge-speed amx-probe`: [`probe`]'s tile and VNNI rates on this core;
//! or `edge-speed cmp SIDE THREADS ROUNDS PLAN...`: [`compare`]; or
//! `edge-speed serve SIDE THREADS PLAN...`: [`serve`])
//!
//! Input 1×CH×SIDE×SIDE (env `CH`, default 3) with the pattern
//! (x·7 + y·3 + c) % 255 / 255, the plan optimized for that shape (tract's
//! AMX int8 kernels off, as the runtime has them, unless `TRACT_CPU_ISA` is
//! set: `-avx512vnni,-avxvnni,-amx-int8` times the AVX2 int8 kernels), THREADS workers through
//! tract's rayon executor; prints the median wall time of RUNS after one
//! warm-up (`p50_ms`) and an output checksum. `prof` also prints the 25
//! slowest nodes (mean ms per run) and the time by op; `dump` the optimized plan's nodes.
//! tract's own knobs apply from the environment
//! (`TRACT_DISABLE_DIRECT_SPATIAL=true` for the im2col lowering).

// The product's allocator and its setting (src/alloc.rs): freed memory is
// kept, not purged, unless MIMALLOC_PURGE_DELAY says otherwise.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

#[cfg(target_arch = "x86_64")]
mod probe;

use std::collections::BTreeMap;
use std::time::Instant;
use tract_linalg::multithread::{multithread_tract_scope, Executor};
use tract_onnx::prelude::*;

fn main() -> TractResult<()> {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: stores a value in mimalloc's option table (src/alloc.rs).
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
    let a: Vec<String> = std::env::args().skip(1).collect();
    #[cfg(target_arch = "x86_64")]
    if a.first().map(String::as_str) == Some("amx-probe") {
        probe::run();
        return Ok(());
    }
    if a.first().map(String::as_str) == Some("cmp") {
        let num = |i: usize| {
            a.get(i)
                .and_then(|s| s.parse().ok())
                .expect("cmp SIDE THREADS ROUNDS PLAN...")
        };
        return compare(num(1), num(2), num(3), &a[4..]);
    }
    if a.first().map(String::as_str) == Some("serve") {
        let num = |i: usize| {
            a.get(i)
                .and_then(|s| s.parse().ok())
                .expect("serve SIDE THREADS PLAN...")
        };
        return serve(num(1), num(2), &a[3..]);
    }
    let path = &a[0];
    let side: usize = a.get(1).map_or(256, |s| s.parse().unwrap());
    let threads: usize = a.get(2).map_or(1, |s| s.parse().unwrap());
    let runs: usize = a.get(3).map_or(5, |s| s.parse().unwrap());
    let prof = a.get(4).map(|s| s == "prof").unwrap_or(false);
    let dump = a.get(4).map(|s| s == "dump").unwrap_or(false);
    let ch = channels();
    let plan = optimized(path, side, ch)?;
    if dump {
        for n in plan.eval_order()? {
            let n = &plan.nodes[n];
            println!("{} {} {:?}", n.op().name(), n.name, n.op().info()?);
        }
    }
    let plan = plan.into_runnable()?;
    let input = input(side, ch);
    let (pool, ex) = pool(threads);
    let mut state = TypedSimpleState::new(&plan)?;
    let mut times: BTreeMap<(usize, String), f64> = BTreeMap::new();
    let mut walls = vec![];
    let mut out = None;
    for it in 0..=runs {
        let t0 = Instant::now();
        // Inside the pool, as the runtime does (engine::threads): tract runs a
        // 1-thread `Executor::MultiThread` on rayon's *global* pool (all
        // cores) when called from outside any pool, so "1 thread" was 2.
        let r = pool.install(|| {
            multithread_tract_scope(ex.clone(), || {
                if prof {
                    state.run_plan_with_eval(tvec!(input.clone().into()), |s, st, node, inputs| {
                        let t = Instant::now();
                        let r = tract_onnx::tract_core::plan::eval(s, st, node, inputs);
                        if it > 0 {
                            let key = (node.id, format!("{} {}", node.op().name(), node.name));
                            *times.entry(key).or_default() +=
                                t.elapsed().as_secs_f64() * 1e3 / runs as f64;
                        }
                        r
                    })
                } else {
                    state.run(tvec!(input.clone().into()))
                }
            })
        })?;
        if it > 0 {
            walls.push(t0.elapsed().as_secs_f64() * 1e3);
        }
        out = Some(r);
    }
    walls.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let total: f64 = times.values().sum();
    let mut v: Vec<_> = times.into_iter().collect();
    v.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap());
    for ((id, n), t) in v.iter().take(25) {
        println!("{t:9.3} ms {:5.1}%  #{id} {n}", 100.0 * t / total);
    }
    // The same time by op, so passes tract runs on one thread stand out.
    let mut by_op: BTreeMap<String, f64> = BTreeMap::new();
    for ((_, n), t) in &v {
        *by_op
            .entry(n.split(' ').next().unwrap_or("").to_string())
            .or_default() += t;
    }
    let mut by_op: Vec<_> = by_op.into_iter().collect();
    by_op.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap());
    for (op, t) in by_op.iter().filter(|(_, t)| *t > 0.0) {
        println!("{t:9.3} ms {:5.1}%  all {op}", 100.0 * t / total);
    }
    let o = out.unwrap();
    let o = o[0].cast_to::<f32>()?;
    let s: f64 = o
        .to_plain_array_view::<f32>()?
        .iter()
        .map(|&x| x as f64)
        .sum();
    println!("checksum {s:.6} shape {:?}", o.shape());
    println!("{:.3} p50_ms", walls[walls.len() / 2]);
    println!("{:.3} min_ms", walls[0]);
    Ok(())
}

/// Input channels: env `CH`, default 3.
fn channels() -> usize {
    std::env::var("CH").ok().map_or(3, |s| s.parse().unwrap())
}

/// The plan for `path` at 1×`ch`×`side`², optimized as the runtime builds it.
fn optimized(path: &str, side: usize, ch: usize) -> TractResult<TypedModel> {
    // AMX int8 off as the runtime has it, unless TRACT_CPU_ISA says otherwise
    // (e.g. `-avx512vnni,-avxvnni,-amx-int8,-avx512f` for the AVX2 kernels).
    let isa = std::env::var("TRACT_CPU_ISA").unwrap_or_else(|_| "-amx-int8".into());
    let _ = tract_onnx::tract_core::knobs::set_config_global("TRACT_CPU_ISA", &isa);
    // As the runtime loads an SR graph: its two pixel shuffles made one
    // (edgegan_runtime::sum_before_shuffle), unless EDGEGAN_SHUFFLE=two.
    let onnx = tract_onnx::onnx();
    let mut proto = onnx.proto_model_for_path(path)?;
    if std::env::var("EDGEGAN_SHUFFLE").as_deref() != Ok("two") {
        edgegan_runtime::sum_before_shuffle(&mut proto);
    }
    let plan = onnx
        .model_for_proto_model(&proto)?
        .with_input_fact(0, f32::fact([1, ch, side, side]).into())?
        .into_typed()?;
    // As the runtime builds its plans: int8 conv chains fused where the
    // CPU has the kernel, f32 gated products as one pass
    // (EDGEGAN_QCONV=off, EDGEGAN_GATE=off for tract's own lowering).
    edgegan_runtime::fuse_graph(plan)?.into_optimized()
}

/// The input pattern (x·7 + y·3 + c) % 255 / 255.
fn input(side: usize, ch: usize) -> Tensor {
    tract_ndarray::Array4::<f32>::from_shape_fn((1, ch, side, side), |(_, c, y, x)| {
        ((x * 7 + y * 3 + c) % 255) as f32 / 255.0
    })
    .into()
}

/// A rayon pool of `threads` and tract's executor on it.
fn pool(threads: usize) -> (std::sync::Arc<rayon::ThreadPool>, Executor) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let pool = std::sync::Arc::new(pool);
    let ex = Executor::MultiThread(pool.clone());
    (pool, ex)
}

/// `cmp SIDE THREADS ROUNDS PLAN...`: several plans timed in turn, one
/// run each per round, so that a slow minute of a shared machine slows
/// them all alike. A PLAN is `MODEL.onnx` or `MODEL.onnx@K=V,K=V`: those
/// environment variables (tract's knobs, `EDGEGAN_QCONV`, `EDGEGAN_QGATED`)
/// are set while its plan is built. Prints each round's times (ms, one
/// column per plan) and per plan the minimum, the median and the median
/// of its per-round ratio to the first plan.
fn compare(side: usize, threads: usize, rounds: usize, specs: &[String]) -> TractResult<()> {
    let ch = channels();
    let mut plans = states(specs, side, ch)?;
    let input = input(side, ch);
    let (pool, ex) = pool(threads);
    let mut times = vec![vec![]; plans.len()];
    for round in 0..=rounds {
        for (i, state) in plans.iter_mut().enumerate() {
            let t0 = Instant::now();
            pool.install(|| {
                multithread_tract_scope(ex.clone(), || state.run(tvec!(input.clone().into())))
            })?;
            // Round 0 warms every plan up.
            if round > 0 {
                times[i].push(t0.elapsed().as_secs_f64() * 1e3);
            }
        }
        if round > 0 {
            let row: Vec<String> = times
                .iter()
                .map(|t| format!("{:.3}", t[round - 1]))
                .collect();
            println!("round {round} {}", row.join(" "));
        }
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    for (i, (t, spec)) in times.iter().zip(specs).enumerate() {
        let ratio = median(t.iter().zip(&times[0]).map(|(a, b)| a / b).collect());
        let min = t.iter().cloned().fold(f64::INFINITY, f64::min);
        println!(
            "plan {i} min_ms {min:.3} p50_ms {:.3} ratio_to_0 {ratio:.3} {spec}",
            median(t.clone())
        );
    }
    Ok(())
}

/// The plans of `specs` (`MODEL.onnx` or `MODEL.onnx@K=V,K=V`, see
/// [`compare`]) for 1×`ch`×`side`², each ready to run.
fn states(specs: &[String], side: usize, ch: usize) -> TractResult<Vec<TypedSimpleState>> {
    let mut plans = vec![];
    for spec in specs {
        let (path, vars) = spec.split_once('@').unwrap_or((spec, ""));
        let vars: Vec<(&str, &str)> = vars
            .split(',')
            .filter_map(|kv| kv.split_once('='))
            .collect();
        let before: Vec<_> = vars.iter().map(|(k, _)| std::env::var_os(k)).collect();
        for (k, v) in &vars {
            std::env::set_var(k, v);
        }
        let plan = optimized(path, side, ch)?.into_runnable()?;
        for ((k, _), old) in vars.iter().zip(before) {
            match old {
                Some(old) => std::env::set_var(k, old),
                None => std::env::remove_var(k),
            }
        }
        plans.push(TypedSimpleState::new(&plan)?);
    }
    Ok(plans)
}

/// `serve SIDE THREADS PLAN...`: the plans of [`compare`], each run once
/// to warm up, then `ready` on stdout; each line read from stdin holding a
/// plan's index runs that plan once and prints its wall time (ms), until
/// the input ends. A driver in another language (benches/interleaved.py,
/// onnxruntime beside tract) takes its turns between the runs.
fn serve(side: usize, threads: usize, specs: &[String]) -> TractResult<()> {
    use std::io::{BufRead, Write};
    let ch = channels();
    let mut plans = states(specs, side, ch)?;
    let input = input(side, ch);
    let (pool, ex) = pool(threads);
    let mut run = |i: usize| -> TractResult<f64> {
        let Some(state) = plans.get_mut(i) else {
            return Err(TractError::msg(format!("no plan {i}")));
        };
        let t0 = Instant::now();
        pool.install(|| {
            multithread_tract_scope(ex.clone(), || state.run(tvec!(input.clone().into())))
        })?;
        Ok(t0.elapsed().as_secs_f64() * 1e3)
    };
    for i in 0..specs.len() {
        run(i)?;
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready")?;
    out.flush()?;
    for line in std::io::stdin().lock().lines() {
        let i: usize = line?.trim().parse()?;
        writeln!(out, "{:.3}", run(i)?)?;
        out.flush()?;
    }
    Ok(())
}
