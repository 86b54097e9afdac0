//! One module per subcommand. Each parses its own arguments (shared groups
//! come from [`crate::args`]), calls the libraries and prints; none imports
//! another.

#[cfg(feature = "train")]
pub mod baseline;
pub mod bench;
pub mod boards;
pub mod eval;
pub mod generate;
pub mod inpaint;
pub mod mask;
#[cfg(feature = "train")]
pub mod quantize;
pub mod show;
#[cfg(feature = "train")]
pub mod train;
pub mod upscale;
