//! End-to-end tests of `edgegan upscale`: batches, atomic outputs, and one
//! clear error per kind of bad input, with nothing written or overwritten.

use crate::common::*;
use edgegan_runtime::card::sha256_hex;
use edgegan_trainer::onnx::classic;
use image::{DynamicImage, Rgb};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn upscale(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(bin())
        .arg("upscale")
        .args(args)
        .output()
        .expect("binary runs")
}

fn os<P: AsRef<std::ffi::OsStr> + ?Sized>(p: &P) -> &std::ffi::OsStr {
    p.as_ref()
}

struct Fixture {
    tmp: tempfile::TempDir,
    model: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let model = tmp.path().join("nearest-x2");
        model_dir(&model, "nearest-x2", 2, 0, &classic::nearest(2));
        Fixture { tmp, model }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }
    fn image(&self, name: &str, w: u32, h: u32) -> PathBuf {
        let p = self.path(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        DynamicImage::ImageRgb8(noise::<Rgb<u8>>(w, h, w as u64, |v| (v * 255.0) as u8))
            .save(&p)
            .unwrap();
        p
    }
    /// Run upscale on one input to `out`; return (exit ok, stderr).
    fn run1(&self, input: &Path, out: &Path) -> (bool, String) {
        let o = upscale(&[os(input), os("-o"), os(out), os("--model"), os(&self.model)]);
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    }
}

/// The failure contract: non-zero exit, one `error:` line naming `file` and
/// saying `what`, and no output file (nor temporary leftovers) next to it.
fn assert_refused(f: &Fixture, input: &Path, out: &Path, file: &Path, what: &str) {
    let (ok, stderr) = f.run1(input, out);
    assert!(!ok, "should fail: {stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains(&file.display().to_string()),
        "names {}: {stderr}",
        file.display()
    );
    assert!(errors[0].contains(what), "says {what:?}: {stderr}");
    assert!(
        !out.exists() || out.is_dir() || out == input,
        "output was written"
    );
    if let Some(dir) = out.parent().filter(|d| d.is_dir()) {
        let leftovers: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }
}

#[test]
fn single_file_is_upscaled_exactly() {
    let f = Fixture::new();
    let input = f.image("a.png", 23, 17);
    let out = f.path("out/a_x2.png");
    let (ok, stderr) = f.run1(&input, &out);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("upscaled 1 of 1"), "{stderr}");
    let (a, b) = (
        image::open(&input).unwrap().to_rgb8(),
        image::open(&out).unwrap().to_rgb8(),
    );
    assert_eq!(b.dimensions(), (46, 34));
    for (x, y, p) in b.enumerate_pixels() {
        assert_eq!(p, a.get_pixel(x / 2, y / 2));
    }
}

