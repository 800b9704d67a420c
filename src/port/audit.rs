//! multi.c block X: the SHADOW_AUDIT_ENTRIES callbacks of debug builds.
//! Xen ABI glue: convert arguments, call the generic code in `xen_shadow_rs`.

#![allow(unused_imports)]

use crate::unported::{unported_d, unported_v};
use core::ffi::{c_int, c_ulong, c_void};
use ffi::xen::Mfn;
use ffi::{domain, vcpu};
use xen_shadow_rs::level::GuestLevel;

#[cfg(xen_debug)]
/// `sh_audit_l1_table`: not ported yet.
pub unsafe fn audit_l1_table<L: GuestLevel>(v: *mut vcpu, _smfn: Mfn, _x: Mfn) -> c_int {
    unported_v::<L>("sh_audit_l1_table", v)
}

#[cfg(xen_debug)]
/// `sh_audit_fl1_table`: not ported yet.
pub unsafe fn audit_fl1_table<L: GuestLevel>(v: *mut vcpu, _smfn: Mfn, _x: Mfn) -> c_int {
    unported_v::<L>("sh_audit_fl1_table", v)
}

#[cfg(xen_debug)]
/// `sh_audit_l2_table`: not ported yet.
pub unsafe fn audit_l2_table<L: GuestLevel>(v: *mut vcpu, _smfn: Mfn, _x: Mfn) -> c_int {
    unported_v::<L>("sh_audit_l2_table", v)
}

#[cfg(xen_debug)]
/// `sh_audit_l3_table`: not ported yet.
pub unsafe fn audit_l3_table<L: GuestLevel>(v: *mut vcpu, _smfn: Mfn, _x: Mfn) -> c_int {
    unported_v::<L>("sh_audit_l3_table", v)
}

#[cfg(xen_debug)]
/// `sh_audit_l4_table`: not ported yet.
pub unsafe fn audit_l4_table<L: GuestLevel>(v: *mut vcpu, _smfn: Mfn, _x: Mfn) -> c_int {
    unported_v::<L>("sh_audit_l4_table", v)
}
