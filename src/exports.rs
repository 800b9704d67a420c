//! The C ABI of multi.c: every global symbol common.c links against, with
//! the exact signatures of `multi.h`, one explicit function per symbol and
//! level (`…__guest_2/3/4`).  Keeping them spelled out lets cbindgen write
//! `xen_shadow_rs.h`, which Xen's `rust-glue.c` compiles together with
//! `multi.h`: a signature that drifts fails the Xen build.
//!
//! Each function only forwards to the level-generic implementation in
//! [`crate::port`]; no logic lives here.
//!
//! Generated once from multi.h's prototypes; edit by hand from now on.

use core::ffi::{c_int, c_ulong, c_void};

use ffi::xen::Mfn;
use ffi::{domain, vcpu};
use xen_shadow_rs::level::{G2, G3, G4};

use crate::port as imp;

/// `sh_map_and_validate_gl1e` for 2-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_map_and_validate_gl1e__guest_2(
    v: *mut vcpu,
    gl1mfn: Mfn,
    new_gl1p: *mut c_void,
    size: u32,
) -> c_int {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::map_and_validate_gl1e::<G2>(v, gl1mfn, new_gl1p, size) }
}

/// `sh_map_and_validate_gl1e` for 3-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_map_and_validate_gl1e__guest_3(
    v: *mut vcpu,
    gl1mfn: Mfn,
    new_gl1p: *mut c_void,
    size: u32,
) -> c_int {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::map_and_validate_gl1e::<G3>(v, gl1mfn, new_gl1p, size) }
}

/// `sh_map_and_validate_gl1e` for 4-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_map_and_validate_gl1e__guest_4(
    v: *mut vcpu,
    gl1mfn: Mfn,
    new_gl1p: *mut c_void,
    size: u32,
) -> c_int {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::map_and_validate_gl1e::<G4>(v, gl1mfn, new_gl1p, size) }
}

/// `sh_map_and_validate_gl2e` for 2-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_map_and_validate_gl2e__guest_2(
    v: *mut vcpu,
    gl2mfn: Mfn,
    new_gl2p: *mut c_void,
    size: u32,
) -> c_int {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::map_and_validate_gl2e::<G2>(v, gl2mfn, new_gl2p, size) }
}

/// `sh_map_and_validate_gl2e` for 3-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_map_and_validate_gl2e__guest_3(
    v: *mut vcpu,
    gl2mfn: Mfn,
    new_gl2p: *mut c_void,
    size: u32,
) -> c_int {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::map_and_validate_gl2e::<G3>(v, gl2mfn, new_gl2p, size) }
}

/// `sh_map_and_validate_gl2e` for 4-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_map_and_validate_gl2e__guest_4(
    v: *mut vcpu,
    gl2mfn: Mfn,
    new_gl2p: *mut c_void,
    size: u32,
) -> c_int {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::map_and_validate_gl2e::<G4>(v, gl2mfn, new_gl2p, size) }
}

/// `sh_map_and_validate_gl2he` for 4-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_map_and_validate_gl2he__guest_4(
    v: *mut vcpu,
    gl2mfn: Mfn,
    new_gl2p: *mut c_void,
    size: u32,
) -> c_int {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::map_and_validate_gl2he::<G4>(v, gl2mfn, new_gl2p, size) }
}

/// `sh_map_and_validate_gl3e` for 4-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_map_and_validate_gl3e__guest_4(
    v: *mut vcpu,
    gl3mfn: Mfn,
    new_gl3p: *mut c_void,
    size: u32,
) -> c_int {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::map_and_validate_gl3e::<G4>(v, gl3mfn, new_gl3p, size) }
}

/// `sh_map_and_validate_gl4e` for 4-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_map_and_validate_gl4e__guest_4(
    v: *mut vcpu,
    gl4mfn: Mfn,
    new_gl4p: *mut c_void,
    size: u32,
) -> c_int {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::map_and_validate_gl4e::<G4>(v, gl4mfn, new_gl4p, size) }
}

/// `sh_destroy_l1_shadow` for 2-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_destroy_l1_shadow__guest_2(d: *mut domain, smfn: Mfn) {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::destroy_l1_shadow::<G2>(d, smfn) }
}

/// `sh_destroy_l1_shadow` for 3-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_destroy_l1_shadow__guest_3(d: *mut domain, smfn: Mfn) {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::destroy_l1_shadow::<G3>(d, smfn) }
}

/// `sh_destroy_l1_shadow` for 4-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_destroy_l1_shadow__guest_4(d: *mut domain, smfn: Mfn) {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::destroy_l1_shadow::<G4>(d, smfn) }
}

