//! `edgegan show`: the frame saved with `-o` holds the input on the left and
//! the very pixels `edgegan upscale` writes on the right, with a status bar;
//! bad requests are one clear error and write nothing.

use crate::common::bin;
use image::RgbImage;
use std::path::Path;
use std::process::Command;

const PHOTO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/astronaut.png");

fn run(args: &[&str]) -> std::process::Output {
    Command::new(bin()).args(args).output().unwrap()
}

fn png(path: &Path) -> RgbImage {
    image::open(path).unwrap().to_rgb8()
}

#[test]
fn frame_shows_the_input_and_the_upscaled_output() {
    let dir = tempfile::tempdir().unwrap();
    let (frame, up) = (dir.path().join("frame.png"), dir.path().join("up.png"));
    let common = ["--model", "sr-x2", "--precision", "f32"];
    let f = frame.to_str().unwrap();
    let o = run(&[&["show", PHOTO, "-o", f, "--size", "400x300"][..], &common].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = run(&[&["upscale", PHOTO, "-o", up.to_str().unwrap()][..], &common].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (frame, before, after) = (png(&frame), png(Path::new(PHOTO)), png(&up));
    assert_eq!(frame.dimensions(), (400, 300));
    // 512×512 fitted above the 14-pixel bar: 286×286 at (57, 0).
    let (x0, side) = (57u32, 286u32);
    let sample = |src: &RgbImage, x: u32, y: u32| {
        *src.get_pixel(
            (2 * x + 1) * src.width() / (2 * side),
            (2 * y + 1) * src.height() / (2 * side),
        )
    };
    for (x, y) in [(20, 40), (100, 150), (60, 280)] {
        assert_eq!(*frame.get_pixel(x0 + x, y), sample(&before, x, y));
    }
    for (x, y) in [(160, 40), (200, 150), (280, 280)] {
        assert_eq!(*frame.get_pixel(x0 + x, y), sample(&after, x, y));
    }
    assert_eq!(frame.get_pixel(0, 150).0, [0, 0, 0], "letterbox");
    assert_eq!(frame.get_pixel(399, 299).0, [32, 32, 32], "status bar");
}

#[test]
fn bad_requests_fail_cleanly_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("frame.png");
    let o_path = out.to_str().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["show", "/nonexistent.png", "-o", o_path],
            "/nonexistent.png",
        ),
        (
            &["show", PHOTO, "-o", o_path, "--board", "rpi9"],
            "no board named \"rpi9\"",
        ),
        (
            &["show", PHOTO, "-o", o_path, "--size", "10x10"],
            "each side must be 64 to 8192",
        ),
        (
            &["show", PHOTO, "-o", &o_path.replace(".png", ".jpg")],
            "saved as PNG",
        ),
        (
            &["show", PHOTO, "--fb", "/dev/fb-nonexistent"],
            "no usable framebuffer at /dev/fb-nonexistent",
        ),
    ];
    for (args, says) in cases {
        let o = run(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?}");
        // one line saying what is wrong (clap adds a `--help` hint below its own)
        let first = err.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("error: ") && first.contains(says),
            "{args:?}: {err}"
        );
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // An existing frame is kept unless --overwrite.
    std::fs::write(&out, b"keep").unwrap();
    let o = run(&["show", PHOTO, "-o", o_path, "--size", "64x64"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("exists"));
    assert_eq!(std::fs::read(&out).unwrap(), b"keep");
}
