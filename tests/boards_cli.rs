//! `edgegan boards list|show` and `upscale --board`: the profiles are listed
//! and shown as parseable TOML, a board's settings apply unless overridden,
//! and an unknown board is one clear error with no output written.

mod common;

use common::bin;
use std::process::Command;

fn run(args: &[&str]) -> std::process::Output {
    Command::new(bin())
        .args(args)
        .env("EDGEGAN_LOG", "edgegan=info")
        .output()
        .unwrap()
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
    let o = run(&[
        "upscale",
        "examples/astronaut.png",
        "--board",
        "pi",
        "-o",
        &out("d.png"),
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no board named \"pi\""));
    assert!(!dir.path().join("d.png").exists());
}