/// `sh_destroy_l2_shadow` for 2-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_destroy_l2_shadow__guest_2(d: *mut domain, smfn: Mfn) {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::destroy_l2_shadow::<G2>(d, smfn) }
}

/// `sh_destroy_l2_shadow` for 3-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_destroy_l2_shadow__guest_3(d: *mut domain, smfn: Mfn) {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::destroy_l2_shadow::<G3>(d, smfn) }
}

/// `sh_destroy_l2_shadow` for 4-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_destroy_l2_shadow__guest_4(d: *mut domain, smfn: Mfn) {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::destroy_l2_shadow::<G4>(d, smfn) }
}

/// `sh_destroy_l3_shadow` for 4-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_destroy_l3_shadow__guest_4(d: *mut domain, smfn: Mfn) {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::destroy_l3_shadow::<G4>(d, smfn) }
}

/// `sh_destroy_l4_shadow` for 4-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_destroy_l4_shadow__guest_4(d: *mut domain, smfn: Mfn) {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::destroy_l4_shadow::<G4>(d, smfn) }
}

/// `sh_unhook_32b_mappings` for 2-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_unhook_32b_mappings__guest_2(
    d: *mut domain,
    sl2mfn: Mfn,
    user_only: c_int,
) {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::unhook_32b_mappings::<G2>(d, sl2mfn, user_only) }
}

/// `sh_unhook_pae_mappings` for 3-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_unhook_pae_mappings__guest_3(
    d: *mut domain,
    sl3mfn: Mfn,
    user_only: c_int,
) {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::unhook_pae_mappings::<G3>(d, sl3mfn, user_only) }
}

/// `sh_unhook_64b_mappings` for 4-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_unhook_64b_mappings__guest_4(
    d: *mut domain,
    sl4mfn: Mfn,
    user_only: c_int,
) {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::unhook_64b_mappings::<G4>(d, sl4mfn, user_only) }
}

/// `sh_rm_write_access_from_l1` for 2-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_rm_write_access_from_l1__guest_2(
    d: *mut domain,
    sl1mfn: Mfn,
    readonly_mfn: Mfn,
) -> c_int {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::rm_write_access_from_l1::<G2>(d, sl1mfn, readonly_mfn) }
}

/// `sh_rm_write_access_from_l1` for 3-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_rm_write_access_from_l1__guest_3(
    d: *mut domain,
    sl1mfn: Mfn,
    readonly_mfn: Mfn,
) -> c_int {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::rm_write_access_from_l1::<G3>(d, sl1mfn, readonly_mfn) }
}

/// `sh_rm_write_access_from_l1` for 4-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_rm_write_access_from_l1__guest_4(
    d: *mut domain,
    sl1mfn: Mfn,
    readonly_mfn: Mfn,
) -> c_int {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::rm_write_access_from_l1::<G4>(d, sl1mfn, readonly_mfn) }
}

/// `sh_rm_mappings_from_l1` for 2-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_rm_mappings_from_l1__guest_2(
    d: *mut domain,
    sl1mfn: Mfn,
    target_mfn: Mfn,
) -> c_int {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::rm_mappings_from_l1::<G2>(d, sl1mfn, target_mfn) }
}

/// `sh_rm_mappings_from_l1` for 3-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_rm_mappings_from_l1__guest_3(
    d: *mut domain,
    sl1mfn: Mfn,
    target_mfn: Mfn,
) -> c_int {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::rm_mappings_from_l1::<G3>(d, sl1mfn, target_mfn) }
}

/// `sh_rm_mappings_from_l1` for 4-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_rm_mappings_from_l1__guest_4(
    d: *mut domain,
    sl1mfn: Mfn,
    target_mfn: Mfn,
) -> c_int {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::rm_mappings_from_l1::<G4>(d, sl1mfn, target_mfn) }
}

/// `sh_clear_shadow_entry` for 2-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_clear_shadow_entry__guest_2(
    d: *mut domain,
    ep: *mut c_void,
    smfn: Mfn,
) {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::clear_shadow_entry::<G2>(d, ep, smfn) }
}

/// `sh_clear_shadow_entry` for 3-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_clear_shadow_entry__guest_3(
    d: *mut domain,
    ep: *mut c_void,
    smfn: Mfn,
) {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::clear_shadow_entry::<G3>(d, ep, smfn) }
}

/// `sh_clear_shadow_entry` for 4-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_clear_shadow_entry__guest_4(
    d: *mut domain,
    ep: *mut c_void,
    smfn: Mfn,
) {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::clear_shadow_entry::<G4>(d, ep, smfn) }
}

