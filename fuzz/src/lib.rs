//! # edgegan-fuzz
//!
//! One function per loader that takes bytes from outside, each going through
//! the public API the CLI uses. A target returns normally for every input:
//! an `Err` is the expected answer to bad bytes; a panic, an abort, a hang or
//! an allocation past the limits is a finding. [`TARGETS`] lists them for
//! the replay test and the AFL++ harness.
//!
//! ```
//! // A truncated PNG header is an error, not a crash.
//! edgegan_fuzz::image(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
//! edgegan_fuzz::board(b"name = 3");
//! ```

mod checkpoint;
pub mod mutation;

pub use checkpoint::{
    checkpoint, loads as checkpoint_loads, seed as checkpoint_seed, FILES as CHECKPOINT_FILES,
};

use edgegan_runtime::card::{ModelCard, Precision};
use edgegan_runtime::generate::Sampler;
use edgegan_runtime::inpaint::{Inpainter, Mask};
use edgegan_runtime::io::{read_image, ImageLimits};
use edgegan_runtime::Model;
use std::io::Cursor;
use std::path::{Path, PathBuf};

/// A fuzz target: any bytes in, no panic out.
pub type Target = fn(&[u8]);

/// Every target by name (the corpus folder under `fuzz/corpus/`).
pub const TARGETS: &[(&str, Target)] = &[
    ("image", image),
    ("mask", mask),
    ("card", card),
    ("model", model),
    ("board", board),
    ("cache", cache),
    ("checkpoint", checkpoint),
];

/// A per-process scratch folder `name`, on tmpfs where there is one.
fn scratch(name: &str) -> PathBuf {
    let base = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base
        .join(format!("edgegan-fuzz-{}", std::process::id()))
        .join(name);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// `data` as a file of its own (the loaders read paths, as the CLI does).
fn as_file(data: &[u8]) -> PathBuf {
    let path = scratch("input").join("input");
    std::fs::write(&path, data).expect("scratch file");
    path
}

/// Image reading with the CLI's limits (any format, EXIF orientation,
/// 16-bit); a decoded image must encode to PNG and decode back the same.
pub fn image(data: &[u8]) {
    let path = as_file(data);
    let Ok(img) = read_image(&path, &ImageLimits::input()) else {
        return;
    };
    let mut png = Vec::new();
    img.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("a decoded image encodes");
    let back = image::load_from_memory(&png).expect("the PNG written decodes");
    assert_eq!((back.width(), back.height()), (img.width(), img.height()));
}

/// Mask reading: a user mask for a 64×64 image and, where it decodes, for
/// an image of its own size.
pub fn mask(data: &[u8]) {
    let path = as_file(data);
    let _ = Mask::load(&path, (64, 64));
    if let Ok(size) = image::image_dimensions(&path) {
        if let Ok(m) = Mask::load(&path, size) {
            assert!(m.hole_ratio() > 0.0 && m.hole_ratio() < 1.0);
        }
    }
}

/// A model card (`card.toml`).
pub fn card(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(card) = ModelCard::parse(text, Path::new("fuzz/card.toml")) {
        // What parses must print and parse back to the same card.
        let again = ModelCard::parse(&card.to_toml(), Path::new("fuzz/card.toml"))
            .expect("a card's own TOML parses");
        assert_eq!(again, card);
    }
}

/// A model: card text, a NUL byte, then ONNX bytes, loaded by the loader
/// of the card's task without the checksum check (a file can match its
/// card's sha256 and still be hostile).
pub fn model(data: &[u8]) {
    let Some(split) = data.iter().position(|&b| b == 0) else {
        return;
    };
    let (text, onnx) = (&data[..split], &data[split + 1..]);
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let Ok(card) = ModelCard::parse(text, Path::new("fuzz/card.toml")) else {
        return;
    };
    let path = PathBuf::from("fuzz/model.onnx");
    if let Ok(m) = Model::from_bytes(card.clone(), Precision::F32, path.clone(), onnx) {
        let _ = m.plan(16, 16);
    }
    let _ = Inpainter::from_bytes(card.clone(), Precision::F32, path.clone(), onnx);
    let _ = Sampler::from_bytes(card, path, onnx);
}

/// A board profile (`boards/profiles/*.toml`).
pub fn board(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = edgegan_boards::parse("fuzz.toml", text);
    }
}

/// The precision cache (`~/.cache/edgegan/precision.toml`) as `--precision
/// auto` reads it.
pub fn cache(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let table = edgegan_runtime::sr::read_precision_cache(&text);
    for v in table.values() {
        let _ = v.as_str();
    }
}
