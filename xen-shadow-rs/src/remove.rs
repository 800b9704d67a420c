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
