//! What the guest walk, `_sh_propagate`, validation and prefetch (multi.c
//! blocks C, F, L, N, O) need from the platform beyond [`Core`].
//!
//! Note for generic callers: if another area trait declares a method of the
//! same name, call these with `WalkOps::name(p, ..)` to avoid ambiguity.

use crate::platform::Core;
use crate::types::{Gfn, Mfn};

/// `PAT_TYPE_UNCACHABLE`, `PAT_TYPE_WRBACK` (asm/mtrr.h).
pub const PAT_TYPE_UNCACHABLE: u8 = 0;
pub const PAT_TYPE_WRBACK: u8 = 6;
/// `MTRR_TYPE_UNCACHABLE`, `NO_HARDCODE_MEM_TYPE` (= `MTRR_NUM_TYPES`).
pub const MTRR_TYPE_UNCACHABLE: u8 = 0;
pub const NO_HARDCODE_MEM_TYPE: u8 = 7;

/// Platform needs of the guest walk, `_sh_propagate`, validation and
/// prefetch (multi.c blocks C, F, L, N, O).
pub trait WalkOps: Core {
    // ---- the roots of the guest walk (sh_walk_guest_tables) -----------------
    /// `v->arch.hvm.guest_cr[3]` (HVM vCPUs only).
    fn hvm_guest_cr3(&self, v: Self::Vcpu) -> u64;
    /// `pagetable_get_pfn(v->arch.guest_table)`.
    fn guest_table_pfn(&self, v: Self::Vcpu) -> u64;
    /// `pagetable_get_pfn(v->arch.guest_table_user)`.
    fn guest_table_user_pfn(&self, v: Self::Vcpu) -> u64;
    /// `v->arch.flags & TF_kernel_mode`.
    fn tf_kernel_mode(&self, v: Self::Vcpu) -> bool;
    /// `v->arch.paging.shadow.gl3e`: the vCPU's copy of its PAE guest's four
    /// L3 entries, passed as the walk's top-level "mapping".
    fn shadow_gl3e_ptr(&self, v: Self::Vcpu) -> *mut u8;
    /// `v->arch.paging.shadow.gl3e[i].l3` (i < 4).
    fn shadow_gl3e(&self, v: Self::Vcpu, i: usize) -> u64;
    /// `atomic_read(&d->arch.paging.shadow.gtable_dirty_version)`.
    fn gtable_dirty_version(&self, d: Self::Dom) -> u32;

    // ---- guest CR/EFER and CPUID facts (guest_pt.h predicates) --------------
    /// `hvm_paging_enabled(v)` (CR0.PG).
    fn hvm_paging_enabled(&self, v: Self::Vcpu) -> bool;
    /// `v->arch.hvm.guest_cr[4] & X86_CR4_PSE`.
    fn hvm_pse_enabled(&self, v: Self::Vcpu) -> bool;
    /// `hvm_nx_enabled(v)` (EFER.NX).
    fn hvm_nx_enabled(&self, v: Self::Vcpu) -> bool;
    /// `d->arch.cpuid->extd.maxphysaddr`.
    fn cpuid_maxphysaddr(&self, d: Self::Dom) -> u32;
    /// `d->arch.cpuid->x86_vendor == X86_VENDOR_AMD`.
    fn cpuid_vendor_is_amd(&self, d: Self::Dom) -> bool;

    // ---- frame facts -----------------------------------------------------------
    /// `page_get_owner(mfn_to_page(mfn)) == dom_io` (mfn valid).
    fn page_owner_is_dom_io(&self, mfn: Mfn) -> bool;
    /// `is_special_page(mfn_to_page(mfn))` (mfn valid).
    fn is_special_page(&self, mfn: Mfn) -> bool;
    /// `sh_mfn_is_a_page_table(mfn)` (private.h; false for invalid mfns).
    fn sh_mfn_is_a_page_table(&self, mfn: Mfn) -> bool;
    /// `mfn_is_out_of_sync(mfn)` (private.h).
    fn mfn_is_out_of_sync(&self, mfn: Mfn) -> bool;
    /// `mfn_oos_may_write(mfn)` (private.h).
    fn mfn_oos_may_write(&self, mfn: Mfn) -> bool;

    // ---- caching attributes --------------------------------------------------
    /// `hvm_get_mem_pinned_cacheattr(d, gfn, order)`: a PAT type, or < 0.
    fn hvm_get_mem_pinned_cacheattr(&self, d: Self::Dom, gfn: Gfn, order: u32) -> i32;
    /// `pat_type_2_pte_flags(type)`.
    fn pat_type_2_pte_flags(&self, pat_type: u8) -> u32;
    /// `get_pat_flags(v, gl1e_flags, gpaddr, spaddr, gmtrr_mtype)`.
    fn get_pat_flags(
        &self,
        v: Self::Vcpu,
        gflags: u32,
        gpaddr: u64,
        spaddr: u64,
        gmtrr_mtype: u8,
    ) -> u32;
    /// `d->arch.hvm.is_in_uc_mode`.
    fn is_in_uc_mode(&self, d: Self::Dom) -> bool;
    /// `iomem_access_permitted(d, s, e)` (`d->iomem_caps`).
    fn iomem_access_permitted(&self, d: Self::Dom, s: u64, e: u64) -> bool;
    /// `iommu_snoop`.
    fn iommu_snoop(&self) -> bool;
    /// `rangeset_contains_singleton(mmio_ro_ranges, mfn)`.
    fn mmio_ro_ranges_contains(&self, mfn: Mfn) -> bool;

    // ---- dirty VRAM and log-dirty ------------------------------------------------
    /// `d->arch.hvm.dirty_vram`, when present and its `last_dirty == -1`:
    /// `Some((begin_pfn, end_pfn))`.  HVM domains only.
    fn dirty_vram_clean_range(&self, d: Self::Dom) -> Option<(u64, u64)>;
    /// `d->arch.hvm.dirty_vram->last_dirty = NOW()`.
    fn dirty_vram_set_last_dirty_now(&self, d: Self::Dom);
    /// `paging_mark_dirty(d, mfn)`.
    fn paging_mark_dirty(&self, d: Self::Dom, mfn: Mfn);
    /// `paging_mfn_is_dirty(d, mfn)`.
    fn paging_mfn_is_dirty(&self, d: Self::Dom, mfn: Mfn) -> bool;
    /// `d->arch.paging.shadow.has_fast_mmio_entries = true`.
    fn set_has_fast_mmio_entries(&self, d: Self::Dom);

    // ---- CPU facts behind the magic entries (types.h, shadow.h) ------------------
    /// `cpu_has_hypervisor`.
    fn cpu_has_hypervisor(&self) -> bool;
    /// `cpu_has_bug_l1tf`.
    fn cpu_has_bug_l1tf(&self) -> bool;
    /// `is_l1tf_safe_maddr(pte)`.
    fn is_l1tf_safe_maddr(&self, pte: u64) -> bool;
}
