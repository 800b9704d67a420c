//! The log-dirty bitmap (paging.c 54-633): a lazily allocated 4-level radix
//! tree of paging-pool pages, marked by the fault path and by Xen's other
//! writers, read and cleared by the toolstack through
//! `XEN_DOMCTL_SHADOW_OP_PEEK`/`CLEAN`, freed (preemptibly) at `OP_OFF`.
//!
//! Locking is C's: every access to the tree's shape and to the counters is
//! made with the paging lock held (recursively from marking, which the
//! shadow code calls with the lock held).  Bits are additionally set with an
//! atomic OR and taken with an atomic fetch-and-clear, so no bit set while a
//! word is being reported can be lost, whatever the caller holds.

use core::sync::atomic::Ordering;

use super::{
    errno, op, Field, LogDirtyEnv, Node, Preempt, ShadowOp, L2_PAGES, LEAF_BITS, LOGDIRTY_FINAL,
    NODE_ENTRIES, TREE_PAGES,
};
use crate::types::{Mfn, INVALID_MFN};

/// `VALID_M2P(pfn)`: entries with the top bit set are not guest memory
/// (e.g. the shared-info frame of a PV guest).
pub const fn valid_m2p(pfn: u64) -> bool {
    pfn & (1 << 63) == 0
}

/// `SHARED_M2P_ENTRY`.
pub const SHARED_M2P_ENTRY: u64 = !0 - 1;

/// The tree position of a pfn: `L{4,3,2,1}_LOGDIRTY_IDX` (paging.h 187-194).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Index {
    pub i4: usize,
    pub i3: usize,
    pub i2: usize,
    pub i1: usize,
}

impl Index {
    pub const fn of(pfn: u64) -> Index {
        let m = NODE_ENTRIES as u64 - 1;
        Index {
            i1: (pfn & (LEAF_BITS - 1)) as usize,
            i2: ((pfn >> 15) & m) as usize,
            i3: ((pfn >> 24) & m) as usize,
            i4: ((pfn >> 33) & m) as usize,
        }
    }
}

/// The first pfn of level-3 entry `i3` of level-4 entry `i4`.
/// (Indices come from `preempt`, which only this code writes; they are
/// clamped anyway, so a corrupt value cannot overflow.)
const fn position(i4: u32, i3: u32) -> u64 {
    let n = NODE_ENTRIES as u64;
    let i4 = if (i4 as u64) < n { i4 as u64 } else { n };
    let i3 = if (i3 as u64) < n { i3 as u64 } else { n };
    (i4 * n + i3) * L2_PAGES
}

fn entry(n: &Node, i: usize) -> Mfn {
    n.get(i)
        .map_or(INVALID_MFN, |e| Mfn(e.load(Ordering::Relaxed)))
}

/// `paging_new_log_dirty_page` + `_leaf`/`_node`: a pool page, zeroed for a
/// leaf, all `INVALID_MFN` for an interior node.  A failed allocation is
/// counted in `failed_allocs` (reported by the next PEEK/CLEAN as -ENOMEM).
fn new_page<E: LogDirtyEnv>(e: &E, d: E::Dom, leaf: bool) -> Mfn {
    let Some(mfn) = e.alloc_page(d) else {
        let failed = e.field(d, Field::FailedAllocs);
        e.set_field(d, Field::FailedAllocs, failed.wrapping_add(1));
        return INVALID_MFN;
    };
    let allocs = e.field(d, Field::Allocs);
    e.set_field(d, Field::Allocs, allocs.wrapping_add(1));
    let fill = if leaf { 0 } else { INVALID_MFN.0 };
    e.with_node(mfn, |n| {
        for w in n.iter() {
            w.store(fill, Ordering::Relaxed)
        }
    });
    mfn
}

/// `paging_free_log_dirty_page`.
fn free_page<E: LogDirtyEnv>(e: &E, d: E::Dom, mfn: Mfn) {
    let allocs = e.field(d, Field::Allocs);
    e.set_field(d, Field::Allocs, allocs.wrapping_sub(1));
    e.free_page(d, mfn);
}

