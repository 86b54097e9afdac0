//! `edgegan boards list|show NAME`, `upscale --board NAME` and `inpaint
//! --board NAME`: board profiles from the `edgegan-boards` crate, shown and
//! applied to the CLI's settings.

use anyhow::Result;
use clap::Subcommand;
use std::process::ExitCode;

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
