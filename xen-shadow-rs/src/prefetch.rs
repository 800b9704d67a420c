//! multi.c block O (1886-1995): after a demand fault filled one shadow L1
//! entry, speculatively fill the empty entries that follow it.

use crate::index::FetchType;
use crate::level::GuestLevel;
use crate::platform::{GuestWalk, Platform, Slot, WalkOps};
use crate::propagate::l1e_propagate_from_guest;
use crate::types::flags::*;
use crate::types::*;
use crate::walk::guest_l1e_rsvd_bits;

/// `PREFETCH_DISTANCE`: at most this many entries per fault (counting the
/// demand-faulted one).
pub const PREFETCH_DISTANCE: usize = 32;

/// `guest_l1e_from_gfn(gfn, flags)` (guest_pt.h): 32-bit entries for
/// 2-level guests (the frame is truncated, as C's `guest_intpte_t` does).
pub fn guest_l1e_from_gfn<L: GuestLevel>(gfn: Gfn, f: u32) -> u64 {
    if L::GUEST_PTE_BYTES == 4 {
        u64::from((gfn.0 << PAGE_SHIFT) as u32 | f)
    } else {
        (gfn.0 << PAGE_SHIFT) | put_pte_flags(f)
    }
}

/// Whether prefetching must stop at a guest entry: it is present but a
/// fault would be needed anyway to set its A bit (or D bit if writable).
pub const fn prefetch_stops_at(gflags: u32) -> bool {
    gflags & PRESENT != 0 && (gflags & ACCESSED == 0 || (gflags & RW != 0 && gflags & DIRTY == 0))
}

/// `sh_prefetch` (multi.c 1897-1995): `sl1` is the shadow L1 entry just
/// filled for the walk `gw`; shadow the following guest entries (or the
/// following frames of a splintered superpage) while their shadow entries
/// are empty, up to the end of the shadow page and `PREFETCH_DISTANCE`.
pub fn sh_prefetch<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu, gw: &GuestWalk, sl1: Slot) {
    let d = p.vcpu_domain(v);
    let bytes = L::GUEST_PTE_BYTES;
    let dist = (512 - sl1.index).min(PREFETCH_DISTANCE);
    let gl1_base = L::guest_l1_table_offset(gw.va);

    let mut gl1p = None;
    let mut snpl1p = None;
    if p.mfn_valid(gw.l1mfn) {
        // A real guest L1: read the following entries from it.
        gl1p = Some(p.map_domain_page(gw.l1mfn));
        if WalkOps::mfn_is_out_of_sync(p, gw.l1mfn) {
            let snpmfn = p.oos_snapshot_lookup(d, gw.l1mfn);
            assert!(
                p.mfn_valid(snpmfn),
                "sh_prefetch: out-of-sync page without snapshot"
            );
            snpl1p = Some(p.map_domain_page(snpmfn));
        }
    }

    for i in 1..dist {
        // Stop at the first entry that is already shadowed.
        if sl1.offset(i).get() != 0 {
            break;
        }
        let gidx = gl1_base + i;

        let gl1e = if let Some(gl1) = gl1p {
            // The shadow page ends where the guest table (half) ends, so
            // this cannot run past the guest page; be safe anyway.
            if gidx >= L::GUEST_L1_ENTRIES {
                break;
            }
            let e = gl1.get(gidx, bytes);
            if prefetch_stops_at(L::guest_e_get_flags(e)) {
                break;
            }
            e
        } else {
            // A splintered superpage: fabricate the entry of the next frame.
            debug_assert!(L::guest_e_get_flags(gw.l2e) & PSE != 0);
            let gfn = L::guest_e_get_gfn(gw.l1e);
            guest_l1e_from_gfn::<L>(
                Gfn(gfn.0.wrapping_add(i as u64)),
                L::guest_e_get_flags(gw.l1e),
            )
        };

        let (gmfn, p2mt) = if L::guest_e_get_flags(gl1e) & PRESENT != 0
            && !guest_l1e_rsvd_bits::<P, L>(p, v, gl1e)
        {
            p.get_gfn_query_unlocked(d, L::guest_e_get_gfn(gl1e))
        } else {
            (INVALID_MFN, P2mType::Invalid)
        };

        let sl1e = l1e_propagate_from_guest::<P, L>(p, v, gl1e, gmfn, FetchType::Prefetch, p2mt);
        p.shadow_set_l1e(d, sl1.offset(i), sl1e, p2mt);

        if let Some(snp) = snpl1p {
            if L::GUEST_PTE_BYTES == 4 {
                snp.set32(gidx, gl1e as u32);
            } else {
                snp.set64(gidx, gl1e);
            }
        }
    }

    if let Some(gl1) = gl1p {
        p.unmap_domain_page(gl1);
    }
    if let Some(snp) = snpl1p {
        p.unmap_domain_page(snp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::{G2, G4};

    #[test]
    fn fabricated_entries() {
        assert_eq!(guest_l1e_from_gfn::<G2>(Gfn(0x12345), 0x67), 0x1234_5067);
        // 32-bit entries drop frame bits beyond 32 bits of address.
        assert_eq!(guest_l1e_from_gfn::<G2>(Gfn(0x10_0001), 0x1), 0x1001);
        assert_eq!(
            guest_l1e_from_gfn::<G4>(Gfn(0x12345), NX_BIT | 0x67),
            (1 << 63) | 0x1234_5067
        );
    }

    #[test]
    fn stop_rules() {
        assert!(!prefetch_stops_at(0));
        assert!(!prefetch_stops_at(RW)); // not present: shadow it (empty)
        assert!(prefetch_stops_at(PRESENT));
        assert!(!prefetch_stops_at(PRESENT | ACCESSED));
        assert!(prefetch_stops_at(PRESENT | ACCESSED | RW));
        assert!(!prefetch_stops_at(PRESENT | ACCESSED | RW | DIRTY));
    }
}
