//! Pixel formats through the runtime, checked exactly with the nearest ×2
//! model: RGB8, Gray8, RGBA8 (alpha by bicubic), 16-bit PNG in and out, EXIF.

use crate::common::*;
use edgegan_runtime::io::{encode, read_image, ImageLimits};
use edgegan_runtime::{UpscaleOptions, Upscaler};
use edgegan_trainer::onnx::classic;
use image::{DynamicImage, GenericImageView, ImageFormat, Luma, Rgb, Rgba};
use std::path::Path;

fn nearest_x2() -> (tempfile::TempDir, Upscaler) {
    let (tmp, dir) = temp_model("nearest", 2, 0, &classic::nearest(2));
    (
        tmp,
        Upscaler::new(
            load(&dir),
            UpscaleOptions {
                tile: Some(16),
                threads: 2,
            },
        ),
    )
}

fn assert_nearest(input: &DynamicImage, output: &DynamicImage, channels: usize) {
    assert_eq!(output.dimensions(), (input.width() * 2, input.height() * 2));
    assert_eq!(output.color(), input.color());
    let (a, b) = (input.to_rgba16(), output.to_rgba16());
    for (x, y, p) in b.enumerate_pixels() {
        let q = a.get_pixel(x / 2, y / 2);
        assert_eq!(&p.0[..channels], &q.0[..channels], "({x},{y})");
    }
}

#[test]
fn rgb8_gray8_rgb16_gray16_are_exact_nearest() {
    let (_t, up) = nearest_x2();
    let images = [
        DynamicImage::ImageRgb8(noise::<Rgb<u8>>(37, 29, 1, |v| (v * 255.0) as u8)),
        DynamicImage::ImageLuma8(noise::<Luma<u8>>(37, 29, 2, |v| (v * 255.0) as u8)),
        DynamicImage::ImageRgb16(noise::<Rgb<u16>>(37, 29, 3, |v| (v * 65535.0) as u16)),
        DynamicImage::ImageLuma16(noise::<Luma<u16>>(37, 29, 4, |v| (v * 65535.0) as u16)),
    ];
    for img in images {
        let out = up.upscale(&img, Path::new("mem")).unwrap();
        let cn = if img.color().has_color() { 3 } else { 1 };
        assert_nearest(&img, &out, cn);
    }
}

#[test]
fn rgba8_alpha_is_bicubic_colour_goes_through_the_model() {
    let (_t, up) = nearest_x2();
    let (_t2, bicubic_dir) = temp_model("bicubic", 2, 2, &classic::bicubic(2));
    let bicubic = Upscaler::new(
        load(&bicubic_dir),
        UpscaleOptions {
            tile: Some(16),
            threads: 1,
        },
    );
    let img = noise::<Rgba<u8>>(31, 20, 5, |v| (v * 255.0) as u8);
    let out = up
        .upscale(&DynamicImage::ImageRgba8(img.clone()), Path::new("mem"))
        .unwrap();
    assert_nearest(&DynamicImage::ImageRgba8(img.clone()), &out, 3);
    // Alpha, independently: the bicubic ONNX graph (tract) run on the alpha plane.
    let alpha = image::RgbImage::from_fn(31, 20, |x, y| {
        let a = img.get_pixel(x, y)[3];
        Rgb([a, a, a])
    });
    let want = bicubic.run(&alpha).unwrap();
    let out = out.to_rgba8();
    for (x, y, p) in out.enumerate_pixels() {
        let w = want.get_pixel(x, y)[0];
        assert!(p[3].abs_diff(w) <= 1, "alpha ({x},{y}): {} vs {w}", p[3]);
    }
}

#[test]
fn sixteen_bit_png_round_trips_at_sixteen_bits() {
    let (_t, up) = nearest_x2();
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("in16.png");
    let img = DynamicImage::ImageRgb16(noise::<Rgb<u16>>(21, 13, 9, |v| (v * 65535.0) as u16));
    img.save(&src).unwrap();
    let read = read_image(&src, &ImageLimits::input()).unwrap();
    assert_eq!(read.color(), image::ColorType::Rgb16);
    let out = up.upscale(&read, &src).unwrap();
    let dst = tmp.path().join("out16.png");
    let mut f = std::fs::File::create(&dst).unwrap();
    encode(&out, ImageFormat::Png, &mut f, &dst).unwrap();
    let back = image::open(&dst).unwrap();
    assert_eq!(back.color(), image::ColorType::Rgb16);
    assert_nearest(&img, &back, 3);
}

#[test]
fn exif_orientation_is_applied() {
    let tmp = tempfile::tempdir().unwrap();
    // 40x20: left half black, right half white.
    let img = image::RgbImage::from_fn(40, 20, |x, _| {
        if x < 20 {
            Rgb([0, 0, 0])
        } else {
            Rgb([255, 255, 255])
        }
    });
    let mut jpeg = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img)
        .write_to(&mut jpeg, ImageFormat::Jpeg)
        .unwrap();
    let path = tmp.path().join("rot.jpg");
    // Orientation 6: the stored image must be rotated 90° clockwise to display.
    std::fs::write(&path, with_exif_orientation(jpeg.get_ref(), 6)).unwrap();
    let read = read_image(&path, &ImageLimits::input()).unwrap().to_rgb8();
    assert_eq!(read.dimensions(), (20, 40));
    // After a clockwise turn the stored left (black) half is on top.
    assert!(read.get_pixel(10, 5)[0] < 30);
    assert!(read.get_pixel(10, 35)[0] > 225);
}
