//! multi.c blocks L (1452-1652: translating one guest entry the guest just
//! wrote into its shadow entry and installing it) and N (1765-1883: mapping
//! the shadow of a written guest page and validating each written entry).

use crate::fl1::get_fl1_shadow_status;
use crate::index::{
    guest_index, shadow_l1_index, shadow_l2_index, shadow_l3_index, shadow_l4_index, FetchType,
};
use crate::level::GuestLevel;
use crate::platform::{Mapped, Platform, Slot, Table, WalkOps};
use crate::propagate::{
    l1e_propagate_from_guest, l2e_propagate_from_guest, l3e_propagate_from_guest,
    l4e_propagate_from_guest,
};
use crate::types::flags::PRESENT;
use crate::types::*;
use crate::walk::{
    guest_can_use_l2_superpages, guest_l1e_rsvd_bits, guest_l2e_rsvd_bits, guest_l3e_rsvd_bits,
    guest_l4e_rsvd_bits,
};

/// `ROOT_PAGETABLE_FIRST_XEN_SLOT`, `ROOT_PAGETABLE_LAST_XEN_SLOT`
/// (asm/config.h): the L4 slots Xen reserves in PV guests' tables.
/// `validate_gl4e` (multi.c 1464-1519): shadow the new guest L4 entry
/// `new_ge` into `se`; refuses (without writing) to touch Xen's slots of a
/// PV guest's L4, and flags an error if the guest tried to make one present.
pub fn validate_gl4e<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu, new_ge: u64, se: Slot) -> i32 {
    let d = p.vcpu_domain(v);
    let mut sl3mfn = INVALID_MFN;
    let mut result = 0;

    if L::guest_e_get_flags(new_ge) & PRESENT != 0 && !guest_l4e_rsvd_bits::<P, L>(p, v, new_ge) {
        let gl3gfn = L::guest_e_get_gfn(new_ge);
        let (gl3mfn, p2mt) = p.get_gfn_query_unlocked(d, gl3gfn);
        if p2mt.is_ram() {
            sl3mfn = p.get_shadow_status(d, gl3mfn, L::SH_L3);
        } else if !p2mt.is_pod() {
            result |= set::ERROR;
        }
        // A new link to an existing shadow: bring out-of-sync pages under
        // it back in sync (shadow_resync_all).
        if p.mfn_valid(sl3mfn) {
            p.sh_resync_all(v, false, true, true);
        }
    }
    let new_sl4e = l4e_propagate_from_guest::<P, L>(p, v, new_ge, sl3mfn, FetchType::Prefetch);

    if !p.paging_mode_external(d) && !is_guest_l4_slot(p.is_pv_32bit_domain(d), se.index) {
        // The guest wrote into one of Xen's slots: never shadow that.
        if get_pte_flags(new_sl4e) & PRESENT != 0 {
            p.log(format_args!("<G><0>out-of-range l4e update\n"));
            result |= set::ERROR;
        }
        return result;
    }

    result | p.shadow_set_l4e(d, se, new_sl4e)
}

/// `validate_gl3e` (multi.c 1522-1553): shadow the new guest L3 entry
/// (4-level guests only).
pub fn validate_gl3e<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu, new_ge: u64, se: Slot) -> i32 {
    let d = p.vcpu_domain(v);
    let mut sl2mfn = INVALID_MFN;
    let mut result = 0;

    if L::guest_e_get_flags(new_ge) & PRESENT != 0 && !guest_l3e_rsvd_bits::<P, L>(p, v, new_ge) {
        let gl2gfn = L::guest_e_get_gfn(new_ge);
        let (gl2mfn, p2mt) = p.get_gfn_query_unlocked(d, gl2gfn);
        if p2mt.is_ram() {
            sl2mfn = p.get_shadow_status(d, gl2mfn, L::SH_L2);
        } else if !p2mt.is_pod() {
            result |= set::ERROR;
        }
        if p.mfn_valid(sl2mfn) {
            p.sh_resync_all(v, false, true, true);
        }
    }
    let new_sl3e = l3e_propagate_from_guest::<P, L>(p, v, new_ge, sl2mfn, FetchType::Prefetch);
    result | p.shadow_set_l3e(d, se, new_sl3e)
}

