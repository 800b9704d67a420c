//! `impl LogDirtyEnv` and `impl ShadowLogDirtyEnv` for Xen: one call into a
//! C shim of `ffi/c/logdirty.c` (or `c/core.c`) per method, plus the
//! mapping of tree pages.
//!
//! SAFETY (shared by every `unsafe` block below unless it says more):
//! `Dom` handles are live domains for the duration of the entry point
//! (paging.c and common.c call with a domain they hold); `ScBuf` is the
//! domctl argument of the `xsr_paging_log_dirty_op` call in progress; the
//! shims only read and write the fields they are named after.

use ::core::ffi::c_void;

use ffi::bindings::domain;
use ffi::xen::core_shims as core_c;
use ffi::xen::logdirty_shims as c;
use ffi::xen::xen_domctl_shadow_op;
use xen_shadow_rs::logdirty::shadow_ops::ShadowLogDirtyEnv;
use xen_shadow_rs::logdirty::{Field, LogDirtyEnv, Node, Preempt};
use xen_shadow_rs::types::Mfn;

use super::{Dom, Xen};

/// The toolstack's bitmap: the handle inside the domctl argument.
#[derive(Clone, Copy)]
pub struct ScBuf(pub *mut xen_domctl_shadow_op);

fn field_index(f: Field) -> u32 {
    match f {
        Field::Top => 0,
        Field::Allocs => 1,
        Field::FailedAllocs => 2,
        Field::FaultCount => 3,
        Field::DirtyCount => 4,
    }
}

impl LogDirtyEnv for Xen {
    type Dom = Dom;
    type DomId = *const domain;
    type Buf = ScBuf;

    fn paging_lock(&self, d: Dom) {
        // SAFETY: module doc.
        unsafe { super::fast::paging_lock(d.0, false) }
    }
    fn paging_lock_recursive(&self, d: Dom) {
        // SAFETY: module doc.
        unsafe { super::fast::paging_lock(d.0, true) }
    }
    fn paging_unlock(&self, d: Dom) {
        // SAFETY: module doc.
        unsafe { super::fast::paging_unlock(d.0) }
    }
    fn paging_mode_log_dirty(&self, d: Dom) -> bool {
        // SAFETY: module doc.
        unsafe { super::fast::paging_mode_log_dirty(d.0) }
    }
    fn paging_mode_translate(&self, d: Dom) -> bool {
        // SAFETY: module doc.
        unsafe { super::fast::paging_mode_translate(d.0) }
    }
    fn is_hvm_domain(&self, d: Dom) -> bool {
        // SAFETY: module doc.
        unsafe { super::fast::is_hvm_domain(d.0) }
    }
    fn current_domain(&self) -> *const domain {
        // SAFETY: reads `current`, always valid in hypervisor context.
        unsafe { c::xsr_ld_current_domain() }
    }

    fn alloc_page(&self, d: Dom) -> Option<Mfn> {
        // SAFETY: module doc; the pool hook is set for any domain whose
        // paging mode can log dirty pages (shadow_one_bit_enable, hap_enable).
        let mfn = unsafe { c::xsr_ld_alloc_page(d.0) };
        (mfn != !0).then_some(Mfn(mfn))
    }
    fn free_page(&self, d: Dom, mfn: Mfn) {
        // SAFETY: module doc; `mfn` is a tree page from `alloc_page`.
        unsafe { c::xsr_ld_free_page(d.0, mfn.0) }
    }
    fn with_node<R>(&self, mfn: Mfn, f: impl FnOnce(&Node) -> R) -> R {
        // `mfn` is a tree page this code allocated and still owns
        // (with_node's contract): mapped whole, page-aligned, until unmapped.
        // SAFETY: as just said.
        let p = unsafe { core_c::map_domain_page(ffi::xen::Mfn(mfn.0)) };
        // One `[AtomicU64; 512]` (the layout of `[u64; 512]`), only ever
        // accessed atomically, so other CPUs' accesses are sound.
        // SAFETY: as just said; the reference does not outlive the mapping.
        let r = f(unsafe { &*(p as *const Node) });
        // SAFETY: `p` came from map_domain_page above.
        unsafe { core_c::unmap_domain_page(p as *const c_void) };
        r
    }

    fn field(&self, d: Dom, f: Field) -> u64 {
        // SAFETY: module doc.
        unsafe { c::xsr_ld_field(d.0, field_index(f)) }
    }
    fn set_field(&self, d: Dom, f: Field, v: u64) {
        // SAFETY: module doc.
        unsafe { c::xsr_ld_set_field(d.0, field_index(f), v) }
    }
    fn preempt(&self, d: Dom) -> Preempt<*const domain> {
        let (mut op, mut done, mut i4, mut i3) = (0, 0, 0, 0);
        // SAFETY: module doc; the out-pointers are locals.
        let dom = unsafe { c::xsr_ld_preempt(d.0, &mut op, &mut done, &mut i4, &mut i3) };
        Preempt {
            dom: (!dom.is_null()).then_some(dom),
            op,
            done,
            i4,
            i3,
        }
    }
    fn set_preempt(&self, d: Dom, p: &Preempt<*const domain>) {
        let dom = p.dom.unwrap_or(::core::ptr::null());
        // SAFETY: module doc.
        unsafe { c::xsr_ld_set_preempt(d.0, dom, p.op, p.done, p.i4, p.i3) }
    }

