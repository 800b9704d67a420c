//! `impl WalkOps for Xen`: thin calls into the C shims of `ffi/c/walk.c`.

use core::ffi::{c_int, c_uint, c_ulong};

use ffi::{domain, vcpu};
use xen_shadow_rs::platform::WalkOps;
use xen_shadow_rs::types::{Gfn, Mfn};

use ffi::consts as k;

use super::{fast, Dom, Vcpu, Xen};

#[allow(improper_ctypes)]
extern "C" {
    // Debug builds only: checks of the inline field reads below.
    #[cfg(xen_debug)]
    fn xsr_hvm_guest_cr3(v: *const vcpu) -> c_ulong;
    #[cfg(xen_debug)]
    fn xsr_guest_table_user_pfn(v: *const vcpu) -> c_ulong;
    #[cfg(xen_debug)]
    fn xsr_shadow_gl3e_ptr(v: *mut vcpu) -> *mut core::ffi::c_void;
    #[cfg(xen_debug)]
    fn xsr_shadow_gl3e(v: *const vcpu, i: c_uint) -> u64;
    #[cfg(xen_debug)]
    fn xsr_hvm_paging_enabled(v: *const vcpu) -> bool;
    #[cfg(xen_debug)]
    fn xsr_hvm_pse_enabled(v: *const vcpu) -> bool;
    #[cfg(xen_debug)]
    fn xsr_hvm_nx_enabled(v: *const vcpu) -> bool;
    fn xsr_cpuid_vendor_is_amd(d: *const domain) -> bool;
    fn xsr_is_special_page(mfn: c_ulong) -> bool;
    fn xsr_mfn_oos_may_write(mfn: c_ulong) -> bool;
    fn xsr_hvm_get_mem_pinned_cacheattr(d: *mut domain, gfn: c_ulong, order: c_uint) -> c_int;
    fn xsr_pat_type_2_pte_flags(t: u8) -> c_uint;
    fn xsr_get_pat_flags(
        v: *mut vcpu,
        gflags: c_uint,
        gpaddr: u64,
        spaddr: u64,
        mtype: u8,
    ) -> c_uint;
    fn xsr_is_in_uc_mode(d: *const domain) -> bool;
    fn xsr_iomem_access_permitted(d: *const domain, s: c_ulong, e: c_ulong) -> bool;
    fn xsr_iommu_snoop() -> bool;
    fn xsr_mmio_ro_ranges_contains(mfn: c_ulong) -> bool;
    fn xsr_dirty_vram_clean_range(d: *const domain, begin: *mut c_ulong, end: *mut c_ulong)
        -> bool;
    fn xsr_dirty_vram_set_last_dirty_now(d: *mut domain);
    fn xsr_paging_mark_dirty(d: *mut domain, mfn: c_ulong);
    fn xsr_paging_mfn_is_dirty(d: *const domain, mfn: c_ulong) -> bool;
    fn xsr_set_has_fast_mmio_entries(d: *mut domain);
    fn xsr_cpu_has_hypervisor() -> bool;
    fn xsr_cpu_has_bug_l1tf() -> bool;
    fn xsr_is_l1tf_safe_maddr(pte: u64) -> bool;
}

// SAFETY (every block below): the `Vcpu`/`Dom` handles are live Xen objects
// for the duration of the entry point (see `super`); the shims only read or
// write fields of them, or call Xen functions that take them.  Frame numbers
// passed to frame-table shims are valid (`mfn_valid` was checked by the
// caller, as in C).

