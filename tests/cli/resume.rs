//! Resumable batches: a batch killed with SIGKILL at several points and run
//! again with `--skip-existing` exits 0 and leaves exactly the files an
//! uninterrupted run writes, byte for byte; a killed run's temporary files
//! are cleaned, a live process's are not.

use image::Rgb;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// Every file under `dir` (relative path → bytes), hidden ones included.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_path_buf();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// A folder of `n` photos (two in a subfolder) for the conv-stack model.
fn photos(root: &Path, n: u64) -> PathBuf {
    let dir = root.join("in");
    for i in 0..n {
        let sub = if i % 4 == 3 { "sub/" } else { "" };
        let p = dir.join(format!("{sub}p{i:02}.png"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        noise::<Rgb<u8>>(160, 120, 100 + i, |v| (v * 255.0) as u8)
            .save(&p)
            .unwrap();
    }
    dir
}

fn upscale(model: &Path, input: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.arg("upscale")
        .arg(input)
        .arg("-o")
        .arg(out)
        .arg("--model")
        .arg(model)
        .args(["--threads", "1", "--tile", "64", "--conv-path", "im2col"])
        .args(extra);
    c
}

/// Outputs (`.png` files) written under `out` so far, while a run may be
/// renaming files into place (names only: a temporary file can vanish
/// between listing and reading).
fn written(out: &Path) -> usize {
    let mut n = 0;
    let mut stack = vec![out.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "png") {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn a_killed_batch_resumed_with_skip_existing_equals_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (_m, model) = temp_model("stack", 2, 5, &conv_stack_x2(5));
    let input = photos(tmp.path(), 12);
    let reference = tmp.path().join("reference");
    let o = upscale(&model, &input, &reference, &[]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let want = tree(&reference);
    assert_eq!(want.len(), 12);
    let mut partial = 0;
    for kill_after in [1, 4, 9] {
        let out = tmp.path().join(format!("killed-after-{kill_after}"));
        let mut child = upscale(&model, &input, &out, &[])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while written(&out) < kill_after && start.elapsed() < Duration::from_secs(120) {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let before = written(&out);
        eprintln!("killed after {before} of 12 outputs");
        partial += usize::from(before < 12);
        // A temporary file of a dead writer, as a kill during a write leaves
        // it (pid 4000000000 never runs).
        let stale = out.join("sub/.edgegan-4000000000-Xy12Ab.part");
        std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
        std::fs::write(&stale, b"half an image").unwrap();
        let o = upscale(&model, &input, &out, &["--skip-existing"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{err}");
        if before > 0 && before < 12 {
            assert!(
                err.contains(&format!("{before} skipped (already written)")),
                "killed after {kill_after} ({before} written): {err}"
            );
        }
        assert!(
            err.contains("partial file(s) left by an interrupted run"),
            "{err}"
        );
        assert_eq!(tree(&out), want, "killed after {kill_after}");
    }
    assert!(
        partial > 0,
        "no kill landed mid-batch: the test proved nothing"
    );
}

#[test]
fn skip_existing_keeps_live_writers_files_and_still_refuses_bad_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let (_m, model) = temp_model("stack", 2, 5, &conv_stack_x2(5));
    let input = photos(tmp.path(), 2);
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    // This test process is alive: its "temporary file" must survive.
    let live = out.join(format!(".edgegan-{}-Zz99Qq.part", std::process::id()));
    std::fs::write(&live, b"being written").unwrap();
    let o = upscale(&model, &input, &out, &["--skip-existing"])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(live.exists());
    // Everything is there: the second run skips it all and exits 0.
    let o = upscale(&model, &input, &out, &["--skip-existing"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("upscaled 0 of 2 file(s)") && err.contains("2 skipped"),
        "{err}"
    );
    // An output that is its own input is still refused, skip or not.
    let one = input.join("p00.png");
    let o = upscale(&model, &one, &one, &["--skip-existing"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("output path is the input file"));
    // --skip-existing and --overwrite contradict each other.
    let o = upscale(&model, &input, &out, &["--skip-existing", "--overwrite"])
        .output()
        .unwrap();
    assert!(!o.status.success());
}

#[test]
fn inpaint_batches_resume_with_skip_existing_too() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    for i in 0..3 {
        noise::<Rgb<u8>>(48, 40, 500 + i, |v| (v * 255.0) as u8)
            .save(input.join(format!("p{i}.png")))
            .unwrap();
    }
    let mask = tmp.path().join("mask.png");
    image::GrayImage::from_fn(48, 40, |x, y| {
        image::Luma([if (10..30).contains(&x) && y < 20 {
            255
        } else {
            0
        }])
    })
    .save(&mask)
    .unwrap();
    let run = |out: &Path, extra: &[&str]| {
        Command::new(bin())
            .arg("inpaint")
            .arg(&input)
            .arg("--mask")
            .arg(&mask)
            .arg("-o")
            .arg(out)
            .args(["--threads", "1"])
            .args(extra)
            .output()
            .unwrap()
    };
    let (whole, part) = (tmp.path().join("whole"), tmp.path().join("part"));
    assert!(run(&whole, &[]).status.success());
    assert!(run(&part, &[]).status.success());
    std::fs::remove_file(part.join("p1.png")).unwrap();
    let o = run(&part, &["--skip-existing"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("inpainted 1 of 3 file(s)") && err.contains("2 skipped"),
        "{err}"
    );
    assert_eq!(tree(&part), tree(&whole));
}
