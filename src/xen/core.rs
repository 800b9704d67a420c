//! `impl Core for Xen`: every method is one call into a C shim of
//! `ffi/c/core.c` or `ffi/c/guestwalkN.c` (declared in
//! `ffi::xen::core_shims`), or into the Xen function itself.
//!
//! Why shims and not Rust field reads: the shims are compiled by GCC with
//! Xen's CFLAGS, so bitfield positions (`page_info.u.sh`), the lock-level
//! bookkeeping of mm-locks.h, the `evaluate_nospec()` barriers of
//! `is_hvm_domain()`, get_unsafe()'s exception-table entry and debug
//! ASSERTs come from Xen's own headers; no layout is assumed on this side.
//!
//! SAFETY (shared by every `unsafe` block below unless it says more):
//! * `Dom`/`Vcpu` handles are live Xen objects for the duration of the entry
//!   point that produced them (module doc of `super`);
//! * frame numbers given to frame-table accessors (`sp_*`, `page_*`,
//!   `sh_*_ref`, `sh_pin`, ...) are frames the caller knows to be valid
//!   (shadow frames from the hash/pool, guest frames after `mfn_valid`), as
//!   multi.c's callers guarantee for the same C inlines;
//! * `Slot::ptr()` points at an 8-byte entry inside a page mapped by
//!   `map_domain_page` (or a linear map) that stays mapped across the call;
//! * out-pointers point to locals of the calling Rust frame.

use ::core::ffi::c_void;
use ::core::mem::MaybeUninit;
use ::core::ptr::NonNull;

use ffi::bindings::xsr_guest_walk;
use ffi::xen::core_shims as c;
use xen_shadow_rs::level::GuestLevel;
use xen_shadow_rs::platform::{Core, GuestWalk, Slot, Table};
use xen_shadow_rs::types::{Gfn, Mfn, P2mType};

use super::{fast, Dom, Vcpu, Xen};

// The audit switch (ffi/c/audit.c): common.c's `int shadow_audit_enable`
// in debug builds, the port's `bool xsr_audit_on` in release builds; read
// as one byte either way (x86 is little-endian, both are 0 or 1).
extern "C" {
    #[cfg(xen_debug)]
    #[link_name = "shadow_audit_enable"]
    static AUDIT_SWITCH: u8;
    #[cfg(not(xen_debug))]
    #[link_name = "xsr_audit_on"]
    static AUDIT_SWITCH: u8;
}

// The walker shim (c/guestwalkN.c) fills the algorithms' GuestWalk in
// place: it is `#[repr(C)]` with the same fields as C's flattened
// `struct xsr_guest_walk` (c/bindings.h), whose layout layout.rs checks
// against GCC.  Entries a level lacks are 0, their frames INVALID_MFN.
macro_rules! same_offset {
    ($($f:ident),*) => {
        $(const _: () = assert!(
            ::core::mem::offset_of!(GuestWalk, $f) == ::core::mem::offset_of!(xsr_guest_walk, $f)
        );)*
    };
}
same_offset!(va, l4e, l3e, l2e, l1e, l4mfn, l3mfn, l2mfn, l1mfn, pfec);
const _: () =
    assert!(::core::mem::size_of::<GuestWalk>() == ::core::mem::size_of::<xsr_guest_walk>());

// Every method is `#[inline(always)]`: each is one FFI call, not worth a
// frame of its own on the fault path.  (Over-long mangled names of outlined
// functions are shortened by ffi/xen-object.sh, so inlining is not needed
// for Xen's 127-byte symbol names.)
impl Core for Xen {
    type Dom = Dom;
    type Vcpu = Vcpu;

    // ---- domains and vCPUs -------------------------------------------

    #[inline(always)]
    fn vcpu_domain(&self, v: Vcpu) -> Dom {
        // SAFETY: see the module doc.
        Dom(unsafe { fast::vcpu_domain(v.0) })
    }

    #[inline(always)]
    fn current(&self) -> Vcpu {
        Vcpu(fast::current())
    }

    #[inline(always)]
    fn domain_vcpu(&self, d: Dom, i: u32) -> Option<Vcpu> {
        // SAFETY: see the module doc; the shim bounds-checks `i` against
        // `d->max_vcpus` before indexing `d->vcpu[]`.
        let v = unsafe { c::xsr_domain_vcpu(d.0, i) };
        (!v.is_null()).then_some(Vcpu(v))
    }

