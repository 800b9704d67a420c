//! multi.c block M and the OOS part of U: out-of-sync L1 shadows.
//! Xen ABI glue: convert arguments, call the generic code in `xen_shadow_rs`.

use core::ffi::{c_int, c_ulong};
use ffi::xen::Mfn;
use ffi::{domain, vcpu};
use xen_shadow_rs::level::GuestLevel;
use xen_shadow_rs::types::Mfn as RMfn;

use crate::xen::{Dom, Vcpu, Xen};

/// `sh_resync_l1`: see `xen_shadow_rs::oos::sh_resync_l1`.
///
/// # Safety
/// Called by common.c with a live vCPU, under the paging lock.
pub unsafe fn resync_l1<L: GuestLevel>(v: *mut vcpu, gmfn: Mfn, snpmfn: Mfn) {
    xen_shadow_rs::oos::sh_resync_l1::<Xen, L>(&Xen, Vcpu(v), RMfn(gmfn.0), RMfn(snpmfn.0))
}

/// `sh_safe_not_to_sync`: see `xen_shadow_rs::oos::sh_safe_not_to_sync`.
///
/// # Safety
/// Called by common.c with a live vCPU, under the paging lock.
pub unsafe fn safe_not_to_sync<L: GuestLevel>(v: *mut vcpu, gmfn: Mfn) -> c_int {
    c_int::from(xen_shadow_rs::oos::sh_safe_not_to_sync::<Xen, L>(
        &Xen,
        Vcpu(v),
        RMfn(gmfn.0),
    ))
}

/// `sh_rm_write_access_from_sl1p`: see
/// `xen_shadow_rs::oos::sh_rm_write_access_from_sl1p`.
///
/// # Safety
/// Called by common.c with a live domain, under the paging lock.
pub unsafe fn rm_write_access_from_sl1p<L: GuestLevel>(
    d: *mut domain,
    gmfn: Mfn,
    smfn: Mfn,
    off: c_ulong,
) -> c_int {
    xen_shadow_rs::oos::sh_rm_write_access_from_sl1p::<Xen, L>(
        &Xen,
        Dom(d),
        RMfn(gmfn.0),
        RMfn(smfn.0),
        off,
    )
}
