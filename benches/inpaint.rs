//! Latency of one 256×256 inpainting window on the CPU: the classical
//! prefill alone (push-pull + 100 harmonic sweeps), and the whole
//! `Inpainter::inpaint` (prefill, network, composite) at f32 and int8, one
//! thread each, and f32 on every core ([`Inpainter::with_threads`]), side by
//! side in one criterion run. The mask is `edgegan mask --size 256x256
//! --bin 20-30 --seed 1` on `examples/astronaut.png`; `benches/inpaint_peers.py`
//! times OpenCV Telea and Navier-Stokes on the same image and mask.
//!
//! `cargo bench --bench inpaint && benches/inpaint_peers.py`

use criterion::{criterion_group, criterion_main, Criterion};
use edgegan_runtime::inpaint::prefill;
use edgegan_runtime::inpaint::Inpainter;
use edgegan_runtime::inpaint::{free_form, HoleBin};
use edgegan_runtime::Precision;
use std::path::Path;

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let img = image::open(root.join("examples/astronaut.png")).unwrap();
    let mask = free_form(256, 256, 1, HoleBin::new(20));
    let mut group = c.benchmark_group("inpaint 256x256 20-30 % hole");
    group.sample_size(10);
    let planar: Vec<f32> = {
        let rgb = img.to_rgb8();
        (0..3)
            .flat_map(|ch| rgb.pixels().map(move |p| p[ch] as f32 / 255.0))
            .collect()
    };
    group.bench_function("prefill", |b| {
        b.iter(|| {
            let mut px = planar.clone();
            prefill(&mut px, 3, 256, 256, mask.holes());
            px
        })
    });
    let cores = edgegan_runtime::sr::available_threads();
    let mut cells = vec![(Precision::F32, 1), (Precision::Int8, 1)];
    if cores > 1 {
        cells.push((Precision::F32, cores));
    }
    for (precision, threads) in cells {
        let model = Inpainter::load(&root.join("models/inpaint"), precision)
            .and_then(|m| m.with_threads(threads))
            .unwrap();
        let name = match threads {
            1 => precision.to_string(),
            n => format!("{precision}, {n} threads"),
        };
        group.bench_function(name, |b| b.iter(|| model.inpaint(&img, &mask).unwrap()));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