    #[inline(always)]
    fn max_vcpus(&self, d: Dom) -> u32 {
        // SAFETY: see the module doc.
        unsafe { c::xsr_max_vcpus(d.0) }
    }

    #[inline(always)]
    fn domain_id(&self, d: Dom) -> u16 {
        // SAFETY: see the module doc.
        unsafe { c::xsr_domain_id(d.0) }
    }

    #[inline(always)]
    fn vcpu_id(&self, v: Vcpu) -> u32 {
        // SAFETY: see the module doc.
        unsafe { c::xsr_vcpu_id(v.0) }
    }

    #[inline(always)]
    fn is_hvm_domain(&self, d: Dom) -> bool {
        // SAFETY: see the module doc.
        unsafe { fast::is_hvm_domain(d.0) }
    }

    #[inline(always)]
    fn is_pv_32bit_domain(&self, d: Dom) -> bool {
        // SAFETY: see the module doc.
        unsafe { fast::is_pv_32bit_domain(d.0) }
    }

    #[inline(always)]
    fn shadow_mode_refcounts(&self, d: Dom) -> bool {
        // SAFETY: see the module doc.
        unsafe { fast::shadow_mode_refcounts(d.0) }
    }

    #[inline(always)]
    fn paging_mode_translate(&self, d: Dom) -> bool {
        // SAFETY: see the module doc.
        unsafe { fast::paging_mode_translate(d.0) }
    }

    #[inline(always)]
    fn paging_mode_external(&self, d: Dom) -> bool {
        // SAFETY: see the module doc.
        unsafe { fast::paging_mode_external(d.0) }
    }

    #[inline(always)]
    fn paging_mode_log_dirty(&self, d: Dom) -> bool {
        // SAFETY: see the module doc.
        unsafe { fast::paging_mode_log_dirty(d.0) }
    }

    #[inline(always)]
    fn domain_is_dying(&self, d: Dom) -> bool {
        // SAFETY: see the module doc.
        unsafe { c::xsr_domain_is_dying(d.0) }
    }

    #[inline(always)]
    fn domain_is_shutting_down(&self, d: Dom) -> bool {
        // SAFETY: see the module doc.
        unsafe { c::xsr_domain_is_shutting_down(d.0) }
    }

    #[inline(always)]
    fn shadow_opt_flags(&self, d: Dom) -> u32 {
        // SAFETY: see the module doc.
        unsafe { c::xsr_shadow_opt_flags(d.0) }
    }

    #[inline(always)]
    fn set_shadow_opt_flags(&self, d: Dom, f: u32) {
        // SAFETY: see the module doc; C writes this field under the paging
        // lock, which the caller holds as multi.c does.
        unsafe { c::xsr_set_shadow_opt_flags(d.0, f) }
    }

    #[inline(always)]
    fn domain_crash(&self, d: Dom, why: &'static str) {
        // A &str is not NUL-terminated: the shim prints it with "%.*s".
        // C takes the precision as an int: clamp so it never turns negative.
        let len = why.len().min(i32::MAX as usize) as u32;
        // SAFETY: see the module doc; `why` is valid for `len` bytes.
        unsafe { c::xsr_domain_crash_str(d.0, why.as_ptr(), len) }
    }

    #[inline(always)]
    fn log(&self, args: ::core::fmt::Arguments<'_>) {
        ffi::xen::print(args)
    }

    // ---- machine frames --------------------------------------------------

    #[inline(always)]
    fn mfn_valid(&self, mfn: Mfn) -> bool {
        fast::mfn_valid(mfn.0)
    }

    #[inline(always)]
    fn map_domain_page(&self, mfn: Mfn) -> Table {
        // map_domain_page() accepts any frame of RAM (callers pass valid
        // frames, as C does) and returns a page-aligned mapping of it that
        // stays valid until unmap_domain_page().
        let p = fast::map_domain_page_fast(mfn.0);
        let p = NonNull::new(p.cast::<u8>()).expect("map_domain_page returned NULL");
        // SAFETY: `p` is the 4 KiB-aligned mapping of one frame, valid until
        // `unmap_domain_page` (the Table contract passes this on).
        unsafe { Table::from_raw(p) }
    }

