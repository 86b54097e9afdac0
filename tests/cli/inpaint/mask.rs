//! `edgegan mask`: a seeded free-form mask of the asked bin and size (or an
//! image's size) that `edgegan inpaint` accepts; same arguments, same bytes;
//! bad bins, sizes and outputs are one error line and write nothing.

use crate::common::bin;
use edgegan_runtime::inpaint::{free_form, HoleBin, Mask};
use std::path::Path;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(bin()).args(args).output().unwrap()
}

fn example() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/astronaut.png")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn masks_are_the_seeded_free_form_masks_and_inpaint_takes_them() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    for (lo, size) in [(0, "32x32"), (10, "96x64"), (40, "200x150")] {
        let bin = format!("{lo}-{}", lo + 10);
        let out = p(&format!("m{lo}.png"));
        let o = run(&[
            "mask", "--size", size, "--bin", &bin, "--seed", "7", "-o", &out,
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let (w, h) = size.split_once('x').unwrap();
        let (w, h) = (w.parse().unwrap(), h.parse().unwrap());
        let m = Mask::load(Path::new(&out), (w, h)).unwrap();
        assert_eq!(m, free_form(w, h, 7, HoleBin::new(lo)));
        assert!(HoleBin::new(lo).contains(m.hole_ratio()));
    }
    // The image's size; the same arguments give the same bytes; inpaint fills it.
    let (a, b) = (p("a.png"), p("b.png"));
    for out in [&a, &b] {
        let o = run(&["mask", "--like", &example(), "--seed", "3", "-o", out]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let m = Mask::load(Path::new(&a), (256, 256)).unwrap();
    assert_eq!(m, free_form(256, 256, 3, HoleBin::new(20)));
    let o = run(&["inpaint", &example(), "--mask", &a, "-o", &p("filled.png")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn bad_arguments_are_one_line_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.png");
    let o_s = out.to_string_lossy().into_owned();
    let jpg = dir.path().join("m.jpg").to_string_lossy().into_owned();
    let cases: [(&[&str], &str); 5] = [
        (
            &["--size", "64x64", "--bin", "25", "-o", &o_s],
            "expected one of 0-10",
        ),
        (&["--size", "64", "-o", &o_s], "\"64\" is not WIDTHxHEIGHT"),
        (
            &["--size", "16x64", "-o", &o_s],
            "mask size 16x64: each side must be 32",
        ),
        (
            &["--size", "64x64", "-o", &jpg],
            "masks are written as .png",
        ),
        (
            &["--like", "/nonexistent/photo.png", "-o", &o_s],
            "/nonexistent/photo.png",
        ),
    ];
    for (args, why) in cases {
        let o = run(&[&["mask"], args].concat());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?}");
        assert!(err.contains(why), "{args:?}: {err}");
        assert!(!out.exists() && !Path::new(&jpg).exists(), "{args:?}");
    }
    // An existing output is kept without --overwrite.
    std::fs::write(&out, b"keep").unwrap();
    let o = run(&["mask", "--size", "64x64", "-o", &o_s]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("output exists; pass --overwrite"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), b"keep");
}
