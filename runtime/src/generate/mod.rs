//! Generation from noise (card task `generation`, the DCGAN demo): the
//! [`Sampler`] and the card's judging protocol (digit classifier, coverage,
//! entropy: [`report`]).

mod eval;
mod sampler;

pub use eval::*;
pub use sampler::*;
