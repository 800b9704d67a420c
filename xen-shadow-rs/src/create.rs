//! multi.c blocks H (926-1025: creating shadows) and I (1028-1252: the
//! get-or-create chain from a guest walk down to the shadow L1 entry).
//!
//! As in C, each level's entry is reached through the shadow linear map of
//! the current vCPU (`sh_linear_lN_table(v) + shadow_lN_linear_offset(va)`,
//! [`linear_slot`]): the chain runs only in the page-fault handler, for
//! `current`, and an entry's page is in the linear map as soon as the entry
//! above it is present, which each level makes sure of before descending.
//! The shadow page holding each entry is tracked alongside (a `Slot` names
//! it), starting from the vCPU's top-level shadow (`shadow_table[0]`, or
//! the `l3table[]` copy for PAE guests).  Nothing is mapped, so nothing is
//! left to release.

use crate::fl1::{get_fl1_shadow_status, set_fl1_shadow_status};
use crate::index::*;
use crate::level::GuestLevel;
use crate::oos::sh_type_has_up_pointer;
use crate::platform::{GuestWalk, Platform, Slot};
use crate::propagate::{
    l2e_propagate_from_guest, l3e_propagate_from_guest, l4e_propagate_from_guest,
};
use crate::types::*;
use crate::walk::guest_can_use_l2_superpages;

/// The old-Linux heuristic of `sh_make_shadow` (multi.c 943-973): with more
/// than two pinned L4 shadows per vCPU the guest is not an old Linux that
/// switches address spaces by rewriting one L4 entry, so stop pinning L3s.
pub fn too_many_l4s_for_l3_toplevel(l4count: u64, max_vcpus: u32) -> bool {
    l4count > 2 * u64::from(max_vcpus)
}

/// The shadow type of the L2 a 4-level guest walk reaches (multi.c
/// 1118-1122): a 32-bit PV guest's L2 covering the top GiB of its 4 GiB
/// (L4 slot 0, L3 slot 3) holds Xen's compat M2P mappings, so its shadow is
/// an L2h.
pub fn l2_shadow_type_for<L: GuestLevel>(pv32: bool, va: u64) -> u32 {
    if L::LEVELS == 4
        && pv32
        && L::guest_l4_table_offset(va) == 0
        && L::guest_l3_table_offset(va) == 3
    {
        L::SH_L2H
    } else {
        L::SH_L2
    }
}

/// Whether the shadow L2 entry for a fault can be used as it is (multi.c
/// 1189-1192): it is present, and unless this is a demand write to a guest
/// superpage whose shadow entry is still read-only (waiting for the guest's
/// dirty bit), nothing needs redoing.
pub fn sl2e_is_usable(sl2e_flags: u32, gl2e_flags: u32, ft: FetchType) -> bool {
    sl2e_flags & flags::PRESENT != 0
        && (ft != FetchType::DemandWrite
            || sl2e_flags & flags::RW != 0
            || gl2e_flags & flags::PSE == 0)
}

