//! Host tests of the log-dirty code against a threaded model of what it
//! needs from Xen: a real (recursive) paging lock, a bounded page pool whose
//! pages are checked on every access (use after free fails the test), a
//! toolstack buffer of a chosen length, a preemption check that fires on a
//! schedule.  Self-contained on purpose (the platform simulator is separate).

use std::boxed::Box;
use std::cell::Cell;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, ThreadId};
use std::vec;
use std::vec::Vec;

use super::bitmap::{self, Index};
use super::shadow_ops::{self, ShadowLogDirtyEnv};
use super::*;
use crate::types::{Mfn, INVALID_MFN};

const TOOLSTACK: u32 = 0;
const OTHER_DOMAIN: u32 = 7;
const MFN_BASE: u64 = 0x4000;
/// The model's M2P: machine frame `M2P_BASE + pfn` holds guest pfn `pfn`.
const M2P_BASE: u64 = 0x100_0000;

std::thread_local! {
    static CURRENT: Cell<u32> = const { Cell::new(TOOLSTACK) };
}

/// A recursive spinlock-like lock: `paging_lock` (must not be held by this
/// thread already) and `paging_lock_recursive`.
#[derive(Default)]
struct RecLock {
    state: Mutex<(Option<ThreadId>, u32)>,
    cv: Condvar,
}

impl RecLock {
    fn lock(&self, recursive: bool) {
        let me = thread::current().id();
        let mut s = self.state.lock().unwrap();
        loop {
            match s.0 {
                None => {
                    *s = (Some(me), 1);
                    return;
                }
                Some(t) if t == me => {
                    assert!(recursive, "paging_lock taken twice by one CPU");
                    s.1 += 1;
                    return;
                }
                Some(_) => s = self.cv.wait(s).unwrap(),
            }
        }
    }
    fn unlock(&self) {
        let mut s = self.state.lock().unwrap();
        assert_eq!(s.0, Some(thread::current().id()), "unlock by a non-owner");
        s.1 -= 1;
        if s.1 == 0 {
            s.0 = None;
            self.cv.notify_all();
        }
    }
    fn held_by_me(&self) -> bool {
        self.state.lock().unwrap().0 == Some(thread::current().id())
    }
}

struct Sim {
    lock: RecLock,
    pages: Vec<Box<Node>>,
    allocated: Mutex<Vec<bool>>,
    pool_limit: AtomicU32,
    fields: Mutex<[u64; 5]>,
    preempt: Mutex<Preempt<u32>>,
    log_dirty: AtomicBool,
    translate: bool,
    /// `hypercall_preempt_check()` is true every `preempt_every`-th call (0:
    /// never).
    preempt_every: AtomicU32,
    checks: AtomicU32,
    /// Toolstack buffers; `Buf` is an index.
    bufs: Mutex<Vec<Vec<u8>>>,
    pauses: AtomicI32,
    cleans: AtomicU32,
    warnings: AtomicU32,
    /// Pfns marked from inside the next copy to the toolstack, as if another
    /// CPU dirtied them while the copy runs.
    mark_during_copy: Mutex<Vec<u64>>,
    /// The p2m of `log_dirty_range`: pfn → written (p2m_ram_rw).
    p2m_rw: Mutex<BTreeSet<u64>>,
    events: Mutex<Vec<&'static str>>,
}

