//! An in-memory RGB888 draw target: what tests compare against golden images
//! and what `edgegan show -o FILE` saves.

use embedded_graphics::pixelcolor::Rgb888;
use embedded_graphics::prelude::*;
use image::{Rgb, RgbImage};
use std::convert::Infallible;

/// A display kept in memory as an [`RgbImage`].
#[derive(Debug, Clone)]
pub struct MemoryTarget {
    image: RgbImage,
}

impl MemoryTarget {
    /// A black display of `size`.
    pub fn new(size: Size) -> MemoryTarget {
        MemoryTarget {
            image: RgbImage::new(size.width, size.height),
        }
    }

    /// The pixels drawn so far.
    pub fn image(&self) -> &RgbImage {
        &self.image
    }

    /// The pixels drawn, as an image.
    pub fn into_image(self) -> RgbImage {
        self.image
    }
}

impl OriginDimensions for MemoryTarget {
    fn size(&self) -> Size {
        Size::new(self.image.width(), self.image.height())
    }
}

impl DrawTarget for MemoryTarget {
    type Color = Rgb888;
    type Error = Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Infallible>
    where
        I: IntoIterator<Item = Pixel<Rgb888>>,
    {
        let size = self.size();
        for Pixel(p, c) in pixels {
            if let Some((x, y)) = super::on_screen(p, size) {
                self.image.put_pixel(x, y, Rgb([c.r(), c.g(), c.b()]));
            }
        }
        Ok(())
    }
}