/// `sh_make_shadow` (multi.c 929-1012): allocates a shadow of type
/// `shadow_type` for the guest table `gmfn`, clears its up-pointer, applies
/// the old-Linux L3-pinning heuristic (4-level), writes Xen's slots into
/// PV top-level shadows (L4, and the L2h of 32-bit PV guests), then
/// promotes `gmfn` and enters the shadow into the hash.  Engineer D's
/// `sh_set_toplevel_shadow` uses it as the constructor of top-level shadows.
pub fn sh_make_shadow<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    gmfn: Mfn,
    shadow_type: u32,
) -> Mfn {
    let d = p.vcpu_domain(v);
    let smfn = p.shadow_alloc(d, shadow_type, gmfn.0);

    if sh_type_has_up_pointer(shadow_type, p.shadow_opt_flags(d)) {
        // Not linked from an upper-level shadow yet.
        p.set_sp_up(smfn, 0);
    }

    if L::LEVELS >= 4 {
        if shadow_type == L::SH_L4 && p.shadow_opt_flags(d) & shopt::LINUX_L3_TOPLEVEL != 0 {
            // A new L4 while we assume the guest keeps one L4 per vCPU:
            // count the pinned L4 shadows (single-page, so every list
            // element is a whole shadow).
            let mut l4count: u64 = 0;
            let mut sp = p.pinned_shadows_next(d, INVALID_MFN);
            while sp != INVALID_MFN {
                if p.sp_type(sp) == sh_type::L4_64 {
                    l4count += 1;
                }
                sp = p.pinned_shadows_next(d, sp);
            }
            if too_many_l4s_for_l3_toplevel(l4count, p.max_vcpus(d)) {
                // Unpin every pinned L3 and stop pinning them.  The next
                // element is fetched before unpinning, which unlinks `sp`.
                let mut sp = p.pinned_shadows_next(d, INVALID_MFN);
                while sp != INVALID_MFN {
                    let next = p.pinned_shadows_next(d, sp);
                    if p.sp_type(sp) == sh_type::L3_64 {
                        p.sh_unpin(d, sp);
                    }
                    sp = next;
                }
                p.set_shadow_opt_flags(d, p.shadow_opt_flags(d) & !shopt::LINUX_L3_TOPLEVEL);
                p.sh_reset_l3_up_pointers(v);
            }
        }

        // PV guests: Xen's own mappings in the new shadow.
        if !p.paging_mode_external(d) {
            if shadow_type == L::SH_L4 {
                let l4t = p.map_domain_page(smfn);
                let ro_mpt = !p.is_pv_32bit_domain(d) && p.vm_assist_m2p_strict(d);
                p.init_xen_l4_slots(l4t, gmfn, d, smfn, ro_mpt);
                p.unmap_domain_page(l4t);
            } else if shadow_type == L::SH_L2H && p.is_pv_32bit_domain(d) {
                let l2t = p.map_domain_page(smfn);
                p.init_xen_pae_l2_slots(l2t, d);
                p.unmap_domain_page(l2t);
            }
        }
    }

    p.shadow_promote(d, gmfn, shadow_type);
    p.set_shadow_status(d, gmfn, shadow_type, smfn);
    smfn
}

/// `make_fl1_shadow` (multi.c 1015-1025): allocates the FL1 shadow that
/// splinters the guest superpage starting at `gfn` and hashes it on `gfn`.
pub fn make_fl1_shadow<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu, gfn: Gfn) -> Mfn {
    let d = p.vcpu_domain(v);
    let smfn = p.shadow_alloc(d, L::SH_FL1, gfn.0);
    set_fl1_shadow_status::<P, L>(p, d, gfn, smfn);
    smfn
}

/// The shadow that the upper-level shadow entry `se` points to if it is
/// present; otherwise the shadow of type `t` of the guest table `gmfn`
/// (found in the hash or made) hooked into `se` by `install`, which returns
/// the `shadow_set_lNe` result.  Sets `resync` when something was hooked
/// in; None if hooking failed.  (The common part of multi.c's
/// `shadow_get_and_create_l3e/l2e` for 4-level shadows.)
fn present_or_install<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    se: Slot,
    gmfn: Mfn,
    t: u32,
    resync: &mut bool,
    install: impl FnOnce(Mfn) -> i32,
) -> Option<Mfn> {
    let e = se.get();
    if get_pte_flags(e) & flags::PRESENT != 0 {
        let m = shadow_e_get_mfn(e);
        debug_assert!(p.mfn_valid(m));
        return Some(m);
    }
    let d = p.vcpu_domain(v);
    let mut m = p.get_shadow_status(d, gmfn, t);
    if !p.mfn_valid(m) {
        m = sh_make_shadow::<P, L>(p, v, gmfn, t);
    }
    let r = install(m);
    debug_assert!(r & set::FLUSH == 0);
    if r & set::ERROR != 0 {
        return None;
    }
    *resync = true;
    Some(m)
}

/// `sh_linear_lN_table(v) + shadow_lN_linear_offset(va)` for N = `LEVEL`:
/// the slot of the level-N shadow entry for `va`, in shadow page `smfn`,
/// through the current vCPU's shadow linear map.  The caller has made sure
/// the entries above it are present, so the page is mapped there.
#[inline(always)]
fn linear_slot<P: Platform, const LEVEL: u32>(p: &P, v: P::Vcpu, va: u64, smfn: Mfn) -> Slot {
    let off = match LEVEL {
        1 => shadow_l1_linear_offset(va),
        2 => shadow_l2_linear_offset(va),
        3 => shadow_l3_linear_offset(va),
        _ => shadow_l4_linear_offset(va),
    };
    // off < 2^36 (a 48-bit address shifted by 12 or more): no overflow.
    let page = p
        .sh_linear_table_base(v, LEVEL)
        .wrapping_add((off & !511) * 8);
    p.sh_linear_page(v, page, smfn)
        .slot(smfn, (off & 511) as usize)
}

