//! Runtime latency of the shipped SR models, f32 against int8, side by side
//! in one criterion run: one 256×256 RGB input upscaled per iteration, tiles
//! of 128, one thread (so the kernels, not the scheduler, are compared).
//! Throughput is reported in output pixels per second.
//!
//! `cargo bench --bench precision`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use edgegan_runtime::{Model, Precision, UpscaleOptions, Upscaler};
use std::path::Path;
use std::sync::Arc;

fn bench(c: &mut Criterion) {
    let img = image::RgbImage::from_fn(256, 256, |x, y| {
        image::Rgb([
            (x * 7 % 256) as u8,
            (y * 3 % 256) as u8,
            ((x * y) % 256) as u8,
        ])
    });
    for name in ["sr-x2", "sr-x4"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models")
            .join(name);
        let mut group = c.benchmark_group(format!("{name} 256x256 1 thread"));
        let scale = Model::load(&dir, Precision::F32).unwrap().scale() as u64;
        group.throughput(Throughput::Elements(256 * 256 * scale * scale));
        group.sample_size(10);
        for precision in [Precision::F32, Precision::Int8] {
            let model = Model::load(&dir, precision).unwrap();
            let up = Upscaler::new(
                Arc::new(model),
                UpscaleOptions {
                    tile: Some(128),
                    threads: 1,
                },
            );
            group.bench_function(precision.to_string(), |b| b.iter(|| up.run(&img).unwrap()));
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
