//! multi.c blocks J, K, U, V: destroying, unhooking, revoking and removing shadows.
//! Xen ABI glue: convert arguments, call the generic code in `xen_shadow_rs`.
//!
//! Every function here is called by common.c (directly or through its
//! `hash_*_foreach` callback tables) with the paging lock held and a live
//! domain; the `# Safety` sections say what else the caller guarantees.

use core::ffi::{c_int, c_ulong, c_void};

use ffi::bindings::mfn_t;
use ffi::xen::Mfn;
use ffi::{domain, vcpu};
use xen_shadow_rs::level::GuestLevel;
use xen_shadow_rs::types::Mfn as M;
use xen_shadow_rs::{destroy, remove, revoke};

use crate::xen::{Dom, Vcpu, Xen};

fn m(x: Mfn) -> M {
    M(x.0)
}

/// `sh_destroy_l1_shadow`: see `xen_shadow_rs::destroy::sh_destroy_l1_shadow`.
///
/// # Safety
/// `d` is a live shadow-mode domain, `smfn` the head of an L1/FL1 shadow
/// of this level; the paging lock is held.
pub unsafe fn destroy_l1_shadow<L: GuestLevel>(d: *mut domain, smfn: Mfn) {
    destroy::sh_destroy_l1_shadow::<Xen, L>(&Xen, Dom(d), m(smfn))
}

/// `sh_destroy_l2_shadow`: see `xen_shadow_rs::destroy::sh_destroy_l2_shadow`.
///
/// # Safety
/// As `destroy_l1_shadow`, for an L2/L2h shadow.
pub unsafe fn destroy_l2_shadow<L: GuestLevel>(d: *mut domain, smfn: Mfn) {
    destroy::sh_destroy_l2_shadow::<Xen, L>(&Xen, Dom(d), m(smfn))
}

/// `sh_destroy_l3_shadow`: see `xen_shadow_rs::destroy::sh_destroy_l3_shadow`.
///
/// # Safety
/// As `destroy_l1_shadow`, for an L3 shadow (4-level guests).
pub unsafe fn destroy_l3_shadow<L: GuestLevel>(d: *mut domain, smfn: Mfn) {
    destroy::sh_destroy_l3_shadow::<Xen, L>(&Xen, Dom(d), m(smfn))
}

/// `sh_destroy_l4_shadow`: see `xen_shadow_rs::destroy::sh_destroy_l4_shadow`.
///
/// # Safety
/// As `destroy_l1_shadow`, for an L4 shadow (4-level guests).
pub unsafe fn destroy_l4_shadow<L: GuestLevel>(d: *mut domain, smfn: Mfn) {
    destroy::sh_destroy_l4_shadow::<Xen, L>(&Xen, Dom(d), m(smfn))
}

/// `sh_unhook_32b_mappings`: see `xen_shadow_rs::destroy::sh_unhook_32b_mappings`.
///
/// # Safety
/// `d` is live, `sl2mfn` a top-level shadow of this level; lock held.
pub unsafe fn unhook_32b_mappings<L: GuestLevel>(d: *mut domain, sl2mfn: Mfn, user_only: c_int) {
    destroy::sh_unhook_32b_mappings::<Xen, L>(&Xen, Dom(d), m(sl2mfn), user_only != 0)
}

/// `sh_unhook_pae_mappings`: see `xen_shadow_rs::destroy::sh_unhook_pae_mappings`.
///
/// # Safety
/// As `unhook_32b_mappings`.
pub unsafe fn unhook_pae_mappings<L: GuestLevel>(d: *mut domain, sl3mfn: Mfn, user_only: c_int) {
    destroy::sh_unhook_pae_mappings::<Xen, L>(&Xen, Dom(d), m(sl3mfn), user_only != 0)
}

/// `sh_unhook_64b_mappings`: see `xen_shadow_rs::destroy::sh_unhook_64b_mappings`.
///
/// # Safety
/// As `unhook_32b_mappings`.
pub unsafe fn unhook_64b_mappings<L: GuestLevel>(d: *mut domain, sl4mfn: Mfn, user_only: c_int) {
    destroy::sh_unhook_64b_mappings::<Xen, L>(&Xen, Dom(d), m(sl4mfn), user_only != 0)
}

