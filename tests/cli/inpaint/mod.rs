//! Inpainting end to end: `edgegan inpaint` (outside the mask bit-identical,
//! bad masks, eval = card, training) and `edgegan mask`.

mod fill;
mod mask;
