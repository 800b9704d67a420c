//! `impl Cr3Ops for Xen`: thin calls into the C shims of `ffi/c/cr3.c`.

use core::ffi::{c_uint, c_ulong, c_void};

use ffi::{domain, vcpu};
use xen_shadow_rs::level::GuestLevel;
use xen_shadow_rs::platform::{Cr3Ops, Table};
use xen_shadow_rs::types::Mfn;

use super::{Dom, Vcpu, Xen};

#[allow(improper_ctypes)]
extern "C" {
    fn xsr_cr3_is_initialised(v: *const vcpu) -> bool;
    fn xsr_cr3_monitor_table(v: *const vcpu) -> c_ulong;
    fn xsr_cr3_set_shadow_table(v: *mut vcpu, i: c_uint, pfn: c_ulong);
    fn xsr_cr3_l3table(v: *const vcpu, i: c_uint) -> u64;
    fn xsr_cr3_set_l3table(v: *mut vcpu, i: c_uint, e: u64);
    fn xsr_cr3_l3table_maddr(v: *mut vcpu) -> u64;
    fn xsr_cr3_set_gl3e(v: *mut vcpu, i: c_uint, e: u64);
    fn xsr_cr3_set_sh_pagetable_dying(v: *mut vcpu, dying: bool);
    fn xsr_cr3_set_pagetable_dying_op(d: *mut domain);
    fn xsr_cr3_set_toplevel_shadow(
        v: *mut vcpu,
        slot: c_uint,
        gmfn: c_ulong,
        root_type: c_uint,
        // `mfn_t (*)(struct vcpu *, mfn_t, uint32_t)`: mfn_t travels in one
        // integer register in release and debug builds alike.  Spelled out
        // with plain C types because cbindgen copies this declaration into
        // the generated header.
        make_shadow: extern "C" fn(v: *mut vcpu, gmfn: c_ulong, shadow_type: u32) -> c_ulong,
    ) -> c_ulong;
    fn xsr_cr3_vm_assist_m2p_strict(d: *const domain) -> bool;
    fn xsr_cr3_fill_ro_mpt(mfn: c_ulong);
    fn xsr_cr3_zap_ro_mpt(mfn: c_ulong);
    fn xsr_cr3_make_cr3(v: *mut vcpu, mfn: c_ulong);
    fn xsr_cr3_set_hw_cr3(v: *mut vcpu, value: u64);
    fn xsr_cr3_hvm_update_guest_cr3(v: *mut vcpu, noflush: bool);
    fn xsr_cr3_linear_l2e(va: c_ulong) -> *mut c_void;
    fn xsr_cr3_linear_l4e(va: c_ulong) -> *mut c_void;
}

/// The constructor `sh_set_toplevel_shadow` calls back into: this level's
/// `sh_make_shadow`.  Called from C with the paging lock held.
extern "C" fn make_shadow_cb<L: GuestLevel>(
    v: *mut vcpu,
    gmfn: c_ulong,
    shadow_type: u32,
) -> c_ulong {
    xen_shadow_rs::create::sh_make_shadow::<Xen, L>(&Xen, Vcpu(v), Mfn(gmfn), shadow_type).0
}

// SAFETY (every block below unless it says more): the `Vcpu`/`Dom` handles
// are live Xen objects for the duration of the entry point (see `super`);
// the shims only read or write fields of them (indices masked to the array
// sizes in C), or call the Xen function of the same name with them.