/// `validate_gl2e` (multi.c 1556-1602): shadow the new guest L2 entry; a
/// superpage links to its FL1 shadow if one exists (none is made here).
pub fn validate_gl2e<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu, new_ge: u64, se: Slot) -> i32 {
    let d = p.vcpu_domain(v);
    let mut sl1mfn = INVALID_MFN;
    let mut result = 0;
    let gflags = L::guest_e_get_flags(new_ge);

    if gflags & PRESENT != 0 && !guest_l2e_rsvd_bits::<P, L>(p, v, new_ge) {
        let gl1gfn = L::guest_e_get_gfn(new_ge);
        if guest_can_use_l2_superpages::<P, L>(p, v) && gflags & flags::PSE != 0 {
            sl1mfn = get_fl1_shadow_status::<P, L>(p, d, gl1gfn);
        } else {
            let (gl1mfn, p2mt) = p.get_gfn_query_unlocked(d, gl1gfn);
            if p2mt.is_ram() {
                sl1mfn = p.get_shadow_status(d, gl1mfn, L::SH_L1);
            } else if !p2mt.is_pod() {
                result |= set::ERROR;
            }
        }
    }
    let new_sl2e = l2e_propagate_from_guest::<P, L>(p, v, new_ge, sl1mfn, FetchType::Prefetch);
    result | p.shadow_set_l2e::<L>(d, se, new_sl2e)
}

/// `validate_gl1e` (multi.c 1604-1652): shadow the new guest L1 entry; if
/// the guest L1 is out of sync, record the entry in its snapshot too.
/// (`se.mfn` is the shadow page holding the entry; for 2-level guests its
/// `head` bit tells which half of the guest L1 the entry is in.)
pub fn validate_gl1e<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu, new_ge: u64, se: Slot) -> i32 {
    let gi = if L::L1_SHADOW_PAGES > 1 && !p.sp_head(se.mfn) {
        se.index + 512
    } else {
        se.index
    };
    validate_gl1e_at::<P, L>(p, v, new_ge, se, gi)
}

/// `validate_gl1e` with the guest index of the written entry known (C
/// takes it from the written pointer).
fn validate_gl1e_at<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    new_gl1e: u64,
    se: Slot,
    gi: usize,
) -> i32 {
    let d = p.vcpu_domain(v);
    let mut gmfn = INVALID_MFN;
    let mut p2mt = P2mType::Invalid;

    if L::guest_e_get_flags(new_gl1e) & PRESENT != 0 && !guest_l1e_rsvd_bits::<P, L>(p, v, new_gl1e)
    {
        let gfn = L::guest_e_get_gfn(new_gl1e);
        (gmfn, p2mt) = p.get_gfn_query_unlocked(d, gfn);
    }

    let new_sl1e =
        l1e_propagate_from_guest::<P, L>(p, v, new_gl1e, gmfn, FetchType::Prefetch, p2mt);
    let result = p.shadow_set_l1e(d, se, new_sl1e, p2mt);

    // Keep the snapshot of an out-of-sync guest L1 up to date.
    let gl1mfn = Mfn(p.sp_backpointer(se.mfn));
    if p.mfn_valid(gl1mfn) && WalkOps::mfn_is_out_of_sync(p, gl1mfn) {
        let snpmfn = p.oos_snapshot_lookup(d, gl1mfn);
        assert!(
            p.mfn_valid(snpmfn),
            "validate_gl1e: out-of-sync page without snapshot"
        );
        let snp = p.map_domain_page(snpmfn);
        if L::GUEST_PTE_BYTES == 4 {
            snp.set32(gi, new_gl1e as u32);
        } else {
            snp.set64(gi, new_gl1e);
        }
        p.unmap_domain_page(snp);
    }

    result
}

