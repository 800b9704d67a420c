//! multi.c blocks T and W: CR3 updates, linear entries, detaching, pagetable_dying.
//! `paging_mode` hooks (called through `sh_paging_mode__guest_N`).

use ffi::bindings::{paddr_t, pagetable_t};
use ffi::vcpu;
use xen_shadow_rs::level::GuestLevel;

use crate::xen::{Vcpu, Xen};

/// `sh_update_cr3` hook: see `xen_shadow_rs::cr3::sh_update_cr3`.
///
/// # Safety
/// Called by Xen with a live vCPU of a shadow-mode domain.
pub unsafe extern "C" fn update_cr3<L: GuestLevel>(v: *mut vcpu, noflush: bool) -> pagetable_t {
    let pfn = xen_shadow_rs::cr3::sh_update_cr3::<Xen, L>(&Xen, Vcpu(v), noflush);
    pagetable_t { pfn }
}

/// `sh_detach_old_tables` hook: see `xen_shadow_rs::cr3::sh_detach_old_tables`.
///
/// # Safety
/// Called by Xen with a live vCPU of a shadow-mode domain.
pub unsafe extern "C" fn detach_old_tables<L: GuestLevel>(v: *mut vcpu) {
    xen_shadow_rs::cr3::sh_detach_old_tables::<Xen, L>(&Xen, Vcpu(v))
}

/// `sh_pagetable_dying` hook (HVMOP_pagetable_dying): Xen passes only the
/// address; the vCPU is `current`, as in C.
///
/// # Safety
/// Called by Xen in the context of a vCPU of a shadow-mode HVM domain.
pub unsafe extern "C" fn pagetable_dying<L: GuestLevel>(gpa: paddr_t) {
    let v = crate::xen::fast::current();
    xen_shadow_rs::dying::sh_pagetable_dying::<Xen, L>(&Xen, Vcpu(v), gpa)
}
