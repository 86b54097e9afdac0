//! `edgegan-fuzz-afl TARGET`: one of [`edgegan_fuzz::TARGETS`] under AFL++
//! (persistent mode: inputs on stdin, many per process).

fn main() {
    let name = std::env::args().nth(1).unwrap_or_default();
    let Some(&(_, target)) = edgegan_fuzz::TARGETS.iter().find(|t| t.0 == name) else {
        let names: Vec<&str> = edgegan_fuzz::TARGETS.iter().map(|t| t.0).collect();
        eprintln!("usage: edgegan-fuzz-afl TARGET (one of {names:?})");
        std::process::exit(2);
    };
    // No abort hook: a panic the loaders catch and turn into an error (tract
    // and burn panic on some malformed files) is an answer, not a crash; one
    // that escapes the target still aborts the run.
    afl::fuzz_nohook!(|data: &[u8]| target(data));
}