impl WalkOps for Xen {
    #[inline(always)]
    fn hvm_guest_cr3(&self, v: Vcpu) -> u64 {
        // SAFETY: see above; only called for HVM vCPUs, as in C.
        let cr3 = unsafe { fast::hvm_guest_cr(v.0, 3) };
        #[cfg(xen_debug)]
        // SAFETY: as above.
        assert_eq!(cr3, unsafe { xsr_hvm_guest_cr3(v.0) });
        cr3
    }
    #[inline(always)]
    fn guest_table_pfn(&self, v: Vcpu) -> u64 {
        // SAFETY: see above.
        unsafe { fast::guest_table_pfn(v.0) }
    }
    #[inline(always)]
    fn guest_table_user_pfn(&self, v: Vcpu) -> u64 {
        // SAFETY: see above.
        let pfn = unsafe { fast::guest_table_user_pfn(v.0) };
        #[cfg(xen_debug)]
        // SAFETY: as above.
        assert_eq!(pfn, unsafe { xsr_guest_table_user_pfn(v.0) });
        pfn
    }
    #[inline(always)]
    fn tf_kernel_mode(&self, v: Vcpu) -> bool {
        // SAFETY: see above.
        unsafe { fast::tf_kernel_mode(v.0) }
    }
    #[inline(always)]
    fn shadow_gl3e_ptr(&self, v: Vcpu) -> *mut u8 {
        // SAFETY: see above; only the address of the field is taken.
        let p = unsafe { fast::shadow_gl3e(v.0) }.cast::<u8>();
        #[cfg(xen_debug)]
        // SAFETY: as above.
        assert_eq!(p, unsafe { xsr_shadow_gl3e_ptr(v.0) }.cast::<u8>());
        p
    }
    #[inline(always)]
    fn shadow_gl3e(&self, v: Vcpu, i: usize) -> u64 {
        // SAFETY: see above; the index is masked to 0..4, as the shim did.
        let e = unsafe { (*fast::shadow_gl3e(v.0))[i & 3].l3 };
        #[cfg(xen_debug)]
        // SAFETY: as above.
        assert_eq!(e, unsafe { xsr_shadow_gl3e(v.0, (i & 3) as c_uint) });
        e
    }
    #[inline(always)]
    fn gtable_dirty_version(&self, d: Dom) -> u32 {
        // SAFETY: see above.
        unsafe { fast::gtable_dirty_version(d.0) }
    }
    #[inline(always)]
    fn hvm_paging_enabled(&self, v: Vcpu) -> bool {
        // SAFETY: see above; HVM vCPUs only, as in C.
        let on = unsafe { fast::hvm_guest_cr(v.0, 0) } & k::X86_CR0_PG != 0;
        #[cfg(xen_debug)]
        // SAFETY: as above.
        assert_eq!(on, unsafe { xsr_hvm_paging_enabled(v.0) });
        on
    }
    #[inline(always)]
    fn hvm_pse_enabled(&self, v: Vcpu) -> bool {
        // SAFETY: as above.
        let on = unsafe { fast::hvm_guest_cr(v.0, 4) } & k::X86_CR4_PSE != 0;
        #[cfg(xen_debug)]
        // SAFETY: as above.
        assert_eq!(on, unsafe { xsr_hvm_pse_enabled(v.0) });
        on
    }
    #[inline(always)]
    fn hvm_nx_enabled(&self, v: Vcpu) -> bool {
        // SAFETY: as above.
        let on = unsafe { fast::hvm_guest_efer(v.0) } & k::EFER_NXE != 0;
        #[cfg(xen_debug)]
        // SAFETY: as above.
        assert_eq!(on, unsafe { xsr_hvm_nx_enabled(v.0) });
        on
    }
    fn cpuid_maxphysaddr(&self, d: Dom) -> u32 {
        // SAFETY: see above.
        unsafe { super::fast::cpuid_maxphysaddr(d.0) }
    }
    fn cpuid_vendor_is_amd(&self, d: Dom) -> bool {
        // SAFETY: see above.
        unsafe { xsr_cpuid_vendor_is_amd(d.0) }
    }
    #[inline(always)]
    fn page_owner_is_dom_io(&self, mfn: Mfn) -> bool {
        // SAFETY: see above (mfn valid).
        unsafe { fast::page_owner_is_dom_io(mfn.0) }
    }
    fn is_special_page(&self, mfn: Mfn) -> bool {
        // SAFETY: see above (mfn valid).
        unsafe { xsr_is_special_page(mfn.0) }
    }
    #[inline(always)]
    fn sh_mfn_is_a_page_table(&self, mfn: Mfn) -> bool {
        // Checks mfn_valid itself.
        fast::sh_mfn_is_a_page_table(mfn.0)
    }
    #[inline(always)]
    fn mfn_is_out_of_sync(&self, mfn: Mfn) -> bool {
        // SAFETY: see above (mfn valid, as C requires).
        unsafe { fast::mfn_is_out_of_sync(mfn.0) }
    }
    fn mfn_oos_may_write(&self, mfn: Mfn) -> bool {
        // SAFETY: see above (mfn valid, as C requires).
        unsafe { xsr_mfn_oos_may_write(mfn.0) }
    }
    fn hvm_get_mem_pinned_cacheattr(&self, d: Dom, gfn: Gfn, order: u32) -> i32 {
        // SAFETY: see above.
        unsafe { xsr_hvm_get_mem_pinned_cacheattr(d.0, gfn.0, order) }
    }
    fn pat_type_2_pte_flags(&self, pat_type: u8) -> u32 {
        // SAFETY: a pure Xen function.
        unsafe { xsr_pat_type_2_pte_flags(pat_type) }
    }
    fn get_pat_flags(&self, v: Vcpu, gflags: u32, gpaddr: u64, spaddr: u64, mtype: u8) -> u32 {
        // SAFETY: see above.
        unsafe { xsr_get_pat_flags(v.0, gflags, gpaddr, spaddr, mtype) }
    }
    fn is_in_uc_mode(&self, d: Dom) -> bool {
        // SAFETY: see above.
        unsafe { xsr_is_in_uc_mode(d.0) }
    }
    fn iomem_access_permitted(&self, d: Dom, s: u64, e: u64) -> bool {
        // SAFETY: see above.
        unsafe { xsr_iomem_access_permitted(d.0, s, e) }
    }
    fn iommu_snoop(&self) -> bool {
        // SAFETY: reads a global.
        unsafe { xsr_iommu_snoop() }
    }
    fn mmio_ro_ranges_contains(&self, mfn: Mfn) -> bool {
        // SAFETY: reads a global rangeset under its own lock.
        unsafe { xsr_mmio_ro_ranges_contains(mfn.0) }
    }
    fn dirty_vram_clean_range(&self, d: Dom) -> Option<(u64, u64)> {
        let (mut b, mut e): (c_ulong, c_ulong) = (0, 0);
        // SAFETY: see above; `b` and `e` are valid for writes.
        if unsafe { xsr_dirty_vram_clean_range(d.0, &mut b, &mut e) } {
            Some((b, e))
        } else {
            None
        }
    }
    fn dirty_vram_set_last_dirty_now(&self, d: Dom) {
        // SAFETY: see above; only called after `dirty_vram_clean_range`
        // returned Some under the paging lock, so `dirty_vram` is non-NULL.
        unsafe { xsr_dirty_vram_set_last_dirty_now(d.0) }
    }
    fn paging_mark_dirty(&self, d: Dom, mfn: Mfn) {
        // SAFETY: see above.
        unsafe { xsr_paging_mark_dirty(d.0, mfn.0) }
    }
    fn paging_mfn_is_dirty(&self, d: Dom, mfn: Mfn) -> bool {
        // SAFETY: see above.
        unsafe { xsr_paging_mfn_is_dirty(d.0, mfn.0) }
    }
    fn set_has_fast_mmio_entries(&self, d: Dom) {
        // SAFETY: see above.
        unsafe { xsr_set_has_fast_mmio_entries(d.0) }
    }
    fn cpu_has_hypervisor(&self) -> bool {
        // SAFETY: reads boot_cpu_data.
        unsafe { xsr_cpu_has_hypervisor() }
    }
    fn cpu_has_bug_l1tf(&self) -> bool {
        // SAFETY: reads a global.
        unsafe { xsr_cpu_has_bug_l1tf() }
    }
    fn is_l1tf_safe_maddr(&self, pte: u64) -> bool {
        // SAFETY: reads globals.
        unsafe { xsr_is_l1tf_safe_maddr(pte) }
    }
}
