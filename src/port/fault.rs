//! multi.c blocks P, Q, R, S: tracing, the page-fault handler, INVLPG, gva_to_gfn.
//! `paging_mode` hooks (called through `sh_paging_mode__guest_N`).

#![allow(unused_imports)]

use core::ffi::{c_int, c_ulong, c_void};

use ffi::bindings::{cpu_user_regs, mfn_t, p2m_domain, paddr_t, pagetable_t};
use ffi::vcpu;
use xen_shadow_rs::level::GuestLevel;

use crate::unported::unported_v;

pub unsafe extern "C" fn page_fault<L: GuestLevel>(
    v: *mut vcpu,
    _va: c_ulong,
    _regs: *mut cpu_user_regs,
) -> c_int {
    unported_v::<L>("sh_page_fault", v)
}

pub unsafe extern "C" fn invlpg<L: GuestLevel>(v: *mut vcpu, _linear: c_ulong) -> bool {
    unported_v::<L>("sh_invlpg", v)
}

pub unsafe extern "C" fn gva_to_gfn<L: GuestLevel>(
    v: *mut vcpu,
    _p2m: *mut p2m_domain,
    _va: c_ulong,
    _pfec: *mut u32,
) -> c_ulong {
    unported_v::<L>("sh_gva_to_gfn", v)
}

pub unsafe extern "C" fn trace_emul_write_val<L: GuestLevel>(
    _ptr: *const c_void,
    _vaddr: c_ulong,
    _src: *const c_void,
    _bytes: u32,
) {
    unported_v::<L>("trace_emulate_write_val", ffi::xen::current())
}
