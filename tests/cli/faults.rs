//! Faults while writing: a full disk (ENOSPC, on a small tmpfs), a file-size
//! limit (RLIMIT_FSIZE), an output folder made read-only or removed
//! mid-batch, two processes writing one folder, and a corrupt precision
//! cache. Each gives one error line per file it hits, leaves no partial
//! file, and every output that exists equals an undisturbed run's. Last,
//! mutated images: an error line or a decodable output, never a crash.
//!
//! The tmpfs cases mount a filesystem, which needs root (CAP_SYS_ADMIN):
//! where `mount` is refused they say so and check nothing else.

use image::Rgb;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::common::*;

/// A tmpfs of `kib` KiB mounted on a temporary folder, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(kib: usize) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(dir.path())
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            eprintln!("cannot mount a tmpfs here (needs root): fault case not run");
        }
        ok.then_some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Remount `ro` or `rw`; a read-only remount is refused (busy) while a
    /// file is open for writing, so it is retried until one succeeds.
    fn remount(&self, mode: &str) {
        let start = Instant::now();
        loop {
            let o = Command::new("mount")
                .args(["-o", &format!("remount,{mode}")])
                .arg(self.path())
                .output()
                .unwrap();
            if o.status.success() {
                return;
            }
            let why = String::from_utf8_lossy(&o.stderr);
            assert!(start.elapsed() < Duration::from_secs(60), "{why}");
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// `n` noise photos of 96×96 (their ×2 PNGs do not compress: ≈110 KB each).
fn photos(root: &Path, n: u64) -> PathBuf {
    let dir = root.join("in");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..n {
        noise::<Rgb<u8>>(96, 96, 300 + i, |v| (v * 255.0) as u8)
            .save(dir.join(format!("p{i:02}.png")))
            .unwrap();
    }
    dir
}

fn upscale(model: &Path, input: &Path, out: &Path) -> Command {
    let mut c = Command::new(bin());
    c.arg("upscale")
        .arg(input)
        .arg("-o")
        .arg(out)
        .arg("--model")
        .arg(model)
        // A fixed lowering: `auto` times both on the first tile, and under
        // load it may pick the other (same values within float rounding,
        // other bytes).
        .args(["--threads", "1", "--conv-path", "im2col"]);
    c
}

/// Files under `dir` whose name marks a temporary file.
fn parts(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with(".part"))
                .collect()
        })
        .unwrap_or_default()
}

/// Every output in `out` is the reference's file of that name, byte for byte;
/// returns how many there are.
fn outputs_match(out: &Path, reference: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(out).unwrap().flatten() {
        let name = e.file_name();
        let want = std::fs::read(reference.join(&name)).unwrap();
        assert_eq!(std::fs::read(e.path()).unwrap(), want, "{name:?}");
        n += 1;
    }
    n
}

struct Setup {
    tmp: tempfile::TempDir,
    model: PathBuf,
    input: PathBuf,
    reference: PathBuf,
}

fn setup(n: u64) -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    model_dir(&model, "stack", 2, 5, &conv_stack_x2(9));
    let input = photos(tmp.path(), n);
    let reference = tmp.path().join("reference");
    let o = upscale(&model, &input, &reference).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    Setup {
        tmp,
        model,
        input,
        reference,
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_full_disk_fails_the_files_that_do_not_fit_and_the_batch_goes_on() {
    let s = setup(4);
    let Some(fs) = Tmpfs::mount(128) else { return };
    let out = fs.path().join("out");
    let o = upscale(&s.model, &s.input, &out).output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let fails: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert!(!fails.is_empty(), "{err}");
    for l in &fails {
        assert!(l.contains("No space left on device"), "{l}");
    }
    let written = outputs_match(&out, &s.reference);
    assert!(written >= 1, "the first output fits: {err}");
    assert_eq!(written + fails.len(), 4, "{err}");
    assert!(err.contains(&format!("{} failed", fails.len())), "{err}");
    assert!(parts(&out).is_empty(), "{:?}", parts(&out));
}

#[test]
fn a_file_size_limit_is_one_error_line_per_file_not_a_signal() {
    let s = setup(2);
    let out = s.tmp.path().join("limited");
    // 64 KB per file: every ×2 output (≈110 KB) exceeds it. Without the
    // binary ignoring SIGXFSZ, the first write would kill it.
    let o = Command::new("prlimit")
        .arg("--fsize=65536")
        .arg(bin())
        .arg("upscale")
        .arg(&s.input)
        .arg("-o")
        .arg(&out)
        .arg("--model")
        .arg(&s.model)
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let fails: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(fails.len(), 2, "{err}");
    assert!(fails.iter().all(|l| l.contains("File too large")), "{err}");
    assert_eq!(outputs_match(&out, &s.reference), 0);
    assert!(parts(&out).is_empty());
}

#[test]
fn an_output_folder_made_read_only_mid_batch_fails_the_rest_cleanly() {
    let s = setup(10);
    let Some(fs) = Tmpfs::mount(16 * 1024) else {
        return;
    };
    let out = fs.path().join("out");
    let child = upscale(&s.model, &s.input, &out)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while outputs(&out) < 1 && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(2));
    }
    fs.remount("ro");
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    fs.remount("rw");
    let written = outputs_match(&out, &s.reference);
    eprintln!("read-only after {written} of 10 outputs");
    if written < 10 {
        assert_eq!(o.status.code(), Some(1), "{err}");
        let fails = err.lines().filter(|l| l.starts_with("error: ")).count();
        assert_eq!(written + fails, 10, "{err}");
        assert!(err.contains("Read-only file system"), "{err}");
    }
    assert!(parts(&out).is_empty());
}