/// `shadow_get_and_create_l4e` (multi.c 1041-1049): the slot of the shadow
/// L4 entry for `gw.va` in the vCPU's top-level shadow (always present).
fn shadow_get_and_create_l4e<P: Platform>(p: &P, v: P::Vcpu, gw: &GuestWalk) -> Slot {
    let sl4mfn = p.vcpu_shadow_table(v, 0);
    linear_slot::<P, 4>(p, v, gw.va, sl4mfn)
}

/// `shadow_get_and_create_l3e` (multi.c 1051-1094, 4-level guests): the
/// slot of the shadow L3 entry for `gw.va`, creating and installing the L3
/// shadow if the L4 entry is empty (then `resync` is set).  None if the
/// guest has no L3 there or installing failed.
fn shadow_get_and_create_l3e<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    gw: &GuestWalk,
    ft: FetchType,
    resync: &mut bool,
) -> Option<Slot> {
    if !p.mfn_valid(gw.l3mfn) {
        return None; // No guest table.
    }
    let d = p.vcpu_domain(v);
    let sl4e = shadow_get_and_create_l4e(p, v, gw);
    let sl3mfn = present_or_install::<P, L>(p, v, sl4e, gw.l3mfn, L::SH_L3, resync, |m| {
        let new = l4e_propagate_from_guest::<P, L>(p, v, gw.l4e, m, ft);
        p.shadow_set_l4e(d, sl4e, new)
    })?;
    Some(linear_slot::<P, 3>(p, v, gw.va, sl3mfn))
}

/// `shadow_get_and_create_l2e` (multi.c 1098-1172): the slot of the shadow
/// L2 entry for `gw.va`.  4-level guests create and install the L2 shadow
/// if needed; PAE guests only look at the vCPU's `l3table[]` (their L3s are
/// made by `sh_update_cr3`, never on demand); 2-level guests pick the page
/// of their 4-page top-level shadow.
fn shadow_get_and_create_l2e<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    gw: &GuestWalk,
    ft: FetchType,
    resync: &mut bool,
) -> Option<Slot> {
    let sl2mfn = match L::LEVELS {
        4 => {
            if !p.mfn_valid(gw.l2mfn) {
                return None; // No guest table.
            }
            let d = p.vcpu_domain(v);
            let sl3e = shadow_get_and_create_l3e::<P, L>(p, v, gw, ft, resync)?;
            let t = l2_shadow_type_for::<L>(p.is_pv_32bit_domain(d), gw.va);
            present_or_install::<P, L>(p, v, sl3e, gw.l2mfn, t, resync, |m| {
                let new = l3e_propagate_from_guest::<P, L>(p, v, gw.l3e, m, ft);
                p.shadow_set_l3e(d, sl3e, new)
            })?
        }
        3 => {
            // C indexes l3table[] with the linear L3 offset of the address,
            // always < 4 for a PAE guest's 32-bit addresses; refuse others
            // rather than read past the array.
            let i = usize::try_from(shadow_l3_linear_offset(gw.va))
                .ok()
                .filter(|&i| i < 4)?;
            let sl3e = p.vcpu_l3table(v, i);
            if get_pte_flags(sl3e) & flags::PRESENT == 0 {
                return None;
            }
            let m = shadow_e_get_mfn(sl3e);
            debug_assert!(p.mfn_valid(m));
            m
        }
        _ => {
            // The top-level shadow always exists; find which of its four
            // pages holds this address (C keeps the first page's number,
            // which only serves its ASSERTs; the linear map picks the page
            // by the address alone).
            let mut m = p.vcpu_shadow_table(v, 0);
            let _ = shadow_l2_index::<P, L>(p, &mut m, L::guest_l2_table_offset(gw.va));
            m
        }
    };
    Some(linear_slot::<P, 2>(p, v, gw.va, sl2mfn))
}

