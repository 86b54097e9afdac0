//! Arguments and settings every command shares: the precision and
//! convolution-path flags, the super-resolution model group that `upscale`
//! and `show` flatten in, board profiles applied to what the command line
//! leaves open (low-level flags first, then the board, then defaults), and
//! small value parsers.

use anyhow::Result;
use clap::{Args, ValueEnum};
use edgegan_boards::{Board, BoardPrecision};
use edgegan_runtime::card::ConvPath;
use edgegan_runtime::inpaint::HoleBin;
use edgegan_runtime::{Model, Precision};

/// Precision requested on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrecisionArg {
    /// 32-bit float graph.
    F32,
    /// Quantized int8 graph (the card must list one).
    Int8,
    /// int8 where the model ships one, its card's quality loss is within its
    /// bound, and it is measured faster than f32 on this machine; else f32.
    Auto,
}

/// How tract lowers f32 convolutions (`--conv-path`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConvPathArg {
    /// Time both on the first tile and keep the faster (machines may differ).
    Auto,
    /// im2col + matrix product.
    Im2col,
    /// tract's direct spatial convolution where it applies.
    Direct,
}

impl From<ConvPathArg> for ConvPath {
    fn from(a: ConvPathArg) -> ConvPath {
        match a {
            ConvPathArg::Auto => ConvPath::Auto,
            ConvPathArg::Im2col => ConvPath::Im2col,
            ConvPathArg::Direct => ConvPath::Direct,
        }
    }
}

impl PrecisionArg {
    /// The precision for commands that do not measure (`auto` means f32).
    pub fn fixed(self) -> Precision {
        match self {
            PrecisionArg::Int8 => Precision::Int8,
            PrecisionArg::F32 | PrecisionArg::Auto => Precision::F32,
        }
    }
}

/// The super-resolution model and how to run it (`upscale`, `show`).
#[derive(Debug, Clone, Default, Args)]
pub struct SrModelArgs {
    /// Model: a directory, models/NAME, or an embedded name (sr-x2, sr-x4);
    /// default: the embedded sr-x2.
    #[arg(short, long, value_name = "NAME|DIR")]
    pub model: Option<String>,
    /// Numeric precision of the model graph [default: the board's, else auto].
    #[arg(long, value_enum)]
    pub precision: Option<PrecisionArg>,
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
    pub conv_path: Option<ConvPathArg>,
}

/// The super-resolution model `args` asks for, with `--conv-path` applied.
pub fn load_sr(args: &SrModelArgs) -> Result<Model> {
    let precision = args.precision.unwrap_or(PrecisionArg::Auto);
    let name = args
        .model
        .as_deref()
        .unwrap_or(crate::models::DEFAULT_MODEL);
    let mut model = load_sr_model(name, precision)?;
    if let Some(path) = args.conv_path {
        model = model.with_conv_path(path.into());
    }
    Ok(model)
}

/// The super-resolution model `arg` names at `precision` (`auto` measures,
/// once per machine and model pair, cached).
pub fn load_sr_model(arg: &str, precision: PrecisionArg) -> Result<Model> {
    let source = crate::models::source(arg)?;
    Ok(match precision {
        PrecisionArg::F32 => source.sr(Precision::F32)?,
        PrecisionArg::Int8 => source.sr(Precision::Int8)?,
        PrecisionArg::Auto => source.sr_auto()?,
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
