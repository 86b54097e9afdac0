//! The Linux framebuffer (`/dev/fb0`) as an embedded-graphics draw target.
//!
//! The layout comes from sysfs (`/sys/class/graphics/fbN/{virtual_size,
//! bits_per_pixel,stride}`), so no ioctl or `unsafe` is needed. Drawing goes
//! to a frame in memory in the device's own pixel format; [`Framebuffer::flush`]
//! writes the whole frame to the device in one `pwrite`, so a half-drawn
//! frame is never shown.
//!
//! ```
//! use edgegan_boards::display::{FbInfo, Framebuffer, PixelFormat};
//! use embedded_graphics::{pixelcolor::Rgb888, prelude::*};
//!
//! let info = FbInfo { width: 4, height: 2, stride: 8, format: PixelFormat::Rgb565 };
//! let mut fb = Framebuffer::with_info("/dev/null", info);
//! Pixel(Point::new(1, 0), Rgb888::new(255, 0, 0)).draw(&mut fb).unwrap();
//! assert_eq!(&fb.frame()[2..4], &0xf800u16.to_le_bytes()); // pure red in RGB565
//! ```

use super::DisplayError;
use embedded_graphics::pixelcolor::raw::RawU16;
use embedded_graphics::pixelcolor::{Rgb565, Rgb888};
use embedded_graphics::prelude::*;
use image::{Rgb, RgbImage};
use std::convert::Infallible;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Pixel layouts drawn by [`Framebuffer`] (little-endian, as on the Pi).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    /// 16 bits: 5 red, 6 green, 5 blue.
    Rgb565,
    /// 32 bits: bytes blue, green, red, unused.
    Xrgb8888,
}

impl PixelFormat {
    /// Bytes per pixel.
    pub fn bytes(self) -> usize {
        match self {
            PixelFormat::Rgb565 => 2,
            PixelFormat::Xrgb8888 => 4,
        }
    }

    fn encode(self, c: Rgb888, dst: &mut [u8]) {
        match self {
            PixelFormat::Rgb565 => {
                dst.copy_from_slice(&Rgb565::from(c).into_storage().to_le_bytes())
            }
            PixelFormat::Xrgb8888 => dst.copy_from_slice(&[c.b(), c.g(), c.r(), 0]),
        }
    }

    fn decode(self, src: &[u8]) -> Rgb888 {
        match self {
            PixelFormat::Rgb565 => {
                let raw = u16::from_le_bytes([src[0], src[1]]);
                Rgb888::from(Rgb565::from(RawU16::new(raw)))
            }
            PixelFormat::Xrgb8888 => Rgb888::new(src[2], src[1], src[0]),
        }
    }
}

/// Size and layout of a framebuffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FbInfo {
    /// Visible width in pixels.
    pub width: u32,
    /// Visible height in pixels.
    pub height: u32,
    /// Bytes from one row to the next.
    pub stride: usize,
    /// Pixel layout.
    pub format: PixelFormat,
}

impl FbInfo {
    /// Read the layout of a framebuffer from its sysfs folder
    /// (e.g. `/sys/class/graphics/fb0`).
    pub fn from_sysfs(dir: &Path) -> Result<FbInfo, DisplayError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path)
                .map(|s| (s.trim().to_string(), path.display().to_string()))
                .map_err(|source| DisplayError::Io {
                    path: path.display().to_string(),
                    source,
                })
        };
        let bad = |path: &str, reason: String| DisplayError::Unsupported {
            path: path.into(),
            reason,
        };
        let (size, size_path) = read("virtual_size")?;
        let (width, height) = size
            .split_once(',')
            .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
            .ok_or_else(|| bad(&size_path, format!("size {size:?} is not WIDTH,HEIGHT")))?;
        let (bpp, bpp_path) = read("bits_per_pixel")?;
        let format = match bpp.as_str() {
            "16" => PixelFormat::Rgb565,
            "32" => PixelFormat::Xrgb8888,
            _ => {
                return Err(bad(
                    &bpp_path,
                    format!("{bpp} bits per pixel (drawn: 16, 32)"),
                ))
            }
        };
        let (stride, stride_path) = read("stride")?;
        let stride: usize = stride
            .parse()
            .map_err(|_| bad(&stride_path, format!("stride {stride:?} is not a number")))?;
        if stride < width as usize * format.bytes() {
            return Err(bad(
                &stride_path,
                format!("stride {stride} is under one row"),
            ));
        }
        Ok(FbInfo {
            width,
            height,
            stride,
            format,
        })
    }

    /// Bytes in one whole frame.
    pub fn frame_len(&self) -> usize {
        self.stride * self.height as usize
    }

    /// The pixels of a frame in this layout, as an image.
    pub fn decode(&self, frame: &[u8]) -> RgbImage {
        let bpp = self.format.bytes();
        RgbImage::from_fn(self.width, self.height, |x, y| {
            let at = y as usize * self.stride + x as usize * bpp;
            let c = self.format.decode(&frame[at..at + bpp]);
            Rgb([c.r(), c.g(), c.b()])
        })
    }
}

/// A framebuffer device drawn through embedded-graphics.
#[derive(Debug)]
pub struct Framebuffer {
    device: PathBuf,
    info: FbInfo,
    frame: Vec<u8>,
}

impl Framebuffer {
    /// Open `/dev/fbN`, reading its layout from `/sys/class/graphics/fbN`.
    pub fn open(device: &Path) -> Result<Framebuffer, DisplayError> {
        let name = device.file_name().unwrap_or_default();
        let info = FbInfo::from_sysfs(&Path::new("/sys/class/graphics").join(name))?;
        // fail now, not after the frame is drawn
        std::fs::OpenOptions::new()
            .write(true)
            .open(device)
            .map_err(|source| DisplayError::Io {
                path: device.display().to_string(),
                source,
            })?;
        Ok(Framebuffer::with_info(device, info))
    }

    /// A framebuffer at `device` with a known layout (the frame starts black).
    pub fn with_info(device: impl Into<PathBuf>, info: FbInfo) -> Framebuffer {
        Framebuffer {
            device: device.into(),
            frame: vec![0; info.frame_len()],
            info,
        }
    }

    /// The layout.
    pub fn info(&self) -> FbInfo {
        self.info
    }

    /// The frame drawn so far, in the device's layout.
    pub fn frame(&self) -> &[u8] {
        &self.frame
    }

    /// Show the frame: write it to the device in one call. The device must
    /// exist (a regular file at its path is written too, as tests do).
    pub fn flush(&self) -> Result<(), DisplayError> {
        let io = |source| DisplayError::Io {
            path: self.device.display().to_string(),
            source,
        };
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&self.device)
            .map_err(io)?;
        file.write_all_at(&self.frame, 0).map_err(io)
    }
}

impl OriginDimensions for Framebuffer {
    fn size(&self) -> Size {
        Size::new(self.info.width, self.info.height)
    }
}

impl DrawTarget for Framebuffer {
    type Color = Rgb888;
    type Error = Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Infallible>
    where
        I: IntoIterator<Item = Pixel<Rgb888>>,
    {
        let bpp = self.info.format.bytes();
        for Pixel(p, c) in pixels {
            if let Some((x, y)) = super::on_screen(p, self.size()) {
                let at = y as usize * self.info.stride + x as usize * bpp;
                self.info.format.encode(c, &mut self.frame[at..at + bpp]);
            }
        }
        Ok(())
    }
}
