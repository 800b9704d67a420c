//! multi.c block V (3672-3767): removing the references upper-level
//! shadows hold on a shadow, so that it can be freed.

use crate::iter::{foreach_l2e, foreach_l3e, foreach_l4e};
use crate::level::GuestLevel;
use crate::platform::{Platform, Slot};
use crate::types::*;

/// `sh_clear_shadow_entry` (multi.c 3675-3699): empties the one shadow
/// entry `e` (found through a shadow's up-pointer; `e.mfn` is the shadow
/// page holding it) with the `shadow_set_lNe` of that page's level.
pub fn sh_clear_shadow_entry<P: Platform, L: GuestLevel>(p: &P, d: P::Dom, e: Slot) {
    let t = p.sp_type(e.mfn);
    if t == L::SH_L1 {
        p.shadow_set_l1e(d, e, 0, P2mType::Invalid);
    } else if t == L::SH_L2 || (L::LEVELS == 4 && t == L::SH_L2H) {
        p.shadow_set_l2e::<L>(d, e, 0);
    } else if L::LEVELS == 4 && t == L::SH_L3 {
        p.shadow_set_l3e(d, e, 0);
    } else if L::LEVELS == 4 && t == L::SH_L4 {
        p.shadow_set_l4e(d, e, 0);
    } else {
        panic!(
            "sh_clear_shadow_entry: shadow {:#x} has unexpected type {}",
            e.mfn.0, t
        );
    }
}

/// `sh_remove_l1_shadow` (multi.c 3701-3721; a `hash_domain_foreach`
/// callback): empties the entries of the L2 shadow `sl2mfn` that point at
/// the L1 shadow `sl1mfn`; returns 1 (stopping early) once that shadow has
/// been freed (its type became 0).
pub fn sh_remove_l1_shadow<P: Platform, L: GuestLevel>(
    p: &P,
    d: P::Dom,
    sl2mfn: Mfn,
    sl1mfn: Mfn,
) -> i32 {
    let done = foreach_l2e::<P, L>(p, d, sl2mfn, false, |e| {
        if shadow_e_get_mfn(e.get()) != sl1mfn {
            return false;
        }
        p.shadow_set_l2e::<L>(d, e, 0);
        p.sp_type(sl1mfn) == sh_type::NONE
    });
    i32::from(done)
}

/// `sh_remove_l2_shadow` (multi.c 3724-3744, 4-level guests): the same for
/// the L3 shadow `sl3mfn` and the L2 shadow `sl2mfn`.
pub fn sh_remove_l2_shadow<P: Platform, L: GuestLevel>(
    p: &P,
    d: P::Dom,
    sl3mfn: Mfn,
    sl2mfn: Mfn,
) -> i32 {
    let done = foreach_l3e::<P, L>(p, sl3mfn, |e| {
        if shadow_e_get_mfn(e.get()) != sl2mfn {
            return false;
        }
        p.shadow_set_l3e(d, e, 0);
        p.sp_type(sl2mfn) == sh_type::NONE
    });
    i32::from(done)
}

/// `sh_remove_l3_shadow` (multi.c 3746-3766, 4-level guests): the same for
/// the L4 shadow `sl4mfn` (guest slots only) and the L3 shadow `sl3mfn`.
pub fn sh_remove_l3_shadow<P: Platform, L: GuestLevel>(
    p: &P,
    d: P::Dom,
    sl4mfn: Mfn,
    sl3mfn: Mfn,
) -> i32 {
    let done = foreach_l4e::<P, L>(p, d, sl4mfn, false, |e| {
        if shadow_e_get_mfn(e.get()) != sl3mfn {
            return false;
        }
        p.shadow_set_l4e(d, e, 0);
        p.sp_type(sl3mfn) == sh_type::NONE
    });
    i32::from(done)
}

/// Removing shadows and write access on the host simulator.
#[cfg(test)]
mod sim_tests {
    use crate::platform::Core;
    use crate::sim::guest::{Guest, Op, FIRST_DATA, PHYSMAP, USER_L1A, USER_L2};
    use crate::sim::mmu::Access;
    use crate::sim::Config;
    use crate::types::*;

    const UR: Access = Access::UR;

    const UW: Access = Access::UW;

    /// `sh_remove_shadows` finds the L1 shadow through its up-pointer,
    /// unhooks it from the L2 shadow, destroys it and demotes the page;
    /// every reference count still adds up.
    #[test]
    fn remove_shadows_unhooks_and_demotes() {
        let mut g = Guest::boot(Config::default(), false);
        g.access(0, 0x4000, UR, 8, 0).unwrap();
        let (l1, _) = g.sim.p2m(USER_L1A);
        assert!(g.sim.frame(l1).unwrap().page_table);
        g.sim.sh_remove_shadows(0, l1, false, true);
        assert!(!g.sim.frame(l1).unwrap().page_table);
        assert_eq!(g.sim.shadow_entry(0, 0x4000, 2).map(|e| e & 1), Some(0));
        assert!(g.sim.crashed().is_none());
        crate::sim::checker::check_global(&g).unwrap();
        // And the guest carries on: the next access reshadows.
        g.step(Op::Access {
            va: 0x4000,
            acc: UR,
            bytes: 8,
            val: 0,
        })
        .unwrap();
    }

    /// `sh_remove_write_access` finds a writable mapping of a frame (by the
    /// direct-map guess first) and makes it read-only before the frame
    /// becomes a page table.
    #[test]
    fn remove_write_access_before_promotion() {
        let mut g = Guest::boot(Config::default(), false);
        let data = FIRST_DATA + 7;
        // A user write makes the shadow entry of page 7 writable.
        g.step(Op::Access {
            va: 0x7000,
            acc: UW,
            bytes: 8,
            val: 1,
        })
        .unwrap();
        let (m, _) = g.sim.p2m(data);
        assert_eq!(g.sim.frame(m).unwrap().type_count, 1);
        g.sim.paging_lock(0);
        let rc = g.sim.sh_remove_write_access(0, m, 1, 0x7000);
        g.sim.paging_unlock(0);
        assert_eq!(rc, 1);
        assert_eq!(g.sim.frame(m).unwrap().type_count, 0);
        let sl1e = g.sim.shadow_entry(0, 0x7000, 1).unwrap();
        assert_eq!(get_pte_flags(sl1e) & flags::RW, 0);
        // Linking the frame in as an L1 now shadows it without complaint.
        let pte = (data << PAGE_SHIFT) | 0x67;
        g.step(Op::write(PHYSMAP + (USER_L2 << 12) + 16, 8, pte))
            .unwrap();
        g.step(Op::Access {
            va: 0x40_0000,
            acc: UR,
            bytes: 8,
            val: 0,
        })
        .unwrap();
    }
}
