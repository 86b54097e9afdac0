//! Heap allocations per tile after warm-up, counted with a counting global
//! allocator: the count per tile is bounded and does not grow with image size.

#[path = "cli/common/mod.rs"]
mod common;

use common::*;
use edgegan_runtime::{UpscaleOptions, Upscaler};
use image::Rgb;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn count(up: &Upscaler, img: &image::ImageBuffer<Rgb<u8>, Vec<u8>>) -> (usize, usize) {
    let tiles0 = up.tiles_run();
    let a0 = ALLOCS.load(Ordering::Relaxed);
    let out = up.run(img).unwrap();
    let a1 = ALLOCS.load(Ordering::Relaxed);
    drop(out);
    (a1 - a0, up.tiles_run() - tiles0)
}

#[test]
fn allocations_per_tile_are_bounded_and_do_not_grow_with_image_size() {
    let (_tmp, dir) = temp_model("stack", 2, 5, &conv_stack_x2(3));
    let up = Upscaler::new(
        load(&dir),
        UpscaleOptions {
            tile: Some(32),
            threads: 1,
        },
    );
    let small = noise::<Rgb<u8>>(64, 64, 1, |v| (v * 255.0) as u8);
    let large = noise::<Rgb<u8>>(320, 256, 2, |v| (v * 255.0) as u8);
    count(&up, &small); // warm-up: plan, state, input tensor
    let (a_small, t_small) = count(&up, &small);
    let (a_large, t_large) = count(&up, &large);
    assert_eq!((t_small, t_large), (4, 80));
    // Per-image constant: output buffer, band slices, error slot.
    let per_tile_small = a_small as f64 / t_small as f64;
    let per_tile_large = a_large as f64 / t_large as f64;
    // Budget: tract allocates about two buffers per evaluated node (DESIGN.md);
    // allow three, and nothing for the runtime itself beyond that.
    let plan = up.model().plan(42, 42).unwrap();
    let evaluated = plan
        .model()
        .nodes()
        .iter()
        .filter(|n| !matches!(&*n.op.name(), "Const" | "Source"))
        .count();
    let budget = 3 * evaluated;
    println!("allocations: {a_small} for {t_small} tiles, {a_large} for {t_large} tiles; {evaluated} evaluated nodes, budget {budget}/tile");
    assert!(
        per_tile_large <= budget as f64,
        "{per_tile_large} allocations per tile"
    );
    // Growth is linear in tiles with the same slope: (large - small) / (extra tiles)
    // stays within the budget, so no per-pixel or per-row allocation hides here.
    let slope = (a_large - a_small) as f64 / (t_large - t_small) as f64;
    assert!(slope <= budget as f64, "slope {slope}");
    assert!(
        per_tile_large <= per_tile_small + 1.0,
        "per tile grew: {per_tile_small} -> {per_tile_large}"
    );
}