    #[inline(always)]
    fn unmap_domain_page(&self, t: Table) {
        // SAFETY: `t` came from `map_domain_page` above (Tables are only
        // created by mappings); any address inside the mapping is accepted.
        unsafe { fast::unmap_domain_page_fast(t.as_ptr().cast::<c_void>()) }
    }

    #[inline(always)]
    fn page_nx(&self) -> u32 {
        let nx = fast::page_nx();
        #[cfg(xen_debug)]
        // SAFETY: reads boot_cpu_data; no arguments.
        assert_eq!(nx, unsafe { c::xsr_page_nx() });
        nx
    }

    #[inline(always)]
    fn paddr_bits(&self) -> u32 {
        // SAFETY: reads a variable set at boot; no arguments.
        unsafe { c::xsr_paddr_bits() }
    }

    // ---- frame table: shadow pages -----------------------------------------

    #[inline(always)]
    fn sp_type(&self, smfn: Mfn) -> u32 {
        // SAFETY: see the module doc.
        let t = unsafe { fast::sp_type(smfn.0) };
        // The debug build checks bindgen's bitfield against GCC's.
        #[cfg(xen_debug)]
        // SAFETY: see the module doc.
        assert_eq!(t, unsafe { c::xsr_sp_type(smfn.0) });
        t
    }

    #[inline(always)]
    fn sp_head(&self, smfn: Mfn) -> bool {
        // SAFETY: see the module doc.
        unsafe { c::xsr_sp_head(smfn.0) }
    }

    #[inline(always)]
    fn sp_pinned(&self, smfn: Mfn) -> bool {
        // SAFETY: see the module doc.
        unsafe { c::xsr_sp_pinned(smfn.0) }
    }

    #[inline(always)]
    fn sp_count(&self, smfn: Mfn) -> u32 {
        // SAFETY: see the module doc.
        unsafe { c::xsr_sp_count(smfn.0) }
    }

    #[inline(always)]
    fn sp_up(&self, smfn: Mfn) -> u64 {
        // SAFETY: see the module doc.
        unsafe { c::xsr_sp_up(smfn.0) }
    }

    #[inline(always)]
    fn set_sp_up(&self, smfn: Mfn, up: u64) {
        // SAFETY: see the module doc; written under the paging lock.
        unsafe { c::xsr_set_sp_up(smfn.0, up) }
    }

    #[inline(always)]
    fn sp_backpointer(&self, smfn: Mfn) -> u64 {
        // SAFETY: see the module doc.
        let b = unsafe { fast::sp_backpointer(smfn.0) };
        #[cfg(xen_debug)]
        // SAFETY: see the module doc.
        assert_eq!(b, unsafe { c::xsr_sp_backpointer(smfn.0) });
        b
    }

    #[inline(always)]
    fn sh_next_page(&self, smfn: Mfn) -> Mfn {
        // multi.c's sh_next_page() is page_list_next() with an empty local
        // head as the terminator, i.e. no tail check: the next page on the
        // list.
        // SAFETY: see the module doc; `smfn` is a page of a multi-page
        // shadow of a 2-level guest, whose successor is on the same list.
        let next = unsafe { fast::page_list_next_mfn(smfn.0) };
        #[cfg(xen_debug)]
        // SAFETY: as above.
        assert_eq!(
            next,
            unsafe { c::xsr_sh_next_page(ffi::xen::Mfn(smfn.0)) }.0
        );
        Mfn(next)
    }

    // ---- frame table: guest pages --------------------------------------------

    #[inline(always)]
    fn page_shadow_flags(&self, gmfn: Mfn) -> u32 {
        // SAFETY: see the module doc.
        unsafe { c::xsr_page_shadow_flags(gmfn.0) }
    }

    #[inline(always)]
    fn page_pagetable_dying(&self, gmfn: Mfn) -> bool {
        // SAFETY: see the module doc.
        unsafe { c::xsr_page_pagetable_dying(gmfn.0) }
    }

    #[inline(always)]
    fn set_page_pagetable_dying(&self, gmfn: Mfn, dying: bool) {
        // SAFETY: see the module doc.
        unsafe { c::xsr_set_page_pagetable_dying(gmfn.0, dying) }
    }

    #[inline(always)]
    fn page_count_info(&self, mfn: Mfn) -> u64 {
        // SAFETY: see the module doc.
        unsafe { fast::page_count_info(mfn.0) }
    }

