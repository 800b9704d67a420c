//! multi.c block B (lines 100-142): the hash entries of FL1 shadows.
//!
//! An FL1 shadow splinters a guest superpage into 4 KiB shadow entries.  It
//! has no guest page table behind it, so the shadow hash keys it on the gfn
//! of the first frame of the superpage instead of a guest mfn.

use crate::level::GuestLevel;
use crate::platform::Platform;
use crate::types::*;

/// `get_fl1_shadow_status` (multi.c 108-115): the FL1 shadow splintering
/// the superpage at `gfn`, or `INVALID_MFN`.
pub fn get_fl1_shadow_status<P: Platform, L: GuestLevel>(p: &P, d: P::Dom, gfn: Gfn) -> Mfn {
    let smfn = p.shadow_hash_lookup(d, gfn.0, L::SH_FL1);
    debug_assert!(!p.mfn_valid(smfn) || p.sp_head(smfn));
    smfn
}

/// `set_fl1_shadow_status` (multi.c 117-126): records `smfn` as the FL1
/// shadow of the superpage at `gfn`.
pub fn set_fl1_shadow_status<P: Platform, L: GuestLevel>(p: &P, d: P::Dom, gfn: Gfn, smfn: Mfn) {
    debug_assert!(p.sp_head(smfn));
    p.shadow_hash_insert(d, gfn.0, L::SH_FL1, smfn);
}

/// `delete_fl1_shadow_status` (multi.c 128-142): forgets the FL1 shadow of
/// the superpage at `gfn`; a missing hash entry means the shadow state is
/// corrupt, so the domain is crashed (as C does).
pub fn delete_fl1_shadow_status<P: Platform, L: GuestLevel>(p: &P, d: P::Dom, gfn: Gfn, smfn: Mfn) {
    debug_assert!(p.sp_head(smfn));
    if !p.shadow_hash_delete(d, gfn.0, L::SH_FL1, smfn) {
        p.log(format_args!(
            "d{}: {:#x}:FL1 hash entry not found for {:#x}\n",
            p.domain_id(d),
            gfn.0,
            smfn.0
        ));
        p.domain_crash(d, "delete_fl1_shadow_status");
    }
}
