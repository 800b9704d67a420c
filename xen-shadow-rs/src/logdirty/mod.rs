//! Log-dirty tracking: shadow's log-dirty ops (common.c) and the dirty
//! bitmap itself (paging.c's radix tree), generic over [`LogDirtyEnv`].
//!
//! * [`shadow_ops`]: `sh_enable_log_dirty`, `sh_disable_log_dirty`,
//!   `sh_clean_dirty_bitmap` (common.c 3154-3204), the `log_dirty_ops` that
//!   shadow registers with paging.c.  Built with `CONFIG_SHADOW_RUST`.
//! * [`bitmap`]: `paging_mark_pfn_dirty`, `paging_mfn_is_dirty`,
//!   `paging_free_log_dirty_bitmap`, `paging_log_dirty_op` (PEEK/CLEAN, with
//!   preemption and continuation) and `paging_log_dirty_range`
//!   (paging.c 54-633).  Built with `CONFIG_PAGING_LOGDIRTY_RUST`.
//!
//! The bitmap is Xen's: a 4-level radix tree of pool pages hanging off
//! `d->arch.paging.log_dirty.top`; interior nodes hold 512 frame numbers
//! (`INVALID_MFN` = absent), leaves hold 32768 bits, one per guest pfn.  The
//! tree lives in Xen's own fields, so the C code that stays (paging_domctl,
//! the 'q' debug key, teardown) sees the same state.
//!
//! Differences from C, all deliberate (docs/architecture.md):
//! * CLEAN takes each bitmap word with an atomic fetch-and-clear and copies
//!   what it took; if the copy to the toolstack fails, the taken bits are
//!   put back (atomic OR) before -EFAULT is returned.  C copies the leaf and
//!   then zeroes the whole page, so a bit set in between would be lost, and
//!   bits of the last leaf beyond the requested count are zeroed unreported.
//!   Here exactly the reported bits are cleared.
//! * The continuation position is the tree position (`i4`, `i3`), from which
//!   the page count is derived; C also keeps `done` in a 40-bit field, which
//!   wraps for counts at or above 2^40 pages.  Counts past the tree's reach
//!   (2^42 pages) are reported back as 2^42, as C does for counts it does
//!   not wrap.
//! * Interior subtrees that do not exist are skipped in one step when no
//!   bitmap is copied (C walks their 512 leaves one by one); with a bitmap
//!   the toolstack's buffer is zeroed leaf by leaf exactly as C does.

pub mod bitmap;
pub mod shadow_ops;

#[cfg(test)]
mod tests;

use core::sync::atomic::AtomicU64;

use crate::types::Mfn;

/// One tree page as Rust sees it: 512 64-bit words (frame numbers in
/// interior nodes, dirty bits in leaves).  Atomic so that bits are set and
/// taken with single locked instructions.
pub type Node = [AtomicU64; NODE_ENTRIES];

/// `LOGDIRTY_NODE_ENTRIES`.
pub const NODE_ENTRIES: usize = 512;
/// Bits per leaf: `PAGE_SIZE * 8`.
pub const LEAF_BITS: u64 = 1 << 15;
/// Pages covered by one level-2 node (512 leaves).
pub const L2_PAGES: u64 = LEAF_BITS * NODE_ENTRIES as u64;
/// Pages the whole tree covers: 2^42.
pub const TREE_PAGES: u64 = L2_PAGES * (NODE_ENTRIES * NODE_ENTRIES) as u64;

/// Xen's error numbers (public/errno.h), returned negated as C does.
pub mod errno {
    pub const ENOMEM: i32 = 12;
    pub const EFAULT: i32 = 14;
    pub const EBUSY: i32 = 16;
    pub const EINVAL: i32 = 22;
    pub const ERESTART: i32 = 85;
}

/// `XEN_DOMCTL_SHADOW_OP_*` the bitmap code sees.
pub mod op {
    pub const OFF: u32 = 0;
    pub const CLEAN: u32 = 11;
    pub const PEEK: u32 = 12;
}

/// `XEN_DOMCTL_SHADOW_LOGDIRTY_FINAL`.
pub const LOGDIRTY_FINAL: u32 = 1;

/// The counters of `struct log_dirty_domain` (asm/domain.h 191-207).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Field {
    /// `top`: the root node's frame, `INVALID_MFN` when there is no tree.
    Top,
    /// `allocs`: tree pages allocated.
    Allocs,
    /// `failed_allocs`: pool allocations that failed while marking.
    FailedAllocs,
    /// `fault_count`: shadow faults fixed while logging (multi.c 2619).
    FaultCount,
    /// `dirty_count`: bits newly set since the last CLEAN.
    DirtyCount,
}

/// `d->arch.paging.preempt`: which domain's unfinished operation owns the
/// continuation, and where it stopped.  `done` is C's 40-bit field; the
/// bitmap code uses it only to carry the return code of a preempted
/// teardown, as C does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Preempt<D> {
    pub dom: Option<D>,
    pub op: u32,
    pub done: u64,
    pub i4: u32,
    pub i3: u32,
}

