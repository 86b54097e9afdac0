//! Image sets for the DCGAN demo: scikit-learn's 8×8 handwritten digits
//! (`digits.csv.gz`: 64 pixel values 0–16 then the class, one image a line)
//! or a folder of images, resized to `side`×`side`, values in [−1, 1]
//! (the generator's tanh range).

use edgegan_runtime::generate::{self, ImageClassifier};
use edgegan_runtime::io::{read_image, ImageLimits};
use edgegan_runtime::RuntimeError;
use image::imageops::{resize, FilterType};
use image::{GrayImage, Luma};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::error::TrainError;

/// Images of one size and channel count, row-major, `[−1, 1]`.
#[derive(Debug, Clone)]
pub struct ImageSet {
    /// Side of every image, pixels.
    pub side: usize,
    /// Channels per pixel (1: gray, 3: RGB).
    pub channels: usize,
    /// All images, one after the other (CHW each).
    pub pixels: Vec<f32>,
    /// Class of each image, where the source has them (the digits set).
    pub labels: Option<Vec<u8>>,
}

fn config(path: &Path, reason: impl std::fmt::Display) -> TrainError {
    TrainError::Config(format!("{}: {reason}", path.display()))
}

/// Where the digits are: `$EDGEGAN_DIGITS`, else `data/digits/digits.csv.gz`
/// under `root` (`scripts/fetch_digits.py` puts it there), else
/// `shared/data/digits/digits.csv.gz` in `root` or a folder above it.
pub fn locate_digits(root: &Path) -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("EDGEGAN_DIGITS") {
        return Some(p.into());
    }
    std::iter::once(root.join("data/digits/digits.csv.gz"))
        .chain(
            root.ancestors()
                .map(|a| a.join("shared/data/digits/digits.csv.gz")),
        )
        .find(|p| p.is_file())
}

impl ImageSet {
    /// Load `path`: a digits CSV (`.csv` or `.csv.gz`) or a folder of images,
    /// resized to `side` pixels.
    pub fn load(path: &Path, side: usize) -> Result<ImageSet, TrainError> {
        if !(4..=256).contains(&side) {
            return Err(config(
                path,
                format!("image side {side} is outside 4..=256"),
            ));
        }
        let name = path.to_string_lossy();
        if path.is_dir() {
            Self::folder(path, side)
        } else if name.ends_with(".csv.gz") || name.ends_with(".csv") {
            let file = std::fs::File::open(path).map_err(|e| config(path, e))?;
            let reader: Box<dyn Read> = if name.ends_with(".gz") {
                Box::new(flate2::read::GzDecoder::new(file))
            } else {
                Box::new(file)
            };
            Self::digits(BufReader::new(reader), path, side)
        } else {
            Err(config(
                path,
                "neither a folder of images nor a digits .csv(.gz)",
            ))
        }
    }

    /// Parse digits lines (64 values 0–16 and a class 0–9).
    pub fn digits(reader: impl BufRead, path: &Path, side: usize) -> Result<ImageSet, TrainError> {
        let mut set = ImageSet {
            side,
            channels: 1,
            pixels: Vec::new(),
            labels: Some(Vec::new()),
        };
        for (n, line) in reader.lines().enumerate() {
            let line = line.map_err(|e| config(path, e))?;
            if line.trim().is_empty() {
                continue;
            }
            let bad = |what: String| config(path, format!("line {}: {what}", n + 1));
            let values: Vec<u8> = line
                .split(',')
                .map(|v| v.trim().parse::<u8>())
                .collect::<Result<_, _>>()
                .map_err(|e| bad(format!("not a list of small integers ({e})")))?;
            if values.len() != 65 {
                return Err(bad(format!(
                    "{} values, expected 64 pixels and a class",
                    values.len()
                )));
            }
            if values[..64].iter().any(|&v| v > 16) || values[64] > 9 {
                return Err(bad("pixel above 16 or class above 9".into()));
            }
            let img = GrayImage::from_fn(8, 8, |x, y| {
                Luma([(values[(y * 8 + x) as usize] as u32 * 255 / 16) as u8])
            });
            set.push_gray(&img);
            set.labels
                .as_mut()
                .expect("digits have labels")
                .push(values[64]);
        }
        if set.is_empty() {
            return Err(config(path, "no digits in the file"));
        }
        Ok(set)
    }

