//! The engine every task runs on (crate-private): loading and checking
//! graphs and building tract plans ([`plan`]), the receptive-field analysis
//! that tiling halos rest on ([`graph`]), the tile layout ([`tiling`]),
//! the thread pool of one image ([`threads`]), the per-shape cache
//! ([`slots`]) and precision `auto`'s measured choice ([`choice`]).

pub(crate) mod choice;
pub(crate) mod gate;
pub(crate) mod graph;
pub(crate) mod pattern;
pub(crate) mod plan;
pub(crate) mod qconv;
pub(crate) mod shuffle;
pub(crate) mod slots;
pub(crate) mod threads;
pub(crate) mod tiling;
