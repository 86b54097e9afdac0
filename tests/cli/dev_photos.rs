//! `edgegan upscale` over a folder of real photos with the exact nearest ×2
//! model: every output is checked pixel by pixel against its input.
//!
//! The folder is `$EDGEGAN_DEV_DATA`, else the first `shared/data/dev` found
//! beside the checkout or above it, else the bundled `examples/`.

use crate::common::*;
use edgegan_runtime::io::{read_image, ImageLimits};
use edgegan_trainer::onnx::classic;
use std::path::{Path, PathBuf};
use std::process::Command;

fn photo_folder() -> PathBuf {
    dev_photos().unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"))
}

#[test]
fn folder_of_photos_upscales_exactly_with_nearest() {
    let folder = photo_folder();
    let inputs = edgegan_runtime::io::image_files(&folder).unwrap();
    assert!(!inputs.is_empty(), "{} holds no photos", folder.display());
    eprintln!("{} photos from {}", inputs.len(), folder.display());
    let (tmp, model) = temp_model("nearest-x2", 2, 0, &classic::nearest(2));
    let out = tmp.path().join("out");
    let o = Command::new(bin())
        .args([
            "upscale",
            "--format",
            "png",
            "--tile",
            "96",
            "--threads",
            "2",
            "--model",
        ])
        .arg(&model)
        .arg(&folder)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("upscaled {n} of {n} file(s)", n = inputs.len())),
        "{stderr}"
    );
    for input in &inputs {
        let rel = input.strip_prefix(&folder).unwrap().with_extension("png");
        let src = read_image(input, &ImageLimits::input())
            .unwrap()
            .to_rgba16();
        let dst = image::open(out.join(&rel)).unwrap().to_rgba16();
        assert_eq!(
            dst.dimensions(),
            (src.width() * 2, src.height() * 2),
            "{}",
            rel.display()
        );
        let channels = if image::open(input).unwrap().color().has_alpha() {
            3
        } else {
            4
        };
        for (x, y, p) in dst.enumerate_pixels() {
            let q = src.get_pixel(x / 2, y / 2);
            assert_eq!(
                &p.0[..channels],
                &q.0[..channels],
                "{} ({x},{y})",
                rel.display()
            );
        }
    }
}
