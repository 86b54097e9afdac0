//! Reading and writing images: format sniffing, decompression-bomb limits,
//! EXIF orientation, truncation checks, and encoding by file extension.

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::error::{Result, RuntimeError};

/// Extensions of the formats this runtime decodes.
pub const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "webp"];

/// Whether `path` has an image extension (case-insensitive).
pub fn is_image_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Every image file under `dir`, recursively, in sorted order.
pub fn image_files(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| RuntimeError::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    let mut files = Vec::new();
    for p in entries {
        if p.is_dir() {
            files.extend(image_files(&p)?);
        } else if is_image_path(&p) {
            files.push(p);
        }
    }
    Ok(files)
}

/// Size limits for decoded inputs and produced outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Largest width or height accepted.
    pub max_side: u64,
    /// Largest pixel count accepted.
    pub max_pixels: u64,
}

impl Default for ImageLimits {
    /// 65 535 px per side (the PNG/JPEG-friendly bound) and 400 megapixels.
    fn default() -> Self {
        ImageLimits {
            max_side: 65_535,
            max_pixels: 400_000_000,
        }
    }
}

impl ImageLimits {
    /// Limits for decoding inputs: 32 768 px per side, 120 megapixels.
    pub fn input() -> Self {
        ImageLimits {
            max_side: 32_768,
            max_pixels: 120_000_000,
        }
    }

    /// Fail with [`RuntimeError::TooLarge`] when `width`×`height` is over the limits.
    pub fn check(&self, path: &Path, what: &'static str, width: u64, height: u64) -> Result<()> {
        if width > self.max_side || height > self.max_side || width * height > self.max_pixels {
            return Err(RuntimeError::TooLarge {
                path: path.into(),
                what,
                width,
                height,
                limit: self.max_side,
                max_pixels: self.max_pixels,
            });
        }
        Ok(())
    }
}

fn decode_err(path: &Path, reason: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::Decode {
        path: path.into(),
        reason: crate::error::flat(reason),
    }
}

/// Decode an image file, applying EXIF orientation, within `limits`.
///
/// Refuses files that are not images, truncated JPEG/PNG streams, empty
/// images and images larger than `limits` (checked from the header, before
/// any pixel buffer is allocated).
pub fn read_image(path: &Path, limits: &ImageLimits) -> Result<DynamicImage> {
    let file = std::fs::File::open(path).map_err(|e| RuntimeError::io(path, e))?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(decode_err(path, "is a directory"));
    }
    let mut reader = ImageReader::new(BufReader::new(file))
        .with_guessed_format()
        .map_err(|e| RuntimeError::io(path, e))?;
    let format = reader
        .format()
        .ok_or_else(|| decode_err(path, "unknown image format"))?;
    if format == ImageFormat::Jpeg {
        check_jpeg_complete(path)?;
    }
    // Header first, without limits, so an oversized image is reported with its
    // size; then the decoder's own allocation limit guards the decode itself.
    reader.no_limits();
    let mut decoder = reader.into_decoder().map_err(|e| decode_err(path, e))?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(RuntimeError::EmptyImage {
            path: path.into(),
            width: w,
            height: h,
        });
    }
    limits.check(path, "input", w as u64, h as u64)?;
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_alloc = Some(limits.max_pixels * 8);
    decoder
        .set_limits(decoder_limits)
        .map_err(|e| decode_err(path, e))?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| decode_err(path, e))?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// A JPEG stream must end with an EOI marker (FF D9), possibly followed by
/// padding: decoders otherwise fill a truncated image with grey silently.
fn check_jpeg_complete(path: &Path) -> Result<()> {
    let mut f = std::fs::File::open(path).map_err(|e| RuntimeError::io(path, e))?;
    let len = f.metadata().map_err(|e| RuntimeError::io(path, e))?.len();
    let tail_len = len.min(64 * 1024);
    f.seek(SeekFrom::Start(len - tail_len))
        .map_err(|e| RuntimeError::io(path, e))?;
    let mut tail = Vec::with_capacity(tail_len as usize);
    f.read_to_end(&mut tail)
        .map_err(|e| RuntimeError::io(path, e))?;
    if tail.windows(2).any(|w| w == [0xFF, 0xD9]) {
        Ok(())
    } else {
        Err(decode_err(path, "truncated JPEG (no end-of-image marker)"))
    }
}

/// The encoder format for an output path, from its extension.
pub fn output_format(path: &Path) -> Result<ImageFormat> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("png") => Ok(ImageFormat::Png),
        Some("jpg" | "jpeg") => Ok(ImageFormat::Jpeg),
        Some("webp") => Ok(ImageFormat::WebP),
        _ => Err(RuntimeError::Encode {
            path: path.into(),
            reason: "unsupported output extension (use .png, .jpg or .webp)".into(),
        }),
    }
}