/// Entry `i` of node `node`, allocating the child if absent.
fn child_or_new<E: LogDirtyEnv>(e: &E, d: E::Dom, node: Mfn, i: usize, leaf: bool) -> Mfn {
    let cur = e.with_node(node, |n| entry(n, i));
    if cur != INVALID_MFN {
        return cur;
    }
    let new = new_page(e, d, leaf);
    if new != INVALID_MFN {
        e.with_node(node, |n| {
            if let Some(w) = n.get(i) {
                w.store(new.0, Ordering::Release)
            }
        });
    }
    new
}

/// `paging_mark_pfn_dirty(d, pfn)`: sets the pfn's bit, allocating the path
/// to its leaf from the paging pool, and counts newly set bits.
pub fn mark_pfn_dirty<E: LogDirtyEnv>(e: &E, d: E::Dom, pfn: u64) {
    if !e.paging_mode_log_dirty(d) {
        return;
    }
    // C: BUG_ON(paging_mode_translate(d) && SHARED_M2P(pfn)).  The value has
    // the top bit set, so it is also not VALID_M2P: ignored, as C would if it
    // did not crash the host.
    if e.paging_mode_translate(d) && pfn == SHARED_M2P_ENTRY {
        return;
    }
    if !valid_m2p(pfn) {
        return;
    }
    // DEMONSTRATION ONLY (feature `break-logdirty`, off by default and never
    // in the normal build; `cargo xtask migrate rust --break logdirty`):
    // lose the dirty bit of one guest page in 61, as a buggy implementation
    // would, to show that the migration test catches it.  The same pfns as
    // tests/migrate/break-logdirty.patch drops in paging.c.
    if cfg!(feature = "break-logdirty") && pfn % 61 == 7 {
        return;
    }
    let idx = Index::of(pfn);
    // Recursive: called from inside the shadow code with the lock held.
    e.paging_lock_recursive(d);
    mark_locked(e, d, idx);
    e.paging_unlock(d);
}

fn mark_locked<E: LogDirtyEnv>(e: &E, d: E::Dom, idx: Index) {
    let mut top = Mfn(e.field(d, Field::Top));
    if top == INVALID_MFN {
        top = new_page(e, d, false);
        if top == INVALID_MFN {
            return;
        }
        e.set_field(d, Field::Top, top.0);
    }
    let l3 = child_or_new(e, d, top, idx.i4, false);
    if l3 == INVALID_MFN {
        return;
    }
    let l2 = child_or_new(e, d, l3, idx.i3, false);
    if l2 == INVALID_MFN {
        return;
    }
    let l1 = child_or_new(e, d, l2, idx.i2, true);
    if l1 == INVALID_MFN {
        return;
    }
    let bit = 1u64 << (idx.i1 % 64);
    let changed = e.with_node(l1, |n| {
        n.get(idx.i1 / 64)
            .is_some_and(|w| w.fetch_or(bit, Ordering::AcqRel) & bit == 0)
    });
    if changed {
        let n = e.field(d, Field::DirtyCount);
        e.set_field(d, Field::DirtyCount, n.wrapping_add(1));
    }
}

/// `paging_mfn_is_dirty(d, mfn)`: is the bit of the frame's guest pfn set?
/// Called by `_sh_propagate` with the paging lock held.
pub fn mfn_is_dirty<E: LogDirtyEnv>(e: &E, d: E::Dom, mfn: Mfn) -> bool {
    let pfn = e.gpfn_from_mfn(mfn);
    if !valid_m2p(pfn) {
        return false;
    }
    pfn_is_dirty_locked(e, d, pfn)
}

/// The lookup of `paging_mfn_is_dirty` by pfn (paging lock held).
pub fn pfn_is_dirty_locked<E: LogDirtyEnv>(e: &E, d: E::Dom, pfn: u64) -> bool {
    let idx = Index::of(pfn);
    let mut mfn = Mfn(e.field(d, Field::Top));
    for i in [idx.i4, idx.i3, idx.i2] {
        if mfn == INVALID_MFN {
            return false;
        }
        mfn = e.with_node(mfn, |n| entry(n, i));
    }
    if mfn == INVALID_MFN {
        return false;
    }
    let bit = 1u64 << (idx.i1 % 64);
    e.with_node(mfn, |n| {
        n.get(idx.i1 / 64)
            .is_some_and(|w| w.load(Ordering::Acquire) & bit != 0)
    })
}

