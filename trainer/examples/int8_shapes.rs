//! Which conv-stack shapes run faster as int8 than as f32 in tract? Builds
//! a stack per shape twice — f32 `Conv` and the quantizer's int8 pattern
//! (`QuantizeLinear` u8 → `ConvInteger` i8 → `Cast` → f32 rescale + bias →
//! LeakyReLU) — with fixed synthetic weights, and times one 140×140 window
//! (a 128 tile + halos) on one thread: median of the runs in 2 s.
//!
//! `cargo run --release -p edgegan-trainer --example int8_shapes`
//!
//! Prints a markdown table (kernel, channels, layers, f32 ms, int8 ms, ratio).

use edgegan_runtime::bench::{percentile, time_runs};
use edgegan_trainer::onnx::{attr_int, attr_ints, GraphBuilder};
use std::time::Duration;
use tract_onnx::prelude::*;

/// A stack: 1×1 head 3 → `c`, `n` `k`×`k` convs `c` → `c`, 1×1 tail `c` → 3.
fn stack(k: i64, c: i64, n: usize, int8: bool) -> Vec<u8> {
    let mut g = GraphBuilder::new("shape");
    let mut x = "input".to_string();
    let mut cin = 3i64;
    for i in 0..n + 2 {
        let (kk, cout) = match i {
            0 => (1, c),
            i if i == n + 1 => (1, 3),
            _ => (k, c),
        };
        let p = kk / 2;
        let len = (cout * cin * kk * kk) as usize;
        let conv_attrs = || {
            vec![
                attr_ints("kernel_shape", &[kk, kk]),
                attr_ints("pads", &[p, p, p, p]),
            ]
        };
        let y = format!("y{i}");
        let (w, b) = (format!("w{i}"), format!("b{i}"));
        g.initializer(&b, &[1, cout, 1, 1], vec![0.01; cout as usize]);
        if int8 {
            let (s, z, q) = (format!("s{i}"), format!("z{i}"), format!("q{i}"));
            g.initializer(&s, &[], vec![0.02]);
            g.initializer_int(&z, "u8", &[], &[128]);
            g.node("QuantizeLinear", &[&x, &s, &z], &[&q], vec![]);
            let wd: Vec<i32> = (0..len).map(|j| (j % 17) as i32 - 8).collect();
            g.initializer_int(&w, "i8", &[cout, cin, kk, kk], &wd);
            let (acc, accf, m, scaled) = (
                format!("a{i}"),
                format!("af{i}"),
                format!("m{i}"),
                format!("sc{i}"),
            );
            g.node("ConvInteger", &[&q, &w, &z], &[&acc], conv_attrs());
            g.node("Cast", &[&acc], &[&accf], vec![attr_int("to", 1)]);
            g.initializer(&m, &[1, cout, 1, 1], vec![0.0004; cout as usize]);
            g.node("Mul", &[&accf, &m], &[&scaled], vec![]);
            g.node("Add", &[&scaled, &b], &[&y], vec![]);
        } else {
            let wd: Vec<f32> = (0..len).map(|j| ((j % 17) as f32 - 8.0) * 0.01).collect();
            g.initializer(&w, &[cout, cin, kk, kk], wd);
            let conv = format!("c{i}");
            g.node("Conv", &[&x, &w], &[&conv], conv_attrs());
            g.node("Add", &[&conv, &b], &[&y], vec![]);
        }
        x = y;
        if i < n + 1 {
            let a = format!("r{i}");
            edgegan_trainer::onnx::layers::add_leaky(&mut g, &x, &a);
            x = a;
        }
        cin = cout;
    }
    g.node("Identity", &[&x], &["output"], vec![]);
    g.finish("input", "output", 3).encode()
}

fn time_ms(onnx: &[u8], side: usize) -> TractResult<f64> {
    let plan = tract_onnx::onnx()
        .model_for_read(&mut &onnx[..])?
        .with_input_fact(0, f32::fact([1, 3, side, side]).into())?
        .into_optimized()?
        .into_runnable()?;
    let mut state = TypedSimpleState::new(&plan)?;
    let x: TValue = Tensor::zero::<f32>(&[1, 3, side, side])?.into_tvalue();
    let t = time_runs(
        || state.run(tvec![x.clone()]).map(|_| ()),
        1,
        3,
        Duration::from_secs(2),
    )?;
    Ok(percentile(&t, 0.5))
}

fn main() -> TractResult<()> {
    let side = 140;
    println!("| kernel | channels | layers | f32 ms | int8 ms | int8 / f32 |");
    println!("|---|---|---|---|---|---|");
    for (k, c, n) in [
        (1, 32, 4),
        (1, 64, 4),
        (3, 32, 4),
        (3, 64, 4),
        (3, 96, 4),
        (3, 128, 4),
    ] {
        let f = time_ms(&stack(k, c, n, false), side)?;
        let q = time_ms(&stack(k, c, n, true), side)?;
        println!("| {k}×{k} | {c} | {n} | {f:.1} | {q:.1} | {:.2} |", q / f);
    }
    Ok(())
}