/// `sh_map_and_validate` (multi.c 1769-1821): validate the guest entries
/// in bytes `offset .. offset + size` of `guest` (the mapping of `gmfn`)
/// against the shadow of type `sh_type`, one entry at a time, mapping the
/// page of a multi-page shadow that holds each entry.  Generic over the
/// two per-level functions, so that each instance calls (or inlines) them
/// directly, as GCC does with C's function-pointer arguments of this
/// static inline function; an indirect call would go through a retpoline.
#[allow(clippy::too_many_arguments)]
#[inline]
fn sh_map_and_validate<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    gmfn: Mfn,
    guest: Table,
    offset: usize,
    size: u32,
    sh_type: u32,
    shadow_index: impl Fn(&mut Mfn, usize) -> usize,
    validate_ge: impl Fn(u64, Slot, usize) -> i32,
) -> i32 {
    let d = p.vcpu_domain(v);
    let bytes = L::GUEST_PTE_BYTES;
    let mut result = 0;

    // Widen the write to whole guest entries.
    let offset = offset & (PAGE_SIZE as usize - 1);
    let mut size = (size as usize).saturating_add(offset & (bytes - 1));
    let mut off = offset & !(bytes - 1);
    size = size.saturating_add(bytes - 1) & !(bytes - 1);
    debug_assert!(size + off <= PAGE_SIZE as usize);

    let smfn = p.get_shadow_status(d, gmfn, sh_type);
    // The caller only calls us for pages that have this shadow.
    assert!(
        p.mfn_valid(smfn),
        "sh_map_and_validate: no shadow of the written page"
    );
    let mut map_mfn = smfn;
    shadow_index(&mut map_mfn, guest_index::<L>(off));
    let mut sl = Mapped::new(p, map_mfn);

    // Never run past the written page (C only asserts this).
    while size > 0 && off < PAGE_SIZE as usize {
        let mut smfn2 = smfn;
        let gi = guest_index::<L>(off);
        let si = shadow_index(&mut smfn2, gi);
        if smfn2 != map_mfn {
            // The entry is in another page of the shadow.
            map_mfn = smfn2;
            sl = Mapped::new(p, map_mfn);
        }
        let ge = guest.get(gi, bytes);
        result |= validate_ge(ge, sl.slot(map_mfn, si), gi);
        size -= bytes;
        off += bytes;
    }
    result
}

/// Which guest table a write hit: what common.c's `sh_validate_guest_entry`
/// picks a `sh_map_and_validate_gl*e` by (the page's `shadow_flags`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum GuestTable {
    L1,
    L2,
    /// The Xen-slot-carrying L2 of 32-bit PV guests (4-level shadows).
    L2h,
    L3,
    L4,
}

/// `sh_map_and_validate_gl{1e,2e,2he,3e,4e}` (multi.c 1823-1883): validates
/// a write of `size` bytes at `offset` of the guest table `gmfn` (mapped at
/// `guest`) against its shadow of the level `which` says.  `L2h`, `L3` and
/// `L4` exist only for 4-level guests; C's versions for other levels BUG().
/// Inline, so that each exported entry point (one `which` each) keeps only
/// its own level.
#[inline(always)]
pub fn sh_map_and_validate_gle<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    which: GuestTable,
    gmfn: Mfn,
    guest: Table,
    offset: usize,
    size: u32,
) -> i32 {
    assert!(
        L::LEVELS >= 4 || matches!(which, GuestTable::L1 | GuestTable::L2),
        "sh_map_and_validate: {which:?} write in a {}-level paging mode",
        L::LEVELS
    );
    // The write's arguments are the same for every level; only the shadow
    // type and the two per-level functions differ (closures, so each arm
    // is its own instance: no indirect calls).
    macro_rules! run {
        ($t:expr, $index:expr, $validate:expr) => {
            sh_map_and_validate::<P, L>(p, v, gmfn, guest, offset, size, $t, $index, $validate)
        };
    }
    match which {
        GuestTable::L4 => run!(L::SH_L4, |_, gi| shadow_l4_index(gi), |ge, se, _| {
            validate_gl4e::<P, L>(p, v, ge, se)
        }),
        GuestTable::L3 => run!(L::SH_L3, |_, gi| shadow_l3_index(gi), |ge, se, _| {
            validate_gl3e::<P, L>(p, v, ge, se)
        }),
        GuestTable::L2 | GuestTable::L2h => run!(
            if which == GuestTable::L2 {
                L::SH_L2
            } else {
                L::SH_L2H
            },
            |smfn, gi| shadow_l2_index::<P, L>(p, smfn, gi),
            |ge, se, _| validate_gl2e::<P, L>(p, v, ge, se)
        ),
        GuestTable::L1 => run!(
            L::SH_L1,
            |smfn, gi| shadow_l1_index::<P, L>(p, smfn, gi),
            |ge, se, gi| validate_gl1e_at::<P, L>(p, v, ge, se, gi)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xen_l4_slots() {
        let xen = ROOT_PAGETABLE_FIRST_XEN_SLOT..=ROOT_PAGETABLE_LAST_XEN_SLOT;
        assert_eq!(xen.clone().count(), 16);
        assert!(xen.contains(&256) && xen.contains(&271) && !xen.contains(&272));
    }
}