/// `paging_free_log_dirty_bitmap(d, rc)`: frees the whole tree, preemptibly
/// (XSA-97).  `rc` is the result of the mode's `disable` hook; it is kept in
/// `preempt.done` across continuations and returned at the end.  Returns
/// -ERESTART when preempted (call again), -EBUSY when another domain's or
/// another op's continuation is pending.
pub fn free_bitmap<E: LogDirtyEnv>(e: &E, d: E::Dom, rc: i32) -> i32 {
    e.paging_lock(d);
    let top = Mfn(e.field(d, Field::Top));
    if top == INVALID_MFN {
        e.paging_unlock(d);
        return 0;
    }
    let cur = e.current_domain();
    let mut p = e.preempt(d);
    match p.dom {
        None => {
            p = Preempt {
                dom: None,
                op: p.op,
                // C: ASSERT(rc <= 0); done = -rc.
                done: u64::from(rc.min(0).unsigned_abs()),
                i4: 0,
                i3: 0,
            };
        }
        Some(owner) if owner != cur || p.op != op::OFF => {
            e.paging_unlock(d);
            return -errno::EBUSY;
        }
        Some(_) => {}
    }

    let mut i4 = p.i4 as usize;
    let mut i3 = p.i3 as usize;
    let mut preempted = false;
    while i4 < NODE_ENTRIES {
        let l3 = e.with_node(top, |n| entry(n, i4));
        if l3 != INVALID_MFN {
            while i3 < NODE_ENTRIES {
                let l2 = e.with_node(l3, |n| entry(n, i3));
                if l2 != INVALID_MFN {
                    for i2 in 0..NODE_ENTRIES {
                        let l1 = e.with_node(l2, |n| entry(n, i2));
                        if l1 != INVALID_MFN {
                            free_page(e, d, l1);
                        }
                    }
                    free_page(e, d, l2);
                    e.with_node(l3, |n| {
                        if let Some(w) = n.get(i3) {
                            w.store(INVALID_MFN.0, Ordering::Relaxed)
                        }
                    });
                    if i3 < NODE_ENTRIES - 1 && e.hypercall_preempt_check() {
                        p.i4 = i4 as u32;
                        p.i3 = i3 as u32 + 1;
                        preempted = true;
                        break;
                    }
                }
                i3 += 1;
            }
            if preempted {
                break;
            }
            free_page(e, d, l3);
            e.with_node(top, |n| {
                if let Some(w) = n.get(i4) {
                    w.store(INVALID_MFN.0, Ordering::Relaxed)
                }
            });
            if i4 < NODE_ENTRIES - 1 && e.hypercall_preempt_check() {
                p.i4 = i4 as u32 + 1;
                p.i3 = 0;
                preempted = true;
                break;
            }
        }
        i4 += 1;
        i3 = 0;
    }

    let ret = if preempted {
        p.dom = Some(cur);
        p.op = op::OFF;
        -errno::ERESTART
    } else {
        free_page(e, d, top);
        e.set_field(d, Field::Top, INVALID_MFN.0);
        e.set_field(d, Field::FailedAllocs, 0);
        p.dom = None;
        // `done` holds -rc (at most 2^31): back to a C return code.
        -(i32::try_from(p.done).unwrap_or(i32::MAX))
    };
    e.set_preempt(d, &p);
    e.paging_unlock(d);
    ret
}

/// Words reported per copy to the toolstack: 512 bytes of stack.
const CHUNK_WORDS: usize = 64;

