//! The core platform trait: what nearly every block of multi.c uses.

use core::mem::MaybeUninit;

use crate::level::GuestLevel;
use crate::platform::{Slot, Table};
use crate::types::{Gfn, Mfn, P2mType};

/// `walk_t` (asm/guest_pt.h) with the level's entries widened to 64 bits:
/// the result of `guest_walk_tables_N_levels`.  Entries a level does not
/// have stay 0, their frames `INVALID_MFN` (2-level: l4/l3; PAE: l4e, and
/// both l4mfn and l3mfn, which PAE's walk_t does not record).  For 2-level
/// guests `l1e` is walk_t's 64-bit `el1e` view: the 32-bit l1e zero-extended,
/// except for a PSE36 superpage's fabricated l1e, whose frame may exceed 32
/// bits (what `guest_walk_to_gfn` reads); mask to 32 bits where C uses the
/// 32-bit `gw->l1e`.  Frames of levels the walk did not reach are 0 (the
/// walker zeroes walk_t first).
///
/// `#[repr(C)]`, field for field the same as ffi's `struct xsr_guest_walk`,
/// so that Xen's walker shim fills it in place (src/xen/core.rs asserts
/// the layouts match).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct GuestWalk {
    pub va: u64,
    pub l4e: u64,
    pub l3e: u64,
    pub l2e: u64,
    pub l1e: u64,
    pub l4mfn: Mfn,
    pub l3mfn: Mfn,
    pub l2mfn: Mfn,
    pub l1mfn: Mfn,
    /// The page-fault error code the walk computed (`gw->pfec`).
    pub pfec: u32,
}

/// Domains, vCPUs, memory, frame table, shadow pool/hash, locks, p2m.
///
/// Method names follow the C they stand for; see each doc line.  Unless a
/// method says otherwise the caller holds the paging lock when C does.
pub trait Core {
    /// `struct domain *`.
    type Dom: Copy + Eq;
    /// `struct vcpu *`.
    type Vcpu: Copy + Eq;