impl Sim {
    fn new(pool: usize) -> Arc<Sim> {
        let pages = (0..pool)
            .map(|_| Box::new(core::array::from_fn(|_| AtomicU64::new(0xdead_beef))))
            .collect();
        Arc::new(Sim {
            lock: RecLock::default(),
            pages,
            allocated: Mutex::new(vec![false; pool]),
            pool_limit: AtomicU32::new(pool as u32),
            fields: Mutex::new([INVALID_MFN.0, 0, 0, 0, 0]),
            preempt: Mutex::new(Preempt {
                dom: None,
                op: 0,
                done: 0,
                i4: 0,
                i3: 0,
            }),
            log_dirty: AtomicBool::new(true),
            translate: true,
            preempt_every: AtomicU32::new(0),
            checks: AtomicU32::new(0),
            bufs: Mutex::new(Vec::new()),
            pauses: AtomicI32::new(0),
            cleans: AtomicU32::new(0),
            warnings: AtomicU32::new(0),
            mark_during_copy: Mutex::new(Vec::new()),
            p2m_rw: Mutex::new(BTreeSet::new()),
            events: Mutex::new(Vec::new()),
        })
    }
    fn buf(&self, len: usize, fill: u8) -> u32 {
        let mut b = self.bufs.lock().unwrap();
        b.push(vec![fill; len]);
        (b.len() - 1) as u32
    }
    fn buf_bits(&self, b: u32) -> BTreeSet<u64> {
        let bufs = self.bufs.lock().unwrap();
        let mut out = BTreeSet::new();
        // Word by word: the buffers are megabytes of mostly zeros.
        for (i, w) in bufs[b as usize].chunks(8).enumerate() {
            let mut bytes = [0u8; 8];
            bytes[..w.len()].copy_from_slice(w);
            let mut v = u64::from_le_bytes(bytes);
            while v != 0 {
                let bit = u64::from(v.trailing_zeros());
                out.insert(i as u64 * 64 + bit);
                v &= v - 1;
            }
        }
        out
    }
    fn pages_in_use(&self) -> usize {
        self.allocated
            .lock()
            .unwrap()
            .iter()
            .filter(|a| **a)
            .count()
    }
    fn field_(&self, f: Field) -> u64 {
        self.fields.lock().unwrap()[f as usize]
    }
    fn node(&self, mfn: Mfn) -> &Node {
        let i = (mfn.0 - MFN_BASE) as usize;
        assert!(
            self.allocated.lock().unwrap()[i],
            "access to tree page {mfn:?}, which is not allocated"
        );
        &self.pages[i]
    }
    /// The bitmap word of a pfn, walking the tree without the lock (CLEAN
    /// never changes the tree's shape).
    fn leaf_word(&self, pfn: u64) -> &AtomicU64 {
        let idx = Index::of(pfn);
        let mut mfn = Mfn(self.field_(Field::Top));
        for i in [idx.i4, idx.i3, idx.i2] {
            mfn = Mfn(self.node(mfn)[i].load(Ordering::Acquire));
        }
        &self.node(mfn)[idx.i1 / 64]
    }
}

impl LogDirtyEnv for Sim {
    type Dom = ();
    type DomId = u32;
    type Buf = u32;

