//! The end-of-run plot (plotters, SVG): training losses and validation
//! PSNR-Y against steps, one panel each, from a run's validation history.

use plotters::prelude::*;
use std::path::Path;

/// One named line of (step, value) points.
pub type Series<'a> = (&'a str, Vec<(f64, f64)>);

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    series: &[Series<'_>],
) -> Result<(), String> {
    let points = series.iter().flat_map(|(_, p)| p.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in points.filter(|(_, y)| y.is_finite()) {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if x0 > x1 {
        return Ok(());
    }
    let pad = ((y1 - y0) * 0.05).max(1e-6);
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(x0..x1.max(x0 + 1.0), (y0 - pad)..(y1 + pad))
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("step")
        .draw()
        .map_err(|e| e.to_string())?;
    for (i, (name, pts)) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(*name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())
}

/// Write a two-panel SVG: `losses` on the left, `metrics` on the right.
pub fn write_svg(path: &Path, losses: &[Series<'_>], metrics: &[Series<'_>]) -> Result<(), String> {
    let root = SVGBackend::new(path, (1000, 400)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (left, right) = root.split_horizontally(500);
    panel(&left, "training losses", losses)?;
    panel(&right, "validation PSNR-Y (dB)", metrics)?;
    root.present().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn writes_an_svg_with_every_series() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plot.svg");
        let l1: Vec<(f64, f64)> = (0..5)
            .map(|i| (i as f64 * 10.0, 0.1 / (i + 1) as f64))
            .collect();
        let psnr: Vec<(f64, f64)> = (0..5).map(|i| (i as f64 * 10.0, 30.0 + i as f64)).collect();
        super::write_svg(&path, &[("L1", l1)], &[("model", psnr)]).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"));
        for text in [
            "training losses",
            "validation PSNR-Y",
            "L1",
            "model",
            "<polyline",
        ] {
            assert!(svg.contains(text), "{text} missing");
        }
    }
}
