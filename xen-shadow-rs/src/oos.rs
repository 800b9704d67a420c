//! multi.c block M and the out-of-sync part of block U: bringing an
//! out-of-sync L1 shadow back in line with its guest table, deciding when a
//! resync may be skipped, and write-protecting through a remembered sl1e.

use crate::index::FetchType;
use crate::iter::foreach_l1e_gi;
use crate::level::GuestLevel;
use crate::platform::Platform;
use crate::propagate::l1e_propagate_from_guest;
use crate::types::*;
use crate::walk::guest_l1e_rsvd_bits;

/// `PGC_count_mask` (asm/mm.h, `PG_shift(7)` = 57 bits): the reference
/// count bits of `count_info`.  (ffi/c/cr3.c checks it against Xen.)
pub const PGC_COUNT_MASK: u64 = (1 << 57) - 1;

/// Port of `sh_resync_l1` (multi.c 1661-1707): for each present entry of
/// the L1 shadow of `gl1mfn` whose guest entry differs from the snapshot
/// `snpmfn`, recomputes the shadow entry and refreshes the snapshot.
///
/// `v` is the vCPU that unsynced the page, not the one resyncing it.
pub fn sh_resync_l1<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu, gl1mfn: Mfn, snpmfn: Mfn) {
    let d = p.vcpu_domain(v);
    debug_assert!(p.mfn_valid(snpmfn));

    let sl1mfn = p.get_shadow_status(d, gl1mfn, L::SH_L1);
    // We are only called for pages that have an L1 shadow.
    debug_assert!(p.mfn_valid(sl1mfn));

    let snp = p.map_domain_page(snpmfn);
    let gp = p.map_domain_page(gl1mfn);
    let bytes = L::GUEST_PTE_BYTES;
    let mut rc = 0;

    // Every present shadow entry, with the index of the guest entry it
    // shadows (2-level guests: the second shadow page covers 512..1023).
    foreach_l1e_gi::<P, L>(p, sl1mfn, |sl1, gi| {
        let gl1e = gp.get(gi, bytes);
        if snp.get(gi, bytes) != gl1e {
            let mut gmfn = INVALID_MFN;
            let mut p2mt = P2mType::Invalid;
            if L::guest_e_get_flags(gl1e) & flags::PRESENT != 0
                && !guest_l1e_rsvd_bits::<P, L>(p, v, gl1e)
            {
                let (m, t) = p.get_gfn_query_unlocked(d, L::guest_e_get_gfn(gl1e));
                gmfn = m;
                p2mt = t;
            }
            let nsl1e =
                l1e_propagate_from_guest::<P, L>(p, v, gl1e, gmfn, FetchType::Prefetch, p2mt);
            rc |= p.shadow_set_l1e(d, sl1, nsl1e, p2mt);
            if bytes == 4 {
                snp.set32(gi, gl1e as u32);
            } else {
                snp.set64(gi, gl1e);
            }
        }
        false
    });

    p.unmap_domain_page(gp);
    p.unmap_domain_page(snp);

    // Writing L1 entries never calls for a TLB flush.
    debug_assert!(rc & set::FLUSH == 0);
}

/// `sh_type_has_up_pointer(d, t)` (private.h): multi-page shadows and
/// pinnable (top-level) shadows keep no up-pointer; 64-bit L3 shadows are
/// pinnable when the old-Linux L3-toplevel heuristic is on (`opt_flags`).
pub const fn sh_type_has_up_pointer(t: u32, opt_flags: u32) -> bool {
    match t {
        sh_type::L1_32 | sh_type::FL1_32 | sh_type::L2_32 => false,
        sh_type::L2_PAE | sh_type::L4_64 => false,
        sh_type::L3_64 => opt_flags & shopt::LINUX_L3_TOPLEVEL == 0,
        _ => true,
    }
}

/// The up-pointer walk of `sh_safe_not_to_sync` (multi.c 1723-1752): from
/// the L1 shadow `sl1mfn`, climbs to the top-level shadow provided every
/// shadow on the way is referenced exactly once and records who references
/// it.  `ref_and_up(smfn)` gives a shadow's `(u.sh.count, up)`.  Returns
/// `None` when the chain is not single-use (or has no up-pointer).
pub fn single_use_toplevel<L: GuestLevel>(
    sl1mfn: Mfn,
    opt_flags: u32,
    mut ref_and_up: impl FnMut(Mfn) -> (u32, u64),
) -> Option<Mfn> {
    if !sh_type_has_up_pointer(L::SH_L1, opt_flags) {
        return None;
    }
    // L1 -> L2.
    let (count, up) = ref_and_up(sl1mfn);
    if count != 1 || up == 0 {
        return None;
    }
    let mut smfn = Mfn(up >> PAGE_SHIFT);

    if L::SHADOW_LEVELS == 4 {
        // L2 -> L3.
        debug_assert!(sh_type_has_up_pointer(L::SH_L2, opt_flags));
        let (count, up) = ref_and_up(smfn);
        if count != 1 || up == 0 {
            return None;
        }
        smfn = Mfn(up >> PAGE_SHIFT);

        // L3 -> L4.
        let (count, up) = ref_and_up(smfn);
        if count != 1 || !sh_type_has_up_pointer(sh_type::L3_64, opt_flags) || up == 0 {
            return None;
        }
        smfn = Mfn(up >> PAGE_SHIFT);
    }
    Some(smfn)
}