/// Reports `bytes` bytes of leaf `l1` at byte `off` of the toolstack's
/// buffer (or, with no buffer, only clears them when `clean`).  Each word is
/// read, or taken with one atomic fetch-and-clear for CLEAN, then copied; a
/// failed copy puts the taken bits back and fails with -EFAULT.
fn report_leaf<E: LogDirtyEnv>(
    e: &E,
    l1: Mfn,
    bytes: usize,
    clean: bool,
    buf: Option<E::Buf>,
    off: u64,
) -> Result<(), i32> {
    e.with_node(l1, |n| {
        let mut done = 0usize;
        while done < bytes {
            let n_bytes = (bytes - done).min(CHUNK_WORDS * 8);
            let first = done / 8;
            let mut vals = [0u64; CHUNK_WORDS];
            let mut out = [0u8; CHUNK_WORDS * 8];
            for (k, v) in vals.iter_mut().enumerate() {
                let start = k * 8;
                if start >= n_bytes {
                    break;
                }
                // Only the bits of the bytes reported.
                let in_word = (n_bytes - start).min(8);
                let mask = if in_word == 8 {
                    !0u64
                } else {
                    (1u64 << (in_word * 8)) - 1
                };
                let Some(w) = n.get(first + k) else { break };
                *v = if clean {
                    w.fetch_and(!mask, Ordering::AcqRel) & mask
                } else {
                    w.load(Ordering::Acquire) & mask
                };
                if let Some(dst) = out.get_mut(start..start + in_word) {
                    dst.copy_from_slice(&v.to_le_bytes()[..in_word]);
                }
            }
            if let Some(b) = buf {
                let at = off.saturating_add(done as u64);
                let data = out.get(..n_bytes).unwrap_or(&out);
                if !e.copy_to_guest_offset(b, at, data) {
                    if clean {
                        for (k, v) in vals.iter().enumerate() {
                            if let Some(w) = n.get(first + k) {
                                w.fetch_or(*v, Ordering::AcqRel);
                            }
                        }
                    }
                    return Err(-errno::EFAULT);
                }
            }
            done += n_bytes;
        }
        Ok(())
    })
}

/// `paging_log_dirty_op(d, sc, resuming)`: PEEK or CLEAN.  Copies the
/// bitmap of the first `sc.pages` pfns into `sc.bitmap` (when not null),
/// clears what it reported for CLEAN, fills in the stats and lowers
/// `sc.pages` to what the tree covers.  The domain is paused for the
/// duration (across continuations).  Returns 0, -ERESTART (preempted: call
/// again with `resuming`), -EBUSY (another continuation pending), -ENOMEM
/// (marking failed to allocate since the last CLEAN) or -EFAULT (the buffer
/// is too short or not writable).
pub fn log_dirty_op<E: LogDirtyEnv>(
    e: &E,
    d: E::Dom,
    sc: &mut ShadowOp<E::Buf>,
    resuming: bool,
) -> i32 {
    if !resuming {
        // Mark dirty all currently write-mapped pages on e.g. the final
        // iteration of a save operation.
        if e.is_hvm_domain(d) && sc.mode & LOGDIRTY_FINAL != 0 {
            e.hvm_mapped_guest_frames_mark_dirty(d);
        }
        e.domain_pause(d);
        e.p2m_flush_hardware_cached_dirty(d);
    }

    e.paging_lock(d);
    let cur = e.current_domain();
    let mut p = e.preempt(d);
    match p.dom {
        None => {
            p.i4 = 0;
            p.i3 = 0;
            p.done = 0;
        }
        Some(owner) if owner != cur || p.op != sc.op => {
            e.paging_unlock(d);
            if !resuming {
                e.domain_unpause(d);
            }
            return -errno::EBUSY;
        }
        Some(_) => {}
    }
    let clean = sc.op == op::CLEAN;
    let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    sc.fault_count = clamp(e.field(d, Field::FaultCount));
    sc.dirty_count = clamp(e.field(d, Field::DirtyCount));

    let failed = e.field(d, Field::FailedAllocs);
    if failed != 0 {
        e.warn_failed_allocs(d, failed as u32);
        return fail(e, d, &mut p, -errno::ENOMEM);
    }

    let top = Mfn(e.field(d, Field::Top));
    let peek = sc.bitmap.is_some();
    let mut i4 = p.i4 as usize;
    let mut i3 = p.i3 as usize;
    let mut pages = position(p.i4, p.i3);
    let mut preempted = false;

    while pages < sc.pages && i4 < NODE_ENTRIES {
        let l3 = if top == INVALID_MFN {
            INVALID_MFN
        } else {
            e.with_node(top, |n| entry(n, i4))
        };
        while pages < sc.pages && i3 < NODE_ENTRIES {
            let l2 = if l3 == INVALID_MFN {
                INVALID_MFN
            } else {
                e.with_node(l3, |n| entry(n, i3))
            };
            if (l2 == INVALID_MFN || !clean) && !peek {
                // Nothing to report, nothing to clear: skip the 512 leaves.
                pages = pages.saturating_add(L2_PAGES);
            } else {
                let mut i2 = 0;
                while pages < sc.pages && i2 < NODE_ENTRIES {
                    let l1 = if l2 == INVALID_MFN {
                        INVALID_MFN
                    } else {
                        e.with_node(l2, |n| entry(n, i2))
                    };
                    let left = sc.pages - pages;
                    // min(PAGE_SIZE, (left + 7) / 8), without overflow.
                    let bytes = (left / 8 + u64::from(left % 8 != 0)).min(4096) as usize;
                    let off = pages / 8;
                    if l1 != INVALID_MFN {
                        if let Err(rv) = report_leaf(e, l1, bytes, clean, sc.bitmap, off) {
                            return fail(e, d, &mut p, rv);
                        }
                    } else if let Some(b) = sc.bitmap {
                        if !e.clear_guest_offset(b, off, bytes) {
                            return fail(e, d, &mut p, -errno::EFAULT);
                        }
                    }
                    pages += bytes as u64 * 8;
                    i2 += 1;
                }
            }
            if i3 < NODE_ENTRIES - 1 && e.hypercall_preempt_check() {
                p.i4 = i4 as u32;
                p.i3 = i3 as u32 + 1;
                preempted = true;
                break;
            }
            i3 += 1;
        }
        if !preempted && i4 < NODE_ENTRIES - 1 && e.hypercall_preempt_check() {
            p.i4 = i4 as u32 + 1;
            p.i3 = 0;
            preempted = true;
        }
        if preempted {
            break;
        }
        i4 += 1;
        i3 = 0;
    }

    if preempted {
        p.dom = Some(cur);
        p.op = sc.op;
        p.done = pages;
        e.set_preempt(d, &p);
        e.paging_unlock(d);
        // The domain stays paused until the last continuation.
        return -errno::ERESTART;
    }
    p.dom = None;
    e.set_preempt(d, &p);
    if clean {
        e.set_field(d, Field::FaultCount, 0);
        e.set_field(d, Field::DirtyCount, 0);
    }
    e.paging_unlock(d);

    if pages < sc.pages {
        sc.pages = pages.min(TREE_PAGES);
    }
    if clean {
        // The mode's own clean (shadow: blow the tables so every writable
        // mapping is rebuilt, and so marked again); safe: domain paused.
        e.log_dirty_ops_clean(d);
    }
    e.domain_unpause(d);
    0
}

