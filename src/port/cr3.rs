//! multi.c blocks T and W: CR3 updates, linear entries, detaching, pagetable_dying.
//! `paging_mode` hooks (called through `sh_paging_mode__guest_N`).

#![allow(unused_imports)]

use core::ffi::{c_int, c_ulong, c_void};

use ffi::bindings::{cpu_user_regs, mfn_t, p2m_domain, paddr_t, pagetable_t};
use ffi::vcpu;
use xen_shadow_rs::level::GuestLevel;

use crate::unported::unported_v;

pub unsafe extern "C" fn update_cr3<L: GuestLevel>(v: *mut vcpu, _noflush: bool) -> pagetable_t {
    unported_v::<L>("sh_update_cr3", v)
}

pub unsafe extern "C" fn detach_old_tables<L: GuestLevel>(v: *mut vcpu) {
    unported_v::<L>("sh_detach_old_tables", v)
}

pub unsafe extern "C" fn pagetable_dying<L: GuestLevel>(_gpa: paddr_t) {
    unported_v::<L>("sh_pagetable_dying", ffi::xen::current())
}