    fn folder(dir: &Path, side: usize) -> Result<ImageSet, TrainError> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| config(dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| edgegan_runtime::io::output_format(p).is_ok())
            .collect();
        files.sort();
        let mut set = ImageSet {
            side,
            channels: 3,
            pixels: Vec::new(),
            labels: None,
        };
        for f in &files {
            let img = read_image(f, &ImageLimits::input())?.to_rgb8();
            let img = resize(&img, side as u32, side as u32, FilterType::Triangle);
            for c in 0..3 {
                set.pixels
                    .extend(img.pixels().map(|p| p[c] as f32 / 127.5 - 1.0));
            }
        }
        if set.is_empty() {
            return Err(config(dir, "no images in the folder"));
        }
        Ok(set)
    }

    fn push_gray(&mut self, img: &GrayImage) {
        let img = resize(
            img,
            self.side as u32,
            self.side as u32,
            FilterType::Triangle,
        );
        self.pixels
            .extend(img.pixels().map(|p| p[0] as f32 / 127.5 - 1.0));
    }

    /// Values per image.
    pub fn image_len(&self) -> usize {
        self.channels * self.side * self.side
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.pixels.len() / self.image_len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.pixels.is_empty()
    }

    /// Image `i`.
    pub fn image(&self, i: usize) -> &[f32] {
        &self.pixels[i * self.image_len()..][..self.image_len()]
    }

    /// The images at `indices`, as a new set.
    pub fn select(&self, indices: &[usize]) -> ImageSet {
        ImageSet {
            side: self.side,
            channels: self.channels,
            pixels: indices
                .iter()
                .flat_map(|&i| self.image(i))
                .copied()
                .collect(),
            labels: self
                .labels
                .as_ref()
                .map(|l| indices.iter().map(|&i| l[i]).collect()),
        }
    }

    /// Fraction of this labelled set that the runtime classifier `cls` (the
    /// exported `classifier.onnx`) puts in the right class.
    pub fn accuracy_of(&self, cls: &ImageClassifier) -> Result<f64, RuntimeError> {
        let labels = self.labels.as_deref().expect("a labelled set");
        let unit: Vec<f32> = self.pixels.iter().map(|v| (v + 1.0) / 2.0).collect();
        generate::accuracy(cls, &unit, labels, self.channels, self.side)
    }

    /// Split into (training, held out): every `k`-th image is held out.
    pub fn split(&self, k: usize) -> (ImageSet, ImageSet) {
        let (held, train): (Vec<usize>, Vec<usize>) = (0..self.len()).partition(|i| i % k == k - 1);
        (self.select(&train), self.select(&held))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_parse_scale_and_split() {
        let mut text = String::new();
        for class in 0..10u8 {
            let px: Vec<String> = (0..64)
                .map(|i| ((i + class as usize) % 17).to_string())
                .collect();
            text += &format!("{},{class}\n", px.join(","));
        }
        let set = ImageSet::digits(text.as_bytes(), Path::new("d.csv"), 8).unwrap();
        assert_eq!((set.len(), set.channels, set.image_len()), (10, 1, 64));
        // value 0 → −1, 16 → +1 (255/127.5 − 1), 8 → 127/127.5 − 1
        assert_eq!(set.image(0)[0], -1.0);
        assert_eq!(set.image(0)[16], 1.0);
        assert_eq!(set.image(0)[8], 127.0 / 127.5 - 1.0);
        let (train, held) = set.split(5);
        assert_eq!(held.labels.as_deref(), Some(&[4u8, 9][..]));
        assert_eq!(train.len(), 8);
        assert_eq!(
            ImageSet::digits(text.as_bytes(), Path::new("d.csv"), 16)
                .unwrap()
                .image_len(),
            256
        );
    }

    #[test]
    fn bad_digits_name_the_file_and_line() {
        let e = ImageSet::digits("1,2,3\n".as_bytes(), Path::new("d.csv"), 8).unwrap_err();
        assert_eq!(
            e.to_string(),
            "d.csv: line 1: 3 values, expected 64 pixels and a class"
        );
        let e = ImageSet::digits("".as_bytes(), Path::new("d.csv"), 8).unwrap_err();
        assert_eq!(e.to_string(), "d.csv: no digits in the file");
        let e = ImageSet::load(Path::new("x.txt"), 16).unwrap_err();
        assert_eq!(
            e.to_string(),
            "x.txt: neither a folder of images nor a digits .csv(.gz)"
        );
    }
}
