//! A fixed number of cache slots keyed by window shape: plans and per-worker
//! inference states are kept for at most `N` shapes, so a long batch of
//! images of many sizes (whole-image mode) does not grow the runtime's
//! bookkeeping. Backed by [`heapless::LinearMap`]: no allocation for the
//! table itself, and a linear scan is the fastest lookup at this size.

use heapless::LinearMap;

/// At most `N` values, each under a key; the oldest goes when a new one comes.
pub struct Slots<K: Eq + Copy, V, const N: usize> {
    map: LinearMap<K, V, N>,
    /// Keys from oldest to newest.
    order: heapless::Deque<K, N>,
}

impl<K: Eq + Copy, V, const N: usize> Default for Slots<K, V, N> {
    fn default() -> Self {
        Slots::new()
    }
}

impl<K: Eq + Copy, V, const N: usize> Slots<K, V, N> {
    /// No slots filled.
    pub const fn new() -> Self {
        Slots {
            map: LinearMap::new(),
            order: heapless::Deque::new(),
        }
    }

    /// Filled slots.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Empty every slot.
    pub fn clear(&mut self) {
        self.map.clear();
        self.order.clear();
    }

    /// The value under `key`.
    #[cfg(test)]
    pub fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key)
    }

    /// The value under `key`, made by `make` if absent (dropping the oldest
    /// value when all `N` slots are full).
    pub fn get_or_try_insert<E>(
        &mut self,
        key: K,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<&mut V, E> {
        if !self.map.contains_key(&key) {
            let value = make()?;
            if self.map.len() == N {
                if let Some(oldest) = self.order.pop_front() {
                    self.map.remove(&oldest);
                }
            }
            // both have room: one slot was freed above when full
            let _ = self.map.insert(key, value);
            let _ = self.order.push_back(key);
        }
        Ok(self.map.get_mut(&key).expect("inserted above"))
    }
}

#[cfg(test)]
mod tests {
    /// The example the module documentation used to show.
    #[test]
    fn module_example() {
        use super::Slots;
        let mut s: Slots<(usize, usize), String, 2> = Slots::new();
        for shape in [(1, 1), (2, 2), (1, 1), (3, 3)] {
            s.get_or_try_insert(shape, || Ok::<_, ()>(format!("{shape:?}")))
                .unwrap();
        }
        assert_eq!(s.len(), 2); // (1, 1) made way for (3, 3)
        assert!(s.get(&(3, 3)).is_some() && s.get(&(2, 2)).is_some());
    }

    use super::*;

    #[test]
    fn keeps_the_newest_n_and_makes_each_value_once() {
        let mut s: Slots<u32, u32, 3> = Slots::new();
        let mut made = 0;
        for k in [1, 2, 1, 3, 4, 4, 5] {
            let v = s
                .get_or_try_insert(k, || {
                    made += 1;
                    Ok::<_, ()>(k * 10)
                })
                .unwrap();
            assert_eq!(*v, k * 10);
        }
        assert_eq!(made, 5);
        assert_eq!(s.len(), 3);
        assert!(s.get(&1).is_none() && s.get(&2).is_none());
        assert_eq!(
            (s.get(&3), s.get(&4), s.get(&5)),
            (Some(&30), Some(&40), Some(&50))
        );
        assert_eq!(s.get_or_try_insert(9, || Err("no")), Err("no"));
        assert_eq!(s.len(), 3);
    }
}