    #[inline(always)]
    fn page_type_info(&self, mfn: Mfn) -> u64 {
        // SAFETY: see the module doc.
        unsafe { fast::page_type_info(mfn.0) }
    }

    #[inline(always)]
    fn page_owned_by(&self, mfn: Mfn, d: Dom) -> bool {
        // SAFETY: see the module doc; `d` is only compared, not dereferenced.
        unsafe { c::xsr_page_owned_by(mfn.0, d.0) }
    }

    // ---- shadow reference counts, pins, hash, pool ----------------------------

    #[inline(always)]
    fn sh_get_ref(&self, d: Dom, smfn: Mfn, entry_pa: u64) -> bool {
        // SAFETY: see the module doc.
        unsafe { c::xsr_sh_get_ref(d.0, smfn.0, entry_pa) }
    }

    #[inline(always)]
    fn sh_put_ref(&self, d: Dom, smfn: Mfn, entry_pa: u64) {
        // SAFETY: see the module doc.  May re-enter the Rust sh_destroy_*
        // exports through sh_destroy_shadow(); no Rust reference into Xen
        // memory is live across this call (Tables are plain addresses).
        unsafe { c::xsr_sh_put_ref(d.0, smfn.0, entry_pa) }
    }

    #[inline(always)]
    fn sh_pin(&self, d: Dom, smfn: Mfn) -> bool {
        // SAFETY: see the module doc.
        unsafe { c::xsr_sh_pin(d.0, smfn.0) }
    }

    #[inline(always)]
    fn sh_unpin(&self, d: Dom, smfn: Mfn) {
        // SAFETY: see the module doc (may destroy the shadow, as sh_put_ref).
        unsafe { c::xsr_sh_unpin(d.0, smfn.0) }
    }

    #[inline(always)]
    fn get_shadow_status(&self, d: Dom, gmfn: Mfn, t: u32) -> Mfn {
        // SAFETY: see the module doc.
        Mfn(unsafe { c::xsr_get_shadow_status(d.0, gmfn.0, t) })
    }

    #[inline(always)]
    fn set_shadow_status(&self, d: Dom, gmfn: Mfn, t: u32, smfn: Mfn) {
        // SAFETY: see the module doc.
        unsafe { c::xsr_set_shadow_status(d.0, gmfn.0, t, smfn.0) }
    }

    #[inline(always)]
    fn delete_shadow_status(&self, d: Dom, gmfn: Mfn, t: u32, smfn: Mfn) {
        // SAFETY: see the module doc.
        unsafe { c::xsr_delete_shadow_status(d.0, gmfn.0, t, smfn.0) }
    }

    #[inline(always)]
    fn shadow_hash_lookup(&self, d: Dom, n: u64, t: u32) -> Mfn {
        // SAFETY: see the module doc.
        Mfn(unsafe { c::xsr_shadow_hash_lookup(d.0, n, t) })
    }

    #[inline(always)]
    fn shadow_hash_insert(&self, d: Dom, n: u64, t: u32, smfn: Mfn) {
        // SAFETY: see the module doc.
        unsafe { c::xsr_shadow_hash_insert(d.0, n, t, smfn.0) }
    }

    #[inline(always)]
    fn shadow_hash_delete(&self, d: Dom, n: u64, t: u32, smfn: Mfn) -> bool {
        // SAFETY: see the module doc.
        unsafe { c::xsr_shadow_hash_delete(d.0, n, t, smfn.0) }
    }

    #[inline(always)]
    fn shadow_alloc(&self, d: Dom, t: u32, back: u64) -> Mfn {
        // SAFETY: see the module doc.
        Mfn(unsafe { c::xsr_shadow_alloc(d.0, t, back) })
    }

    #[inline(always)]
    fn shadow_free(&self, d: Dom, smfn: Mfn) {
        // SAFETY: see the module doc.
        unsafe { c::xsr_shadow_free(d.0, smfn.0) }
    }

    #[inline(always)]
    fn shadow_prealloc(&self, d: Dom, t: u32, count: u32) -> bool {
        // SAFETY: see the module doc.
        unsafe { c::xsr_shadow_prealloc(d.0, t, count) }
    }

    #[inline(always)]
    fn shadow_promote(&self, d: Dom, gmfn: Mfn, t: u32) {
        // SAFETY: see the module doc.
        unsafe { c::xsr_shadow_promote(d.0, gmfn.0, t) }
    }