impl Cr3Ops for Xen {
    fn vcpu_is_initialised(&self, v: Vcpu) -> bool {
        // SAFETY: see above.
        unsafe { xsr_cr3_is_initialised(v.0) }
    }
    fn vcpu_guest_table(&self, v: Vcpu) -> Mfn {
        Mfn(xen_shadow_rs::platform::WalkOps::guest_table_pfn(self, v))
    }
    fn vcpu_monitor_table(&self, v: Vcpu) -> Mfn {
        // SAFETY: see above (the generic code reads it for HVM vCPUs only).
        Mfn(unsafe { xsr_cr3_monitor_table(v.0) })
    }
    fn vcpu_shadow_table(&self, v: Vcpu, i: usize) -> Mfn {
        // SAFETY: see above.
        Mfn(unsafe { super::fast::shadow_table_pfn(v.0, i) })
    }
    fn vcpu_set_shadow_table(&self, v: Vcpu, i: usize, smfn: Mfn) {
        // SAFETY: see above.
        unsafe { xsr_cr3_set_shadow_table(v.0, (i & 3) as c_uint, smfn.0) }
    }
    fn vcpu_set_l3table(&self, v: Vcpu, i: usize, e: u64) {
        // SAFETY: see above.
        unsafe { xsr_cr3_set_l3table(v.0, (i & 3) as c_uint, e) }
    }
    fn vcpu_l3table(&self, v: Vcpu, i: usize) -> u64 {
        // SAFETY: see above.
        unsafe { xsr_cr3_l3table(v.0, (i & 3) as c_uint) }
    }
    fn vcpu_l3table_maddr(&self, v: Vcpu) -> u64 {
        // SAFETY: see above; only the field's address is translated.
        unsafe { xsr_cr3_l3table_maddr(v.0) }
    }
    fn vcpu_set_gl3e(&self, v: Vcpu, i: usize, e: u64) {
        // SAFETY: see above.
        unsafe { xsr_cr3_set_gl3e(v.0, (i & 3) as c_uint, e) }
    }
    fn vcpu_set_sh_pagetable_dying(&self, v: Vcpu, dying: bool) {
        // SAFETY: see above.
        unsafe { xsr_cr3_set_sh_pagetable_dying(v.0, dying) }
    }
    fn set_pagetable_dying_op(&self, d: Dom) {
        // SAFETY: see above.
        unsafe { xsr_cr3_set_pagetable_dying_op(d.0) }
    }
    fn sh_set_toplevel_shadow<L: GuestLevel>(
        &self,
        v: Vcpu,
        slot: usize,
        gmfn: Mfn,
        root_type: u32,
    ) -> u64 {
        // The callback has exactly the C prototype of `make_shadow` (mfn_t
        // is one integer register in either build), carries ENDBR64
        // (address-taken, -Z cf-protection=branch) and is not subject to
        // cf_clobber.
        // SAFETY: see above and the lines just before; callers pass slot < 4.
        unsafe {
            xsr_cr3_set_toplevel_shadow(
                v.0,
                (slot & 3) as c_uint,
                gmfn.0,
                root_type,
                make_shadow_cb::<L>,
            )
        }
    }
    fn vm_assist_m2p_strict(&self, d: Dom) -> bool {
        // SAFETY: see above.
        unsafe { xsr_cr3_vm_assist_m2p_strict(d.0) }
    }
    fn fill_ro_mpt(&self, mfn: Mfn) {
        // SAFETY: `mfn` is the vCPU's installed top-level shadow (a valid
        // shadow L4 page), as in C.
        unsafe { xsr_cr3_fill_ro_mpt(mfn.0) };
    }
    fn zap_ro_mpt(&self, mfn: Mfn) {
        // SAFETY: as for fill_ro_mpt.
        unsafe { xsr_cr3_zap_ro_mpt(mfn.0) }
    }
    fn make_cr3(&self, v: Vcpu, mfn: Mfn) {
        // SAFETY: see above.
        unsafe { xsr_cr3_make_cr3(v.0, mfn.0) }
    }
    fn vcpu_set_hvm_hw_cr3(&self, v: Vcpu, value: u64) {
        // SAFETY: see above (HVM vCPUs only).
        unsafe { xsr_cr3_set_hw_cr3(v.0, value) }
    }
    fn hvm_update_guest_cr3(&self, v: Vcpu, noflush: bool) {
        // SAFETY: see above; the shim goes through C's patched
        // alternative_call, never a Rust indirect call into hvm_funcs.
        unsafe { xsr_cr3_hvm_update_guest_cr3(v.0, noflush) }
    }
    fn vtlb_flush(&self, v: Vcpu) {
        // SAFETY: see above (takes the vCPU's vtlb_lock).
        unsafe { super::fast::vtlb_flush(v.0) }
    }
    fn current_linear_table(&self, level: u32, va: u64) -> Table {
        // SAFETY: the shims only compute addresses inside Xen's linear
        // page-table window.
        let entry = unsafe {
            match level {
                2 => xsr_cr3_linear_l2e(va),
                4 => xsr_cr3_linear_l4e(va),
                _ => panic!("current_linear_table: level {level} not supported"),
            }
        };
        // The page of the linear map that holds `entry` is the current
        // monitor table's level-`level` page covering `va`; it is mapped
        // read-write while the vCPU is current.
        // SAFETY: as just said; the generic caller checked `v == current`.
        unsafe { super::table_from_ptr(entry) }.0
    }
}
