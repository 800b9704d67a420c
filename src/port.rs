//! The level-generic implementation behind every export.
//!
//! While the port (issue 3) is open, an entry point that has no Rust
//! implementation yet BUG()s with a message naming it; none returns silently.
//! docs/status.md lists them (generated from `xen_shadow_rs::entry`).

use core::ffi::{c_int, c_ulong, c_void};

use ffi::xen::Mfn;
use ffi::{domain, vcpu};
use xen_shadow_rs::level::GuestLevel;

use crate::unported::{unported_d, unported_v};

/// `sh_map_and_validate_gl1e`: not ported yet.
pub unsafe fn map_and_validate_gl1e<L: GuestLevel>(
    v: *mut vcpu,
    _gl1mfn: Mfn,
    _new_gl1p: *mut c_void,
    _size: u32,
) -> c_int {
    unported_v::<L>("sh_map_and_validate_gl1e", v)
}

/// `sh_map_and_validate_gl2e`: not ported yet.
pub unsafe fn map_and_validate_gl2e<L: GuestLevel>(
    v: *mut vcpu,
    _gl2mfn: Mfn,
    _new_gl2p: *mut c_void,
    _size: u32,
) -> c_int {
    unported_v::<L>("sh_map_and_validate_gl2e", v)
}

/// `sh_map_and_validate_gl2he`: not ported yet.
pub unsafe fn map_and_validate_gl2he<L: GuestLevel>(
    v: *mut vcpu,
    _gl2mfn: Mfn,
    _new_gl2p: *mut c_void,
    _size: u32,
) -> c_int {
    unported_v::<L>("sh_map_and_validate_gl2he", v)
}

/// `sh_map_and_validate_gl3e`: not ported yet.
pub unsafe fn map_and_validate_gl3e<L: GuestLevel>(
    v: *mut vcpu,
    _gl3mfn: Mfn,
    _new_gl3p: *mut c_void,
    _size: u32,
) -> c_int {
    unported_v::<L>("sh_map_and_validate_gl3e", v)
}

/// `sh_map_and_validate_gl4e`: not ported yet.
pub unsafe fn map_and_validate_gl4e<L: GuestLevel>(
    v: *mut vcpu,
    _gl4mfn: Mfn,
    _new_gl4p: *mut c_void,
    _size: u32,
) -> c_int {
    unported_v::<L>("sh_map_and_validate_gl4e", v)
}

/// `sh_destroy_l1_shadow`: not ported yet.
pub unsafe fn destroy_l1_shadow<L: GuestLevel>(d: *mut domain, _smfn: Mfn) {
    unported_d::<L>("sh_destroy_l1_shadow", d)
}

/// `sh_destroy_l2_shadow`: not ported yet.
pub unsafe fn destroy_l2_shadow<L: GuestLevel>(d: *mut domain, _smfn: Mfn) {
    unported_d::<L>("sh_destroy_l2_shadow", d)
}

/// `sh_destroy_l3_shadow`: not ported yet.
pub unsafe fn destroy_l3_shadow<L: GuestLevel>(d: *mut domain, _smfn: Mfn) {
    unported_d::<L>("sh_destroy_l3_shadow", d)
}

/// `sh_destroy_l4_shadow`: not ported yet.
pub unsafe fn destroy_l4_shadow<L: GuestLevel>(d: *mut domain, _smfn: Mfn) {
    unported_d::<L>("sh_destroy_l4_shadow", d)
}

/// `sh_unhook_32b_mappings`: not ported yet.
pub unsafe fn unhook_32b_mappings<L: GuestLevel>(d: *mut domain, _sl2mfn: Mfn, _user_only: c_int) {
    unported_d::<L>("sh_unhook_32b_mappings", d)
}

/// `sh_unhook_pae_mappings`: not ported yet.
pub unsafe fn unhook_pae_mappings<L: GuestLevel>(d: *mut domain, _sl3mfn: Mfn, _user_only: c_int) {
    unported_d::<L>("sh_unhook_pae_mappings", d)
}

/// `sh_unhook_64b_mappings`: not ported yet.
pub unsafe fn unhook_64b_mappings<L: GuestLevel>(d: *mut domain, _sl4mfn: Mfn, _user_only: c_int) {
    unported_d::<L>("sh_unhook_64b_mappings", d)
}

/// `sh_rm_write_access_from_l1`: not ported yet.
pub unsafe fn rm_write_access_from_l1<L: GuestLevel>(
    d: *mut domain,
    _sl1mfn: Mfn,
    _readonly_mfn: Mfn,
) -> c_int {
    unported_d::<L>("sh_rm_write_access_from_l1", d)
}

/// `sh_rm_mappings_from_l1`: not ported yet.
pub unsafe fn rm_mappings_from_l1<L: GuestLevel>(
    d: *mut domain,
    _sl1mfn: Mfn,
    _target_mfn: Mfn,
) -> c_int {
    unported_d::<L>("sh_rm_mappings_from_l1", d)
}

/// `sh_clear_shadow_entry`: not ported yet.
pub unsafe fn clear_shadow_entry<L: GuestLevel>(d: *mut domain, _ep: *mut c_void, _smfn: Mfn) {
    unported_d::<L>("sh_clear_shadow_entry", d)
}

/// `sh_remove_l1_shadow`: not ported yet.
pub unsafe fn remove_l1_shadow<L: GuestLevel>(d: *mut domain, _sl2mfn: Mfn, _sl1mfn: Mfn) -> c_int {
    unported_d::<L>("sh_remove_l1_shadow", d)
}

/// `sh_remove_l2_shadow`: not ported yet.
pub unsafe fn remove_l2_shadow<L: GuestLevel>(d: *mut domain, _sl3mfn: Mfn, _sl2mfn: Mfn) -> c_int {
    unported_d::<L>("sh_remove_l2_shadow", d)
}

/// `sh_remove_l3_shadow`: not ported yet.
pub unsafe fn remove_l3_shadow<L: GuestLevel>(d: *mut domain, _sl4mfn: Mfn, _sl3mfn: Mfn) -> c_int {
    unported_d::<L>("sh_remove_l3_shadow", d)
}

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