    fn gpfn_from_mfn(&self, mfn: Mfn) -> u64 {
        // SAFETY: `mfn` is a valid guest frame (paging_mfn_is_dirty's
        // caller, _sh_propagate, checked mfn_valid), inside the M2P.
        unsafe { c::xsr_ld_gpfn_from_mfn(mfn.0) }
    }

    fn hypercall_preempt_check(&self) -> bool {
        // SAFETY: reads this CPU's softirq and event state.
        unsafe { c::xsr_ld_hypercall_preempt_check() }
    }
    fn copy_to_guest_offset(&self, buf: ScBuf, off: u64, data: &[u8]) -> bool {
        let Ok(len) = u32::try_from(data.len()) else {
            return false;
        };
        // SAFETY: module doc; `data` is a live slice of `len` bytes; the
        // copy goes through Xen's guest-access checks and fault fixups.
        unsafe { c::xsr_ld_copy_to_bitmap(buf.0, off, data.as_ptr(), len) == 0 }
    }
    fn clear_guest_offset(&self, buf: ScBuf, off: u64, len: usize) -> bool {
        let Ok(len) = u32::try_from(len) else {
            return false;
        };
        // SAFETY: module doc; as for copy_to_guest_offset.
        unsafe { c::xsr_ld_clear_bitmap(buf.0, off, len) == 0 }
    }

    fn domain_pause(&self, d: Dom) {
        // SAFETY: module doc (the toolstack never pauses itself: paging_domctl
        // refuses d == current->domain).
        unsafe { c::xsr_ld_domain_pause(d.0) }
    }
    fn domain_unpause(&self, d: Dom) {
        // SAFETY: module doc.
        unsafe { c::xsr_ld_domain_unpause(d.0) }
    }
    fn hvm_mapped_guest_frames_mark_dirty(&self, d: Dom) {
        // SAFETY: module doc; only called for HVM domains.
        unsafe { c::xsr_ld_mapped_frames_mark_dirty(d.0) }
    }
    fn p2m_flush_hardware_cached_dirty(&self, d: Dom) {
        // SAFETY: module doc.
        unsafe { c::xsr_ld_flush_hardware_cached_dirty(d.0) }
    }
    fn log_dirty_ops_clean(&self, d: Dom) {
        // SAFETY: module doc; ops were registered at domain creation
        // (paging_log_dirty_init) and are called without the lock held.
        unsafe { c::xsr_ld_ops_clean(d.0) }
    }
    fn warn_failed_allocs(&self, d: Dom, failed: u32) {
        // SAFETY: module doc.
        unsafe { c::xsr_ld_warn_failed_allocs(d.0, failed) }
    }

    fn p2m_lock(&self, d: Dom) {
        // SAFETY: module doc.
        unsafe { c::xsr_ld_p2m_lock(d.0) }
    }
    fn p2m_unlock(&self, d: Dom) {
        // SAFETY: module doc.
        unsafe { c::xsr_ld_p2m_unlock(d.0) }
    }
    fn p2m_change_type_rw_to_logdirty(&self, d: Dom, pfn: u64) -> i32 {
        // SAFETY: module doc; p2m_change_type_one checks the gfn itself.
        unsafe { c::xsr_ld_p2m_change_rw_to_logdirty(d.0, pfn) }
    }
    fn guest_flush_tlb_mask(&self, d: Dom) {
        // SAFETY: module doc.
        unsafe { c::xsr_ld_guest_flush_tlb_mask(d.0) }
    }
}

impl ShadowLogDirtyEnv for Xen {
    type Dom = Dom;

    fn paging_lock(&self, d: Dom) {
        // SAFETY: module doc.
        unsafe { super::fast::paging_lock(d.0, false) }
    }
    fn paging_unlock(&self, d: Dom) {
        // SAFETY: module doc.
        unsafe { super::fast::paging_unlock(d.0) }
    }
    fn shadow_mode_enabled(&self, d: Dom) -> bool {
        // SAFETY: module doc.
        unsafe { c::xsr_ld_shadow_mode_enabled(d.0) }
    }
    fn shadow_blow_tables(&self, d: Dom) {
        // SAFETY: module doc; called with the paging lock held, as C.
        unsafe { c::xsr_ld_shadow_blow_tables(d.0) }
    }
    fn is_pv_32bit_domain(&self, d: Dom) -> bool {
        // SAFETY: module doc.
        unsafe { super::fast::is_pv_32bit_domain(d.0) }
    }
    fn set_opt_linux_l3_toplevel(&self, d: Dom) {
        // SAFETY: module doc; paging lock held.
        unsafe { c::xsr_ld_set_linux_l3_toplevel(d.0) }
    }
    fn shadow_one_bit_enable_log_dirty(&self, d: Dom) -> i32 {
        // SAFETY: module doc; paging lock held (its ASSERT).
        unsafe { c::xsr_ld_shadow_one_bit_enable(d.0) }
    }
    fn shadow_one_bit_disable_log_dirty(&self, d: Dom) -> i32 {
        // SAFETY: module doc; paging lock held (its ASSERT).
        unsafe { c::xsr_ld_shadow_one_bit_disable(d.0) }
    }
}
