//! Latency-vs-input-size plots of `edgegan bench` records (plotters, SVG):
//! one file per model, one line per path (path, precision, threads, tile),
//! both axes logarithmic.

use anyhow::{Context, Result};
use edgegan_runtime::bench::Record;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// Points (input side, p50 ms) of each line, by label.
type Lines = BTreeMap<String, Vec<(f64, f64)>>;

/// The line a record belongs to, e.g. `cpu int8 t2 tile128` or `gpu-resident f32`.
pub fn line_label(r: &Record) -> String {
    if r.threads == 0 {
        format!("{} {}", r.path, r.precision)
    } else {
        format!("{} {} t{} tile{}", r.path, r.precision, r.threads, r.tile)
    }
}

/// Write `DIR/latency-<model>.svg` for each model in `records`.
pub fn write_plots(dir: &Path, records: &[Record]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let mut models: BTreeMap<&str, Lines> = BTreeMap::new();
    for r in records {
        let line = models
            .entry(&r.model)
            .or_default()
            .entry(line_label(r))
            .or_default();
        line.push((r.input[0] as f64, r.p50_ms));
    }
    for (model, lines) in &models {
        let path = dir.join(format!("latency-{model}.svg"));
        plot(&path, model, lines).with_context(|| format!("{}: cannot plot", path.display()))?;
    }
    Ok(())
}

fn plot(path: &Path, model: &str, lines: &Lines) -> Result<()> {
    let pts = lines.values().flatten();
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in pts {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{model}: latency per image vs input side"),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(
            (x0 * 0.9..x1 * 1.1).log_scale(),
            (y0 * 0.8..y1 * 1.25).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("input side (px)")
        .y_desc("p50 latency (ms)")
        .draw()?;
    for (i, (name, pts)) in lines.iter().enumerate() {
        let mut pts = pts.clone();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(2)))?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
