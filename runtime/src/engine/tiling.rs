//! Tile layout: how an image is cut into fixed-shape windows so that the
//! stitched output equals the whole-image output.
//!
//! Each axis is cut into *cores* of `tile` input pixels. A core is computed
//! inside a *window* of `min(tile + 2·halo, len)` pixels that contains it with
//! at least `halo` pixels of real image on every side that is not the image
//! border. Windows never extend past the image: edge windows are shifted
//! inwards instead of padded, so every window has the same shape (one tract
//! plan) and the pixels next to the image border see exactly the model's own
//! border handling, as in a whole-image run. Padding a short edge tile would
//! not give that: the padded zeros pass through the first layers' biases and
//! activations, which a whole-image run never does.

/// One core and its window along one axis (input pixels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// First pixel of the core.
    pub core_start: usize,
    /// Pixels in the core.
    pub core_len: usize,
    /// First pixel of the window.
    pub window_start: usize,
    /// Pixels in the window (the same for every span of an axis).
    pub window_len: usize,
}

/// Cut an axis of `len` pixels into cores of `tile` with windows of halo `halo`.
pub fn axis_spans(len: usize, tile: usize, halo: usize) -> Vec<Span> {
    assert!(tile > 0, "tile must be positive");
    let window_len = (tile + 2 * halo).min(len);
    (0..len.div_ceil(tile))
        .map(|k| {
            let core_start = k * tile;
            let core_len = tile.min(len - core_start);
            let window_start = core_start.saturating_sub(halo).min(len - window_len);
            Span {
                core_start,
                core_len,
                window_start,
                window_len,
            }
        })
        .collect()
}

/// A 2-D tile: a core and the window that computes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tile {
    /// Span along x (columns).
    pub x: Span,
    /// Span along y (rows).
    pub y: Span,
    /// Index of the row band (all tiles of a band write the same output rows).
    pub band: usize,
}

/// The full layout of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Tiles in row-major order.
    pub tiles: Vec<Tile>,
    /// Window shape `(height, width)` shared by every tile.
    pub window: (usize, usize),
    /// Row spans, one per band.
    pub bands: Vec<Span>,
}

impl Layout {
    /// Layout for an image of `width`×`height` input pixels.
    pub fn new(width: usize, height: usize, tile: usize, halo: usize) -> Layout {
        let xs = axis_spans(width, tile, halo);
        let ys = axis_spans(height, tile, halo);
        let tiles = ys
            .iter()
            .enumerate()
            .flat_map(|(band, &y)| xs.iter().map(move |&x| Tile { x, y, band }))
            .collect();
        Layout {
            tiles,
            window: (ys[0].window_len, xs[0].window_len),
            bands: ys,
        }
    }
}

#[cfg(test)]
mod tests {
    /// The example the module documentation used to show.
    #[test]
    fn module_example() {
        use super::axis_spans;
        let spans = axis_spans(300, 128, 4);
        assert_eq!(spans.len(), 3);
        // the last window is shifted to end at the image border
        assert_eq!(spans[2].window_start + spans[2].window_len, 300);
        assert!(spans.iter().all(|s| s.window_len == 136));
    }

    use super::*;

    #[test]
    fn spans_cover_axis_once_with_halo() {
        for len in [1, 5, 17, 128, 129, 300, 1001] {
            for tile in [1, 7, 32, 128, 500] {
                for halo in [0, 1, 3, 9] {
                    let spans = axis_spans(len, tile, halo);
                    let mut next = 0;
                    for s in &spans {
                        assert_eq!(s.core_start, next);
                        next += s.core_len;
                        assert!(s.window_start <= s.core_start);
                        assert!(s.core_start + s.core_len <= s.window_start + s.window_len);
                        assert!(s.window_start + s.window_len <= len);
                        // halo on every side that is not the image border
                        if s.window_start > 0 {
                            assert!(s.core_start - s.window_start >= halo);
                        }
                        let (we, ce) = (s.window_start + s.window_len, s.core_start + s.core_len);
                        if we < len {
                            assert!(we - ce >= halo);
                        }
                        assert_eq!(s.window_len, spans[0].window_len);
                    }
                    assert_eq!(next, len);
                }
            }
        }
    }

    #[test]
    fn small_image_is_one_window() {
        let l = Layout::new(5, 3, 128, 4);
        assert_eq!(l.tiles.len(), 1);
        assert_eq!(l.window, (3, 5));
    }
}