    fn paging_lock(&self, _: ()) {
        self.lock.lock(false)
    }
    fn paging_lock_recursive(&self, _: ()) {
        self.lock.lock(true)
    }
    fn paging_unlock(&self, _: ()) {
        self.lock.unlock()
    }
    fn paging_mode_log_dirty(&self, _: ()) -> bool {
        self.log_dirty.load(Ordering::Relaxed)
    }
    fn paging_mode_translate(&self, _: ()) -> bool {
        self.translate
    }
    fn is_hvm_domain(&self, _: ()) -> bool {
        true
    }
    fn current_domain(&self) -> u32 {
        CURRENT.with(|c| c.get())
    }
    fn alloc_page(&self, _: ()) -> Option<Mfn> {
        assert!(self.lock.held_by_me(), "pool allocation without the lock");
        let mut a = self.allocated.lock().unwrap();
        let used = a.iter().filter(|x| **x).count();
        if used >= self.pool_limit.load(Ordering::Relaxed) as usize {
            return None;
        }
        let i = a.iter().position(|x| !*x)?;
        a[i] = true;
        Some(Mfn(MFN_BASE + i as u64))
    }
    fn free_page(&self, _: (), mfn: Mfn) {
        assert!(self.lock.held_by_me(), "pool free without the lock");
        let i = (mfn.0 - MFN_BASE) as usize;
        let mut a = self.allocated.lock().unwrap();
        assert!(a[i], "double free of {mfn:?}");
        a[i] = false;
        for w in self.pages[i].iter() {
            w.store(0xdead_beef, Ordering::Relaxed);
        }
    }
    fn with_node<R>(&self, mfn: Mfn, f: impl FnOnce(&Node) -> R) -> R {
        f(self.node(mfn))
    }
    fn field(&self, _: (), f: Field) -> u64 {
        assert!(self.lock.held_by_me(), "{f:?} read without the lock");
        self.field_(f)
    }
    fn set_field(&self, _: (), f: Field, v: u64) {
        assert!(self.lock.held_by_me(), "{f:?} written without the lock");
        // allocs and failed_allocs are C `unsigned int`s.
        let v = match f {
            Field::Allocs | Field::FailedAllocs => v & 0xffff_ffff,
            _ => v,
        };
        self.fields.lock().unwrap()[f as usize] = v;
    }
    fn preempt(&self, _: ()) -> Preempt<u32> {
        assert!(self.lock.held_by_me());
        *self.preempt.lock().unwrap()
    }
    fn set_preempt(&self, _: (), p: &Preempt<u32>) {
        assert!(self.lock.held_by_me());
        let mut p = *p;
        p.done &= (1 << 40) - 1; // C's bitfield
        *self.preempt.lock().unwrap() = p;
    }
    fn gpfn_from_mfn(&self, mfn: Mfn) -> u64 {
        mfn.0.checked_sub(M2P_BASE).unwrap_or(!0)
    }
    fn hypercall_preempt_check(&self) -> bool {
        let every = self.preempt_every.load(Ordering::Relaxed);
        let n = self.checks.fetch_add(1, Ordering::Relaxed) + 1;
        every != 0 && n % every == 0
    }
    fn copy_to_guest_offset(&self, buf: u32, off: u64, data: &[u8]) -> bool {
        let pending: Vec<u64> = core::mem::take(&mut *self.mark_during_copy.lock().unwrap());
        for pfn in pending {
            bitmap::mark_pfn_dirty(self, (), pfn);
        }
        let mut bufs = self.bufs.lock().unwrap();
        let b = &mut bufs[buf as usize];
        let Some(dst) = usize::try_from(off)
            .ok()
            .and_then(|o| b.get_mut(o..o.checked_add(data.len())?))
        else {
            return false;
        };
        dst.copy_from_slice(data);
        true
    }
    fn clear_guest_offset(&self, buf: u32, off: u64, len: usize) -> bool {
        let mut bufs = self.bufs.lock().unwrap();
        let b = &mut bufs[buf as usize];
        let Some(dst) = usize::try_from(off)
            .ok()
            .and_then(|o| b.get_mut(o..o.checked_add(len)?))
        else {
            return false;
        };
        dst.fill(0);
        true
    }
    fn domain_pause(&self, _: ()) {
        self.pauses.fetch_add(1, Ordering::SeqCst);
    }
    fn domain_unpause(&self, _: ()) {
        assert!(
            self.pauses.fetch_sub(1, Ordering::SeqCst) > 0,
            "unbalanced unpause"
        );
    }
    fn hvm_mapped_guest_frames_mark_dirty(&self, _: ()) {
        self.events.lock().unwrap().push("mapped_frames_mark_dirty");
    }
    fn p2m_flush_hardware_cached_dirty(&self, _: ()) {}
    fn log_dirty_ops_clean(&self, _: ()) {
        assert!(
            !self.lock.held_by_me(),
            "ops->clean called with the lock held"
        );
        self.cleans.fetch_add(1, Ordering::SeqCst);
    }
    fn warn_failed_allocs(&self, _: (), _: u32) {
        self.warnings.fetch_add(1, Ordering::SeqCst);
    }
    fn p2m_lock(&self, _: ()) {
        self.events.lock().unwrap().push("p2m_lock");
    }
    fn p2m_unlock(&self, _: ()) {
        self.events.lock().unwrap().push("p2m_unlock");
    }
    fn p2m_change_type_rw_to_logdirty(&self, _: (), pfn: u64) -> i32 {
        if self.p2m_rw.lock().unwrap().remove(&pfn) {
            0
        } else {
            -errno::EBUSY
        }
    }
    fn guest_flush_tlb_mask(&self, _: ()) {
        self.events.lock().unwrap().push("flush");
    }
}

fn sc(op: u32, pages: u64, bitmap: Option<u32>) -> ShadowOp<u32> {
    ShadowOp {
        op,
        mode: 0,
        pages,
        bitmap,
        fault_count: 0,
        dirty_count: 0,
    }
}

/// Runs an op to completion through its continuations; returns the final
/// code and how many continuations it took.
fn run(s: &Sim, op: &mut ShadowOp<u32>) -> (i32, u32) {
    let mut rc = bitmap::log_dirty_op(s, (), op, false);
    let mut restarts = 0;
    while rc == -errno::ERESTART {
        restarts += 1;
        assert_eq!(
            s.pauses.load(Ordering::SeqCst),
            1,
            "paused across continuations"
        );
        rc = bitmap::log_dirty_op(s, (), op, true);
    }
    (rc, restarts)
}

fn mark_all(s: &Sim, pfns: &[u64]) {
    for &p in pfns {
        bitmap::mark_pfn_dirty(s, (), p);
    }
}

// Pfns spread over leaves, level-2 and level-3 entries, in words shared by
// neighbours and at word and leaf edges.
const SAMPLE: &[u64] = &[
    0,
    1,
    63,
    64,
    4095,
    32767,
    32768,
    32769,
    (1 << 24) - 1,
    1 << 24,
    (3 << 24) + 12345,
];
const SAMPLE_PAGES: u64 = 4 << 24;

