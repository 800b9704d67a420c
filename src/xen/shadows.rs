//! `impl ShadowOps for Xen`: thin calls into the C shims of
//! `ffi/c/shadows.c`.

use core::ffi::{c_uint, c_ulong, c_void};

use ffi::{domain, vcpu};
use xen_shadow_rs::platform::{ShadowOps, Table};
use xen_shadow_rs::types::Mfn;

use super::{fast, Dom, Vcpu, Xen};

#[allow(improper_ctypes)]
extern "C" {
    fn xsr_sh_set_last_writeable_pte_smfn(v: *mut vcpu, smfn: c_ulong);
    fn xsr_sh_init_xen_l4_slots(
        l4t: *mut c_void,
        l4mfn: c_ulong,
        d: *const domain,
        sl4mfn: c_ulong,
        ro_mpt: bool,
    );
    fn xsr_sh_init_xen_pae_l2_slots(l2t: *mut c_void, d: *const domain);
    fn xsr_sh_reset_l3_up_pointers(v: *mut vcpu);
    #[cfg(xen_debug)]
    fn xsr_sh_pinned_shadows_next(d: *mut domain, mfn: c_ulong) -> c_ulong;
    fn xsr_sh_compat_l2_first_xen_slot(d: *const domain) -> c_uint;
    fn xsr_sh_check_page_has_no_refs(mfn: c_ulong) -> bool;
    fn xsr_sh_page_type_count(mfn: c_ulong) -> c_ulong;
    fn xsr_sh_linear_l4e_of_sh_linear() -> c_ulong;
}

// SAFETY (every block below unless it says more): the `Vcpu`/`Dom` handles
// are live Xen objects for the duration of the entry point (see `super`);
// frame numbers passed to frame-table shims are valid frames (the callers
// in xen_shadow_rs pass shadow frames from the pool or guest frames they
// checked, as multi.c does for the same C inlines); the shims only read or
// write fields of these objects or call the Xen function of the same name.

impl ShadowOps for Xen {
    fn set_last_writeable_pte_smfn(&self, v: Vcpu, smfn: Mfn) {
        // SAFETY: see above.
        unsafe { xsr_sh_set_last_writeable_pte_smfn(v.0, smfn.0) }
    }

    fn init_xen_l4_slots(&self, l4t: Table, l4mfn: Mfn, d: Dom, sl4mfn: Mfn, ro_mpt: bool) {
        // SAFETY: see above; `l4t` is the live 4 KiB mapping of `sl4mfn`
        // (Table contract), which init_xen_l4_slots writes 512 entries of.
        unsafe { xsr_sh_init_xen_l4_slots(l4t.as_ptr().cast(), l4mfn.0, d.0, sl4mfn.0, ro_mpt) }
    }

    fn init_xen_pae_l2_slots(&self, l2t: Table, d: Dom) {
        // SAFETY: see above; `l2t` is a live 4 KiB mapping of an L2 shadow.
        unsafe { xsr_sh_init_xen_pae_l2_slots(l2t.as_ptr().cast(), d.0) }
    }

    fn sh_reset_l3_up_pointers(&self, v: Vcpu) {
        // SAFETY: see above; called with the paging lock held, as in C.
        unsafe { xsr_sh_reset_l3_up_pointers(v.0) }
    }

    #[inline(always)]
    fn pinned_shadows_next(&self, d: Dom, smfn: Mfn) -> Mfn {
        // SAFETY: see above; `smfn` is INVALID_MFN or a page currently on
        // the pinned list (the caller got it from this function and holds
        // the paging lock).
        let next = unsafe { fast::pinned_shadows_next(d.0, smfn.0) };
        #[cfg(xen_debug)]
        // SAFETY: as above.
        assert_eq!(next, unsafe { xsr_sh_pinned_shadows_next(d.0, smfn.0) });
        Mfn(next)
    }

    fn compat_l2_first_xen_slot(&self, d: Dom) -> usize {
        // SAFETY: see above.
        unsafe { xsr_sh_compat_l2_first_xen_slot(d.0) as usize }
    }

    fn sh_check_page_has_no_refs(&self, mfn: Mfn) -> bool {
        // SAFETY: see above.
        unsafe { xsr_sh_check_page_has_no_refs(mfn.0) }
    }

    fn page_type_count(&self, mfn: Mfn) -> u64 {
        // SAFETY: see above.
        unsafe { xsr_sh_page_type_count(mfn.0) }
    }

    fn linear_l4e_of_sh_linear_addr(&self) -> u64 {
        // SAFETY: computes a constant address; no arguments.
        unsafe { xsr_sh_linear_l4e_of_sh_linear() }
    }
}
