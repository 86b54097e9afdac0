//! Every runtime path of the shipped SR models in one criterion run: CPU f32
//! and int8 at 1 and all threads with 128 and 256 tiles (256×256 input), and,
//! built with `--features gpu` on a machine with an NVIDIA GPU, tract-cuda on
//! the same ONNX from host memory to host memory and with the input resident
//! on the GPU (256² and 1024² inputs). Throughput is in output pixels per
//! second (criterion's "elem/s": Melem/s = output MP/s). Without the feature
//! or without a GPU the GPU group says why and is skipped.
//!
//! `cargo bench --bench paths [--features gpu]`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use edgegan_runtime::sr::available_threads;
use edgegan_runtime::{Model, Precision, UpscaleOptions, Upscaler};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

fn test_image(side: u32) -> image::RgbImage {
    image::RgbImage::from_fn(side, side, |x, y| {
        image::Rgb([
            (x * 7 % 256) as u8,
            (y * 3 % 256) as u8,
            ((x * y) % 256) as u8,
        ])
    })
}

fn model_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(name)
}

fn cpu(c: &mut Criterion) {
    let img = test_image(256);
    let mut threads = vec![1, available_threads()];
    threads.dedup();
    for name in ["sr-x2", "sr-x4"] {
        let mut group = c.benchmark_group(format!("{name} cpu 256x256"));
        let scale = Model::load(&model_dir(name), Precision::F32)
            .unwrap()
            .scale() as u64;
        group.throughput(Throughput::Elements(256 * 256 * scale * scale));
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(3));
        for precision in [Precision::F32, Precision::Int8] {
            let model = Arc::new(Model::load(&model_dir(name), precision).unwrap());
            for &t in &threads {
                for tile in [128, 256] {
                    let options = UpscaleOptions {
                        tile: Some(tile),
                        threads: t,
                    };
                    let up = Upscaler::new(model.clone(), options);
                    let id = format!("{precision} threads {t} tile {tile}");
                    group.bench_function(id, |b| b.iter(|| up.run(&img).unwrap()));
                }
            }
        }
        group.finish();
    }
}

#[cfg(feature = "gpu")]
fn gpu(c: &mut Criterion) {
    use edgegan_runtime::gpu::{available, image_to_tensor, GpuPlan};
    if let Err(why) = available() {
        println!("gpu: skipped ({why})");
        return;
    }
    for name in ["sr-x2", "sr-x4"] {
        let model = Model::load(&model_dir(name), Precision::F32).unwrap();
        let mut group = c.benchmark_group(format!("{name} gpu"));
        group
            .sample_size(20)
            .measurement_time(Duration::from_secs(3));
        for side in [256u32, 1024] {
            let s = model.scale() as u64;
            group.throughput(Throughput::Elements(side as u64 * side as u64 * s * s));
            // Built (and on a process's first plan, compiled) outside the timing.
            let mut plan = GpuPlan::new(&model, side as usize, side as usize).unwrap();
            let img = test_image(side);
            group.bench_function(format!("host {side}x{side}"), |b| {
                b.iter(|| plan.run_image(&img).unwrap())
            });
            let resident = plan.upload(image_to_tensor(&img)).unwrap();
            group.bench_function(format!("resident {side}x{side}"), |b| {
                b.iter(|| plan.run_resident(&resident).unwrap())
            });
        }
        group.finish();
    }
}

#[cfg(not(feature = "gpu"))]
fn gpu(_c: &mut Criterion) {
    println!("gpu: skipped (built without the `gpu` feature: cargo bench --features gpu)");
}

criterion_group!(benches, cpu, gpu);
criterion_main!(benches);