#[test]
fn peek_reports_exactly_the_marked_pfns_and_keeps_them() {
    let s = Sim::new(64);
    mark_all(&s, SAMPLE);
    mark_all(&s, &SAMPLE[..3]); // already set: not counted again
    let b = s.buf((SAMPLE_PAGES / 8) as usize, 0xff);
    let mut op = sc(op::PEEK, SAMPLE_PAGES, Some(b));
    assert_eq!(run(&s, &mut op).0, 0);
    assert_eq!(s.buf_bits(b), SAMPLE.iter().copied().collect());
    assert_eq!(op.dirty_count, SAMPLE.len() as u32);
    assert_eq!(op.pages, SAMPLE_PAGES);
    assert_eq!(s.pauses.load(Ordering::SeqCst), 0);
    assert_eq!(
        s.cleans.load(Ordering::SeqCst),
        0,
        "PEEK does not call ops->clean"
    );
    s.lock.lock(false);
    for &p in SAMPLE {
        assert!(bitmap::mfn_is_dirty(&*s, (), Mfn(M2P_BASE + p)));
    }
    assert!(!bitmap::mfn_is_dirty(&*s, (), Mfn(M2P_BASE + 2)));
    assert!(!bitmap::mfn_is_dirty(&*s, (), Mfn(M2P_BASE + (2 << 24))));
    assert!(!bitmap::mfn_is_dirty(&*s, (), Mfn(1))); // no M2P entry
    s.lock.unlock();
    // Tree: top, one l3, l2s for i3 0, 1, 3, leaves 0, 1, 511 of l2 0,
    // leaf 0 of l2 1, leaf 0 of l2 3.
    assert_eq!(s.pages_in_use(), 1 + 1 + 3 + 5);
    assert_eq!(s.field_(Field::Allocs), 10);
}

#[test]
fn clean_clears_exactly_what_it_reports() {
    let s = Sim::new(64);
    mark_all(&s, &[3, 99, 103, 104, 200, 40000]);
    s.fields.lock().unwrap()[Field::FaultCount as usize] = 7;
    let b = s.buf(13, 0);
    // 100 pages: 13 bytes, bits 0..104 reported and cleared.
    let mut op = sc(op::CLEAN, 100, Some(b));
    assert_eq!(run(&s, &mut op).0, 0);
    assert_eq!(s.buf_bits(b), [3, 99, 103].into_iter().collect());
    assert_eq!((op.fault_count, op.dirty_count), (7, 6));
    assert_eq!(op.pages, 100);
    assert_eq!(s.cleans.load(Ordering::SeqCst), 1);
    assert_eq!(s.field_(Field::DirtyCount), 0);
    assert_eq!(s.field_(Field::FaultCount), 0);
    // The rest of the leaf (C would have zeroed it) is still there.
    let b2 = s.buf(8192, 0);
    let mut op = sc(op::PEEK, 65536, Some(b2));
    assert_eq!(run(&s, &mut op).0, 0);
    assert_eq!(s.buf_bits(b2), [104, 200, 40000].into_iter().collect());
}

#[test]
fn a_pfn_dirtied_while_its_word_is_copied_is_not_lost() {
    let s = Sim::new(64);
    mark_all(&s, &[5, 70]);
    // While CLEAN copies the first chunk (words 0..64, already taken), another
    // CPU dirties pfn 6 (same word as 5) and pfn 71 (same word as 70).
    s.mark_during_copy.lock().unwrap().extend([6, 71]);
    let b = s.buf(4096, 0);
    let mut op = sc(op::CLEAN, 32768, Some(b));
    assert_eq!(run(&s, &mut op).0, 0);
    assert_eq!(s.buf_bits(b), [5, 70].into_iter().collect());
    // Copy-then-zero-the-page would have lost them; they are still set.
    let b2 = s.buf(4096, 0);
    let mut op = sc(op::CLEAN, 32768, Some(b2));
    assert_eq!(run(&s, &mut op).0, 0);
    assert_eq!(s.buf_bits(b2), [6, 71].into_iter().collect());
}

#[test]
fn preempted_ops_resume_where_they_stopped_with_the_same_result() {
    let s = Sim::new(64);
    mark_all(&s, SAMPLE);
    let whole = s.buf((SAMPLE_PAGES / 8) as usize, 0);
    let mut op = sc(op::PEEK, SAMPLE_PAGES, Some(whole));
    assert_eq!(run(&s, &mut op), (0, 0));

    s.preempt_every.store(1, Ordering::Relaxed);
    let b = s.buf((SAMPLE_PAGES / 8) as usize, 0xaa);
    let mut op = sc(op::CLEAN, SAMPLE_PAGES, Some(b));
    let (rc, restarts) = run(&s, &mut op);
    assert_eq!(rc, 0);
    assert!(restarts >= 3, "preempted at each level-3 entry: {restarts}");
    assert_eq!(s.buf_bits(b), s.buf_bits(whole));
    assert_eq!(op.pages, SAMPLE_PAGES);
    assert_eq!(s.pauses.load(Ordering::SeqCst), 0);
    assert_eq!(s.preempt.lock().unwrap().dom, None);
}

