//! `edgegan boards list|show NAME`, `upscale --board NAME` and `inpaint
//! --board NAME`: board profiles from the `edgegan-boards` crate, shown and
//! applied to the CLI's settings.

use anyhow::Result;
use clap::Subcommand;
use edgegan_boards::{Board, BoardPrecision};
use std::process::ExitCode;

use crate::upscale::{PrecisionArg, UpscaleArgs};

/// `edgegan boards ...`
#[derive(Debug, Subcommand)]
pub enum BoardsCommand {
    /// One line per known board.
    List,
    /// A board's whole profile (TOML).
    Show {
        /// Board name (see `edgegan boards list`).
        name: String,
    },
}

/// Run `edgegan boards`.
pub fn run(cmd: BoardsCommand) -> Result<ExitCode> {
    match cmd {
        BoardsCommand::List => {
            for b in edgegan_boards::all()? {
                println!("{:<10} {:<30} {}", b.name, b.target, b.description);
            }
        }
        BoardsCommand::Show { name } => {
            print!("{}", toml::to_string(&edgegan_boards::get(&name)?)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Fill the settings `args` leaves open from `board` (0 threads: all cores).
pub fn apply(board: &Board, args: &mut UpscaleArgs) {
    apply_common(board, &mut args.precision, &mut args.threads);
    args.tile.get_or_insert(board.tile as u32);
    tracing::info!(
        "board {}: precision {:?}, tile {:?}, threads {:?}",
        board.name,
        args.precision,
        args.tile,
        args.threads
    );
}

/// Fill the precision and threads `edgegan inpaint` leaves open from
/// `board` (an inpainting model has no tiles).
pub fn apply_inpaint(
    board: &Board,
    precision: &mut Option<PrecisionArg>,
    threads: &mut Option<u32>,
) {
    apply_common(board, precision, threads);
    tracing::info!(
        "board {}: precision {:?}, threads {:?}",
        board.name,
        precision,
        threads
    );
}

fn apply_common(board: &Board, precision: &mut Option<PrecisionArg>, threads: &mut Option<u32>) {
    precision.get_or_insert(match board.precision {
        BoardPrecision::F32 => PrecisionArg::F32,
        BoardPrecision::Int8 => PrecisionArg::Int8,
        BoardPrecision::Auto => PrecisionArg::Auto,
    });
    if board.threads > 0 {
        threads.get_or_insert(board.threads as u32);
    }
}
