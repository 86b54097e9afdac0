//! `edgegan bench` cells for inpainting models: one `size`×`size` test card
//! with the fixed 20–30 % mask of `edgegan mask --bin 20-30 --seed 1`, filled
//! end to end (prefill, network, composite): `cpu` in tract on `threads`
//! cores ([`Inpainter::with_threads`], as `edgegan inpaint` runs one image);
//! `gpu` with the same f32 network on tract-cuda and the prefill and
//! composite still on the CPU, on every core. The network alone, one S×S
//! window (of zeros: its time does not depend on the values), is `cpu-net`
//! and `gpu-resident` (input already on the GPU, output left there): what
//! `benches/peers.py` times onnxruntime and PyTorch on. Convolution FLOPs are
//! not counted for inpainting graphs (strided convs and upsampling), so
//! `gflop_per_s` is 0 in their records.

use image::DynamicImage;
use std::time::{Duration, Instant};

use super::{time_runs, Cell, Record};
use crate::error::Result;
use crate::inpaint::{free_form, HoleBin, Inpainter, Mask};
use crate::source::ModelSource;

/// The mask every inpainting cell fills: `edgegan mask --bin 20-30 --seed 1`.
fn bench_mask(size: usize) -> Mask {
    free_form(size as u32, size as u32, 1, HoleBin::new(20))
}

fn record(model: &Inpainter, path: &str, precision: &str, size: usize) -> Record {
    Record::new(
        &model.card().name,
        path,
        precision,
        model.threads(),
        model.size(),
        [size, size],
    )
}

/// The CPU cells at `precision` on `threads` cores: `Inpainter::inpaint`
/// (`cpu`) and the network alone on one window (`cpu-net`).
pub(crate) fn cpu_cell(
    source: &ModelSource,
    cell: &Cell,
    img: &DynamicImage,
) -> Result<Vec<Record>> {
    let (precision, seconds) = (cell.precision, cell.seconds);
    let size = img.width() as usize;
    let t = Instant::now();
    let model = source.inpainter(precision)?.with_threads(cell.threads)?;
    let mask = bench_mask(size);
    model.inpaint(img, &mask)?;
    let prepare_s = t.elapsed().as_secs_f64();
    let budget = Duration::from_secs_f64(seconds);
    let fill = time_runs(|| model.inpaint(img, &mask).map(|_| ()), 0, 3, budget)?;
    let window = vec![0.0f32; 4 * model.size() * model.size()];
    let net = time_runs(|| model.cpu_net(&window).map(|_| ()), 1, 3, budget)?;
    let r = Record {
        prepare_s,
        ..record(&model, "cpu", &precision.to_string(), size)
    };
    Ok(fill_and_net(r, &fill, "cpu-net", &net, model.size()))
}

/// The fill's record `r` with its `fill` samples, and the same record for
/// the network alone on one `s`×`s` window (`path`, `net` samples).
fn fill_and_net(r: Record, fill: &[f64], path: &str, net: &[f64], s: usize) -> Vec<Record> {
    let side = r.input[0];
    vec![
        r.clone().with_samples(fill, (side * side) as f64, 0.0),
        Record {
            path: path.into(),
            input: [s, s],
            ..r
        }
        .with_samples(net, (s * s) as f64, 0.0),
    ]
}

/// The GPU cells: the fill with its network on the GPU and its CPU part
/// (prefill, resizes, composite) on every core (checked against the CPU
/// fill: within one 8-bit level), and the network alone, resident.
#[cfg(feature = "gpu")]
pub(crate) fn gpu_cell(
    source: &ModelSource,
    cell: &Cell,
    img: &DynamicImage,
) -> Result<Vec<Record>> {
    use crate::card::Precision;
    use crate::gpu::GpuPlan;
    let seconds = cell.seconds;
    let size = img.width() as usize;
    let cores = crate::sr::available_threads();
    let model = source.inpainter(Precision::F32)?.with_threads(cores)?;
    let mask = bench_mask(size);
    let t = Instant::now();
    let mut plan = GpuPlan::for_inpainter(&model)?;
    let gpu = model.inpaint_with(img, &mask, &mut |x| {
        plan.run_window(model.window_tensor(&x)?)
    })?;
    let prepare_s = t.elapsed().as_secs_f64();
    let cpu = model.inpaint(img, &mask)?;
    let name = &model.card().name;
    super::cells::within_one_level(name, "fill", &cpu.to_rgb8(), &gpu.to_rgb8())?;
    let budget = Duration::from_secs_f64(seconds);
    let host = time_runs(
        || {
            model
                .inpaint_with(img, &mask, &mut |x| {
                    plan.run_window(model.window_tensor(&x)?)
                })
                .map(|_| ())
        },
        2,
        3,
        budget,
    )?;
    // The network's time does not depend on its input's values.
    let s = model.size();
    let resident_in = plan.upload(model.window_tensor(&vec![0.0; 4 * s * s])?)?;
    let resident = time_runs(|| plan.run_resident(&resident_in).map(|_| ()), 2, 3, budget)?;
    let r = Record {
        prepare_s,
        ..record(&model, "gpu", "f32", size)
    };
    Ok(fill_and_net(r, &host, "gpu-resident", &resident, s))
}

#[cfg(not(feature = "gpu"))]
pub(crate) fn gpu_cell(_: &ModelSource, cell: &Cell, _: &DynamicImage) -> Result<Vec<Record>> {
    Err(super::cells::no_gpu(&cell.model))
}
