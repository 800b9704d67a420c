//! multi.c blocks J (1256-1403: destructors) and K (1405-1450: unhooking).
//!
//! A destructor forgets the shadow in the hash (and demotes the guest page),
//! drops the reference each present entry holds (on lower shadows, or on
//! guest frames for L1s) and returns the page(s) to the pool.  It does not
//! clear the entries: TLB shootdowns wait until the page is reused
//! (`shadow_alloc`/`shadow_free`).  Dropping a reference may destroy the
//! lower shadow, re-entering these functions through common.c.

use crate::fl1::delete_fl1_shadow_status;
use crate::iter::{foreach_l1e, foreach_l2e, foreach_l3e, foreach_l4e};
use crate::level::GuestLevel;
use crate::platform::{Platform, Slot};
use crate::propagate::sh_l1e_is_magic;
use crate::types::*;

/// Unhashes and demotes a non-FL1 shadow (the first steps of every
/// destructor).
fn forget_shadow<P: Platform>(p: &P, d: P::Dom, smfn: Mfn, t: u32) {
    let gmfn = Mfn(p.sp_backpointer(smfn));
    p.delete_shadow_status(d, gmfn, t, smfn);
    p.shadow_demote(d, gmfn, t);
}

/// Drops the reference a present upper-level entry holds on the shadow it
/// points at.
fn put_child<P: Platform>(p: &P, d: P::Dom, e: Slot) -> bool {
    let v = e.get();
    if get_pte_flags(v) & flags::PRESENT != 0 {
        p.sh_put_ref(d, shadow_e_get_mfn(v), e.entry_pa());
    }
    false
}

/// `sh_destroy_l4_shadow` (multi.c 1267-1295, 4-level guests).
pub fn sh_destroy_l4_shadow<P: Platform, L: GuestLevel>(p: &P, d: P::Dom, smfn: Mfn) {
    let t = p.sp_type(smfn);
    debug_assert!(t == L::SH_L4 && p.sp_head(smfn));
    forget_shadow(p, d, smfn, t);
    foreach_l4e::<P, L>(p, d, smfn, false, |e| put_child(p, d, e));
    p.shadow_free(d, smfn);
}

/// `sh_destroy_l3_shadow` (multi.c 1297-1324, 4-level guests).
pub fn sh_destroy_l3_shadow<P: Platform, L: GuestLevel>(p: &P, d: P::Dom, smfn: Mfn) {
    let t = p.sp_type(smfn);
    debug_assert!(t == L::SH_L3 && p.sp_head(smfn));
    forget_shadow(p, d, smfn, t);
    foreach_l3e::<P, L>(p, smfn, |e| put_child(p, d, e));
    p.shadow_free(d, smfn);
}

/// `sh_destroy_l2_shadow` (multi.c 1328-1360), for L2 and (4-level) L2h
/// shadows; a 32-bit guest's 4-page L2 shadow is handled as a whole.
pub fn sh_destroy_l2_shadow<P: Platform, L: GuestLevel>(p: &P, d: P::Dom, smfn: Mfn) {
    let t = p.sp_type(smfn);
    debug_assert!((t == L::SH_L2 || (L::LEVELS == 4 && t == L::SH_L2H)) && p.sp_head(smfn));
    forget_shadow(p, d, smfn, t);
    foreach_l2e::<P, L>(p, d, smfn, false, |e| put_child(p, d, e));
    p.shadow_free(d, smfn);
}

/// `sh_destroy_l1_shadow` (multi.c 1362-1403), for L1 and FL1 shadows:
/// with refcounting shadow modes, drops the page (and dirty-VRAM)
/// references of every present non-magic entry.
pub fn sh_destroy_l1_shadow<P: Platform, L: GuestLevel>(p: &P, d: P::Dom, smfn: Mfn) {
    let t = p.sp_type(smfn);
    debug_assert!((t == L::SH_L1 || t == L::SH_FL1) && p.sp_head(smfn));

    if t == L::SH_FL1 {
        // FL1 shadows are hashed on the superpage's gfn, and the guest has
        // no page table to demote.
        let gfn = Gfn(p.sp_backpointer(smfn));
        delete_fl1_shadow_status::<P, L>(p, d, gfn, smfn);
    } else {
        forget_shadow(p, d, smfn, t);
    }

    if p.shadow_mode_refcounts(d) {
        foreach_l1e::<P, L>(p, smfn, |e| {
            let v = e.get();
            let f = get_pte_flags(v);
            if f & flags::PRESENT != 0 && !sh_l1e_is_magic(v) {
                p.shadow_vram_put_mfn(d, shadow_e_get_mfn(v), f, e);
                p.shadow_put_page_from_l1e(d, v);
            }
            false
        });
    }

    p.shadow_free(d, smfn);
}

/// Empties the L2 entries (all, or with `user_only` only the USER ones) of
/// a 2- or 3-level guest's top-level L2 shadow.
fn unhook_l2<P: Platform, L: GuestLevel>(p: &P, d: P::Dom, sl2mfn: Mfn, user_only: bool) {
    foreach_l2e::<P, L>(p, d, sl2mfn, user_only, |e| {
        p.shadow_set_l2e::<L>(d, e, 0);
        false
    });
}

/// `sh_unhook_32b_mappings` (multi.c 1417-1424, 2-level guests): unhooks
/// the guest mappings of a top-level shadow when shadow memory runs out
/// (`user_only`: keep the kernel's).
pub fn sh_unhook_32b_mappings<P: Platform, L: GuestLevel>(
    p: &P,
    d: P::Dom,
    sl2mfn: Mfn,
    user_only: bool,
) {
    unhook_l2::<P, L>(p, d, sl2mfn, user_only)
}

/// `sh_unhook_pae_mappings` (multi.c 1428-1436, PAE guests).  As in C the
/// shadow passed is one of the vCPU's L2 shadows (the name says L3).
pub fn sh_unhook_pae_mappings<P: Platform, L: GuestLevel>(
    p: &P,
    d: P::Dom,
    sl3mfn: Mfn,
    user_only: bool,
) {
    unhook_l2::<P, L>(p, d, sl3mfn, user_only)
}

/// `sh_unhook_64b_mappings` (multi.c 1440-1447, 4-level guests): empties
/// the guest L4 entries of a top-level shadow.
pub fn sh_unhook_64b_mappings<P: Platform, L: GuestLevel>(
    p: &P,
    d: P::Dom,
    sl4mfn: Mfn,
    user_only: bool,
) {
    foreach_l4e::<P, L>(p, d, sl4mfn, user_only, |e| {
        p.shadow_set_l4e(d, e, 0);
        false
    });
}