/// Port of `sh_safe_not_to_sync` (multi.c 1715-1761): true if the L1 of
/// `gl1mfn` is certainly reachable from one top-level shadow only, and that
/// is not one `v` runs on, so its resync may be skipped.
///
/// `v` is the vCPU wanting the resync, in the paging mode of the vCPU that
/// unsynced the page.
pub fn sh_safe_not_to_sync<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu, gl1mfn: Mfn) -> bool {
    let d = p.vcpu_domain(v);
    let opt_flags = p.shadow_opt_flags(d);
    if !sh_type_has_up_pointer(L::SH_L1, opt_flags) {
        return false;
    }

    let sl1mfn = p.get_shadow_status(d, gl1mfn, L::SH_L1);
    debug_assert!(p.mfn_valid(sl1mfn));

    let top = single_use_toplevel::<L>(sl1mfn, opt_flags, |smfn| {
        debug_assert!(p.mfn_valid(smfn));
        (p.sp_count(smfn), p.sp_up(smfn))
    });
    let Some(top) = top else {
        return false;
    };
    debug_assert!(p.mfn_valid(top));

    for i in 0..crate::cr3::shadow_table_count::<L>() {
        if p.vcpu_shadow_table(v, i) == top {
            return false;
        }
    }
    // Used by one top-level shadow only, and not by one we run on.
    true
}

/// Port of `sh_rm_write_access_from_sl1p` (multi.c 3492-3544): if entry
/// `off` of the L1 shadow `smfn` is a writable mapping of `gmfn`, makes it
/// read-only.  Returns 1 if it did, 0 otherwise.
pub fn sh_rm_write_access_from_sl1p<P: Platform, L: GuestLevel>(
    p: &P,
    d: P::Dom,
    gmfn: Mfn,
    smfn: Mfn,
    off: u64,
) -> i32 {
    debug_assert!(p.mfn_valid(gmfn));
    debug_assert!(p.mfn_valid(smfn));

    // Note for the current vCPU whether the guest said this page table is
    // being torn down.
    let curr = p.current();
    if p.vcpu_domain(curr) == d && p.is_hvm_domain(d) {
        p.vcpu_set_sh_pagetable_dying(curr, p.page_pagetable_dying(gmfn));
    }

    // Only an unreferenced-by-count page that is still an L1/FL1 shadow.
    let t = p.sp_type(smfn);
    if p.page_count_info(smfn) & PGC_COUNT_MASK != 0 || (t != L::SH_L1 && t != L::SH_FL1) {
        return 0;
    }

    // The offset was recorded by the OOS fixup code when it saw the entry:
    // an index within one shadow page.
    let Ok(idx) = usize::try_from(off) else {
        return 0;
    };
    if idx >= 512 {
        return 0;
    }

    let sl1p = p.map_domain_page(smfn);
    let sl1 = sl1p.slot(smfn, idx);
    let sl1e = sl1.get();
    let want = flags::PRESENT | flags::RW;
    if get_pte_flags(sl1e) & want != want || shadow_e_get_mfn(sl1e) != gmfn {
        p.unmap_domain_page(sl1p);
        return 0;
    }

    // Found it: drop the write permission.
    let r = p.shadow_set_l1e(d, sl1, sl1e & !u64::from(flags::RW), P2mType::RamRw);
    debug_assert!(r & set::ERROR == 0);
    p.unmap_domain_page(sl1p);
    1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::{G2, G3, G4};
    use std::collections::HashMap;

    #[test]
    fn up_pointer_types() {
        assert!(!sh_type_has_up_pointer(sh_type::L1_32, 0));
        assert!(!sh_type_has_up_pointer(sh_type::L2_32, 0));
        assert!(sh_type_has_up_pointer(sh_type::L1_PAE, 0));
        assert!(!sh_type_has_up_pointer(sh_type::L2_PAE, 0));
        assert!(sh_type_has_up_pointer(sh_type::L1_64, 0));
        assert!(sh_type_has_up_pointer(sh_type::L2_64, 0));
        assert!(sh_type_has_up_pointer(sh_type::L3_64, 0));
        assert!(!sh_type_has_up_pointer(
            sh_type::L3_64,
            shopt::LINUX_L3_TOPLEVEL
        ));
        assert!(!sh_type_has_up_pointer(sh_type::L4_64, 0));
    }

    /// A shadow hierarchy: mfn -> (count, up).
    fn chain(links: &[(u64, u32, u64)]) -> HashMap<u64, (u32, u64)> {
        links.iter().map(|&(m, c, up)| (m, (c, up))).collect()
    }

    #[test]
    fn chain_to_l4_when_single_use() {
        // sl1 10 -> sl2 20 -> sl3 30 -> sl4 40 (up = entry pa in the parent)
        let h = chain(&[
            (10, 1, (20 << 12) | 0x18),
            (20, 1, 30 << 12),
            (30, 1, (40 << 12) | 0xff8),
        ]);
        let top = single_use_toplevel::<G4>(Mfn(10), 0, |m| h[&m.0]);
        assert_eq!(top, Some(Mfn(40)));
        // PAE: only one step, to the l2 (the top-level shadow).
        let top = single_use_toplevel::<G3>(Mfn(10), 0, |m| h[&m.0]);
        assert_eq!(top, Some(Mfn(20)));
    }

    #[test]
    fn chain_breaks() {
        // Shared l2.
        let h = chain(&[(10, 1, 20 << 12), (20, 2, 30 << 12), (30, 1, 40 << 12)]);
        assert_eq!(single_use_toplevel::<G4>(Mfn(10), 0, |m| h[&m.0]), None);
        // Missing up-pointer on the l1.
        let h = chain(&[(10, 1, 0)]);
        assert_eq!(single_use_toplevel::<G3>(Mfn(10), 0, |m| h[&m.0]), None);
        // Pinned-L3 heuristic: l3 has no usable up-pointer.
        let h = chain(&[(10, 1, 20 << 12), (20, 1, 30 << 12), (30, 1, 40 << 12)]);
        assert_eq!(
            single_use_toplevel::<G4>(Mfn(10), shopt::LINUX_L3_TOPLEVEL, |m| h[&m.0]),
            None
        );
        // 2-level guests: multi-page L1 shadows have no up-pointer at all.
        assert_eq!(
            single_use_toplevel::<G2>(Mfn(10), 0, |_| unreachable!()),
            None
        );
    }
}