    #[inline(always)]
    fn shadow_demote(&self, d: Dom, gmfn: Mfn, t: u32) {
        // SAFETY: see the module doc.
        unsafe { c::xsr_shadow_demote(d.0, gmfn.0, t) }
    }

    // ---- writing shadow entries (set.c) ---------------------------------------

    #[inline(always)]
    fn shadow_set_l1e(&self, d: Dom, sl1e: Slot, new: u64, p2mt: P2mType) -> i32 {
        // SAFETY: see the module doc; `sl1e.mfn` is the frame holding the
        // entry, as set.c expects of `sl1mfn`.
        unsafe { c::xsr_shadow_set_l1e(d.0, sl1e.ptr(), new, p2mt as u32, sl1e.mfn.0) }
    }

    #[inline(always)]
    fn shadow_set_l2e<L: GuestLevel>(&self, d: Dom, sl2e: Slot, new: u64) -> i32 {
        // multi.c's wrapper passes its level's FL1 type, and sh_next_page
        // only for 2-level guests (whose L1 shadows span two pages).
        let multi_page = L::LEVELS == 2;
        // SAFETY: see the module doc.
        unsafe { c::xsr_shadow_set_l2e(d.0, sl2e.ptr(), new, sl2e.mfn.0, L::SH_FL1, multi_page) }
    }

    #[inline(always)]
    fn shadow_set_l3e(&self, d: Dom, sl3e: Slot, new: u64) -> i32 {
        // SAFETY: see the module doc.
        unsafe { c::xsr_shadow_set_l3e(d.0, sl3e.ptr(), new, sl3e.mfn.0) }
    }

    #[inline(always)]
    fn shadow_set_l4e(&self, d: Dom, sl4e: Slot, new: u64) -> i32 {
        // SAFETY: see the module doc.
        unsafe { c::xsr_shadow_set_l4e(d.0, sl4e.ptr(), new, sl4e.mfn.0) }
    }

    #[inline(always)]
    fn shadow_put_page_from_l1e(&self, d: Dom, sl1e: u64) {
        // SAFETY: see the module doc; the entry is passed by value.
        unsafe { c::xsr_shadow_put_page_from_l1e(d.0, sl1e) }
    }

    #[inline(always)]
    fn shadow_vram_put_mfn(&self, d: Dom, mfn: Mfn, l1f: u32, sl1: Slot) {
        // SAFETY: see the module doc; hvm.c only compares/records the
        // entry's address and frame.
        unsafe { c::xsr_shadow_vram_put_mfn(d.0, mfn.0, l1f, sl1.mfn.0, sl1.ptr()) }
    }

    // ---- the rest of common.c ----------------------------------------------------

    #[inline(always)]
    fn sh_remove_write_access(&self, d: Dom, gmfn: Mfn, level: u32, fault_addr: u64) -> i32 {
        // SAFETY: see the module doc.
        unsafe { c::xsr_sh_remove_write_access(d.0, gmfn.0, level, fault_addr) }
    }

    #[inline(always)]
    fn sh_remove_shadows(&self, d: Dom, gmfn: Mfn, fast: bool, all: bool) {
        // SAFETY: see the module doc.
        unsafe { c::xsr_sh_remove_shadows(d.0, gmfn.0, fast, all) }
    }

    #[inline(always)]
    fn shadow_unhook_mappings(&self, d: Dom, smfn: Mfn, user_only: bool) {
        // SAFETY: see the module doc.
        unsafe { c::xsr_shadow_unhook_mappings(d.0, smfn.0, user_only) }
    }

    #[inline(always)]
    fn sh_unsync(&self, v: Vcpu, gmfn: Mfn) -> bool {
        // SAFETY: see the module doc.
        unsafe { c::xsr_sh_unsync(v.0, gmfn.0) }
    }

    #[inline(always)]
    fn sh_resync(&self, d: Dom, gmfn: Mfn) {
        // SAFETY: see the module doc.
        unsafe { c::xsr_sh_resync(d.0, gmfn.0) }
    }

    #[inline(always)]
    fn sh_resync_all(&self, v: Vcpu, skip: bool, this: bool, others: bool) {
        // SAFETY: see the module doc.
        unsafe { c::xsr_sh_resync_all(v.0, skip, this, others) }
    }

