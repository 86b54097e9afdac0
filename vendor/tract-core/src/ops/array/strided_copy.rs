//! edgegan patch: one pass that lays a strided view of a tensor down as a new contiguous tensor.
//!
//! Broadcasting (`MultiBroadcastTo`: stride 0 on the repeated axes) and axis permutations
//! (`MoveAxis`, and [`super::Permute`] for a chain of them) are the same data movement: every
//! output element, in order, reads the source at the dot product of its coordinates and one
//! stride per output axis. [`strided_copy`] walks it with the axes merged as far as the strides
//! allow, the two innermost axes in one tight loop (a row copy, a fill, or a small transpose),
//! and every repeated outer axis done once and then duplicated by block copies.

use crate::internal::*;

/// The tensor of `shape` whose element at coordinates `x` is `src`'s element at offset
/// `sum(x[d] * strides[d])` (in elements) of its plain storage. `None` when the datum type is
/// not a plain copy type of 1, 2, 4, 8 or 16 bytes, so the caller falls back to its own path.
pub fn strided_copy(
    src: &Tensor,
    shape: &[usize],
    strides: &[isize],
) -> TractResult<Option<Tensor>> {
    ensure!(shape.len() == strides.len(), "strided_copy: {shape:?} and {strides:?}");
    let dt = src.datum_type();
    if !dt.is_copy() {
        return Ok(None);
    }
    // Every stride is non-negative and the last element read lies inside `src`.
    let last: isize = shape.iter().zip(strides).map(|(&n, &s)| (n.max(1) as isize - 1) * s).sum();
    ensure!(
        strides.iter().all(|s| *s >= 0) && (shape.contains(&0) || (last as usize) < src.len()),
        "strided_copy: {shape:?} × {strides:?} reads outside {} elements",
        src.len()
    );
    let mut output = unsafe { Tensor::uninitialized_dt(dt, shape)? };
    if output.len() == 0 {
        return Ok(Some(output));
    }
    let axes = merge_axes(shape, strides);
    let src_bytes = src.try_as_plain_ram()?;
    let done = unsafe {
        let s = src_bytes.as_bytes().as_ptr();
        let d = output.as_bytes_mut().as_mut_ptr();
        match dt.size_of() {
            1 => walk::<u8>(s as _, d as _, &axes),
            2 => walk::<u16>(s as _, d as _, &axes),
            4 => walk::<u32>(s as _, d as _, &axes),
            8 => walk::<u64>(s as _, d as _, &axes),
            16 => walk::<u128>(s as _, d as _, &axes),
            _ => false,
        }
    };
    Ok(done.then_some(output))
}

/// (length, source stride) per axis, outermost first: axes of length 1 dropped, and an axis
/// merged into the one outside it when the outer one steps over the inner one's whole extent
/// (two repeated axes merge too: 0 = 0 × n).
fn merge_axes(shape: &[usize], strides: &[isize]) -> TVec<(usize, isize)> {
    let mut axes: TVec<(usize, isize)> = tvec!();
    for (&n, &s) in shape.iter().zip(strides) {
        if n == 1 {
            continue;
        }
        match axes.last_mut() {
            Some((on, os)) if *os == s * n as isize => {
                *on *= n;
                *os = s;
            }
            _ => axes.push((n, s)),
        }
    }
    if axes.is_empty() {
        axes.push((1, 0));
    }
    axes
}

/// Fill `dst` (contiguous, the product of the lengths) from `src` along `axes`: the outer axes
/// (enough of them for 64 rows) split into rows across tract's executor.
///
/// # Safety
/// `src` is valid for every offset the axes reach; `dst` for the product of the lengths;
/// both are aligned for `T`.
unsafe fn walk<T: Copy>(src: *const T, dst: *mut T, axes: &[(usize, isize)]) -> bool {
    let inner = axes.len().saturating_sub(2);
    let mut block = vec![1usize; axes.len() + 1];
    for d in (0..axes.len()).rev() {
        block[d] = block[d + 1] * axes[d].0;
    }
    let mut split = 0;
    while split < inner && block[0] / block[split] < 64 {
        split += 1;
    }
    let n_rows = block[0] / block[split];
    let (src, dst) = (src as usize, dst as usize);
    // The rows carry no data of their own: the executor only splits their indices.
    let mut rows = vec![(); n_rows];
    let done = tract_linalg::multithread::par_chunks_mut(&mut rows, 1, block[0], |first, chunk| {
        for row in first..first + chunk.len() {
            // The row's coordinates on the split axes give its source offset.
            let (mut rest, mut from) = (row, 0isize);
            for d in (0..split).rev() {
                from += (rest % axes[d].0) as isize * axes[d].1;
                rest /= axes[d].0;
            }
            unsafe {
                let s = (src as *const T).offset(from);
                let d = (dst as *mut T).add(row * block[split]);
                level(s, d, axes, &block, split, inner);
            }
        }
        Ok(())
    });
    done.is_ok()
}