#[test]
fn a_pending_continuation_refuses_other_callers_and_ops() {
    let s = Sim::new(64);
    mark_all(&s, SAMPLE);
    s.preempt_every.store(1, Ordering::Relaxed);
    let b = s.buf((SAMPLE_PAGES / 8) as usize, 0);
    let mut op = sc(op::CLEAN, SAMPLE_PAGES, Some(b));
    assert_eq!(
        bitmap::log_dirty_op(&*s, (), &mut op, false),
        -errno::ERESTART
    );
    assert_eq!(s.pauses.load(Ordering::SeqCst), 1);
    // Another op by the same caller, and the same op by another domain.
    let mut peek = sc(op::PEEK, SAMPLE_PAGES, Some(b));
    assert_eq!(
        bitmap::log_dirty_op(&*s, (), &mut peek, false),
        -errno::EBUSY
    );
    CURRENT.with(|c| c.set(OTHER_DOMAIN));
    let mut other = op;
    assert_eq!(
        bitmap::log_dirty_op(&*s, (), &mut other, false),
        -errno::EBUSY
    );
    assert_eq!(
        bitmap::log_dirty_op(&*s, (), &mut other, true),
        -errno::EBUSY
    );
    assert_eq!(bitmap::free_bitmap(&*s, (), 0), -errno::EBUSY);
    CURRENT.with(|c| c.set(TOOLSTACK));
    // Refusals leave the pause count as they found it.
    assert_eq!(s.pauses.load(Ordering::SeqCst), 1);
    let mut rc = -errno::ERESTART;
    while rc == -errno::ERESTART {
        rc = bitmap::log_dirty_op(&*s, (), &mut op, true);
    }
    assert_eq!(rc, 0);
    assert_eq!(s.buf_bits(b), SAMPLE.iter().copied().collect());
    assert_eq!(s.pauses.load(Ordering::SeqCst), 0);
}

#[test]
fn null_buffer_cleans_and_reports_counts_only() {
    let s = Sim::new(64);
    mark_all(&s, SAMPLE);
    let mut op = sc(op::PEEK, SAMPLE_PAGES, None);
    assert_eq!(run(&s, &mut op).0, 0);
    assert_eq!(
        (op.pages, op.dirty_count),
        (SAMPLE_PAGES, SAMPLE.len() as u32)
    );
    let mut op = sc(op::CLEAN, SAMPLE_PAGES, None);
    assert_eq!(run(&s, &mut op).0, 0);
    let b = s.buf((SAMPLE_PAGES / 8) as usize, 0);
    let mut op = sc(op::PEEK, SAMPLE_PAGES, Some(b));
    assert_eq!(run(&s, &mut op).0, 0);
    assert!(s.buf_bits(b).is_empty(), "CLEAN without a buffer clears");
    assert_eq!(op.dirty_count, 0);
}

#[test]
fn huge_counts_stop_at_the_tree_and_stay_preemptible() {
    let s = Sim::new(64);
    mark_all(&s, SAMPLE);
    s.preempt_every.store(1000, Ordering::Relaxed);
    for pages in [u64::MAX, u64::MAX - 3, 1 << 50, TREE_PAGES + 1] {
        let mut op = sc(op::CLEAN, pages, None);
        let (rc, restarts) = run(&s, &mut op);
        assert_eq!(rc, 0);
        assert_eq!(op.pages, TREE_PAGES, "count {pages:#x}");
        assert!(
            restarts > 200,
            "a full-range walk is preemptible: {restarts}"
        );
    }
    // A count the tree covers exactly is left alone.
    let mut op = sc(op::PEEK, TREE_PAGES, None);
    assert_eq!(run(&s, &mut op).0, 0);
    assert_eq!(op.pages, TREE_PAGES);
    // With a (short) buffer, a huge count faults like C, nothing pending.
    let b = s.buf(4096, 0);
    let mut op = sc(op::PEEK, u64::MAX, Some(b));
    assert_eq!(run(&s, &mut op).0, -errno::EFAULT);
    assert_eq!(s.preempt.lock().unwrap().dom, None);
    assert_eq!(s.pauses.load(Ordering::SeqCst), 0);
}