    #[inline(always)]
    fn oos_snapshot_lookup(&self, d: Dom, gmfn: Mfn) -> Mfn {
        // SAFETY: see the module doc.
        Mfn(unsafe { c::xsr_oos_snapshot_lookup(d.0, gmfn.0) })
    }

    #[inline(always)]
    fn oos_fixup_add(&self, d: Dom, gmfn: Mfn, smfn: Mfn, off: u64) {
        // SAFETY: see the module doc.
        unsafe { c::xsr_oos_fixup_add(d.0, gmfn.0, smfn.0, off) }
    }

    // ---- audit -----------------------------------------------------------------

    fn shadow_audit_enabled(&self) -> bool {
        // SAFETY: reads a boolean set at boot or by a debug key.
        unsafe { ::core::ptr::read_volatile(::core::ptr::addr_of!(AUDIT_SWITCH)) != 0 }
    }

    fn shadow_audit_failed(&self, f: &xen_shadow_rs::audit::Failure) {
        ffi::xen::print(format_args!("{f}"));
        ffi::xen_bug!()
    }

    fn for_each_shadow(&self, d: Dom, mut f: impl FnMut(Mfn, u32) -> bool) {
        // SAFETY: see the module doc; the paging lock is held (the shim
        // asserts it), so the hash cannot change under the walk.
        if !unsafe { c::xsr_hash_walk_begin(d.0) } {
            return;
        }
        let (mut bucket, mut pos, mut t) = (0u32, ::core::ptr::null_mut(), 0u32);
        loop {
            // SAFETY: the cursor is the shim's own state, started at 0/NULL.
            let smfn = Mfn(unsafe { c::xsr_hash_walk_next(d.0, &mut bucket, &mut pos, &mut t) });
            if smfn == xen_shadow_rs::types::INVALID_MFN || f(smfn, t) {
                break;
            }
        }
        // SAFETY: ends the walk begun above.
        unsafe { c::xsr_hash_walk_end(d.0) }
    }

    fn oos_hash_is_present(&self, d: Dom, gmfn: Mfn) -> bool {
        // SAFETY: see the module doc.
        unsafe { c::xsr_oos_hash_is_present(d.0, gmfn.0) }
    }

    // ---- locks ---------------------------------------------------------------------

    #[inline(always)]
    fn paging_lock(&self, d: Dom) {
        // SAFETY: see the module doc.
        unsafe { fast::paging_lock(d.0, false) }
    }

    #[inline(always)]
    fn paging_lock_recursive(&self, d: Dom) {
        // SAFETY: see the module doc.
        unsafe { fast::paging_lock(d.0, true) }
    }

    #[inline(always)]
    fn paging_unlock(&self, d: Dom) {
        // SAFETY: see the module doc; the caller holds the lock.
        unsafe { fast::paging_unlock(d.0) }
    }

    #[inline(always)]
    fn paging_locked_by_me(&self, d: Dom) -> bool {
        // SAFETY: see the module doc.
        unsafe { fast::paging_locked_by_me(d.0) }
    }

    // ---- p2m ---------------------------------------------------------------------------

    #[inline(always)]
    fn get_gfn(&self, d: Dom, gfn: Gfn, alloc: bool) -> (Mfn, P2mType) {
        let mut t = 0u32;
        // SAFETY: see the module doc; `t` is a local.
        let mfn = unsafe { c::xsr_get_gfn(d.0, gfn.0, alloc, &mut t) };
        (Mfn(mfn), P2mType::from_raw(t))
    }

    #[inline(always)]
    fn put_gfn(&self, d: Dom, gfn: Gfn) {
        // SAFETY: see the module doc; callers pair it with their get_gfn.
        unsafe { fast::put_gfn(d.0, gfn.0) }
    }

    #[inline(always)]
    fn get_gfn_query_unlocked(&self, d: Dom, gfn: Gfn) -> (Mfn, P2mType) {
        let mut t = 0u32;
        // SAFETY: see the module doc; `t` is a local.
        let mfn = unsafe { c::xsr_get_gfn_query_unlocked(d.0, gfn.0, &mut t) };
        (Mfn(mfn), P2mType::from_raw(t))
    }

    // ---- guest walk -----------------------------------------------------------------

