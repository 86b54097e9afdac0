//! The before/after frame of `edgegan show`: the input (enlarged by pixel
//! repetition) on the left half, the model's output on the right half, a
//! divider, labels, and a status bar naming model, precision and latency.

use embedded_graphics::mono_font::ascii::{FONT_10X20, FONT_6X10};
use embedded_graphics::mono_font::{MonoFont, MonoTextStyle, MonoTextStyleBuilder};
use embedded_graphics::pixelcolor::Rgb888;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{PrimitiveStyle, Rectangle};
use embedded_graphics::text::{Alignment, Baseline, Text, TextStyleBuilder};
use image::RgbImage;

/// What the status bar says.
#[derive(Debug, Clone, PartialEq)]
pub struct Overlay {
    /// Model name.
    pub model: String,
    /// Precision it ran at.
    pub precision: String,
    /// Time of the run, milliseconds.
    pub latency_ms: f64,
}

/// Bar and label colours.
const BAR: Rgb888 = Rgb888::new(32, 32, 32);
const DIVIDER: Rgb888 = Rgb888::WHITE;

/// Draw `before` (the input) and `after` (the model's output) side by side in
/// one picture on `target`: the picture is `after` fitted to the display
/// above the status bar, its left half sampled from `before` and its right
/// half from `after`, so the seam shows the same scene before and after.
pub fn draw_split<D>(
    target: &mut D,
    before: &RgbImage,
    after: &RgbImage,
    overlay: &Overlay,
) -> Result<(), D::Error>
where
    D: DrawTarget<Color = Rgb888>,
{
    let screen = target.bounding_box();
    let font: &MonoFont = if screen.size.height >= 480 {
        &FONT_10X20
    } else {
        &FONT_6X10
    };
    let bar_h = font.character_size.height + 4;
    target.clear(Rgb888::BLACK)?;

    // The picture: `after`'s aspect, as large as fits above the bar.
    let area = Size::new(screen.size.width, screen.size.height.saturating_sub(bar_h));
    let picture = fit(after.dimensions(), area);
    let (pw, ph) = (picture.size.width, picture.size.height);
    if pw > 0 && ph > 0 {
        let half = pw / 2;
        let pixels = (0..ph).flat_map(|y| {
            (0..pw).map(move |x| {
                let src = if x < half { before } else { after };
                let sx = ((2 * x + 1) as u64 * src.width() as u64 / (2 * pw as u64)) as u32;
                let sy = ((2 * y + 1) as u64 * src.height() as u64 / (2 * ph as u64)) as u32;
                let p = src.get_pixel(sx, sy).0;
                Rgb888::new(p[0], p[1], p[2])
            })
        });
        target.fill_contiguous(&picture, pixels)?;
        let seam = picture.top_left + Point::new(half as i32 - 1, 0);
        Rectangle::new(seam, Size::new(2, ph))
            .into_styled(PrimitiveStyle::with_fill(DIVIDER))
            .draw(target)?;
        let label = MonoTextStyleBuilder::new()
            .font(font)
            .text_color(Rgb888::WHITE)
            .background_color(Rgb888::BLACK)
            .build();
        let inset = Point::new(4, 4);
        label_at(
            target,
            "BEFORE",
            picture.top_left + inset,
            label,
            Alignment::Left,
        )?;
        let right = picture.top_left + Point::new(pw as i32 - 4, 4);
        label_at(target, "AFTER", right, label, Alignment::Right)?;
    }

    // The status bar.
    let bar = Rectangle::new(
        Point::new(0, screen.size.height as i32 - bar_h as i32),
        Size::new(screen.size.width, bar_h),
    );
    bar.into_styled(PrimitiveStyle::with_fill(BAR))
        .draw(target)?;
    let status = format!(
        "{} | {} | {:.1} ms | {}x{} -> {}x{}",
        overlay.model,
        overlay.precision,
        overlay.latency_ms,
        before.width(),
        before.height(),
        after.width(),
        after.height()
    );
    let text = MonoTextStyle::new(font, Rgb888::WHITE);
    label_at(
        target,
        &status,
        bar.top_left + Point::new(4, 2),
        text,
        Alignment::Left,
    )?;
    Ok(())
}

/// The largest rectangle of aspect `w`×`h` that fits `area`, centred in it.
fn fit((w, h): (u32, u32), area: Size) -> Rectangle {
    if w == 0 || h == 0 {
        return Rectangle::zero();
    }
    // compare w/h with area.w/area.h in integers
    let (pw, ph) = if w as u64 * area.height as u64 >= h as u64 * area.width as u64 {
        (area.width, (h as u64 * area.width as u64 / w as u64) as u32)
    } else {
        (
            (w as u64 * area.height as u64 / h as u64) as u32,
            area.height,
        )
    };
    let top_left = Point::new(
        ((area.width - pw) / 2) as i32,
        ((area.height - ph) / 2) as i32,
    );
    Rectangle::new(top_left, Size::new(pw, ph))
}

fn label_at<D>(
    target: &mut D,
    text: &str,
    at: Point,
    style: MonoTextStyle<'_, Rgb888>,
    alignment: Alignment,
) -> Result<(), D::Error>
where
    D: DrawTarget<Color = Rgb888>,
{
    let layout = TextStyleBuilder::new()
        .alignment(alignment)
        .baseline(Baseline::Top)
        .build();
    Text::with_text_style(text, at, style, layout).draw(target)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_keeps_aspect_and_centres() {
        let r = fit((200, 100), Size::new(320, 230));
        assert_eq!(
            (r.top_left, r.size),
            (Point::new(0, 35), Size::new(320, 160))
        );
        let r = fit((100, 200), Size::new(320, 230));
        assert_eq!(
            (r.top_left, r.size),
            (Point::new(102, 0), Size::new(115, 230))
        );
        assert_eq!(fit((0, 5), Size::new(10, 10)), Rectangle::zero());
    }
}
