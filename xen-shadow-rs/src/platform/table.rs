//! Mapped page-table frames.

use core::ptr::NonNull;

use crate::types::{Mfn, PAGE_SIZE};

/// One mapped 4 KiB frame holding page-table entries (guest or shadow).
///
/// A `Table` is a plain address: the platform that handed it out
/// (`Core::map_domain_page`) keeps the mapping alive until
/// `Core::unmap_domain_page`.  Every access is a single aligned volatile
/// load or store of the entry's width, because other CPUs (guest vCPUs, the
/// MMU) read and write the same memory concurrently.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Table {
    base: NonNull<u8>,
}

impl Table {
    /// # Safety
    /// `base` must be 4 KiB aligned and point to 4 KiB of memory that stays
    /// mapped, readable and writable as long as this `Table` (or any copy)
    /// is used.
    pub const unsafe fn from_raw(base: NonNull<u8>) -> Table {
        Table { base }
    }

    pub fn as_ptr(self) -> *mut u8 {
        self.base.as_ptr()
    }

    /// Offset of `base` within its page: always 0.  (Pointers into a page,
    /// such as a PAE guest CR3 inside a page, are `Table` + index.)
    #[inline]
    fn check(i: usize, width: usize) -> usize {
        let off = i.saturating_mul(width);
        assert!(
            off + width <= PAGE_SIZE as usize,
            "page-table index out of range"
        );
        off
    }

    /// Entry `i` of a table of 64-bit entries (0..512).
    #[inline]
    pub fn get64(self, i: usize) -> u64 {
        let off = Self::check(i, 8);
        // SAFETY: `off + 8 <= 4096` (checked), the frame is mapped for the
        // life of `self` (constructor contract) and 8-byte aligned.
        unsafe { core::ptr::read_volatile(self.base.as_ptr().add(off).cast::<u64>()) }
    }

    /// The first index `j` of `from, from + step, from + 2 * step, ...`
    /// below 512 whose 64-bit entry has every bit of `want` set, or `None`.
    /// The scan of the `SHADOW_FOREACH_*` loops: one load, test, pointer
    /// step and end test per entry, as C's loops compile to (`want` and
    /// `step` are constants after inlining; the address is the only
    /// induction variable).
    #[inline(always)]
    pub fn next_with(self, from: usize, step: usize, want: u64) -> Option<usize> {
        const END: usize = PAGE_SIZE as usize;
        // Byte offsets in the frame: `off < END` below and `step <= END`,
        // so `off + step` cannot overflow.
        let step = step.clamp(1, END / 8) * 8;
        let mut off = from.min(END / 8) * 8;
        while off < END {
            // SAFETY: `off < 4096` and 8-aligned (`from` and `step` count
            // entries), so the entry is inside the frame the constructor's
            // contract keeps mapped.
            let e = unsafe { core::ptr::read_volatile(self.base.as_ptr().add(off).cast::<u64>()) };
            if e & want == want {
                return Some(off / 8);
            }
            off += step;
        }
        None
    }

    /// Stores entry `i` of a table of 64-bit entries.
    #[inline]
    pub fn set64(self, i: usize, v: u64) {
        let off = Self::check(i, 8);
        // SAFETY: as in `get64`.
        unsafe { core::ptr::write_volatile(self.base.as_ptr().add(off).cast::<u64>(), v) }
    }

    /// Entry `i` of a table of 32-bit entries (0..1024).
    #[inline]
    pub fn get32(self, i: usize) -> u32 {
        let off = Self::check(i, 4);
        // SAFETY: as in `get64`, 4-byte aligned.
        unsafe { core::ptr::read_volatile(self.base.as_ptr().add(off).cast::<u32>()) }
    }

    #[inline]
    pub fn set32(self, i: usize, v: u32) {
        let off = Self::check(i, 4);
        // SAFETY: as in `get64`, 4-byte aligned.
        unsafe { core::ptr::write_volatile(self.base.as_ptr().add(off).cast::<u32>(), v) }
    }

    /// Entry `i` of `bytes` (4 or 8) width, zero-extended.
    #[inline]
    pub fn get(self, i: usize, bytes: usize) -> u64 {
        if bytes == 4 {
            u64::from(self.get32(i))
        } else {
            self.get64(i)
        }
    }

    /// Address of byte `off` of the frame, for C interfaces that take
    /// pointers into a mapped page.
    pub fn byte_ptr(self, off: usize) -> *mut u8 {
        let off = Self::check(off, 1);
        // SAFETY: in bounds of the mapped frame (checked).
        unsafe { self.base.as_ptr().add(off) }
    }

    /// The slot of 64-bit entry `i`, in the shadow frame `mfn` this table maps.
    pub fn slot(self, mfn: Mfn, i: usize) -> Slot {
        Self::check(i, 8);
        Slot {
            table: self,
            mfn,
            index: i,
        }
    }
}

/// One 64-bit shadow entry: where it is mapped, which frame holds it and its
/// index.  `shadow_set_lNe()` take it; `entry_pa()` is what C computes for
/// the up-pointer of the shadow the entry points to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Slot {
    pub table: Table,
    pub mfn: Mfn,
    pub index: usize,
}

impl Slot {
    pub fn get(self) -> u64 {
        self.table.get64(self.index)
    }
    pub fn set(self, v: u64) {
        self.table.set64(self.index, v)
    }
    /// Physical address of the entry (`mfn << 12 | offset`).
    pub fn entry_pa(self) -> u64 {
        self.mfn.maddr() | (self.index as u64 * 8)
    }
    /// Pointer to the entry, for C.
    pub fn ptr(self) -> *mut u64 {
        self.table.byte_ptr(self.index * 8).cast()
    }
    /// The slot `n` entries further in the same frame.
    pub fn offset(self, n: usize) -> Slot {
        self.table.slot(self.mfn, self.index + n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[repr(align(4096))]
    struct Page([u8; 4096]);

    #[test]
    fn accesses_are_bounded() {
        let mut p = Page([0; 4096]);
        // SAFETY: `p` is aligned, 4 KiB and outlives `t`.
        let t = unsafe { Table::from_raw(NonNull::new(p.0.as_mut_ptr()).unwrap()) };
        t.set64(511, 0xdead_beef);
        assert_eq!(t.get64(511), 0xdead_beef);
        assert_eq!(t.get32(1022), 0xdead_beef);
        assert_eq!(t.slot(Mfn(5), 3).entry_pa(), 0x5018);
        assert!(std::panic::catch_unwind(|| t.get64(512)).is_err());
        assert!(std::panic::catch_unwind(|| t.get32(1024)).is_err());
    }
}