/// `shadow_get_and_create_l1e` (multi.c 1175-1252): the slot of the shadow
/// L1 entry for `gw.va`, creating (and hooking into the shadow L2) the L1
/// shadow of the guest L1, or the FL1 shadow splintering a guest superpage,
/// if needed; resyncs out-of-sync pages if an upper level was installed.
/// None where C returns NULL (no guest table, or installing failed).
///
/// `slot.mfn` is the L1 shadow page holding the entry, i.e. the right page
/// of a 2-page L1 shadow.  The slot is seen through the linear map: valid
/// while `v` is current and the shadow entries above it stay.
pub fn shadow_get_and_create_l1e<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    gw: &GuestWalk,
    ft: FetchType,
) -> Option<Slot> {
    let d = p.vcpu_domain(v);
    let mut resync = false;

    let sl2e = shadow_get_and_create_l2e::<P, L>(p, v, gw, ft, &mut resync)?;
    let e = sl2e.get();
    let gflags = L::guest_e_get_flags(gw.l2e);

    let sl1mfn = if sl2e_is_usable(get_pte_flags(e), gflags, ft) {
        let m = shadow_e_get_mfn(e);
        debug_assert!(p.mfn_valid(m));
        m
    } else {
        // Install (or redo, to fix a superpage's dirty bit) the L1 shadow.
        if gflags & flags::PRESENT == 0 {
            return None; // No guest page.
        }
        let mut m = if guest_can_use_l2_superpages::<P, L>(p, v) && gflags & flags::PSE != 0 {
            // Splinter the superpage.
            let l2gfn = L::guest_e_get_gfn(gw.l2e);
            let m = get_fl1_shadow_status::<P, L>(p, d, l2gfn);
            if p.mfn_valid(m) {
                m
            } else {
                make_fl1_shadow::<P, L>(p, v, l2gfn)
            }
        } else {
            if !p.mfn_valid(gw.l1mfn) {
                return None; // No guest table.
            }
            let m = p.get_shadow_status(d, gw.l1mfn, L::SH_L1);
            if p.mfn_valid(m) {
                m
            } else {
                sh_make_shadow::<P, L>(p, v, gw.l1mfn, L::SH_L1)
            }
        };
        let new = l2e_propagate_from_guest::<P, L>(p, v, gw.l2e, m, ft);
        let r = p.shadow_set_l2e::<L>(d, sl2e, new);
        debug_assert!(r & set::FLUSH == 0);
        if r & set::ERROR != 0 {
            return None;
        }
        // A 32-bit guest's L1 has a 2-page shadow: move to the page of
        // this address.
        let _ = shadow_l1_index::<P, L>(p, &mut m, L::guest_l1_table_offset(gw.va));
        m
    };

    // Every table walked is a shadowed page table now: safe to resync,
    // in case an L4 or L3 entry was installed.
    if resync {
        p.sh_resync_all(v, false, true, true);
    }

    Some(linear_slot::<P, 1>(p, v, gw.va, sl1mfn))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::{G2, G3, G4};

    #[test]
    fn shadow_entry_mfn_ignores_flags_and_nx() {
        assert_eq!(
            shadow_e_get_mfn((1 << 63) | 0x0012_3456_7000 | 0x67),
            Mfn(0x1234567)
        );
        assert_eq!(shadow_e_get_mfn(0xfff0_0000_0000_0fff), Mfn(0));
    }

    #[test]
    fn l3_toplevel_heuristic_threshold() {
        assert!(!too_many_l4s_for_l3_toplevel(4, 2));
        assert!(too_many_l4s_for_l3_toplevel(5, 2));
        assert!(too_many_l4s_for_l3_toplevel(u64::MAX, u32::MAX));
    }

    #[test]
    fn compat_l2h_is_only_for_pv32_top_gib() {
        let top_gib = 3u64 << 30;
        assert_eq!(
            l2_shadow_type_for::<G4>(true, top_gib + 0x1000),
            sh_type::L2H_64
        );
        assert_eq!(l2_shadow_type_for::<G4>(false, top_gib), sh_type::L2_64);
        assert_eq!(l2_shadow_type_for::<G4>(true, 2 << 30), sh_type::L2_64);
        assert_eq!(
            l2_shadow_type_for::<G4>(true, (1 << 39) | top_gib),
            sh_type::L2_64
        );
        assert_eq!(l2_shadow_type_for::<G3>(true, top_gib), sh_type::L2_PAE);
        assert_eq!(l2_shadow_type_for::<G2>(true, top_gib), sh_type::L2_32);
    }

    #[test]
    fn present_sl2e_is_redone_only_for_writes_to_ro_superpages() {
        let p = flags::PRESENT;
        let rw = flags::PRESENT | flags::RW;
        let pse = flags::PRESENT | flags::PSE;
        assert!(!sl2e_is_usable(0, pse, FetchType::DemandRead));
        assert!(sl2e_is_usable(p, pse, FetchType::DemandRead));
        assert!(sl2e_is_usable(p, pse, FetchType::Prefetch));
        assert!(!sl2e_is_usable(p, pse, FetchType::DemandWrite));
        assert!(sl2e_is_usable(rw, pse, FetchType::DemandWrite));
        assert!(sl2e_is_usable(p, flags::PRESENT, FetchType::DemandWrite));
    }
}
