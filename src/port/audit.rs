//! multi.c block X: the `SHADOW_AUDIT_ENTRIES` callbacks common.c's
//! `shadow_audit_tables` calls in debug builds.
//! Xen ABI glue: convert arguments, call the generic code in `xen_shadow_rs`;
//! a failure is reported as C's `AUDIT_FAIL` does (message, BUG()).
#![cfg(xen_debug)]

use core::ffi::c_int;
use ffi::vcpu;
use ffi::xen::Mfn;
use xen_shadow_rs::audit::{self, Failure};
use xen_shadow_rs::level::GuestLevel;
use xen_shadow_rs::platform::Core;
use xen_shadow_rs::types::Mfn as RMfn;

use crate::xen::{Vcpu, Xen};

/// The callbacks' result: 0 (go on with the hash walk); a failure does not
/// return.
fn report(r: Result<(), Failure>) -> c_int {
    if let Err(f) = r {
        Xen.shadow_audit_failed(&f);
    }
    0
}

/// `sh_audit_l1_table`: see `xen_shadow_rs::audit::audit_l1_table`.
///
/// # Safety
/// Called by common.c with a live vCPU, under the paging lock.
pub unsafe fn audit_l1_table<L: GuestLevel>(v: *mut vcpu, smfn: Mfn, _x: Mfn) -> c_int {
    report(audit::audit_l1_table::<Xen, L>(&Xen, Vcpu(v), RMfn(smfn.0)))
}

/// `sh_audit_fl1_table`: see `xen_shadow_rs::audit::audit_fl1_table`.
///
/// # Safety
/// As [`audit_l1_table`].
pub unsafe fn audit_fl1_table<L: GuestLevel>(_v: *mut vcpu, smfn: Mfn, _x: Mfn) -> c_int {
    report(audit::audit_fl1_table::<Xen, L>(&Xen, RMfn(smfn.0)))
}

/// `sh_audit_l2_table`: see `xen_shadow_rs::audit::audit_l2_table`.
///
/// # Safety
/// As [`audit_l1_table`].
pub unsafe fn audit_l2_table<L: GuestLevel>(v: *mut vcpu, smfn: Mfn, _x: Mfn) -> c_int {
    report(audit::audit_l2_table::<Xen, L>(&Xen, Vcpu(v), RMfn(smfn.0)))
}

/// `sh_audit_l3_table`: see `xen_shadow_rs::audit::audit_l3_table`.
///
/// # Safety
/// As [`audit_l1_table`].
pub unsafe fn audit_l3_table<L: GuestLevel>(v: *mut vcpu, smfn: Mfn, _x: Mfn) -> c_int {
    report(audit::audit_l3_table::<Xen, L>(&Xen, Vcpu(v), RMfn(smfn.0)))
}

/// `sh_audit_l4_table`: see `xen_shadow_rs::audit::audit_l4_table`.
///
/// # Safety
/// As [`audit_l1_table`].
pub unsafe fn audit_l4_table<L: GuestLevel>(v: *mut vcpu, smfn: Mfn, _x: Mfn) -> c_int {
    report(audit::audit_l4_table::<Xen, L>(&Xen, Vcpu(v), RMfn(smfn.0)))
}