/// `sh_rm_write_access_from_l1`: see `xen_shadow_rs::revoke::sh_rm_write_access_from_l1`.
///
/// # Safety
/// `d` is live, `sl1mfn` an L1/FL1 shadow of this level, `readonly_mfn` a
/// valid frame; lock held.
pub unsafe fn rm_write_access_from_l1<L: GuestLevel>(
    d: *mut domain,
    sl1mfn: Mfn,
    readonly_mfn: Mfn,
) -> c_int {
    revoke::sh_rm_write_access_from_l1::<Xen, L>(&Xen, Dom(d), m(sl1mfn), m(readonly_mfn))
}

/// `sh_rm_mappings_from_l1`: see `xen_shadow_rs::revoke::sh_rm_mappings_from_l1`.
///
/// # Safety
/// As `rm_write_access_from_l1`.
pub unsafe fn rm_mappings_from_l1<L: GuestLevel>(
    d: *mut domain,
    sl1mfn: Mfn,
    target_mfn: Mfn,
) -> c_int {
    revoke::sh_rm_mappings_from_l1::<Xen, L>(&Xen, Dom(d), m(sl1mfn), m(target_mfn))
}

/// `sh_clear_shadow_entry`: `ep` points at the entry inside a page the
/// caller (common.c `sh_remove_shadow_via_pointer`) mapped and unmaps
/// itself; `smfn` is the shadow frame holding it.
///
/// # Safety
/// `d` is live; `ep` is an 8-byte aligned pointer into a live mapping of
/// the shadow page `smfn` that stays mapped for the call; lock held.
pub unsafe fn clear_shadow_entry<L: GuestLevel>(d: *mut domain, ep: *mut c_void, smfn: Mfn) {
    // SAFETY: `ep` is an aligned entry in a mapping of `smfn` that the
    // caller keeps for this call (function contract); the slot is not kept.
    let slot = unsafe { crate::xen::slot_from_ptr(ep.cast(), m(smfn)) };
    remove::sh_clear_shadow_entry::<Xen, L>(&Xen, Dom(d), slot)
}

/// `sh_remove_l1_shadow`: see `xen_shadow_rs::remove::sh_remove_l1_shadow`.
///
/// # Safety
/// `d` is live, both frames shadows of this level; lock held.
pub unsafe fn remove_l1_shadow<L: GuestLevel>(d: *mut domain, sl2mfn: Mfn, sl1mfn: Mfn) -> c_int {
    remove::sh_remove_l1_shadow::<Xen, L>(&Xen, Dom(d), m(sl2mfn), m(sl1mfn))
}

/// `sh_remove_l2_shadow`: see `xen_shadow_rs::remove::sh_remove_l2_shadow`.
///
/// # Safety
/// As `remove_l1_shadow`.
pub unsafe fn remove_l2_shadow<L: GuestLevel>(d: *mut domain, sl3mfn: Mfn, sl2mfn: Mfn) -> c_int {
    remove::sh_remove_l2_shadow::<Xen, L>(&Xen, Dom(d), m(sl3mfn), m(sl2mfn))
}

/// `sh_remove_l3_shadow`: see `xen_shadow_rs::remove::sh_remove_l3_shadow`.
///
/// # Safety
/// As `remove_l1_shadow`.
pub unsafe fn remove_l3_shadow<L: GuestLevel>(d: *mut domain, sl4mfn: Mfn, sl3mfn: Mfn) -> c_int {
    remove::sh_remove_l3_shadow::<Xen, L>(&Xen, Dom(d), m(sl4mfn), m(sl3mfn))
}

/// `sh_guess_wrmap` (paging_mode hook): see `xen_shadow_rs::revoke::sh_guess_wrmap`.
///
/// # Safety
/// Called by common.c's `sh_remove_write_access` with the current vCPU of
/// a shadow-mode HVM domain, paging lock held.
pub unsafe extern "C" fn guess_wrmap<L: GuestLevel>(
    v: *mut vcpu,
    vaddr: c_ulong,
    gmfn: mfn_t,
) -> c_int {
    const { assert!(core::mem::size_of::<mfn_t>() == 8) };
    // SAFETY: `mfn_t` is `unsigned long` (release) or a struct holding
    // exactly one `unsigned long` (debug): 8 bytes, any bit pattern valid.
    let gmfn: u64 = unsafe { core::mem::transmute::<mfn_t, u64>(gmfn) };
    revoke::sh_guess_wrmap::<Xen, L>(&Xen, Vcpu(v), vaddr, M(gmfn))
}