/// Encode `image` as `format` into `writer`; `path` names the destination in errors.
///
/// 16-bit images are kept 16-bit in PNG and reduced to 8 bits for JPEG and
/// WebP, which cannot hold more; alpha is dropped for JPEG.
pub fn encode(
    image: &DynamicImage,
    format: ImageFormat,
    writer: &mut (impl Write + Seek),
    path: &Path,
) -> Result<()> {
    let converted;
    let image = match format {
        ImageFormat::Jpeg if image.color().has_alpha() || image.color().bytes_per_pixel() > 4 => {
            converted = if image.color().has_color() {
                DynamicImage::ImageRgb8(image.to_rgb8())
            } else {
                DynamicImage::ImageLuma8(image.to_luma8())
            };
            &converted
        }
        ImageFormat::WebP if image.color().bytes_per_pixel() > 4 || !image.color().has_color() => {
            converted = if image.color().has_alpha() {
                DynamicImage::ImageRgba8(image.to_rgba8())
            } else {
                DynamicImage::ImageRgb8(image.to_rgb8())
            };
            &converted
        }
        _ => image,
    };
    image
        .write_to(writer, format)
        .map_err(|e| RuntimeError::Encode {
            path: path.into(),
            reason: crate::error::flat(e),
        })
}

/// Temporary files of [`write_atomic`] are `.edgegan-PID-XXXXXX.part`.
const PART_PREFIX: &str = ".edgegan-";
const PART_SUFFIX: &str = ".part";

/// Remove the temporary files that [`write_atomic`] left in `dir` when its
/// process was killed (SIGKILL, power loss): those whose writer's pid no
/// longer runs. Files of live processes (another edgegan writing into the
/// same folder) are left alone; so is anything else. Returns how many were
/// removed. Only on Linux (it reads `/proc`); elsewhere nothing is removed.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let dead = dir.path().join(".edgegan-4000000000-AbCdEf.part"); // no such pid
/// let live = dir.path().join(format!(".edgegan-{}-AbCdEf.part", std::process::id()));
/// let other = dir.path().join("photo.png");
/// for f in [&dead, &live, &other] {
///     std::fs::write(f, b"x").unwrap();
/// }
/// let removed = edgegan_runtime::io::clean_stale_parts(dir.path());
/// assert_eq!(removed, if cfg!(target_os = "linux") { 1 } else { 0 });
/// assert_eq!(dead.exists(), !cfg!(target_os = "linux"));
/// assert!(live.exists() && other.exists());
/// ```
pub fn clean_stale_parts(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PART_PREFIX)?.strip_suffix(PART_SUFFIX))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let alive = !cfg!(target_os = "linux") || Path::new("/proc").join(pid.to_string()).exists();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if !alive && is_file && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// [`clean_stale_parts`] in the folder of each of `outputs` (each folder
/// once); how many files were removed.
pub fn clean_stale_parts_beside<'a>(outputs: impl Iterator<Item = &'a Path>) -> usize {
    let mut dirs: Vec<&Path> = outputs
        .map(|p| match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs.into_iter().map(clean_stale_parts).sum()
}

/// Write a file atomically: `write` fills a temporary file in the target's
/// folder (`.edgegan-PID-*.part`), which is synced and renamed over `path` only
/// once complete (without `overwrite`, never over an existing file). On any
/// error the temporary file is removed and `path` is untouched. The one
/// writer of every output the CLI, the bench and the precision cache write.
pub fn write_atomic<E: From<RuntimeError>>(
    path: &Path,
    overwrite: bool,
    write: impl FnOnce(&mut std::io::BufWriter<&std::fs::File>) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    use std::io::Write;
    let fail = |path: &Path, what, error| RuntimeError::Write {
        path: path.into(),
        what,
        error,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(dir, "cannot create output folder", e))?;
    let mut builder = tempfile::Builder::new();
    // The writer's pid in the name: a later run tells a killed run's
    // leftovers from a live process's file ([`clean_stale_parts`]).
    let prefix = format!("{PART_PREFIX}{}-", std::process::id());
    builder.prefix(&prefix).suffix(PART_SUFFIX);
    // Temporary files are created 0600; outputs get the usual rw-r--r--.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let tmp = builder
        .tempfile_in(dir)
        .map_err(|e| fail(dir, "cannot write in output folder", e))?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file());
        write(&mut w)?;
        w.flush().map_err(|e| fail(path, "write failed", e))?;
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| fail(path, "sync failed", e))?;
    let persisted = if overwrite {
        tmp.persist(path).map(drop)
    } else {
        tmp.persist_noclobber(path).map(drop)
    };
    Ok(persisted.map_err(|e| fail(path, "cannot move output into place", e.error))?)
}
