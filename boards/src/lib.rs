//! # edgegan-boards
//!
//! Board profiles: what edgegan needs to know to run well on a
//! Raspberry-Pi-class board — target triple, the qemu CPU that emulates it,
//! cores, memory and the share of it an `upscale` may take, the default
//! precision, tile size and worker threads. The profiles live as TOML files
//! in `boards/profiles/` and are compiled into the binary.
//!
//! ```
//! let pi4 = edgegan_boards::get("rpi4").unwrap();
//! assert_eq!(pi4.target, "aarch64-unknown-linux-gnu");
//! assert_eq!((pi4.tile, pi4.threads), (128, 4));
//! assert!(edgegan_boards::get("rpi9").is_err());
//! ```

pub mod display;

use serde::{Deserialize, Serialize};

/// Precision a board uses unless the user asks for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BoardPrecision {
    /// 32-bit float.
    F32,
    /// The int8 graph.
    Int8,
    /// Measure on the board and pick (see `edgegan upscale --precision auto`).
    Auto,
}

/// One board profile (`boards/profiles/NAME.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Board {
    /// Profile name (`--board NAME`).
    pub name: String,
    /// What the board is.
    pub description: String,
    /// Rust target triple of its binary.
    pub target: String,
    /// qemu `-cpu` model that emulates its cores (none for the host).
    #[serde(default)]
    pub qemu_cpu: Option<String>,
    /// CPU cores (0: whatever the running machine has).
    pub cores: usize,
    /// Memory of the board in MB (0: not fixed).
    pub memory_mb: usize,
    /// Peak RSS an `upscale` may reach on it, MB (0: no budget).
    pub memory_budget_mb: usize,
    /// Default precision.
    pub precision: BoardPrecision,
    /// Default tile side in input pixels.
    pub tile: usize,
    /// Default worker threads (0: all cores of the running machine).
    pub threads: usize,
    /// Cores have fp16 arithmetic (`asimdhp`).
    pub fp16: bool,
    /// Cores have the int8 dot-product instructions (SDOT/UDOT).
    pub sdot: bool,
}

/// A profile that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    /// No profile has that name.
    #[error("no board named {name:?} (known: {known})")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The known names, comma separated.
        known: String,
    },
    /// A profile file does not parse or breaks a rule.
    #[error("boards/profiles/{file}: {reason}")]
    Invalid {
        /// The file.
        file: String,
        /// What is wrong.
        reason: String,
    },
}

/// The profiles compiled in: (file name, TOML text).
const PROFILES: &[(&str, &str)] = &[
    ("rpi3.toml", include_str!("../profiles/rpi3.toml")),
    ("rpi-zero2.toml", include_str!("../profiles/rpi-zero2.toml")),
    ("rpi4.toml", include_str!("../profiles/rpi4.toml")),
    ("rpi5.toml", include_str!("../profiles/rpi5.toml")),
    ("x86_64.toml", include_str!("../profiles/x86_64.toml")),
];

/// Parse and check one profile; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Board, BoardError> {
    let invalid = |reason: String| BoardError::Invalid {
        file: file.into(),
        reason,
    };
    let board: Board = toml::from_str(text).map_err(|e| invalid(e.message().to_string()))?;
    if board.tile < 8 {
        return Err(invalid(format!("tile {} is under 8 pixels", board.tile)));
    }
    if board.cores > 0 && board.threads > board.cores {
        return Err(invalid(format!(
            "{} threads on {} cores",
            board.threads, board.cores
        )));
    }
    if board.memory_budget_mb > board.memory_mb {
        return Err(invalid(format!(
            "memory budget {} MB exceeds the board's {} MB",
            board.memory_budget_mb, board.memory_mb
        )));
    }
    Ok(board)
}

/// Most profiles the board table holds (a compile-time bound: the profiles
/// are compiled in, so the table never grows at run time).
pub const MAX_BOARDS: usize = 8;
const _: () = assert!(PROFILES.len() <= MAX_BOARDS);

/// The board table: every compiled-in profile, in a fixed order.
pub fn all() -> Result<heapless::Vec<Board, MAX_BOARDS>, BoardError> {
    let mut boards = heapless::Vec::new();
    for (file, text) in PROFILES {
        // cannot fail: PROFILES.len() <= MAX_BOARDS is checked at compile time
        let _ = boards.push(parse(file, text)?);
    }
    Ok(boards)
}

/// The profile called `name`.
pub fn get(name: &str) -> Result<Board, BoardError> {
    let boards = all()?;
    let known = boards
        .iter()
        .map(|b| b.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    boards
        .iter()
        .find(|b| b.name == name)
        .cloned()
        .ok_or(BoardError::Unknown {
            name: name.into(),
            known,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_parses_and_is_named_like_its_file() {
        let boards = all().unwrap();
        assert_eq!(boards.len(), PROFILES.len());
        for (b, (file, _)) in boards.iter().zip(PROFILES) {
            assert_eq!(format!("{}.toml", b.name), *file);
        }
    }

    #[test]
    fn profiles_state_the_boards() {
        let zero = get("rpi-zero2").unwrap();
        assert_eq!((zero.memory_mb, zero.memory_budget_mb), (512, 200));
        assert_eq!(zero.qemu_cpu.as_deref(), Some("cortex-a53"));
        let pi3 = get("rpi3").unwrap();
        assert_eq!(pi3.target, "armv7-unknown-linux-gnueabihf");
        assert_eq!(pi3.precision, BoardPrecision::F32);
        let pi5 = get("rpi5").unwrap();
        assert!(pi5.fp16 && pi5.sdot);
        assert_eq!(pi5.qemu_cpu.as_deref(), Some("cortex-a76"));
        assert_eq!(get("rpi4").unwrap().qemu_cpu.as_deref(), Some("cortex-a72"));
        let host = get("x86_64").unwrap();
        assert_eq!((host.threads, host.qemu_cpu), (0, None));
    }

    #[test]
    fn bad_profiles_are_refused_with_the_file_named() {
        let good = PROFILES[2].1;
        assert!(good.contains("tile = 128") && good.contains("precision = \"f32\""));
        let e = parse("x.toml", &good.replace("threads = 4", "threads = 9")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "boards/profiles/x.toml: 9 threads on 4 cores"
        );
        let e = parse("x.toml", &good.replace("tile = 128", "tile = 4")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "boards/profiles/x.toml: tile 4 is under 8 pixels"
        );
        let e = parse("x.toml", &good.replace("\"f32\"", "\"fp8\"")).unwrap_err();
        assert!(e
            .to_string()
            .starts_with("boards/profiles/x.toml: unknown variant `fp8`"));
        let e = get("rpi9").unwrap_err();
        assert_eq!(
            e.to_string(),
            "no board named \"rpi9\" (known: rpi3, rpi-zero2, rpi4, rpi5, x86_64)"
        );
    }
}
