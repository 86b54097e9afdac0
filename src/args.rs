//! Arguments and settings every command shares: the precision and
//! convolution-path flags (the runtime's enums, parsed by clap), the super-resolution model group that `upscale`
//! and `show` flatten in, board profiles applied to what the command line
//! leaves open (low-level flags first, then the board, then defaults), and
//! small value parsers.

use anyhow::Result;
use clap::Args;
use edgegan_boards::{Board, BoardPrecision};
pub use edgegan_runtime::card::{ConvPath, PrecisionChoice};
use edgegan_runtime::inpaint::HoleBin;
use edgegan_runtime::{Model, Precision};

/// The super-resolution model and how to run it (`upscale`, `show`).
#[derive(Debug, Clone, Default, Args)]
pub struct SrModelArgs {
    /// Model: a directory, models/NAME, or an embedded name (sr-x2, sr-x4);
    /// default: the embedded sr-x2.
    #[arg(short, long, value_name = "NAME|DIR")]
    pub model: Option<String>,
    /// Numeric precision of the model graph [default: the board's, else auto].
    #[arg(long, value_enum)]
    pub precision: Option<PrecisionChoice>,
    /// Apply a board profile (`edgegan boards list`): its precision, tile and
    /// threads, unless given here.
    #[arg(long, value_name = "NAME")]
    pub board: Option<String>,
    /// Tile size in input pixels (halo excluded); default: the board's, else the card's.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(8..=4096))]
    pub tile: Option<u32>,
    /// Worker threads running tiles in parallel; default: the board's, else all cores.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub threads: Option<u32>,
    /// Convolution lowering [default: the card's, `auto` for shipped models].
    /// Fix it to compare outputs bit for bit across machines.
    #[arg(long, value_enum)]
    pub conv_path: Option<ConvPath>,
}

/// The super-resolution model `args` asks for, with `--conv-path` applied.
pub fn load_sr(args: &SrModelArgs) -> Result<Model> {
    let precision = args.precision.unwrap_or(PrecisionChoice::Auto);
    let name = args
        .model
        .as_deref()
        .unwrap_or(crate::models::DEFAULT_MODEL);
    let mut model = load_sr_model(name, precision)?;
    if let Some(path) = args.conv_path {
        model = model.with_conv_path(path);
    }
    Ok(model)
}

/// The super-resolution model `arg` names at `precision` (`auto` measures,
/// once per machine and model pair, cached).
pub fn load_sr_model(arg: &str, precision: PrecisionChoice) -> Result<Model> {
    let source = crate::models::source(arg)?;
    Ok(match precision {
        PrecisionChoice::F32 => source.sr(Precision::F32)?,
        PrecisionChoice::Int8 => source.sr(Precision::Int8)?,
        PrecisionChoice::Auto => source.sr_auto()?,
    })
}

/// `--threads`, defaulting to every core.
pub fn default_threads(arg: Option<u32>) -> usize {
    arg.map_or_else(edgegan_runtime::sr::available_threads, |t| t as usize)
}

/// Fill the settings `args` leaves open from `board` (0 threads: all cores).
pub fn apply_board(board: &Board, args: &mut SrModelArgs) {
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
    precision: &mut Option<PrecisionChoice>,
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

fn apply_common(board: &Board, precision: &mut Option<PrecisionChoice>, threads: &mut Option<u32>) {
    precision.get_or_insert(match board.precision {
        BoardPrecision::F32 => PrecisionChoice::F32,
        BoardPrecision::Int8 => PrecisionChoice::Int8,
        BoardPrecision::Auto => PrecisionChoice::Auto,
    });
    if board.threads > 0 {
        threads.get_or_insert(board.threads as u32);
    }
}

/// `"1280x720"` as (width, height).
pub(crate) fn parse_wxh(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("{s:?} is not WIDTHxHEIGHT (e.g. 1280x720)");
    let (w, h) = s.split_once('x').ok_or_else(bad)?;
    Ok((w.parse().map_err(|_| bad())?, h.parse().map_err(|_| bad())?))
}

/// `"20-30"` (or `"20"`) as a bin.
pub(crate) fn parse_bin(s: &str) -> Result<HoleBin, String> {
    let lo = s.split_once('-').map_or(s, |(lo, _)| lo);
    match lo.parse::<u32>() {
        Ok(lo)
            if lo.is_multiple_of(10)
                && lo <= 40
                && (s == lo.to_string() || s == format!("{lo}-{}", lo + 10)) =>
        {
            Ok(HoleBin::new(lo))
        }
        _ => Err(format!(
            "{s:?}: expected one of 0-10, 10-20, 20-30, 30-40, 40-50"
        )),
    }
}