/// A `struct xen_domctl_shadow_op` for PEEK/CLEAN: what the bitmap code reads
/// and writes.  `bitmap` is `None` for a null guest handle.
#[derive(Clone, Copy, Debug)]
pub struct ShadowOp<B> {
    pub op: u32,
    pub mode: u32,
    pub pages: u64,
    pub bitmap: Option<B>,
    pub fault_count: u32,
    pub dirty_count: u32,
}

/// What the log-dirty code needs from Xen.  Inside Xen the root crate
/// implements it with C shims (`ffi/c/logdirty.c`); the tests implement it
/// with a threaded host model.  Methods are named after the Xen function,
/// macro or field they stand for.
pub trait LogDirtyEnv {
    /// A `struct domain *`.
    type Dom: Copy;
    /// A domain's identity, as compared in `preempt.dom != current->domain`.
    type DomId: Copy + Eq;
    /// The toolstack's `XEN_GUEST_HANDLE_64(uint8)` bitmap buffer.
    type Buf: Copy;

    /// `paging_lock(d)`.
    fn paging_lock(&self, d: Self::Dom);
    /// `paging_lock_recursive(d)`.
    fn paging_lock_recursive(&self, d: Self::Dom);
    /// `paging_unlock(d)`.
    fn paging_unlock(&self, d: Self::Dom);

    /// `paging_mode_log_dirty(d)`.
    fn paging_mode_log_dirty(&self, d: Self::Dom) -> bool;
    /// `paging_mode_translate(d)`.
    fn paging_mode_translate(&self, d: Self::Dom) -> bool;
    /// `is_hvm_domain(d)`.
    fn is_hvm_domain(&self, d: Self::Dom) -> bool;
    /// `current->domain`.
    fn current_domain(&self) -> Self::DomId;

    /// `d->arch.paging.alloc_page(d)`: one page from the paging pool.
    fn alloc_page(&self, d: Self::Dom) -> Option<Mfn>;
    /// `d->arch.paging.free_page(d, mfn_to_page(mfn))`.
    fn free_page(&self, d: Self::Dom, mfn: Mfn);
    /// `map_domain_page(mfn)` … `unmap_domain_page()` around `f`.  `mfn` is
    /// always a page this code allocated and has not freed.
    fn with_node<R>(&self, mfn: Mfn, f: impl FnOnce(&Node) -> R) -> R;

    /// Reads a field of `d->arch.paging.log_dirty` (under the paging lock).
    fn field(&self, d: Self::Dom, f: Field) -> u64;
    /// Writes one (under the paging lock; narrower C fields truncate).
    fn set_field(&self, d: Self::Dom, f: Field, v: u64);
    /// `d->arch.paging.preempt` (under the paging lock).
    fn preempt(&self, d: Self::Dom) -> Preempt<Self::DomId>;
    /// Writes `d->arch.paging.preempt`.
    fn set_preempt(&self, d: Self::Dom, p: &Preempt<Self::DomId>);

    /// `get_gpfn_from_mfn(mfn)` (the M2P).
    fn gpfn_from_mfn(&self, mfn: Mfn) -> u64;

    /// `hypercall_preempt_check()`.
    fn hypercall_preempt_check(&self) -> bool;
    /// `copy_to_guest_offset(buf, off, data, len) == 0`.
    fn copy_to_guest_offset(&self, buf: Self::Buf, off: u64, data: &[u8]) -> bool;
    /// `clear_guest_offset(buf, off, len) == 0`.
    fn clear_guest_offset(&self, buf: Self::Buf, off: u64, len: usize) -> bool;

    /// `domain_pause(d)`.
    fn domain_pause(&self, d: Self::Dom);
    /// `domain_unpause(d)`.
    fn domain_unpause(&self, d: Self::Dom);
    /// `hvm_mapped_guest_frames_mark_dirty(d)`.
    fn hvm_mapped_guest_frames_mark_dirty(&self, d: Self::Dom);
    /// `p2m_flush_hardware_cached_dirty(d)`.
    fn p2m_flush_hardware_cached_dirty(&self, d: Self::Dom);
    /// `d->arch.paging.log_dirty.ops->clean(d)` (never with the lock held).
    fn log_dirty_ops_clean(&self, d: Self::Dom);
    /// `printk(XENLOG_WARNING "%u failed page allocs while logging dirty
    /// pages of d%d\n", …)`.
    fn warn_failed_allocs(&self, d: Self::Dom, failed: u32);

    /// `p2m_lock(p2m_get_hostp2m(d))`.
    fn p2m_lock(&self, d: Self::Dom);
    /// `p2m_unlock(p2m_get_hostp2m(d))`.
    fn p2m_unlock(&self, d: Self::Dom);
    /// `p2m_change_type_one(d, pfn, p2m_ram_rw, p2m_ram_logdirty)`: 0 when
    /// the entry was `p2m_ram_rw` and is now `p2m_ram_logdirty`.
    fn p2m_change_type_rw_to_logdirty(&self, d: Self::Dom, pfn: u64) -> i32;
    /// `guest_flush_tlb_mask(d, d->dirty_cpumask)`.
    fn guest_flush_tlb_mask(&self, d: Self::Dom);
}