/// `sh_remove_l1_shadow` for 2-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_remove_l1_shadow__guest_2(
    d: *mut domain,
    sl2mfn: Mfn,
    sl1mfn: Mfn,
) -> c_int {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::remove_l1_shadow::<G2>(d, sl2mfn, sl1mfn) }
}

/// `sh_remove_l1_shadow` for 3-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_remove_l1_shadow__guest_3(
    d: *mut domain,
    sl2mfn: Mfn,
    sl1mfn: Mfn,
) -> c_int {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::remove_l1_shadow::<G3>(d, sl2mfn, sl1mfn) }
}

/// `sh_remove_l1_shadow` for 4-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_remove_l1_shadow__guest_4(
    d: *mut domain,
    sl2mfn: Mfn,
    sl1mfn: Mfn,
) -> c_int {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::remove_l1_shadow::<G4>(d, sl2mfn, sl1mfn) }
}

/// `sh_remove_l2_shadow` for 4-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_remove_l2_shadow__guest_4(
    d: *mut domain,
    sl3mfn: Mfn,
    sl2mfn: Mfn,
) -> c_int {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::remove_l2_shadow::<G4>(d, sl3mfn, sl2mfn) }
}

/// `sh_remove_l3_shadow` for 4-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_remove_l3_shadow__guest_4(
    d: *mut domain,
    sl4mfn: Mfn,
    sl3mfn: Mfn,
) -> c_int {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::remove_l3_shadow::<G4>(d, sl4mfn, sl3mfn) }
}

/// `sh_resync_l1` for 2-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_resync_l1__guest_2(v: *mut vcpu, gmfn: Mfn, snpmfn: Mfn) {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::resync_l1::<G2>(v, gmfn, snpmfn) }
}

/// `sh_resync_l1` for 3-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_resync_l1__guest_3(v: *mut vcpu, gmfn: Mfn, snpmfn: Mfn) {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::resync_l1::<G3>(v, gmfn, snpmfn) }
}

/// `sh_resync_l1` for 4-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_resync_l1__guest_4(v: *mut vcpu, gmfn: Mfn, snpmfn: Mfn) {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::resync_l1::<G4>(v, gmfn, snpmfn) }
}

/// `sh_safe_not_to_sync` for 2-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_safe_not_to_sync__guest_2(v: *mut vcpu, gmfn: Mfn) -> c_int {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::safe_not_to_sync::<G2>(v, gmfn) }
}

/// `sh_safe_not_to_sync` for 3-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_safe_not_to_sync__guest_3(v: *mut vcpu, gmfn: Mfn) -> c_int {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::safe_not_to_sync::<G3>(v, gmfn) }
}

/// `sh_safe_not_to_sync` for 4-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_safe_not_to_sync__guest_4(v: *mut vcpu, gmfn: Mfn) -> c_int {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::safe_not_to_sync::<G4>(v, gmfn) }
}

/// `sh_rm_write_access_from_sl1p` for 2-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_rm_write_access_from_sl1p__guest_2(
    d: *mut domain,
    gmfn: Mfn,
    smfn: Mfn,
    off: c_ulong,
) -> c_int {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::rm_write_access_from_sl1p::<G2>(d, gmfn, smfn, off) }
}

/// `sh_rm_write_access_from_sl1p` for 3-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_rm_write_access_from_sl1p__guest_3(
    d: *mut domain,
    gmfn: Mfn,
    smfn: Mfn,
    off: c_ulong,
) -> c_int {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::rm_write_access_from_sl1p::<G3>(d, gmfn, smfn, off) }
}

/// `sh_rm_write_access_from_sl1p` for 4-level guests (multi.h).
#[no_mangle]
pub unsafe extern "C" fn sh_rm_write_access_from_sl1p__guest_4(
    d: *mut domain,
    gmfn: Mfn,
    smfn: Mfn,
    off: c_ulong,
) -> c_int {
    // SAFETY: called by Xen's shadow code with the arguments multi.h documents.
    unsafe { imp::rm_write_access_from_sl1p::<G4>(d, gmfn, smfn, off) }
}

/// Debug builds (`CONFIG_DEBUG=y`) audit every shadow table through these
/// callbacks of `shadow_audit_tables` (common.c).
#[cfg(xen_debug)]
mod audit {
    use super::*;

