//! multi.c blocks J, K, U, V: destroying, unhooking, revoking and removing shadows.
//! Xen ABI glue: convert arguments, call the generic code in `xen_shadow_rs`.

#![allow(unused_imports)]

use core::ffi::{c_int, c_ulong, c_void};
use ffi::bindings::mfn_t;
use ffi::xen::Mfn;
use ffi::{domain, vcpu};
use xen_shadow_rs::level::GuestLevel;
use crate::unported::{unported_d, unported_v};

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

/// `sh_guess_wrmap` (paging_mode hook): not ported yet.
pub unsafe extern "C" fn guess_wrmap<L: GuestLevel>(
    v: *mut vcpu,
    _vaddr: c_ulong,
    _gmfn: mfn_t,
) -> c_int {
    unported_v::<L>("sh_guess_wrmap", v)
}
