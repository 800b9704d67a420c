//! multi.c blocks L and N: per-entry validation and map-and-validate.
//! Xen ABI glue: convert arguments, call the generic code in `xen_shadow_rs`.

use core::ffi::{c_int, c_void};
use core::ptr::NonNull;

use ffi::vcpu;
use ffi::xen::Mfn;
use xen_shadow_rs::level::GuestLevel;
use xen_shadow_rs::platform::Table;
use xen_shadow_rs::types::{self as t, PAGE_MASK};
use xen_shadow_rs::validate as imp;

use crate::xen::{Vcpu, Xen};

/// The signature shared by the five generic map-and-validate functions.
type MapAndValidate = fn(&Xen, Vcpu, t::Mfn, Table, usize, u32) -> i32;

/// Splits `new_gp`, a pointer into the caller's mapping of the written
/// guest page, into that mapping's page (as a `Table`) and the byte offset,
/// and runs `f`.
///
/// # Safety
/// `v` is a live vCPU; `new_gp` points into a page-table page of the
/// guest that the caller (common.c `sh_validate_guest_entry`) keeps mapped
/// for the duration of the call.
unsafe fn run(
    f: MapAndValidate,
    v: *mut vcpu,
    gmfn: Mfn,
    new_gp: *mut c_void,
    size: u32,
) -> c_int {
    let addr = new_gp as usize;
    let base = (addr as u64 & PAGE_MASK) as usize;
    let offset = addr - base;
    let Some(page) = NonNull::new(base as *mut u8) else {
        panic!("sh_map_and_validate: NULL guest mapping");
    };
    // SAFETY: `base` is the 4 KiB-aligned start of the page `new_gp` points
    // into, which the caller keeps mapped (function contract) while the
    // `Table` is used, i.e. during `f`.
    let guest = unsafe { Table::from_raw(page) };
    f(&Xen, Vcpu(v), t::Mfn(gmfn.0), guest, offset, size)
}

/// `sh_map_and_validate_gl1e`.
///
/// # Safety
/// See [`run`].
pub unsafe fn map_and_validate_gl1e<L: GuestLevel>(
    v: *mut vcpu,
    gl1mfn: Mfn,
    new_gl1p: *mut c_void,
    size: u32,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { run(imp::sh_map_and_validate_gl1e::<Xen, L>, v, gl1mfn, new_gl1p, size) }
}

/// `sh_map_and_validate_gl2e`.
///
/// # Safety
/// See [`run`].
pub unsafe fn map_and_validate_gl2e<L: GuestLevel>(
    v: *mut vcpu,
    gl2mfn: Mfn,
    new_gl2p: *mut c_void,
    size: u32,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { run(imp::sh_map_and_validate_gl2e::<Xen, L>, v, gl2mfn, new_gl2p, size) }
}

/// `sh_map_and_validate_gl2he`.
///
/// # Safety
/// See [`run`].
pub unsafe fn map_and_validate_gl2he<L: GuestLevel>(
    v: *mut vcpu,
    gl2mfn: Mfn,
    new_gl2p: *mut c_void,
    size: u32,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { run(imp::sh_map_and_validate_gl2he::<Xen, L>, v, gl2mfn, new_gl2p, size) }
}

/// `sh_map_and_validate_gl3e`.
///
/// # Safety
/// See [`run`].
pub unsafe fn map_and_validate_gl3e<L: GuestLevel>(
    v: *mut vcpu,
    gl3mfn: Mfn,
    new_gl3p: *mut c_void,
    size: u32,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { run(imp::sh_map_and_validate_gl3e::<Xen, L>, v, gl3mfn, new_gl3p, size) }
}

/// `sh_map_and_validate_gl4e`.
///
/// # Safety
/// See [`run`].
pub unsafe fn map_and_validate_gl4e<L: GuestLevel>(
    v: *mut vcpu,
    gl4mfn: Mfn,
    new_gl4p: *mut c_void,
    size: u32,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { run(imp::sh_map_and_validate_gl4e::<Xen, L>, v, gl4mfn, new_gl4p, size) }
}
