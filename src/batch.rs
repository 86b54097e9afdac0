//! File batching for image commands: expanding inputs (files and folders)
//! into jobs, choosing output paths, refusing outputs that would destroy
//! data, progress and the summary line (outputs are written by
//! [`edgegan_runtime::io::write_atomic`]).

use anyhow::{bail, Context, Result};
pub use edgegan_runtime::io::write_atomic;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// One input file and where its result goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The input image.
    pub input: PathBuf,
    /// The output path.
    pub output: PathBuf,
}

/// Every image file under `dir` (recursively, sorted); an error if none.
pub fn image_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let files = edgegan_runtime::io::image_files(dir)?;
    if files.is_empty() {
        bail!("{}: folder holds no images", dir.display());
    }
    Ok(files)
}

/// Expand `inputs` into jobs writing under `out`.
///
/// One input file and an `out` with an image extension that is not a folder:
/// `out` is the output file. Otherwise `out` is a folder; folder inputs keep
/// their relative paths under it. `ext` replaces the output extension.
pub fn plan_jobs(inputs: &[PathBuf], out: &Path, ext: Option<&str>) -> Result<Vec<Job>> {
    let single_file = inputs.len() == 1
        && !inputs[0].is_dir()
        && !out.is_dir()
        && edgegan_runtime::io::is_image_path(out);
    if single_file {
        return Ok(vec![Job {
            input: inputs[0].clone(),
            output: out.to_path_buf(),
        }]);
    }
    let mut jobs = Vec::new();
    for input in inputs {
        if input.is_dir() {
            for f in image_files(input)? {
                let rel = f.strip_prefix(input).unwrap_or(&f).to_path_buf();
                jobs.push(Job {
                    output: out.join(rel),
                    input: f,
                });
            }
        } else {
            let name = input
                .file_name()
                .with_context(|| format!("{}: not a file", input.display()))?;
            jobs.push(Job {
                input: input.clone(),
                output: out.join(name),
            });
        }
    }
    if let Some(ext) = ext {
        for j in &mut jobs {
            j.output.set_extension(ext);
        }
    }
    Ok(jobs)
}

/// Ready a batch to run: the leftovers of killed runs (temporary files
/// whose process is gone) are removed from the output folders, and with
/// `skip_existing` the jobs whose output is already written are set aside
/// (outputs are only ever renamed into place complete, so one that exists is
/// whole). Returns the jobs to run and how many were skipped. A job whose
/// output is its input is kept, for [`check_output`] to refuse.
pub fn prepare(jobs: Vec<Job>, skip_existing: bool) -> (Vec<Job>, usize) {
    let cleaned =
        edgegan_runtime::io::clean_stale_parts_beside(jobs.iter().map(|j| j.output.as_path()));
    if cleaned > 0 {
        eprintln!("removed {cleaned} partial file(s) left by an interrupted run");
    }
    if !skip_existing {
        return (jobs, 0);
    }
    let total = jobs.len();
    let run: Vec<Job> = jobs
        .into_iter()
        .filter(|j| !j.output.is_file() || same_file(j))
        .collect();
    let skipped = total - run.len();
    (run, skipped)
}

/// Whether a job's output path is its input file.
fn same_file(job: &Job) -> bool {
    match (job.input.canonicalize(), job.output.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => job.input == job.output,
    }
}

/// Refuse outputs that would destroy data: the input itself, or an existing
/// file unless `overwrite`.
pub fn check_output(job: &Job, overwrite: bool) -> Result<()> {
    if same_file(job) {
        bail!(
            "{}: output path is the input file; choose another output",
            job.output.display()
        );
    }
    if !overwrite && job.output.exists() {
        bail!(
            "{}: output exists; pass --overwrite to replace it",
            job.output.display()
        );
    }
    Ok(())
}

/// The progress bar of a batch of `len` files: position, elapsed time, ETA
/// and the message; hidden unless `show`.
pub fn progress(len: usize, show: bool) -> ProgressBar {
    let bar = if show {
        ProgressBar::new(len as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed_precise} eta {eta} {wide_msg}")
            .expect("static template"),
    );
    bar
}

/// Report a finished batch on one stderr line — `{verb} {ok} of {n} file(s)
/// with {what} in {t} s{extra}`, then `; {skipped} skipped (already
/// written)` and `; {failed} failed` where there are any — and return its
/// exit code: failure if any image failed. `jobs` counts the skipped ones.
pub fn summary(
    verb: &str,
    jobs: usize,
    skipped: usize,
    failed: usize,
    what: &str,
    started: Instant,
    extra: &str,
) -> ExitCode {
    let mut tail = String::new();
    if skipped > 0 {
        tail += &format!("; {skipped} skipped (already written)");
    }
    if failed > 0 {
        tail += &format!("; {failed} failed");
    }
    eprintln!(
        "{verb} {} of {jobs} file(s) with {what} in {:.1} s{extra}{tail}",
        jobs - skipped - failed,
        started.elapsed().as_secs_f64(),
    );
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