fn outputs(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "png"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn an_output_folder_removed_mid_batch_is_made_again() {
    let s = setup(8);
    let out = s.tmp.path().join("vanishing");
    let child = upscale(&s.model, &s.input, &out)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while outputs(&out) < 2 && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = std::fs::remove_dir_all(&out);
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    // Files written after the removal are there, whole; a file whose
    // temporary file vanished with the folder is one error line.
    let written = if out.exists() {
        outputs_match(&out, &s.reference)
    } else {
        0
    };
    let fails = err.lines().filter(|l| l.starts_with("error: ")).count();
    assert!(fails <= 1, "{err}");
    assert_eq!(
        o.status.code(),
        Some(if fails > 0 { 1 } else { 0 }),
        "{err}"
    );
    assert!(written + fails <= 6, "{err}");
    assert!(parts(&out).is_empty());
}

#[test]
fn two_processes_writing_one_folder_never_tear_a_file() {
    let s = setup(8);
    let out = s.tmp.path().join("shared");
    let spawn = || {
        upscale(&s.model, &s.input, &out)
            .arg("--overwrite")
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    for child in [a, b] {
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert_eq!(outputs_match(&out, &s.reference), 8);
    assert!(parts(&out).is_empty());
}

#[test]
fn a_corrupt_or_half_written_precision_cache_is_ignored_and_rebuilt() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("edgegan/precision.toml");
    std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
    let photo = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/astronaut.png");
    for junk in [
        &b"\x00\xff not toml [[["[..],
        &b"\"debug-tract-0.23.9-x\" = \"int"[..],
    ] {
        std::fs::write(&cache, junk).unwrap();
        let out = tmp.path().join("x2.png");
        let o = Command::new(bin())
            .args([
                "upscale",
                "--model",
                "sr-x2",
                "--precision",
                "auto",
                "--overwrite",
            ])
            .arg(&photo)
            .arg("-o")
            .arg(&out)
            .env("XDG_CACHE_HOME", tmp.path())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        let text = std::fs::read_to_string(&cache).unwrap();
        let table: toml::Table = text.parse().expect("the cache is rewritten whole");
        // The precision choice, and the conv path measured for each graph
        // that choice timed (none where no conv takes the direct path).
        let (paths, precisions): (Vec<_>, Vec<_>) =
            table.iter().partition(|(k, _)| k.contains("-conv-path-"));
        assert_eq!(precisions.len(), 1, "{text}");
        assert!(paths.len() <= 2, "{text}");
        let value = |v: &toml::Value| v.as_str().unwrap().to_owned();
        assert!(
            ["f32", "int8"].contains(&value(precisions[0].1).as_str()),
            "{text}"
        );
        for (_, v) in paths {
            assert!(["direct", "im2col"].contains(&value(v).as_str()), "{text}");
        }
        assert!(parts(cache.parent().unwrap()).is_empty());
    }
}

/// Mutated images through `edgegan upscale` (issue 31): seeded bit flips,
/// truncations, spliced tails, edited PNG dimensions and inserted junk of
/// every seed image of the fuzz corpus (PNG 8/16-bit, JPEG with EXIF,
/// lossy and lossless WebP), one batch of them. The run exits 0 or 1, never
/// by a signal; no panic reaches the user (no "internal error" line); each
/// input is either an output (its name and format) that decodes to a ×2
/// image or one error line naming it; no temporary file is left.
#[test]
fn mutated_images_are_an_error_line_or_a_decodable_output_never_a_crash() {
    use edgegan_fuzz::mutation::{mutate, Mix};
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    model_dir(&model, "stack", 2, 5, &conv_stack_x2(9));
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/image");
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(&corpus)
        .unwrap()
        .flatten()
        .map(|e| {
            let p = e.path();
            let ext = p.extension().unwrap().to_string_lossy().into_owned();
            (ext, std::fs::read(&p).unwrap())
        })
        .collect();
    seeds.sort();
    let input = tmp.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let mut m = Mix(31);
    let n = 84;
    for i in 0..n {
        let (ext, seed) = &seeds[i % seeds.len()];
        let other = &seeds[m.below(seeds.len())].1;
        let bytes = mutate(seed, other, &mut m);
        std::fs::write(input.join(format!("m{i:03}.{ext}")), bytes).unwrap();
    }
    let out = tmp.path().join("out");
    let o = upscale(&model, &input, &out).output().unwrap();
    let err = stderr(&o);
    assert!(
        matches!(o.status.code(), Some(0) | Some(1)),
        "exit {:?}: {err}",
        o.status
    );
    assert!(!err.contains("internal error"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let fails: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    for l in &fails {
        assert!(l.contains("/in/m"), "an error line names its input: {l}");
    }
    let mut written = 0;
    for e in std::fs::read_dir(&out).into_iter().flatten().flatten() {
        let p = e.path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
        let ext = &seeds[stem[1..].parse::<usize>().unwrap() % seeds.len()].0;
        // An output keeps its input's name and format.
        assert_eq!(name, format!("{stem}.{ext}"));
        let img = image::open(&p).unwrap_or_else(|e| panic!("{name} does not decode: {e}"));
        // The test's decoder applies no EXIF orientation: either way round.
        if let Ok(src) = image::open(input.join(format!("{stem}.{ext}"))) {
            let (w, h) = (2 * src.width(), 2 * src.height());
            let got = (img.width(), img.height());
            assert!(
                got == (w, h) || got == (h, w),
                "{name}: {got:?} from {w}x{h}/2"
            );
        }
        written += 1;
    }
    assert_eq!(written + fails.len(), n, "{err}");
    assert!(written > 0 && !fails.is_empty(), "{written} written: {err}");
    assert!(parts(&out).is_empty(), "{:?}", parts(&out));
}