    #[inline(always)]
    fn guest_walk_tables<'w, L: GuestLevel>(
        &self,
        v: Vcpu,
        va: u64,
        pfec: u32,
        top_gfn: Gfn,
        top_mfn: Mfn,
        top: *mut u8,
        gw: &'w mut MaybeUninit<GuestWalk>,
    ) -> (bool, &'w mut GuestWalk) {
        let w = gw.as_mut_ptr().cast::<xsr_guest_walk>();
        let top = top.cast::<c_void>();
        // Each arm is a direct call: the walkers are not cf_check (no
        // ENDBR64), so they must never be reached through a pointer.
        // `top` is the mapped root table of the walk (or, for PAE, the
        // vCPU's gl3e[] copy) as sh_walk_guest_tables passes it, live for
        // the call; `w` is the caller's GuestWalk, layout-identical to
        // xsr_guest_walk (asserted above), which the walker fills in full:
        // the 4-level one (its walk_t is xsr_guest_walk, c/guestwalk.h)
        // starts with memset(gw, 0, ...), the 2- and 3-level shims store
        // every field.
        // SAFETY: as said above and in the module doc; the walker only reads
        // guest memory through Xen mappings.
        let ok = unsafe {
            match L::LEVELS {
                2 => c::xsr_guest_walk_2(v.0, va, w, pfec, top_gfn.0, top_mfn.0, top),
                3 => c::xsr_guest_walk_3(v.0, va, w, pfec, top_gfn.0, top_mfn.0, top),
                4 => {
                    let p2m = fast::p2m_get_hostp2m(fast::vcpu_domain(v.0));
                    c::guest_walk_tables_4_levels(v.0, p2m, va, w, pfec, top_gfn.0, top_mfn.0, top)
                }
                n => panic!("guest_walk_tables: no {n}-level guest walker"),
            }
        };
        // SAFETY: the walker wrote every field (see above).
        (ok, unsafe { gw.assume_init_mut() })
    }

    // ---- lock-free reads through the linear maps -------------------------------------

    #[inline(always)]
    fn sh_linear_table_base(&self, v: Vcpu, level: u32) -> u64 {
        // SAFETY: see the module doc; only computes an address (levels
        // outside 1..=4 give 0).
        let b = unsafe { fast::sh_linear_table_base(v.0, level) };
        // The debug build checks the constants against C's macros (and
        // C's ASSERT(current == v)).
        #[cfg(xen_debug)]
        // SAFETY: as above.
        assert_eq!(b, unsafe { c::xsr_sh_linear_table_base(v.0, level) });
        b
    }

    #[inline(always)]
    fn sh_linear_page(&self, v: Vcpu, addr: u64, smfn: Mfn) -> Table {
        let _ = v;
        // The debug build walks the live page tables to check that the
        // caller's shadow page is what the linear map shows there.
        #[cfg(xen_debug)]
        // SAFETY: reads CR3 and page-table frames only.
        assert_eq!(unsafe { c::xsr_debug_va_to_mfn(addr) }, smfn.0);
        let _ = smfn;
        // A linear-map address is inside Xen's slots, never 0.  It is a
        // page of the shadow linear map of `v`, the current vCPU, whose
        // upper entries the caller has found present: the page maps shadow
        // `smfn`, readable and writable by Xen, while those entries stay.
        let base = NonNull::new(addr as usize as *mut u8).expect("sh_linear_page: null address");
        // SAFETY: as just said; the Table's contract passes to the caller
        // (see `Core::sh_linear_page`).
        unsafe { Table::from_raw(base) }
    }

    // Named after Xen's get_unsafe(); a safe fn.  Its load has an
    // exception-table entry (fast.rs) that turns a fault on `addr` (an
    // unmapped linear-map slot: callers pass only linear-map addresses,
    // never MMIO) into `None` instead of a host crash.
    #[inline(always)]
    fn get_unsafe_u64(&self, addr: u64) -> Option<u64> {
        // SAFETY: a faulting, side-effect-free load, as said above.
        unsafe { fast::get_unsafe_u64(addr) }
    }

    // ---- TLB ---------------------------------------------------------------------------

    #[inline(always)]
    fn flush_tlb_mask_dirty(&self, d: Dom) {
        // SAFETY: see the module doc.
        unsafe { c::xsr_flush_tlb_mask_dirty(d.0) }
    }

    #[inline(always)]
    fn sh_flush_local(&self, d: Dom) {
        // SAFETY: see the module doc.
        unsafe { c::xsr_sh_flush_local(d.0) }
    }
}
