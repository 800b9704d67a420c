//! multi.c blocks R and S (lines 2906-3074): the guest's INVLPG and the
//! gva -> gfn translation.

use core::mem::MaybeUninit;

use crate::index::*;
use crate::level::GuestLevel;
use crate::platform::Platform;
use crate::types::*;
use crate::walk::{guest_walk_to_gfn, sh_walk_guest_tables};

/// Reads entry `index` of the level-`level` shadow linear map of `v`
/// (`sh_linear_lN_table(v) + index`) with a load that may fault
/// (`get_unsafe`): `None` if the page backing it is not mapped, which
/// happens when another CPU tears shadows down under our feet.
pub fn probe_linear<P: Platform>(p: &P, v: P::Vcpu, level: u32, index: u64) -> Option<u64> {
    let base = p.sh_linear_table_base(v, level);
    p.get_unsafe_u64(base.wrapping_add(index.wrapping_mul(8)))
}

/// `shadow_lNe_get_flags(e) & _PAGE_PRESENT`.
pub const fn shadow_e_present(e: u64) -> bool {
    get_pte_flags(e) & flags::PRESENT != 0
}

/// `sh_invlpg` (multi.c 2906-3039): the guest invalidated `linear`.
/// Returns true if the INVLPG must be issued on the hardware, false if
/// nothing is shadowed there (or the whole TLB was flushed instead).
pub fn sh_invlpg<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu, linear: u64) -> bool {
    // Cached gva -> gfn translations are stale from now on.
    p.vtlb_flush(v);
    p.set_last_write_emul_ok(v, false);

    // Only look at the sl2e if the levels above it are present: many
    // INVLPGs hit addresses whose L2 was never shadowed.
    if L::SHADOW_LEVELS == 4 {
        // The top level of the linear map is always there; still read it
        // with a fault-tolerant load (a fault just means "nothing there").
        match probe_linear(p, v, 4, shadow_l4_linear_offset(linear)) {
            Some(sl4e) if shadow_e_present(sl4e) => {}
            _ => return false,
        }
        // Without the paging lock the L3 may vanish under us.
        match probe_linear(p, v, 3, shadow_l3_linear_offset(linear)) {
            Some(sl3e) if shadow_e_present(sl3e) => {}
            _ => return false,
        }
    } else {
        // PAE shadows: the vCPU's own 4-entry top level.  A 32-bit guest
        // address never indexes past it; anything else maps nothing.
        let i = shadow_l3_linear_offset(linear);
        if i >= 4 || !shadow_e_present(p.vcpu_l3table(v, i as usize)) {
            return false;
        }
    }

    let sl2e = match probe_linear(p, v, 2, shadow_l2_linear_offset(linear)) {
        Some(e) => e,
        None => return false,
    };
    if !shadow_e_present(sl2e) {
        // No L1 shadow, no TLB entry worth invalidating.
        return false;
    }

    // A splintered superpage: flushing the whole TLB is simpler than
    // invalidating each of its 4k pieces.
    let sl1mfn = shadow_e_get_mfn(sl2e);
    if p.sp_type(sl1mfn) == L::SH_FL1 {
        p.sh_flush_local(p.vcpu_domain(v));
        return false;
    }

    // An out-of-sync L1 must lose its entry for this address, or the
    // stale mapping would outlive the guest's INVLPG.
    let gl1mfn = Mfn(p.sp_backpointer(sl1mfn));
    if p.mfn_valid(gl1mfn) && p.mfn_is_out_of_sync(gl1mfn) {
        let d = p.vcpu_domain(v);
        // The check above raced with other CPUs: repeat it locked.
        p.paging_lock(d);
        let sl2e = match probe_linear(p, v, 2, shadow_l2_linear_offset(linear)) {
            Some(e) => e,
            None => {
                p.paging_unlock(d);
                return false;
            }
        };
        if !shadow_e_present(sl2e) {
            p.paging_unlock(d);
            return false;
        }
        let sl1mfn = shadow_e_get_mfn(sl2e);
        let gl1mfn = Mfn(p.sp_backpointer(sl1mfn));
        if p.sh_mfn_is_a_page_table(gl1mfn) && p.mfn_is_out_of_sync(gl1mfn) {
            // Clear the sl1e mapping `linear`: the entry the linear map
            // shows at that address is entry `shadow_l1_table_offset` of
            // the L1 shadow page the sl2e points to.
            let t = p.map_domain_page(sl1mfn);
            let slot = t.slot(sl1mfn, shadow_l1_table_offset(linear));
            p.shadow_set_l1e(d, slot, 0, P2mType::Invalid);
            p.unmap_domain_page(t);
        }
        p.paging_unlock(d);
        // The hardware must drop the entry that just disappeared.
        return true;
    }

    true
}

/// `sh_gva_to_gfn` (multi.c 3041-3074): what the guest's own page tables
/// map `va` to for an access of kind `*pfec`.  Returns the gfn, or
/// `INVALID_GFN` with `*pfec` set to the fault the walk found.
pub fn sh_gva_to_gfn<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    va: u64,
    pfec: &mut u32,
) -> u64 {
    let cached = p.vtlb_lookup(v, va, *pfec);
    if cached != INVALID_GFN.0 {
        return cached;
    }

    let mut slot = MaybeUninit::uninit();
    let (walk_ok, gw) = sh_walk_guest_tables::<P, L>(p, v, va, *pfec, &mut slot);
    if !walk_ok {
        *pfec = gw.pfec;
        return INVALID_GFN.0;
    }
    let gfn = guest_walk_to_gfn::<L>(&gw);

    // Remember the translation for the next lookup.
    p.vtlb_insert(v, va >> PAGE_SHIFT, gfn.0, *pfec);
    gfn.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shadow_entry_decoding() {
        let e = 0x8000_0012_3456_7067u64;
        assert_eq!(shadow_e_get_mfn(e), Mfn(0x12_3456_7));
        assert!(shadow_e_present(e));
        assert!(!shadow_e_present(e & !1));
        // The all-ones "guest not present" magic entry stays in range.
        assert_eq!(shadow_e_get_mfn(!0), Mfn(PADDR_MASK >> PAGE_SHIFT));
    }
}