#[test]
fn short_buffer_faults_and_loses_no_dirty_bit() {
    let s = Sim::new(64);
    // The fault happens in the second chunk of leaf 0, bit 5000 is in it,
    // bit 40000 in the next leaf, never reached.
    mark_all(&s, &[1, 5000, 40000]);
    let b = s.buf(600, 0);
    let mut op = sc(op::CLEAN, 65536, Some(b));
    assert_eq!(run(&s, &mut op).0, -errno::EFAULT);
    assert_eq!(
        s.pauses.load(Ordering::SeqCst),
        0,
        "never left paused on errors"
    );
    assert_eq!(s.preempt.lock().unwrap().dom, None);
    assert_eq!(s.cleans.load(Ordering::SeqCst), 0);
    assert_eq!(op.pages, 65536, "pages untouched on error");
    // Bit 1 was reported in the first chunk (and cleared); 5000 and 40000
    // are still there for the next round.
    assert_eq!(s.buf_bits(b), [1].into_iter().collect());
    let b2 = s.buf(8192, 0);
    let mut op = sc(op::CLEAN, 65536, Some(b2));
    assert_eq!(run(&s, &mut op).0, 0);
    assert_eq!(s.buf_bits(b2), [5000, 40000].into_iter().collect());
    // A buffer short of a leaf that does not exist faults as well (C's
    // clear_guest_offset), and so does a count past the guest's memory with
    // a buffer sized for the guest.
    let b3 = s.buf(4096 + 100, 0);
    let mut op = sc(op::PEEK, 3 * 32768, Some(b3));
    assert_eq!(run(&s, &mut op).0, -errno::EFAULT);
}

#[test]
fn counts_past_the_guest_read_as_clean() {
    let s = Sim::new(64);
    mark_all(&s, &[10]);
    // The guest has 32768 pages; the toolstack asks for four leaves' worth.
    let b = s.buf(4 * 4096, 0xff);
    let mut op = sc(op::PEEK, 4 * 32768, Some(b));
    assert_eq!(run(&s, &mut op).0, 0);
    assert_eq!(s.buf_bits(b), [10].into_iter().collect());
    assert_eq!(op.pages, 4 * 32768);
}

#[test]
fn failed_allocations_make_the_next_op_fail_with_enomem() {
    let s = Sim::new(3);
    // top, l3, l2 fit; the leaf does not.
    bitmap::mark_pfn_dirty(&*s, (), 42);
    assert_eq!(s.field_(Field::FailedAllocs), 1);
    let b = s.buf(4096, 0);
    let mut op = sc(op::CLEAN, 32768, Some(b));
    assert_eq!(run(&s, &mut op).0, -errno::ENOMEM);
    assert_eq!(s.warnings.load(Ordering::SeqCst), 1);
    assert_eq!(s.pauses.load(Ordering::SeqCst), 0);
    // Freeing the bitmap resets the failure.
    assert_eq!(bitmap::free_bitmap(&*s, (), 0), 0);
    assert_eq!(s.field_(Field::FailedAllocs), 0);
    assert_eq!(s.pages_in_use(), 0);
}

#[test]
fn marking_ignores_non_ram_and_off_mode() {
    let s = Sim::new(64);
    bitmap::mark_pfn_dirty(&*s, (), 1 << 63);
    bitmap::mark_pfn_dirty(&*s, (), !0);
    bitmap::mark_pfn_dirty(&*s, (), bitmap::SHARED_M2P_ENTRY);
    s.log_dirty.store(false, Ordering::Relaxed);
    bitmap::mark_pfn_dirty(&*s, (), 5);
    assert_eq!(s.pages_in_use(), 0);
    assert_eq!(s.field_(Field::Top), INVALID_MFN.0);
    // The lock is taken recursively: marking from inside the shadow code.
    s.log_dirty.store(true, Ordering::Relaxed);
    s.lock.lock(false);
    bitmap::mark_pfn_dirty(&*s, (), 5);
    s.lock.unlock();
    assert_eq!(s.field_(Field::DirtyCount), 1);
}

#[test]
fn freeing_is_preemptible_returns_every_page_and_keeps_rc() {
    let s = Sim::new(64);
    assert_eq!(bitmap::free_bitmap(&*s, (), 0), 0, "no tree: nothing to do");
    mark_all(&s, SAMPLE);
    mark_all(&s, &[(5 << 33) + 1]); // a second level-3 node
    assert_eq!(s.pages_in_use(), 13);
    s.preempt_every.store(1, Ordering::Relaxed);
    let mut rc = bitmap::free_bitmap(&*s, (), -errno::EINVAL);
    let mut restarts = 0;
    while rc == -errno::ERESTART {
        restarts += 1;
        rc = bitmap::free_bitmap(&*s, (), 1);
    }
    assert_eq!(
        rc,
        -errno::EINVAL,
        "the disable hook's code survives continuations"
    );
    assert!(restarts >= 3, "{restarts}");
    assert_eq!(s.pages_in_use(), 0);
    assert_eq!(s.field_(Field::Allocs), 0);
    assert_eq!(s.field_(Field::Top), INVALID_MFN.0);
    assert_eq!(s.preempt.lock().unwrap().dom, None);
    // A fresh bitmap can be built again.
    mark_all(&s, &[9]);
    assert_eq!(s.pages_in_use(), 4);
}