/// Out-of-sync L1s on the host simulator.
#[cfg(test)]
mod sim_tests {
    use crate::sim::guest::{Guest, Op, Seen, FIRST_DATA, PHYSMAP, ROOT_A, USER_L1A};
    use crate::sim::mmu::Access;
    use crate::sim::Config;
    use crate::types::*;

    const UR: Access = Access::UR;

    /// A kernel write to a shadowed L1 unsyncs it; further writes go
    /// straight to the page and the shadow lags; the next CR3 load
    /// resyncs it from the snapshot difference and write-protects it again.
    #[test]
    fn l1_unsyncs_lags_and_resyncs_at_cr3_load() {
        let mut g = Guest::boot(Config::default(), false);
        g.access(0, 0x2000, UR, 8, 0).unwrap();
        let (l1, _) = g.sim.p2m(USER_L1A);
        let (old, _) = g.sim.p2m(FIRST_DATA + 2);
        let (new, _) = g.sim.p2m(FIRST_DATA + 30);
        let pte = ((FIRST_DATA + 30) << PAGE_SHIFT) | 0x67;
        g.step(Op::write(PHYSMAP + (USER_L1A << 12) + 16, 8, pte))
            .unwrap();
        assert!(g.sim.page_is_oos(l1), "the L1 did not go out of sync");
        assert_eq!(g.sim.stats().unsyncs, 1);
        // A second write is not trapped: the page is writable now.
        let faults = g.sim.stats().faults;
        g.step(Op::write(PHYSMAP + (USER_L1A << 12) + 24, 8, 0))
            .unwrap();
        assert_eq!(g.sim.stats().faults, faults);
        // The shadow may still map the old frame until the guest flushes.
        let lag = shadow_e_get_mfn(g.sim.shadow_entry(0, 0x2000, 1).unwrap());
        assert!(lag == old || lag == new);
        g.load_cr3(0, ROOT_A);
        assert!(!g.sim.page_is_oos(l1));
        assert!(g.sim.stats().resyncs >= 1);
        assert_eq!(
            shadow_e_get_mfn(g.sim.shadow_entry(0, 0x2000, 1).unwrap()),
            new
        );
        // Entry 3 was cleared by the second write: no longer mapped.
        assert_eq!(g.access(0, 0x3000, UR, 8, 0).unwrap(), Seen::Fault(0x4));
        crate::sim::checker::check_global(&g).unwrap();
    }
}
