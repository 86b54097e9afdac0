//! The before/after frame of `edgegan show`, drawn on the in-memory target and
//! on framebuffers of both pixel formats, against a golden image.
//! Re-bless after a deliberate change with `EDGEGAN_BLESS=1 cargo test -p edgegan-boards`.

use edgegan_boards::display::{
    draw_split, FbInfo, Framebuffer, MemoryTarget, Overlay, PixelFormat,
};
use embedded_graphics::pixelcolor::{Rgb565, Rgb888};
use embedded_graphics::prelude::*;
use image::{imageops, Rgb, RgbImage};
use std::path::Path;

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/golden/split_320x240.png"
);

/// A 96×64 crop of the bundled photo and its 2× (Catmull-Rom) enlargement.
fn pair() -> (RgbImage, RgbImage) {
    let photo = image::open(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/astronaut.png"
    ))
    .unwrap()
    .to_rgb8();
    let before = imageops::crop_imm(&photo, 80, 40, 96, 64).to_image();
    let after = imageops::resize(&before, 192, 128, imageops::FilterType::CatmullRom);
    (before, after)
}

fn overlay() -> Overlay {
    Overlay {
        model: "sr-x2".into(),
        precision: "f32".into(),
        latency_ms: 41.5,
    }
}

fn frame() -> RgbImage {
    let (before, after) = pair();
    let mut screen = MemoryTarget::new(Size::new(320, 240));
    draw_split(&mut screen, &before, &after, &overlay()).unwrap();
    screen.into_image()
}

#[test]
fn frame_matches_the_golden_image() {
    let frame = frame();
    if std::env::var_os("EDGEGAN_BLESS").is_some() {
        frame.save(GOLDEN).unwrap();
    }
    let golden = image::open(GOLDEN).unwrap().to_rgb8();
    let differ = frame
        .pixels()
        .zip(golden.pixels())
        .filter(|(a, b)| a != b)
        .count();
    if differ > 0 || frame.dimensions() != golden.dimensions() {
        let seen = std::env::temp_dir().join("edgegan-split-seen.png");
        frame.save(&seen).unwrap();
        panic!(
            "{differ} pixels differ from {GOLDEN}; drawn frame: {}",
            seen.display()
        );
    }
}

#[test]
fn frame_is_input_left_output_right_with_divider_labels_and_bar() {
    let (before, after) = pair();
    let f = frame();
    // 192×128 fitted above a 14-pixel bar into 320×226: 320×213 at y = 6.
    let (x0, y0, pw, ph) = (0u32, 6u32, 320u32, 213u32);
    let sample = |src: &RgbImage, x: u32, y: u32| {
        let sx = (2 * x + 1) * src.width() / (2 * pw);
        let sy = (2 * y + 1) * src.height() / (2 * ph);
        *src.get_pixel(sx, sy)
    };
    // Away from labels: left half from the input, right half from the output.
    for (x, y) in [(10, 100), (80, 150), (150, 200), (20, 60)] {
        assert_eq!(
            *f.get_pixel(x0 + x, y0 + y),
            sample(&before, x, y),
            "({x}, {y})"
        );
    }
    for (x, y) in [(170, 100), (250, 150), (310, 200), (200, 60)] {
        assert_eq!(
            *f.get_pixel(x0 + x, y0 + y),
            sample(&after, x, y),
            "({x}, {y})"
        );
    }
    // White divider, two pixels wide, at the seam.
    for y in [y0, y0 + 100, y0 + ph - 1] {
        assert_eq!(*f.get_pixel(159, y), Rgb([255, 255, 255]));
        assert_eq!(*f.get_pixel(160, y), Rgb([255, 255, 255]));
    }
    // Letterbox above the picture is black; labels draw white text on black.
    assert!(f
        .rows()
        .take(y0 as usize)
        .flatten()
        .all(|p| *p == Rgb([0, 0, 0])));
    let has_text = |x: std::ops::Range<u32>, y: std::ops::Range<u32>| {
        x.flat_map(|x| y.clone().map(move |y| (x, y)))
            .any(|(x, y)| *f.get_pixel(x, y) == Rgb([255, 255, 255]))
    };
    assert!(has_text(4..40, y0 + 4..y0 + 14), "BEFORE label");
    assert!(has_text(286..316, y0 + 4..y0 + 14), "AFTER label");
    // The status bar: dark grey with white text along its first 43 characters.
    assert_eq!(*f.get_pixel(319, 239), Rgb([32, 32, 32]));
    assert!(has_text(4..262, 228..238), "status text");
    assert!(
        !has_text(270..320, 226..240),
        "nothing past the status text"
    );
}

#[test]
fn framebuffers_receive_the_same_frame_in_their_pixel_format() {
    let (before, after) = pair();
    let expected = frame();
    let dir = tempfile::tempdir().unwrap();
    for (format, stride) in [
        (PixelFormat::Xrgb8888, 320 * 4),
        (PixelFormat::Rgb565, 320 * 2 + 64),
    ] {
        let info = FbInfo {
            width: 320,
            height: 240,
            stride,
            format,
        };
        let dev = dir.path().join(format!("{format:?}"));
        std::fs::write(&dev, vec![0xAA; info.frame_len()]).unwrap();
        let mut fb = Framebuffer::with_info(&dev, info);
        draw_split(&mut fb, &before, &after, &overlay()).unwrap();
        fb.flush().unwrap();
        let written = std::fs::read(&dev).unwrap();
        assert_eq!(written.len(), info.frame_len());
        let shown = info.decode(&written);
        for (x, y, p) in expected.enumerate_pixels() {
            let want = match format {
                PixelFormat::Xrgb8888 => *p,
                PixelFormat::Rgb565 => {
                    let c = Rgb888::from(Rgb565::from(Rgb888::new(p[0], p[1], p[2])));
                    Rgb([c.r(), c.g(), c.b()])
                }
            };
            assert_eq!(*shown.get_pixel(x, y), want, "{format:?} at ({x}, {y})");
        }
    }
}

#[test]
fn framebuffer_layout_comes_from_sysfs_and_bad_layouts_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("virtual_size", "1920,1080\n");
    write("bits_per_pixel", "32\n");
    write("stride", "7680\n");
    let info = FbInfo::from_sysfs(dir.path()).unwrap();
    assert_eq!(
        info,
        FbInfo {
            width: 1920,
            height: 1080,
            stride: 7680,
            format: PixelFormat::Xrgb8888
        }
    );
    write("bits_per_pixel", "24\n");
    let e = FbInfo::from_sysfs(dir.path()).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "{}: 24 bits per pixel (drawn: 16, 32)",
            dir.path().join("bits_per_pixel").display()
        )
    );
    write("bits_per_pixel", "16\n");
    write("stride", "100\n");
    let e = FbInfo::from_sysfs(dir.path()).unwrap_err().to_string();
    assert!(e.ends_with("stride: stride 100 is under one row"), "{e}");
    let e = FbInfo::from_sysfs(Path::new("/nonexistent/fb9"))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("/nonexistent/fb9/virtual_size: "), "{e}");
    let e = Framebuffer::open(Path::new("/dev/fb-nonexistent"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("/sys/class/graphics/fb-nonexistent/virtual_size: "),
        "{e}"
    );
}
