//! Several cores on one image: a [`Pool`] that the work of a single image
//! runs on, so that `edgegan inpaint photo.png` uses a board's four cores
//! instead of one.
//!
//! Two kinds of work spread over the pool. The network's matrix products go
//! through tract's own executor (its `multithread-mm` rayon path), which
//! splits the output into panels; every output value is still summed in the
//! same order, so the result does not depend on the thread count. The
//! per-channel loops of the fill ([`for_each_plane`]) run their colour
//! planes in parallel when called inside a pool, serially otherwise; the
//! planes are independent, so again the output is the same bit for bit.
//!
//! Outside [`Pool::install`] nothing here starts a thread: batch runs that
//! already give each core an image of its own stay one thread per image.

use rayon::prelude::*;
use std::sync::Arc;
use tract_linalg::multithread::{multithread_tract_scope, Executor};

use crate::error::{Result, RuntimeError};

/// A fixed set of worker threads for one image's work.
#[derive(Clone)]
pub struct Pool {
    pool: Arc<rayon::ThreadPool>,
}

impl Pool {
    /// A pool of `threads` workers (at least one).
    pub fn new(threads: usize) -> Result<Pool> {
        let threads = threads.max(1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("edgegan-image-{i}"))
            .build()
            .map_err(|e| RuntimeError::Threads {
                threads,
                reason: e.to_string(),
            })?;
        Ok(Pool {
            pool: Arc::new(pool),
        })
    }

    /// Its number of threads.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// Run `f` on the pool: tract's matrix products inside it and
    /// [`for_each_plane`] spread over the pool's threads.
    pub fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        let executor = Executor::MultiThread(self.pool.clone());
        self.pool.install(|| multithread_tract_scope(executor, f))
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("threads", &self.threads())
            .finish()
    }
}

/// `f(c, plane)` for each `plane_len`-long plane `c` of `px`: in parallel
/// on a rayon worker (inside [`Pool::install`], the current pool's), one
/// after another on any other thread.
pub fn for_each_plane(px: &mut [f32], plane_len: usize, f: impl Fn(usize, &mut [f32]) + Sync) {
    if plane_len == 0 {
        return;
    }
    if rayon::current_thread_index().is_some() {
        px.par_chunks_mut(plane_len)
            .enumerate()
            .for_each(|(c, p)| f(c, p));
    } else {
        px.chunks_mut(plane_len)
            .enumerate()
            .for_each(|(c, p)| f(c, p));
    }
}

/// `f(c)` for each plane `c` in `0..planes`, the results in plane order:
/// in parallel on a rayon worker, one after another elsewhere, as
/// [`for_each_plane`]. Each call makes its own plane, so a caller that
/// reads planes on demand holds one per thread, never all of them.
pub fn per_plane<T: Send>(planes: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    if rayon::current_thread_index().is_some() {
        (0..planes).into_par_iter().map(&f).collect()
    } else {
        (0..planes).map(f).collect()
    }
}

#[cfg(test)]
mod tests {
    /// The example the module documentation used to show.
    #[test]
    fn module_example() {
        use super::{for_each_plane, Pool};
        let pool = Pool::new(2).expect("two threads");
        let mut px = vec![1.0f32; 3 * 4];
        pool.install(|| {
            for_each_plane(&mut px, 4, |c, plane| {
                plane.iter_mut().for_each(|v| *v += c as f32)
            })
        });
        assert_eq!(
            px,
            [1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 3.0]
        );
    }

    use super::*;
    use crate::inpaint::cascade_prefill;

    /// Three planes of 97×61 pseudo-random values with a blob of holes.
    fn scene() -> (Vec<f32>, Vec<bool>, usize, usize) {
        let (w, h) = (97, 61);
        let px = (0..3 * w * h)
            .map(|i| ((i * 7919) % 1009) as f32 / 1009.0)
            .collect();
        let hole = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32 - 40.0, (i / w) as f32 - 30.0);
                x * x / 900.0 + y * y / 400.0 < 1.0
            })
            .collect();
        (px, hole, w, h)
    }

    #[test]
    fn the_fill_is_the_same_on_one_thread_or_several() {
        let (px, hole, w, h) = scene();
        let mut serial = px.clone();
        cascade_prefill(&mut serial, 3, w, h, &hole, 16);
        assert_ne!(serial, px, "the holes were filled");
        for threads in [1, 2, 3, 5] {
            let mut parallel = px.clone();
            Pool::new(threads)
                .unwrap()
                .install(|| cascade_prefill(&mut parallel, 3, w, h, &hole, 16));
            assert_eq!(parallel, serial, "{threads} threads");
        }
    }

    #[test]
    fn per_plane_keeps_the_plane_order() {
        let plane = |c: usize| vec![c as f32; 4];
        let want: Vec<Vec<f32>> = (0..3).map(plane).collect();
        assert_eq!(per_plane(3, plane), want);
        let pool = Pool::new(3).unwrap();
        assert_eq!(pool.threads(), 3);
        assert_eq!(pool.install(|| per_plane(3, plane)), want);
        assert!(per_plane(0, plane).is_empty());
    }
}
