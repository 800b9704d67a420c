//! multi.c blocks L and N: per-entry validation and map-and-validate.
//! Xen ABI glue: convert arguments, call the generic code in `xen_shadow_rs`.

use core::ffi::{c_int, c_void};

use ffi::vcpu;
use ffi::xen::Mfn;
use xen_shadow_rs::level::GuestLevel;
use xen_shadow_rs::validate::{self as imp, GuestTable};

use crate::xen::{mfn_from_xen, table_from_ptr, Vcpu, Xen};

/// Runs the generic map-and-validate for the guest table `which` on the
/// write at `new_gp`, a pointer into the caller's mapping of the guest page.
///
/// # Safety
/// `v` is a live vCPU; `new_gp` points into a page-table page of the
/// guest that the caller (common.c `sh_validate_guest_entry`) keeps mapped
/// for the duration of the call.
unsafe fn run<L: GuestLevel>(
    which: GuestTable,
    v: *mut vcpu,
    gmfn: Mfn,
    new_gp: *mut c_void,
    size: u32,
) -> c_int {
    // SAFETY: the caller keeps the page mapped for this call (contract);
    // the Table is not used past it.
    let (guest, offset) = unsafe { table_from_ptr(new_gp) };
    imp::sh_map_and_validate_gle::<Xen, L>(
        &Xen,
        Vcpu(v),
        which,
        mfn_from_xen(gmfn),
        guest,
        offset,
        size,
    )
}

/// `sh_map_and_validate_gl1e`.
///
/// # Safety
/// See [`run`].
pub unsafe fn map_and_validate_gl1e<L: GuestLevel>(
    v: *mut vcpu,
    gmfn: Mfn,
    new_gp: *mut c_void,
    size: u32,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { run::<L>(GuestTable::L1, v, gmfn, new_gp, size) }
}

/// `sh_map_and_validate_gl2e`.
///
/// # Safety
/// See [`run`].
pub unsafe fn map_and_validate_gl2e<L: GuestLevel>(
    v: *mut vcpu,
    gmfn: Mfn,
    new_gp: *mut c_void,
    size: u32,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { run::<L>(GuestTable::L2, v, gmfn, new_gp, size) }
}

/// `sh_map_and_validate_gl2he`.
///
/// # Safety
/// See [`run`].
pub unsafe fn map_and_validate_gl2he<L: GuestLevel>(
    v: *mut vcpu,
    gmfn: Mfn,
    new_gp: *mut c_void,
    size: u32,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { run::<L>(GuestTable::L2h, v, gmfn, new_gp, size) }
}

/// `sh_map_and_validate_gl3e`.
///
/// # Safety
/// See [`run`].
pub unsafe fn map_and_validate_gl3e<L: GuestLevel>(
    v: *mut vcpu,
    gmfn: Mfn,
    new_gp: *mut c_void,
    size: u32,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { run::<L>(GuestTable::L3, v, gmfn, new_gp, size) }
}

/// `sh_map_and_validate_gl4e`.
///
/// # Safety
/// See [`run`].
pub unsafe fn map_and_validate_gl4e<L: GuestLevel>(
    v: *mut vcpu,
    gmfn: Mfn,
    new_gp: *mut c_void,
    size: u32,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { run::<L>(GuestTable::L4, v, gmfn, new_gp, size) }
}
