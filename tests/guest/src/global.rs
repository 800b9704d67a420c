//! A minimal global-variable cell.  The kernel mostly runs on one vCPU; the
//! second one (`smp`) only touches what a test shares with it, with the
//! test's own ordering (atomics in `smp`).

use core::cell::UnsafeCell;

/// A global value that is read and written with volatile accesses.
///
/// The kernel runs on one vCPU with interrupts disabled; the only "concurrency"
/// is an exception handler running at a precise instruction of the interrupted
/// code.  Volatile accesses keep the compiler from caching values across such
/// points (e.g. across a probe that may fault).
pub struct Global<T>(UnsafeCell<T>);

// SAFETY: no preemption; state shared with the second vCPU is handed over
// through the mailbox in `smp` (acquire/release atomics), see the module docs.
unsafe impl<T> Sync for Global<T> {}

impl<T: Copy> Global<T> {
    pub fn get(&self) -> T {
        // SAFETY: the pointer comes from a live UnsafeCell; single CPU (see type docs).
        unsafe { core::ptr::read_volatile(self.0.get()) }
    }

    pub fn set(&self, v: T) {
        // SAFETY: as for `get`.
        unsafe { core::ptr::write_volatile(self.0.get(), v) }
    }
}

impl<T> Global<T> {
    pub const fn new(v: T) -> Self {
        Global(UnsafeCell::new(v))
    }

    /// Raw pointer to the value, for buffers that are filled in place.
    pub fn as_ptr(&self) -> *mut T {
        self.0.get()
    }
}