#[test]
fn folder_batch_continues_past_bad_files_and_fails_at_the_end() {
    let f = Fixture::new();
    f.image("in/one.png", 10, 8);
    f.image("in/sub/two.png", 7, 9);
    std::fs::write(f.path("in/broken.png"), b"not a png").unwrap();
    std::fs::write(f.path("in/notes.txt"), b"ignored: not an image extension").unwrap();
    let out = f.path("out");
    let o = upscale(&[
        os(&f.path("in")),
        os("-o"),
        os(&out),
        os("--model"),
        os(&f.model),
        os("--threads"),
        os("2"),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        stderr.contains("upscaled 2 of 3 file(s)") && stderr.contains("1 failed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("broken.png: not a readable image"),
        "{stderr}"
    );
    assert_eq!(
        image::image_dimensions(out.join("one.png")).unwrap(),
        (20, 16)
    );
    assert_eq!(
        image::image_dimensions(out.join("sub/two.png")).unwrap(),
        (14, 18)
    );
    assert!(!out.join("broken.png").exists());
}

#[test]
fn format_flag_converts_a_batch() {
    let f = Fixture::new();
    f.image("in/one.png", 10, 8);
    let out = f.path("out");
    let o = upscale(&[
        os(&f.path("in")),
        os("-o"),
        os(&out),
        os("--model"),
        os(&f.model),
        os("--format"),
        os("jpg"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        image::ImageReader::open(out.join("one.jpg"))
            .unwrap()
            .with_guessed_format()
            .unwrap()
            .format(),
        Some(image::ImageFormat::Jpeg)
    );
}

#[test]
fn missing_file() {
    let f = Fixture::new();
    let p = f.path("nope.png");
    assert_refused(&f, &p, &f.path("o.png"), &p, "No such file");
}

#[test]
fn not_an_image() {
    let f = Fixture::new();
    let p = f.path("text.png");
    std::fs::write(&p, "hello").unwrap();
    assert_refused(&f, &p, &f.path("o.png"), &p, "not a readable image");
}

#[test]
fn truncated_jpeg_and_png() {
    let f = Fixture::new();
    let src = f.image("full.png", 64, 64);
    let bytes = std::fs::read(&src).unwrap();
    let p = f.path("cut.png");
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    assert_refused(&f, &p, &f.path("o.png"), &p, "not a readable image");
    let jpg = f.path("full.jpg");
    image::open(&src).unwrap().save(&jpg).unwrap();
    let bytes = std::fs::read(&jpg).unwrap();
    let p = f.path("cut.jpg");
    std::fs::write(&p, &bytes[..bytes.len() * 2 / 3]).unwrap();
    assert_refused(&f, &p, &f.path("o2.png"), &p, "truncated JPEG");
}

#[test]
fn zero_sized_image() {
    let f = Fixture::new();
    let p = f.path("zero.png");
    std::fs::write(&p, png_with_header(0, 10)).unwrap();
    let (ok, stderr) = f.run1(&p, &f.path("o.png"));
    assert!(!ok);
    assert!(
        stderr.contains("zero.png") && (stderr.contains("empty") || stderr.contains("dimensions")),
        "{stderr}"
    );
    assert!(!f.path("o.png").exists());
}

#[test]
fn absurd_dimensions_are_refused_before_decoding() {
    let f = Fixture::new();
    let p = f.path("bomb.png");
    std::fs::write(&p, png_with_header(100_000, 100_000)).unwrap();
    assert_refused(
        &f,
        &p,
        &f.path("o.png"),
        &p,
        "input 100000x100000 exceeds the limit",
    );
}

#[test]
fn output_equal_to_input_is_refused_and_input_untouched() {
    let f = Fixture::new();
    let p = f.image("same.png", 8, 8);
    let before = std::fs::read(&p).unwrap();
    assert_refused(&f, &p, &p, &p, "output path is the input");
    assert_eq!(std::fs::read(&p).unwrap(), before);
}

#[test]
fn existing_output_is_kept_without_overwrite() {
    let f = Fixture::new();
    let p = f.image("in.png", 8, 8);
    let out = f.path("exists.png");
    std::fs::write(&out, b"precious").unwrap();
    let (ok, stderr) = f.run1(&p, &out);
    assert!(!ok && stderr.contains("--overwrite"), "{stderr}");
    assert_eq!(std::fs::read(&out).unwrap(), b"precious");
    let o = upscale(&[
        os(&p),
        os("-o"),
        os(&out),
        os("--model"),
        os(&f.model),
        os("--overwrite"),
    ]);
    assert!(o.status.success());
    assert_eq!(image::image_dimensions(&out).unwrap(), (16, 16));
}

#[test]
fn unwritable_output_directory() {
    let f = Fixture::new();
    let p = f.image("in.png", 8, 8);
    // A regular file where the output folder should be: cannot be created
    // (permission tests are meaningless when CI runs as root).
    let blocker = f.path("blocker");
    std::fs::write(&blocker, b"x").unwrap();
    let out = blocker.join("sub/o.png");
    let (ok, stderr) = f.run1(&p, &out);
    assert!(!ok);
    assert!(
        stderr.contains("cannot create output folder") && stderr.contains("blocker"),
        "{stderr}"
    );
}

fn broken_model(f: &Fixture, name: &str, mutate: impl FnOnce(&Path)) -> PathBuf {
    let dir = f.path(name);
    model_dir(&dir, name, 2, 0, &classic::nearest(2));
    mutate(&dir);
    dir
}

/// Replace model.onnx by `bytes` and fix the card's checksum so that the
/// ONNX parser, not the checksum, is what refuses it.
fn replace_onnx(dir: &Path, bytes: &[u8]) {
    let card = std::fs::read_to_string(dir.join("card.toml")).unwrap();
    let old = sha256_hex(&std::fs::read(dir.join("model.onnx")).unwrap());
    std::fs::write(dir.join("model.onnx"), bytes).unwrap();
    std::fs::write(
        dir.join("card.toml"),
        card.replace(&old, &sha256_hex(bytes)),
    )
    .unwrap();
}

fn assert_model_refused(f: &Fixture, model: &Path, file: &str, what: &str) {
    let input = f.image("in.png", 8, 8);
    let out = f.path("o.png");
    let o = upscale(&[os(&input), os("-o"), os(&out), os("--model"), os(model)]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains(file) && stderr.contains(what),
        "{stderr}"
    );
    assert!(!out.exists());
}

#[test]
fn corrupt_and_truncated_onnx() {
    let f = Fixture::new();
    let m = broken_model(&f, "garbage", |d| {
        replace_onnx(d, b"\x08\x01\x12\xff\xffnot protobuf at all")
    });
    assert_model_refused(&f, &m, "model.onnx", "invalid ONNX model");
    let good = classic::nearest(2).encode();
    let m = broken_model(&f, "cut", |d| replace_onnx(d, &good[..good.len() / 2]));
    assert_model_refused(&f, &m, "model.onnx", "invalid ONNX model");
}

#[test]
fn card_graph_mismatches() {
    let f = Fixture::new();
    let edit = |from: &'static str, to: &'static str| {
        move |d: &Path| {
            let c = std::fs::read_to_string(d.join("card.toml")).unwrap();
            assert!(c.contains(from), "{c}");
            std::fs::write(d.join("card.toml"), c.replacen(from, to, 1)).unwrap();
        }
    };
    let m = broken_model(&f, "scale", edit("scale = 2", "scale = 3"));
    assert_model_refused(&f, &m, "model.onnx", "card (scale 3) expects");
    let m = broken_model(&f, "sha", edit("sha256 = \"", "sha256 = \"00"));
    assert_model_refused(&f, &m, "model.onnx", "sha256 is");
    let m = broken_model(&f, "x3graph", |d| {
        replace_onnx(d, &classic::nearest(3).encode())
    });
    assert_model_refused(&f, &m, "model.onnx", "card (scale 2) expects");
    let m = broken_model(
        &f,
        "badcard",
        edit("task = \"super-resolution\"", "task = \"enhance\""),
    );
    assert_model_refused(&f, &m, "card.toml", "invalid model card");
    let m = broken_model(&f, "nofile", |d| {
        std::fs::remove_file(d.join("model.onnx")).unwrap()
    });
    assert_model_refused(&f, &m, "model.onnx", "No such file");
}

#[test]
fn help_documents_every_flag() {
    let o = Command::new(bin())
        .args(["upscale", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = help.lines().collect();
    let flags = [
        "--output",
        "--model",
        "--precision",
        "--tile",
        "--threads",
        "--format",
        "--overwrite",
    ];
    for flag in flags {
        let at = |l: &&str| l.trim_start().starts_with(flag) || l.contains(&format!(", {flag}"));
        let i = lines
            .iter()
            .position(at)
            .unwrap_or_else(|| panic!("{flag} missing:\n{help}"));
        let doc = lines.get(i + 1).map(|l| l.trim()).unwrap_or("");
        assert!(
            doc.len() > 10 && !doc.starts_with('-'),
            "{flag} undocumented:\n{help}"
        );
    }
}

#[test]
fn default_model_and_output_name() {
    let f = Fixture::new();
    let input = f.image("photo.png", 40, 30);
    let o = Command::new(bin())
        .arg("upscale")
        .arg(&input)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    // `--precision auto` (the default) picks by a measurement on this machine.
    assert!(
        stderr.contains("with sr-x2 (f32, x2)") || stderr.contains("with sr-x2 (int8, x2)"),
        "{stderr}"
    );
    let out = f.path("photo_x2.png");
    assert_eq!(image::image_dimensions(&out).unwrap(), (80, 60));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "outputs are not private temp files");
    }
}

/// An ONNX file that made tract 0.23.9 panic (found by fuzzing: the `model`
/// target, `fuzz/regressions/model/`), with a card whose sha256 matches it:
/// one error line naming the graph, exit 1, no output.
#[test]
fn a_graph_that_panics_tract_is_one_error_line() {
    let found = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fuzz/regressions/model/found-0.bin"
    ))
    .unwrap();
    let nul = found.iter().position(|&b| b == 0).unwrap();
    let (card, onnx) = (
        std::str::from_utf8(&found[..nul]).unwrap(),
        &found[nul + 1..],
    );
    let mut card: toml::Table = card.parse().unwrap();
    let files = card["files"].as_table_mut().unwrap();
    let f32 = files["f32"].as_table_mut().unwrap();
    f32.insert("sha256".into(), sha256_hex(onnx).into());
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("card.toml"), toml::to_string(&card).unwrap()).unwrap();
    std::fs::write(dir.join("model.onnx"), onnx).unwrap();
    let out = tmp.path().join("x2.png");
    let o = Command::new(bin())
        .args(["upscale", "--precision", "f32", "--model"])
        .arg(&dir)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/astronaut.png"
        ))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("model.onnx: invalid ONNX model: tract panicked"),
        "{err}"
    );
    assert!(!out.exists());
}
