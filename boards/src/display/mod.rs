//! On-board display through [embedded-graphics]: a [`DrawTarget`] for the
//! Linux framebuffer ([`Framebuffer`], RGB565 or XRGB8888), one in memory
//! ([`MemoryTarget`], for tests and PNG output), and the before/after frame
//! that `edgegan show` draws on either ([`draw_split`]).
//!
//! ```
//! use edgegan_boards::display::{draw_split, MemoryTarget, Overlay};
//! use embedded_graphics::prelude::*;
//! use image::{Rgb, RgbImage};
//!
//! let before = RgbImage::from_pixel(8, 6, Rgb([200, 0, 0]));
//! let after = RgbImage::from_pixel(16, 12, Rgb([0, 0, 200]));
//! let mut screen = MemoryTarget::new(Size::new(160, 120));
//! let overlay = Overlay { model: "sr-x2".into(), precision: "f32".into(), latency_ms: 12.5 };
//! draw_split(&mut screen, &before, &after, &overlay).unwrap();
//! let frame = screen.into_image();
//! // left half shows the input, right half the model's output
//! assert_eq!(frame.get_pixel(40, 60), &Rgb([200, 0, 0]));
//! assert_eq!(frame.get_pixel(120, 60), &Rgb([0, 0, 200]));
//! ```
//!
//! [embedded-graphics]: https://docs.rs/embedded-graphics
//! [`DrawTarget`]: embedded_graphics::draw_target::DrawTarget

mod fb;
mod memory;
mod split;

pub use fb::{FbInfo, Framebuffer, PixelFormat};
pub use memory::MemoryTarget;
pub use split::{draw_split, Overlay};

/// `p` as pixel coordinates, if it lies on a display of `size` (draw targets
/// skip pixels outside, as embedded-graphics expects).
fn on_screen(
    p: embedded_graphics::prelude::Point,
    size: embedded_graphics::prelude::Size,
) -> Option<(u32, u32)> {
    let (x, y) = (u32::try_from(p.x).ok()?, u32::try_from(p.y).ok()?);
    (x < size.width && y < size.height).then_some((x, y))
}

/// A display that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DisplayError {
    /// Reading the framebuffer's description or writing its pixels failed.
    #[error("{path}: {source}")]
    Io {
        /// The device or sysfs file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The framebuffer has a layout this module does not draw.
    #[error("{path}: {reason}")]
    Unsupported {
        /// The device or sysfs file.
        path: String,
        /// What is not supported.
        reason: String,
    },
}