#[test]
fn log_dirty_range_reports_written_pages_and_stops_at_edges() {
    let s = Sim::new(4);
    s.p2m_rw.lock().unwrap().extend([100, 103, 110, 200]);
    let mut bm = [0u8; 2];
    bitmap::log_dirty_range(&*s, (), 100, 16, &mut bm);
    assert_eq!(bm, [0b0000_1001, 0b0000_0100]);
    assert!(s.p2m_rw.lock().unwrap().contains(&200));
    // Read again: now logdirty, so clean.
    let mut bm = [0u8; 2];
    bitmap::log_dirty_range(&*s, (), 100, 16, &mut bm);
    assert_eq!(bm, [0, 0]);
    // nr past the buffer, begin+nr past the address space: no overrun.
    let mut bm = [0u8; 1];
    bitmap::log_dirty_range(&*s, (), 196, 1 << 40, &mut bm);
    assert_eq!(bm, [0b0001_0000]);
    let mut bm = [0u8; 8];
    bitmap::log_dirty_range(&*s, (), u64::MAX - 2, 64, &mut bm);
    let ev = s.events.lock().unwrap();
    assert_eq!(ev.iter().filter(|e| **e == "flush").count(), 4);
    assert_eq!(ev.iter().filter(|e| **e == "p2m_lock").count(), 4);
}

#[test]
fn final_pass_marks_mapped_frames_of_hvm_guests() {
    let s = Sim::new(8);
    let mut op = sc(op::PEEK, 8, None);
    op.mode = LOGDIRTY_FINAL;
    assert_eq!(run(&s, &mut op).0, 0);
    let mut op = sc(op::PEEK, 8, None);
    assert_eq!(run(&s, &mut op).0, 0);
    let n = s.events.lock().unwrap().len();
    assert_eq!(n, 1);
}

/// Threads dirty disjoint pfns (each exactly once) through
/// `paging_mark_pfn_dirty` while the toolstack thread runs preemptible
/// CLEANs back to back: every pfn must be reported by exactly one CLEAN.
#[test]
fn concurrent_marking_during_clean_loses_nothing() {
    const THREADS: u64 = 4;
    const PER_THREAD: u64 = 3000;
    let s = Sim::new(256);
    s.preempt_every.store(1, Ordering::Relaxed);
    // Pfns over 4 level-3 entries (preemption points), several leaves each,
    // neighbours sharing words across threads.
    let pfn_of = |k: u64| ((k % 4) << 24) + ((k / 4) % 3) * 32768 + k / 12;
    let pages = 4u64 << 24;
    let done = Arc::new(AtomicBool::new(false));
    let mut markers = Vec::new();
    for t in 0..THREADS {
        let s = s.clone();
        markers.push(thread::spawn(move || {
            // A fixed permutation per thread (LCG), with yields.
            let mut x = t * 7919 + 1;
            let mut ks: Vec<u64> = (0..PER_THREAD).map(|i| i * THREADS + t).collect();
            for i in (1..ks.len()).rev() {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ks.swap(i, (x >> 33) as usize % (i + 1));
            }
            for (n, k) in ks.into_iter().enumerate() {
                bitmap::mark_pfn_dirty(&*s, (), pfn_of(k));
                if n % 64 == 0 {
                    thread::yield_now();
                }
            }
        }));
    }
    let cleaner = {
        let s = s.clone();
        let done = done.clone();
        thread::spawn(move || {
            let mut seen = std::collections::BTreeMap::<u64, u32>::new();
            let mut rounds = 0;
            loop {
                let last = done.load(Ordering::SeqCst);
                let b = s.buf((pages / 8) as usize, 0);
                let mut op = sc(op::CLEAN, pages, Some(b));
                assert_eq!(run(&s, &mut op).0, 0);
                for p in s.buf_bits(b) {
                    *seen.entry(p).or_default() += 1;
                }
                s.bufs.lock().unwrap()[b as usize] = Vec::new();
                rounds += 1;
                if last {
                    return (seen, rounds);
                }
            }
        })
    };
    for m in markers {
        m.join().unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let (seen, rounds) = cleaner.join().unwrap();
    let want: BTreeSet<u64> = (0..THREADS * PER_THREAD).map(pfn_of).collect();
    assert_eq!(want.len() as u64, THREADS * PER_THREAD);
    let lost: Vec<_> = want
        .iter()
        .filter(|p| !seen.contains_key(p))
        .take(5)
        .collect();
    assert!(
        lost.is_empty(),
        "dirty pfns lost: {lost:?} ({rounds} rounds)"
    );
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n != 1).take(5).collect();
    assert!(twice.is_empty(), "reported more than once: {twice:?}");
    assert_eq!(seen.keys().copied().collect::<BTreeSet<_>>(), want);
    assert!(rounds >= 2, "the CLEANs ran while marking: {rounds} rounds");
}

