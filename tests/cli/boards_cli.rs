//! `edgegan boards list|show`, `upscale --board` and `inpaint --board`: the
//! profiles are listed and shown as parseable TOML, a board's settings apply
//! unless overridden,
//! and an unknown board is one clear error with no output written.

use crate::common::bin;
use std::process::Command;

fn run(args: &[&str]) -> std::process::Output {
    Command::new(bin())
        .args(args)
        .env("EDGEGAN_LOG", "edgegan=info")
        .output()
        .unwrap()
}

/// `args` with `--board pi` fail on one line naming the board and write no `out`.
fn refuses_an_unknown_board(args: &[&str], out: &str) {
    let mut args = args.to_vec();
    args.extend_from_slice(&["--board", "pi", "-o", out]);
    let o = run(&args);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("no board named \"pi\""), "{err}");
    assert!(!std::path::Path::new(out).exists());
}

#[test]
fn list_and_show_round_trip() {
    let o = run(&["boards", "list"]);
    assert!(o.status.success());
    let names: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert_eq!(names, ["rpi3", "rpi-zero2", "rpi4", "rpi5", "x86_64"]);
    for name in &names {
        let o = run(&["boards", "show", name]);
        assert!(o.status.success());
        let shown = edgegan_boards::parse("shown", &String::from_utf8_lossy(&o.stdout)).unwrap();
        assert_eq!(shown, edgegan_boards::get(name).unwrap());
    }
    let o = run(&["boards", "show", "rpi9"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        err.trim(),
        "error: no board named \"rpi9\" (known: rpi3, rpi-zero2, rpi4, rpi5, x86_64)"
    );
}

#[test]
fn a_board_sets_what_the_command_line_leaves_open() {
    let dir = tempfile::tempdir().unwrap();
    let out = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    let o = run(&[
        "upscale",
        "examples/astronaut.png",
        "--board",
        "rpi-zero2",
        "-o",
        &out("a.png"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("board rpi-zero2: precision Some(F32), tile Some(64), threads Some(2)"),
        "{err}"
    );
    assert!(err.contains("with sr-x2 (f32, x2)"), "{err}");
    // The same settings given by hand give the same bytes.
    let o = run(&[
        "upscale",
        "examples/astronaut.png",
        "--precision",
        "f32",
        "--tile",
        "64",
        "--threads",
        "2",
        "-o",
        &out("b.png"),
    ]);
    assert!(o.status.success());
    assert_eq!(
        std::fs::read(out("a.png")).unwrap(),
        std::fs::read(out("b.png")).unwrap()
    );
    // Flags win over the board.
    let o = run(&[
        "upscale",
        "examples/astronaut.png",
        "--board",
        "rpi4",
        "--tile",
        "32",
        "--precision",
        "int8",
        "-o",
        &out("c.png"),
    ]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("board rpi4: precision Some(Int8), tile Some(32), threads Some(4)"),
        "{err}"
    );
    refuses_an_unknown_board(&["upscale", "examples/astronaut.png"], &out("d.png"));
}

#[test]
fn inpaint_takes_the_boards_precision_and_threads() {
    let dir = tempfile::tempdir().unwrap();
    let out = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    let mask = out("mask.png");
    let o = run(&[
        "mask", "--size", "256x256", "--bin", "20-30", "--seed", "1", "-o", &mask,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let fill = |extra: &[&str], name: &str| {
        let mut args = vec!["inpaint", "examples/astronaut.png", "--mask", &mask];
        args.extend_from_slice(extra);
        let path = out(name);
        args.extend_from_slice(&["-o", &path]);
        let o = run(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        (
            String::from_utf8_lossy(&o.stderr).into_owned(),
            std::fs::read(&path).unwrap(),
        )
    };
    let (err, board) = fill(&["--board", "rpi-zero2"], "a.png");
    assert!(
        err.contains("board rpi-zero2: precision Some(F32), threads Some(2)"),
        "{err}"
    );
    assert!(err.contains("(inpaint, f32,"), "{err}");
    // The same settings by hand give the same bytes.
    let (_, by_hand) = fill(&["--precision", "f32", "--threads", "2"], "b.png");
    assert_eq!(board, by_hand);
    // Flags win over the board.
    let (err, _) = fill(&["--board", "rpi4", "--precision", "int8"], "c.png");
    assert!(
        err.contains("board rpi4: precision Some(Int8), threads Some(4)"),
        "{err}"
    );
    assert!(err.contains("(inpaint, int8,"), "{err}");
    let input = ["inpaint", "examples/astronaut.png", "--mask", &mask];
    refuses_an_unknown_board(&input, &out("d.png"));
}

#[test]
fn upscale_stays_within_each_boards_memory_budget() {
    // A 1600×1200 photo-like input (7.7 MP output, 34 MB of image buffers)
    // upscaled with each board's settings: the peak RSS the CLI reports
    // (VmHWM of the whole process) must fit the profile's budget.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    let mut rng = crate::common::Rng(7);
    image::RgbImage::from_fn(1600, 1200, |x, y| {
        let n = (rng.unit() * 24.0) as u32;
        image::Rgb([
            ((x / 7 + n) % 256) as u8,
            ((y / 5 + n) % 256) as u8,
            ((x ^ y) % 256) as u8,
        ])
    })
    .save(&input)
    .unwrap();
    for board in edgegan_boards::all().unwrap() {
        if board.memory_budget_mb == 0 {
            continue;
        }
        let out = dir.path().join(format!("{}.png", board.name));
        let o = Command::new(bin())
            .arg("upscale")
            .arg(&input)
            .args(["--board", &board.name, "-o"])
            .arg(&out)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{err}");
        let rss: f64 = err
            .split("peak RSS ")
            .nth(1)
            .and_then(|s| s.split(" MB").next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no peak RSS in {err}"));
        eprintln!(
            "{}: peak RSS {rss} MB (budget {} MB)",
            board.name, board.memory_budget_mb
        );
        assert!(
            rss <= board.memory_budget_mb as f64,
            "{}: peak RSS {rss} MB over its {} MB budget",
            board.name,
            board.memory_budget_mb
        );
    }
}