    /// `sh_audit_l1_table` for 2-level guests (multi.h, debug builds).
    #[no_mangle]
    pub unsafe extern "C" fn sh_audit_l1_table__guest_2(v: *mut vcpu, smfn: Mfn, x: Mfn) -> c_int {
        // SAFETY: called by shadow_audit_tables with a live vCPU.
        unsafe { imp::audit_l1_table::<G2>(v, smfn, x) }
    }

    /// `sh_audit_l1_table` for 3-level guests (multi.h, debug builds).
    #[no_mangle]
    pub unsafe extern "C" fn sh_audit_l1_table__guest_3(v: *mut vcpu, smfn: Mfn, x: Mfn) -> c_int {
        // SAFETY: called by shadow_audit_tables with a live vCPU.
        unsafe { imp::audit_l1_table::<G3>(v, smfn, x) }
    }

    /// `sh_audit_l1_table` for 4-level guests (multi.h, debug builds).
    #[no_mangle]
    pub unsafe extern "C" fn sh_audit_l1_table__guest_4(v: *mut vcpu, smfn: Mfn, x: Mfn) -> c_int {
        // SAFETY: called by shadow_audit_tables with a live vCPU.
        unsafe { imp::audit_l1_table::<G4>(v, smfn, x) }
    }

    /// `sh_audit_fl1_table` for 2-level guests (multi.h, debug builds).
    #[no_mangle]
    pub unsafe extern "C" fn sh_audit_fl1_table__guest_2(v: *mut vcpu, smfn: Mfn, x: Mfn) -> c_int {
        // SAFETY: called by shadow_audit_tables with a live vCPU.
        unsafe { imp::audit_fl1_table::<G2>(v, smfn, x) }
    }

    /// `sh_audit_fl1_table` for 3-level guests (multi.h, debug builds).
    #[no_mangle]
    pub unsafe extern "C" fn sh_audit_fl1_table__guest_3(v: *mut vcpu, smfn: Mfn, x: Mfn) -> c_int {
        // SAFETY: called by shadow_audit_tables with a live vCPU.
        unsafe { imp::audit_fl1_table::<G3>(v, smfn, x) }
    }

    /// `sh_audit_fl1_table` for 4-level guests (multi.h, debug builds).
    #[no_mangle]
    pub unsafe extern "C" fn sh_audit_fl1_table__guest_4(v: *mut vcpu, smfn: Mfn, x: Mfn) -> c_int {
        // SAFETY: called by shadow_audit_tables with a live vCPU.
        unsafe { imp::audit_fl1_table::<G4>(v, smfn, x) }
    }

    /// `sh_audit_l2_table` for 2-level guests (multi.h, debug builds).
    #[no_mangle]
    pub unsafe extern "C" fn sh_audit_l2_table__guest_2(v: *mut vcpu, smfn: Mfn, x: Mfn) -> c_int {
        // SAFETY: called by shadow_audit_tables with a live vCPU.
        unsafe { imp::audit_l2_table::<G2>(v, smfn, x) }
    }

    /// `sh_audit_l2_table` for 3-level guests (multi.h, debug builds).
    #[no_mangle]
    pub unsafe extern "C" fn sh_audit_l2_table__guest_3(v: *mut vcpu, smfn: Mfn, x: Mfn) -> c_int {
        // SAFETY: called by shadow_audit_tables with a live vCPU.
        unsafe { imp::audit_l2_table::<G3>(v, smfn, x) }
    }

    /// `sh_audit_l2_table` for 4-level guests (multi.h, debug builds).
    #[no_mangle]
    pub unsafe extern "C" fn sh_audit_l2_table__guest_4(v: *mut vcpu, smfn: Mfn, x: Mfn) -> c_int {
        // SAFETY: called by shadow_audit_tables with a live vCPU.
        unsafe { imp::audit_l2_table::<G4>(v, smfn, x) }
    }

    /// `sh_audit_l3_table` for 4-level guests (multi.h, debug builds).
    #[no_mangle]
    pub unsafe extern "C" fn sh_audit_l3_table__guest_4(v: *mut vcpu, smfn: Mfn, x: Mfn) -> c_int {
        // SAFETY: called by shadow_audit_tables with a live vCPU.
        unsafe { imp::audit_l3_table::<G4>(v, smfn, x) }
    }

    /// `sh_audit_l4_table` for 4-level guests (multi.h, debug builds).
    #[no_mangle]
    pub unsafe extern "C" fn sh_audit_l4_table__guest_4(v: *mut vcpu, smfn: Mfn, x: Mfn) -> c_int {
        // SAFETY: called by shadow_audit_tables with a live vCPU.
        unsafe { imp::audit_l4_table::<G4>(v, smfn, x) }
    }
}