    // ---- domains and vCPUs -------------------------------------------
    /// `v->domain`.
    fn vcpu_domain(&self, v: Self::Vcpu) -> Self::Dom;
    /// `current`.
    fn current(&self) -> Self::Vcpu;
    /// `d->vcpu[i]` for i in 0..max_vcpus (None for holes).
    fn domain_vcpu(&self, d: Self::Dom, i: u32) -> Option<Self::Vcpu>;
    /// `d->max_vcpus`.
    fn max_vcpus(&self, d: Self::Dom) -> u32;
    /// `d->domain_id`, `v->vcpu_id` (messages, tracing).
    fn domain_id(&self, d: Self::Dom) -> u16;
    fn vcpu_id(&self, v: Self::Vcpu) -> u32;
    /// `is_hvm_domain(d)` (with the speculation barrier C's
    /// `evaluate_nospec` puts on both arms).
    fn is_hvm_domain(&self, d: Self::Dom) -> bool;
    /// `is_pv_32bit_domain(d)`.
    fn is_pv_32bit_domain(&self, d: Self::Dom) -> bool;
    /// `paging_mode_refcounts(d)` (= `shadow_mode_refcounts`).
    fn shadow_mode_refcounts(&self, d: Self::Dom) -> bool;
    /// `paging_mode_translate(d)`.
    fn paging_mode_translate(&self, d: Self::Dom) -> bool;
    /// `paging_mode_external(d)`.
    fn paging_mode_external(&self, d: Self::Dom) -> bool;
    /// `paging_mode_log_dirty(d)`.
    fn paging_mode_log_dirty(&self, d: Self::Dom) -> bool;
    /// `d->is_dying`, `d->is_shutting_down`.
    fn domain_is_dying(&self, d: Self::Dom) -> bool;
    fn domain_is_shutting_down(&self, d: Self::Dom) -> bool;
    /// `d->arch.paging.shadow.opt_flags`.
    fn shadow_opt_flags(&self, d: Self::Dom) -> u32;
    fn set_shadow_opt_flags(&self, d: Self::Dom, f: u32);
    /// `domain_crash(d)`; `why` names the Rust caller in the log.
    fn domain_crash(&self, d: Self::Dom, why: &'static str);
    /// `printk` (messages Xen prints with XENLOG_G_*).
    fn log(&self, args: core::fmt::Arguments<'_>);

    // ---- machine frames --------------------------------------------------
    /// `mfn_valid(mfn)`.
    fn mfn_valid(&self, mfn: Mfn) -> bool;
    /// `map_domain_page(mfn)`.
    fn map_domain_page(&self, mfn: Mfn) -> Table;
    /// `unmap_domain_page(ptr)`.
    fn unmap_domain_page(&self, t: Table);
    /// `_PAGE_NX` (0 when the CPU has no NX).
    fn page_nx(&self) -> u32;
    /// `paddr_bits`.
    fn paddr_bits(&self) -> u32;

    // ---- frame table: shadow pages (`page_info.u.sh`, `up`, `v.sh.back`) ---
    /// `mfn_to_page(smfn)->u.sh.type`.
    fn sp_type(&self, smfn: Mfn) -> u32;
    /// `u.sh.head`.
    fn sp_head(&self, smfn: Mfn) -> bool;
    /// `u.sh.pinned`.
    fn sp_pinned(&self, smfn: Mfn) -> bool;
    /// `u.sh.count`.
    fn sp_count(&self, smfn: Mfn) -> u32;
    /// `sp->up`: paddr of the first shadow entry pointing at the shadow.
    fn sp_up(&self, smfn: Mfn) -> u64;
    fn set_sp_up(&self, smfn: Mfn, up: u64);
    /// `__backpointer(sp)` / `v.sh.back`: the guest mfn (or gfn for FL1s).
    fn sp_backpointer(&self, smfn: Mfn) -> u64;
    /// `sh_next_page(smfn)`: the next page of a multi-page shadow
    /// (`page_list_next` of the page; 2-level guests only).
    fn sh_next_page(&self, smfn: Mfn) -> Mfn;

    // ---- frame table: guest pages -----------------------------------------
    /// `mfn_to_page(gmfn)->shadow_flags`.
    fn page_shadow_flags(&self, gmfn: Mfn) -> u32;
    /// `page->pagetable_dying`.
    fn page_pagetable_dying(&self, gmfn: Mfn) -> bool;
    fn set_page_pagetable_dying(&self, gmfn: Mfn, dying: bool);
    /// `page->count_info`, `page->u.inuse.type_info`.
    fn page_count_info(&self, mfn: Mfn) -> u64;
    fn page_type_info(&self, mfn: Mfn) -> u64;
    /// `page_get_owner(mfn_to_page(mfn)) == d`.
    fn page_owned_by(&self, mfn: Mfn, d: Self::Dom) -> bool;

    // ---- shadow reference counts, pins, hash, pool --------------------------
    /// `sh_get_ref(d, smfn, entry_pa)`.
    fn sh_get_ref(&self, d: Self::Dom, smfn: Mfn, entry_pa: u64) -> bool;
    /// `sh_put_ref(d, smfn, entry_pa)`: may destroy the shadow (re-entering
    /// the `sh_destroy_*` exports).
    fn sh_put_ref(&self, d: Self::Dom, smfn: Mfn, entry_pa: u64);
    /// `sh_pin(d, smfn)`, `sh_unpin(d, smfn)`.
    fn sh_pin(&self, d: Self::Dom, smfn: Mfn) -> bool;
    fn sh_unpin(&self, d: Self::Dom, smfn: Mfn);
    /// `get_shadow_status(d, gmfn, type)`.
    fn get_shadow_status(&self, d: Self::Dom, gmfn: Mfn, t: u32) -> Mfn;
    /// `set_shadow_status(d, gmfn, type, smfn)` (takes a page ref on gmfn).
    fn set_shadow_status(&self, d: Self::Dom, gmfn: Mfn, t: u32, smfn: Mfn);
    /// `delete_shadow_status(d, gmfn, type, smfn)`.
    fn delete_shadow_status(&self, d: Self::Dom, gmfn: Mfn, t: u32, smfn: Mfn);
    /// `shadow_hash_lookup/insert/delete(d, n, t, ...)`: raw hash access
    /// (FL1 shadows key on the superpage's gfn).
    fn shadow_hash_lookup(&self, d: Self::Dom, n: u64, t: u32) -> Mfn;
    fn shadow_hash_insert(&self, d: Self::Dom, n: u64, t: u32, smfn: Mfn);
    fn shadow_hash_delete(&self, d: Self::Dom, n: u64, t: u32, smfn: Mfn) -> bool;
    /// `shadow_alloc(d, type, backpointer)`.
    fn shadow_alloc(&self, d: Self::Dom, t: u32, back: u64) -> Mfn;
    /// `shadow_free(d, smfn)`.
    fn shadow_free(&self, d: Self::Dom, smfn: Mfn);
    /// `shadow_prealloc(d, type, count)`.
    fn shadow_prealloc(&self, d: Self::Dom, t: u32, count: u32) -> bool;
    /// `shadow_promote(d, gmfn, type)`, `shadow_demote(d, gmfn, type)`.
    fn shadow_promote(&self, d: Self::Dom, gmfn: Mfn, t: u32);
    fn shadow_demote(&self, d: Self::Dom, gmfn: Mfn, t: u32);

    // ---- writing shadow entries (set.c) -------------------------------------
    /// `shadow_set_l1e(d, sl1e, new, type, sl1mfn)`.
    fn shadow_set_l1e(&self, d: Self::Dom, sl1e: Slot, new: u64, p2mt: P2mType) -> i32;
    /// `shadow_set_l2e(d, sl2e, new, sl2mfn, SH_type_fl1_shadow, next_page)`:
    /// `L` picks the FL1 type and whether `sh_next_page` is passed (2-level
    /// guests).
    fn shadow_set_l2e<L: GuestLevel>(&self, d: Self::Dom, sl2e: Slot, new: u64) -> i32;
    /// `shadow_set_l3e`, `shadow_set_l4e` (4-level shadows only).
    fn shadow_set_l3e(&self, d: Self::Dom, sl3e: Slot, new: u64) -> i32;
    fn shadow_set_l4e(&self, d: Self::Dom, sl4e: Slot, new: u64) -> i32;
    /// `shadow_put_page_from_l1e(sl1e, d)` (no-op without refcounts).
    fn shadow_put_page_from_l1e(&self, d: Self::Dom, sl1e: u64);
    /// `shadow_vram_put_mfn(mfn, l1f, sl1mfn, sl1e, d)`; `sl1e` is the
    /// entry's address.
    fn shadow_vram_put_mfn(&self, d: Self::Dom, mfn: Mfn, l1f: u32, sl1: Slot);

    // ---- the rest of common.c --------------------------------------------------
    /// `sh_remove_write_access(d, gmfn, level, fault_addr)`.
    fn sh_remove_write_access(&self, d: Self::Dom, gmfn: Mfn, level: u32, fault_addr: u64) -> i32;
    /// `sh_remove_shadows(d, gmfn, fast, all)`.
    fn sh_remove_shadows(&self, d: Self::Dom, gmfn: Mfn, fast: bool, all: bool);
    /// `shadow_unhook_mappings(d, smfn, user_only)`.
    fn shadow_unhook_mappings(&self, d: Self::Dom, smfn: Mfn, user_only: bool);
    /// `sh_unsync(v, gmfn)`: true if the page went out of sync.
    fn sh_unsync(&self, v: Self::Vcpu, gmfn: Mfn) -> bool;
    /// `sh_resync(d, gmfn)`.
    fn sh_resync(&self, d: Self::Dom, gmfn: Mfn);
    /// `sh_resync_all(v, skip, this, others)`.
    fn sh_resync_all(&self, v: Self::Vcpu, skip: bool, this: bool, others: bool);
    /// `oos_snapshot_lookup(d, gmfn)`.
    fn oos_snapshot_lookup(&self, d: Self::Dom, gmfn: Mfn) -> Mfn;
    /// `oos_fixup_add(d, gmfn, smfn, off)`.
    fn oos_fixup_add(&self, d: Self::Dom, gmfn: Mfn, smfn: Mfn, off: u64);

    // ---- audit (crate::audit) ------------------------------------------------
    /// Whether the shadow audit is switched on (debug Xen: common.c's
    /// `shadow_audit_enable`; release Xen: the port's own switch; both set
    /// by the `shadow-audit` boot option and toggled by debug key `O`).
    fn shadow_audit_enabled(&self) -> bool;
    /// Reports an audit failure (Xen: C's message, then BUG()).
    fn shadow_audit_failed(&self, f: &crate::audit::Failure);
    /// Calls `f(smfn, type)` on every shadow (head page) in the domain's
    /// hash until it returns true, with the hash kept from reordering its
    /// chains meanwhile (C's `hash_vcpu_foreach` without the callback
    /// table).  `f` may look shadows up but must not add or remove any.
    /// Paging lock held.
    fn for_each_shadow(&self, d: Self::Dom, f: impl FnMut(Mfn, u32) -> bool);
    /// Whether some vCPU's out-of-sync hash holds `gmfn` (the check of C's
    /// `oos_audit_hash_is_present`, without its BUG()).
    fn oos_hash_is_present(&self, d: Self::Dom, gmfn: Mfn) -> bool;

    // ---- locks ---------------------------------------------------------------
    /// `paging_lock(d)`, `paging_lock_recursive(d)`, `paging_unlock(d)`,
    /// `paging_locked_by_me(d)` (mm-locks.h: level checks, lock hardening).
    fn paging_lock(&self, d: Self::Dom);
    fn paging_lock_recursive(&self, d: Self::Dom);
    fn paging_unlock(&self, d: Self::Dom);
    fn paging_locked_by_me(&self, d: Self::Dom) -> bool;

    // ---- p2m -----------------------------------------------------------------
    /// `get_gfn_type_access(p2m, gfn, &t, &a, q, NULL)` for `d`'s host p2m,
    /// with `q` = 0 (query) or P2M_ALLOC (`alloc`).  For a non-translated
    /// domain this is the identity with `p2m_ram_rw`.  Pair with `put_gfn`.
    fn get_gfn(&self, d: Self::Dom, gfn: Gfn, alloc: bool) -> (Mfn, P2mType);
    /// `put_gfn(d, gfn)`.
    fn put_gfn(&self, d: Self::Dom, gfn: Gfn);
    /// `get_gfn_query_unlocked(d, gfn, &t)`.
    fn get_gfn_query_unlocked(&self, d: Self::Dom, gfn: Gfn) -> (Mfn, P2mType);

    // ---- guest walk ---------------------------------------------------------
    /// `guest_walk_tables_N_levels(v, p2m_get_hostp2m(d), va, gw, pfec,
    /// top_gfn, top_mfn, top_map)` for `L`; `top` is `top_map`: the mapped
    /// root table (for PAE: the vCPU's 4-entry `gl3e` copy, with `top_mfn`
    /// = INVALID_MFN, as multi.c passes).  It must stay valid for the call.
    /// The walker writes the whole walk into `gw` (in place: it is large,
    /// this is the fault path, and the walker clears it itself, so the
    /// caller need not) and returns whether the walk succeeded, with `gw`
    /// now initialised.
    #[allow(clippy::too_many_arguments)]
    fn guest_walk_tables<'w, L: GuestLevel>(
        &self,
        v: Self::Vcpu,
        va: u64,
        pfec: u32,
        top_gfn: Gfn,
        top_mfn: Mfn,
        top: *mut u8,
        gw: &'w mut MaybeUninit<GuestWalk>,
    ) -> (bool, &'w mut GuestWalk);

    // ---- lock-free reads through the linear maps -----------------------------
    /// Address of `sh_linear_lN_table(v)` (N = 1..4): the shadow linear map
    /// of `v`'s address space (HVM: `__sh_linear_lN_table`, PV:
    /// `__linear_lN_table`).  Meaningful only while `v` is current.
    fn sh_linear_table_base(&self, v: Self::Vcpu, level: u32) -> u64;
    /// The page of the shadow linear map at `addr` (page-aligned, inside
    /// `sh_linear_lN_table(v)`), which the caller knows holds shadow page
    /// `smfn`: the upper shadow entries mapping it are present (it has just
    /// read or installed them) and `v` is current.  A window, not a
    /// mapping: nothing to release, valid while those entries stay.  The
    /// simulator (and Xen's debug build) check that `addr` maps `smfn`.
    fn sh_linear_page(&self, v: Self::Vcpu, addr: u64, smfn: Mfn) -> Table;
    /// `get_unsafe(x, (u64 *)addr)`: a load that may fault (the page may be
    /// unmapped under our feet); `None` if it did.  Backed by an exception
    /// table entry in Xen.
    fn get_unsafe_u64(&self, addr: u64) -> Option<u64>;

    // ---- TLB ------------------------------------------------------------------
    /// `guest_flush_tlb_mask(d, d->dirty_cpumask)`.
    fn flush_tlb_mask_dirty(&self, d: Self::Dom);
    /// `sh_flush_local(d)`: `flush_local(guest_flush_tlb_flags(d))`.
    fn sh_flush_local(&self, d: Self::Dom);
}