/// The axes from `d` in: an inner kernel at `inner`, else a loop (a repeated axis is done once
/// and copied).
unsafe fn level<T: Copy>(
    src: *const T,
    dst: *mut T,
    axes: &[(usize, isize)],
    block: &[usize],
    d: usize,
    inner: usize,
) {
    unsafe {
        if d == inner {
            return kernel(src, dst, &axes[d..]);
        }
        let (n, s) = axes[d];
        let blk = block[d + 1];
        if s == 0 {
            level(src, dst, axes, block, d + 1, inner);
            for r in 1..n {
                std::ptr::copy_nonoverlapping(dst, dst.add(r * blk), blk);
            }
        } else {
            for i in 0..n {
                level(src.offset(i as isize * s), dst.add(i * blk), axes, block, d + 1, inner);
            }
        }
    }
}

/// The innermost one or two axes: `dst[i * n0 + j] = src[i * s1 + j * s0]`.
unsafe fn kernel<T: Copy>(src: *const T, dst: *mut T, axes: &[(usize, isize)]) {
    unsafe {
        let ((n1, s1), (n0, s0)) = match *axes {
            [a0] => ((1, 0), a0),
            [a1, a0] => (a1, a0),
            _ => unreachable!("at most two inner axes"),
        };
        if s0 == 1 {
            for i in 0..n1 {
                std::ptr::copy_nonoverlapping(src.offset(i as isize * s1), dst.add(i * n0), n0);
            }
        } else if s0 == 0 {
            for i in 0..n1 {
                let x = *src.offset(i as isize * s1);
                std::slice::from_raw_parts_mut(dst.add(i * n0), n0).fill(x);
            }
        } else if n0 <= 16 {
            // A few interleaved streams (depth-to-space, nearest upsampling along rows).
            for i in 0..n1 {
                let (s, d) = (src.offset(i as isize * s1), dst.add(i * n0));
                for j in 0..n0 {
                    *d.add(j) = *s.offset(j as isize * s0);
                }
            }
        } else {
            // A transpose: 16 × 16 tiles, so both sides stay in cache.
            for i0 in (0..n1).step_by(16) {
                for j0 in (0..n0).step_by(16) {
                    for i in i0..(i0 + 16).min(n1) {
                        let (s, d) = (src.offset(i as isize * s1), dst.add(i * n0));
                        for j in j0..(j0 + 16).min(n0) {
                            *d.add(j) = *s.offset(j as isize * s0);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition: every output coordinate read at its strided offset.
    fn reference(src: &[i32], shape: &[usize], strides: &[isize]) -> Vec<i32> {
        let len: usize = shape.iter().product();
        (0..len)
            .map(|mut ix| {
                let mut off = 0isize;
                for d in (0..shape.len()).rev() {
                    off += (ix % shape[d]) as isize * strides[d];
                    ix /= shape[d];
                }
                src[off as usize]
            })
            .collect()
    }

    fn check(src_shape: &[usize], shape: &[usize], strides: &[isize]) {
        let n: usize = src_shape.iter().product();
        let data: Vec<i32> = (0..n as i32).map(|x| x * 7 - 3).collect();
        let src = tensor1(&data).into_shape(src_shape).unwrap();
        let got = strided_copy(&src, shape, strides).unwrap().unwrap();
        assert_eq!(got.shape(), shape);
        assert_eq!(
            got.try_as_plain_ram().unwrap().as_slice::<i32>().unwrap(),
            reference(&data, shape, strides),
            "{shape:?} {strides:?}"
        );
    }

    #[test]
    fn depth_to_space_broadcasts_and_transposes_match_the_definition() {
        // DepthToSpace CRD, r = 4: [C, ri, rj, H, W] read as [C, H, ri, W, rj].
        check(&[3, 4, 4, 5, 7], &[3, 5, 4, 7, 4], &[560, 7, 140, 1, 35]);
        // DCR, r = 2: [ri, rj, C, H, W] read as [C, H, ri, W, rj].
        check(&[2, 2, 3, 5, 6], &[3, 5, 2, 6, 2], &[30, 6, 180, 1, 90]);
        // Nearest upsampling as a broadcast: [C, H, 1, W, 1] to [C, H, 2, W, 2].
        check(&[4, 3, 5], &[4, 3, 2, 5, 2], &[15, 5, 0, 1, 0]);
        // A bias broadcast: [C, 1, 1] to [C, H, W], and a leading repeated axis.
        check(&[6], &[6, 3, 4], &[1, 0, 0]);
        check(&[5, 3], &[4, 5, 3], &[0, 3, 1]);
        // Transposes, small and tiled, and a plain copy.
        check(&[3, 37], &[37, 3], &[1, 37]);
        check(&[40, 33], &[33, 40], &[1, 33]);
        check(&[2, 3, 4], &[2, 3, 4], &[12, 4, 1]);
        // Length-1 and scalar outputs.
        check(&[5], &[1], &[0]);
        check(&[5], &[], &[]);
    }

    #[test]
    fn reads_outside_the_source_are_refused() {
        let src = tensor1(&[1i32, 2, 3]);
        assert!(strided_copy(&src, &[2, 2], &[2, 1]).is_err());
        assert!(strided_copy(&src, &[2], &[-1]).is_err());
    }
}