/// The error exit of `paging_log_dirty_op`: no continuation, lock dropped,
/// domain unpaused.
fn fail<E: LogDirtyEnv>(e: &E, d: E::Dom, p: &mut Preempt<E::DomId>, rv: i32) -> i32 {
    p.dom = None;
    e.set_preempt(d, p);
    e.paging_unlock(d);
    e.domain_unpause(d);
    rv
}

/// `paging_log_dirty_range(d, begin_pfn, nr, dirty_bitmap)` (HAP's dirty
/// VRAM tracking): switches each `p2m_ram_rw` page of the range back to
/// `p2m_ram_logdirty` and sets its bit in `bitmap` (bit `i` = pfn
/// `begin + i`) when it had been written.  Pfns past the address space and
/// bits past `bitmap` end the scan (C's `int` index would overflow first).
pub fn log_dirty_range<E: LogDirtyEnv>(e: &E, d: E::Dom, begin: u64, nr: u64, bitmap: &mut [u8]) {
    e.p2m_lock(d);
    let mut i = 0u64;
    while i < nr {
        let Some(pfn) = begin.checked_add(i) else {
            break;
        };
        let Some(byte) = usize::try_from(i / 8).ok().and_then(|b| bitmap.get_mut(b)) else {
            break;
        };
        if e.p2m_change_type_rw_to_logdirty(d, pfn) == 0 {
            *byte |= 1 << (i % 8);
        }
        i += 1;
    }
    e.p2m_unlock(d);
    e.guest_flush_tlb_mask(d);
}
