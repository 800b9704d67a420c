//! multi.c block M and the OOS part of U: out-of-sync L1 shadows.
//! Xen ABI glue: convert arguments, call the generic code in `xen_shadow_rs`.

#![allow(unused_imports)]

use core::ffi::{c_int, c_ulong, c_void};
use ffi::xen::Mfn;
use ffi::{domain, vcpu};
use xen_shadow_rs::level::GuestLevel;
use crate::unported::{unported_d, unported_v};

/// `sh_resync_l1`: not ported yet.
pub unsafe fn resync_l1<L: GuestLevel>(v: *mut vcpu, _gmfn: Mfn, _snpmfn: Mfn) {
    unported_v::<L>("sh_resync_l1", v)
}

/// `sh_safe_not_to_sync`: not ported yet.
pub unsafe fn safe_not_to_sync<L: GuestLevel>(v: *mut vcpu, _gmfn: Mfn) -> c_int {
    unported_v::<L>("sh_safe_not_to_sync", v)
}

/// `sh_rm_write_access_from_sl1p`: not ported yet.
pub unsafe fn rm_write_access_from_sl1p<L: GuestLevel>(
    d: *mut domain,
    _gmfn: Mfn,
    _smfn: Mfn,
    _off: c_ulong,
) -> c_int {
    unported_d::<L>("sh_rm_write_access_from_sl1p", d)
}