/// Bits set with no lock at all (as a CPU would if the tree were shared
/// lock-free) while CLEAN runs: the per-word fetch-and-clear must still hand
/// each bit to exactly one CLEAN.  Copy-then-zero fails this test.
#[test]
fn lock_free_setters_racing_clean_lose_nothing() {
    const THREADS: u64 = 3;
    let s = Sim::new(64);
    // Build the leaves first (marking allocates under the lock).
    let pfns: Vec<u64> = (0..3 * 32768).step_by(7).collect();
    mark_all(&s, &pfns);
    let b = s.buf(3 * 4096, 0);
    assert_eq!(run(&s, &mut sc(op::CLEAN, 3 * 32768, Some(b))).0, 0);
    let done = Arc::new(AtomicBool::new(false));
    let mut setters = Vec::new();
    for t in 0..THREADS {
        let s = s.clone();
        let pfns = pfns.clone();
        setters.push(thread::spawn(move || {
            for (n, p) in pfns.iter().enumerate() {
                if n as u64 % THREADS == t {
                    s.leaf_word(*p).fetch_or(1 << (p % 64), Ordering::AcqRel);
                }
            }
        }));
    }
    let cleaner = {
        let s = s.clone();
        let done = done.clone();
        thread::spawn(move || {
            let mut seen = std::collections::BTreeMap::<u64, u32>::new();
            loop {
                let last = done.load(Ordering::SeqCst);
                let b = s.buf(3 * 4096, 0);
                assert_eq!(run(&s, &mut sc(op::CLEAN, 3 * 32768, Some(b))).0, 0);
                for p in s.buf_bits(b) {
                    *seen.entry(p).or_default() += 1;
                }
                if last {
                    return seen;
                }
            }
        })
    };
    for t in setters {
        t.join().unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let seen = cleaner.join().unwrap();
    assert_eq!(seen.len(), pfns.len(), "lost bits");
    assert!(seen.values().all(|n| *n == 1));
}

#[derive(Default)]
struct ShadowSim {
    calls: Mutex<Vec<&'static str>>,
    enabled: bool,
    pv32: bool,
    rc: i32,
}

impl ShadowLogDirtyEnv for ShadowSim {
    type Dom = ();
    fn paging_lock(&self, _: ()) {
        self.calls.lock().unwrap().push("lock")
    }
    fn paging_unlock(&self, _: ()) {
        self.calls.lock().unwrap().push("unlock")
    }
    fn shadow_mode_enabled(&self, _: ()) -> bool {
        self.enabled
    }
    fn shadow_blow_tables(&self, _: ()) {
        self.calls.lock().unwrap().push("blow")
    }
    fn is_pv_32bit_domain(&self, _: ()) -> bool {
        self.pv32
    }
    fn set_opt_linux_l3_toplevel(&self, _: ()) {
        self.calls.lock().unwrap().push("l3_toplevel")
    }
    fn shadow_one_bit_enable_log_dirty(&self, _: ()) -> i32 {
        self.calls.lock().unwrap().push("enable_bit");
        self.rc
    }
    fn shadow_one_bit_disable_log_dirty(&self, _: ()) -> i32 {
        self.calls.lock().unwrap().push("disable_bit");
        self.rc
    }
}

#[test]
fn shadow_ops_blow_tables_under_the_lock_and_pass_errors_on() {
    let e = ShadowSim {
        enabled: true,
        pv32: true,
        rc: -errno::ENOMEM,
        ..Default::default()
    };
    assert_eq!(shadow_ops::enable(&e, (), true), -errno::ENOMEM);
    assert_eq!(
        *e.calls.lock().unwrap(),
        ["lock", "blow", "l3_toplevel", "enable_bit", "unlock"]
    );
    let e = ShadowSim::default();
    assert_eq!(shadow_ops::enable(&e, (), false), 0);
    assert_eq!(*e.calls.lock().unwrap(), ["lock", "enable_bit", "unlock"]);
    let e = ShadowSim {
        rc: -errno::EINVAL,
        ..Default::default()
    };
    assert_eq!(shadow_ops::disable(&e, ()), -errno::EINVAL);
    shadow_ops::clean(&e, ());
    assert_eq!(
        *e.calls.lock().unwrap(),
        ["lock", "disable_bit", "unlock", "lock", "blow", "unlock"]
    );
}
