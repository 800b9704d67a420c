//! multi.c block C (lines 145-312): walking the guest's page tables,
//! re-checking a walk under the paging lock, and write-protecting the guest
//! tables a walk went through; plus the guest_pt.h predicates and walk
//! accessors the shadow code uses (`guest_can_use_l2_superpages`,
//! `guest_nx_enabled`, `guest_lNe_rsvd_bits`, `guest_walk_to_gfn/gpa`).

use core::mem::MaybeUninit;

use crate::level::GuestLevel;
use crate::platform::{GuestWalk, Platform, WalkOps};
use crate::types::flags::*;
use crate::types::*;

/// `GW_RMWR_FLUSHTLB`: some write access was removed, the TLB must be flushed.
pub const GW_RMWR_FLUSHTLB: u32 = 1;
/// `GW_RMWR_REWALK`: a table of the walk was resynced, walk again.
pub const GW_RMWR_REWALK: u32 = 2;

/// `INVALID_PADDR`.
pub const INVALID_PADDR: u64 = !0;

// ---- guest_pt.h predicates ----------------------------------------------------

/// `guest_can_use_l2_superpages(v)` (guest_pt.h 205-218): PV guests, PAE and
/// long-mode guests, and 32-bit guests with paging off or CR4.PSE set.
pub fn guest_can_use_l2_superpages<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu) -> bool {
    let d = p.vcpu_domain(v);
    !p.is_hvm_domain(d) || L::LEVELS != 2 || !p.hvm_paging_enabled(v) || p.hvm_pse_enabled(v)
}

/// `guest_nx_enabled(v)` (guest_pt.h 253-260): never for 2-level guests; PV
/// guests inherit Xen's NX, HVM guests have EFER.NX.
pub fn guest_nx_enabled<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu) -> bool {
    if L::LEVELS == 2 {
        return false;
    }
    let d = p.vcpu_domain(v);
    if !p.is_hvm_domain(d) {
        p.page_nx() != 0
    } else {
        p.hvm_nx_enabled(v)
    }
}

/// `SUPERPAGE_RSVD(bit)`: the address bits of a superpage entry below its
/// alignment, except the PAT bit (bit 12).
const fn superpage_rsvd(bit: u32) -> u64 {
    ((1u64 << bit) - 1) & !((PSE_PAT as u64) | (PSE_PAT as u64 - 1))
}

/// `guest_rsvd_bits(v)` (guest_pt.h 285-291): address bits beyond the
/// guest's maxphysaddr, and NX when the guest has no NX.
pub fn guest_rsvd_bits<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu) -> u64 {
    let d = p.vcpu_domain(v);
    let below = 1u64
        .checked_shl(p.cpuid_maxphysaddr(d))
        .unwrap_or(0)
        .wrapping_sub(1);
    let nx = if guest_nx_enabled::<P, L>(p, v) {
        0
    } else {
        put_pte_flags(NX_BIT)
    };
    (PADDR_MASK & !below) | nx
}

/// `GUEST_L1_PAGETABLE_RSVD` / `GUEST_L2_PAGETABLE_RSVD`: bits 52-62 for PAE.
const fn guest_l12_table_rsvd<L: GuestLevel>() -> u64 {
    if L::LEVELS == 3 {
        0x7ff0_0000_0000_0000
    } else {
        0
    }
}

/// `guest_l1e_rsvd_bits(v, l1e)` (guest_pt.h 293-297).
pub fn guest_l1e_rsvd_bits<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu, l1e: u64) -> bool {
    l1e & (guest_rsvd_bits::<P, L>(p, v) | guest_l12_table_rsvd::<L>()) != 0
}

/// `guest_l2e_rsvd_bits(v, l2e)` (guest_pt.h 299-313).  Shadowed guests never
/// use PSE36 (that needs HAP), so a superpage's low address bits are reserved.
pub fn guest_l2e_rsvd_bits<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu, l2e: u64) -> bool {
    let pse = PSE as u64;
    let no_superpages = if guest_can_use_l2_superpages::<P, L>(p, v) {
        0
    } else {
        pse
    };
    (l2e & (guest_rsvd_bits::<P, L>(p, v) | guest_l12_table_rsvd::<L>() | no_superpages)) != 0
        || (l2e & pse != 0 && l2e & superpage_rsvd(L::GUEST_L2_SHIFT) != 0)
}

/// `guest_l3e_rsvd_bits(v, l3e)` (guest_pt.h 316-323).  Shadow paging never
/// allows 1 GiB superpages, so PSE is reserved.
pub fn guest_l3e_rsvd_bits<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu, l3e: u64) -> bool {
    let table_rsvd: u64 = if L::LEVELS == 3 {
        0xfff0_0000_0000_0000 | (GLOBAL | PSE | DIRTY | ACCESSED | USER | RW) as u64
    } else {
        0
    };
    let pse = PSE as u64;
    (l3e & (guest_rsvd_bits::<P, L>(p, v) | table_rsvd | pse)) != 0
        || (l3e & pse != 0 && l3e & superpage_rsvd(30) != 0)
}

/// `guest_l4e_rsvd_bits(v, l4e)` (guest_pt.h 326-331): PSE always, GLOBAL on
/// AMD.
pub fn guest_l4e_rsvd_bits<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu, l4e: u64) -> bool {
    let d = p.vcpu_domain(v);
    let amd = if p.cpuid_vendor_is_amd(d) {
        GLOBAL as u64
    } else {
        0
    };
    l4e & (guest_rsvd_bits::<P, L>(p, v) | PSE as u64 | amd) != 0
}

// ---- walk accessors ---------------------------------------------------------------

/// `guest_walk_to_gfn(gw)` (guest_pt.h 369-376): the frame the walk ends
/// at, `INVALID_GFN` if the (possibly fabricated) L1 entry is not present.
/// For 2-level guests the whole 64-bit `el1e` is used (PSE36 frames).
pub fn guest_walk_to_gfn<L: GuestLevel>(gw: &GuestWalk) -> Gfn {
    if L::guest_e_get_flags(gw.l1e) & PRESENT == 0 {
        return INVALID_GFN;
    }
    if L::LEVELS == 2 {
        Gfn(gw.l1e >> PAGE_SHIFT)
    } else {
        L::guest_e_get_gfn(gw.l1e)
    }
}

/// `guest_walk_to_gpa(gw)` (guest_pt.h 380-388): the guest physical address
/// of `gw.va`, `INVALID_PADDR` if not mapped.
pub fn guest_walk_to_gpa<L: GuestLevel>(gw: &GuestWalk) -> u64 {
    let gfn = guest_walk_to_gfn::<L>(gw);
    if gfn == INVALID_GFN {
        return INVALID_PADDR;
    }
    (gfn.0 << PAGE_SHIFT) | (gw.va & !PAGE_MASK)
}

/// `gw->l1e.l1`: the guest-sized L1 entry of the walk (for 2-level guests
/// the low 32 bits of the widened `el1e`).
fn guest_l1e_of_walk<L: GuestLevel>(gw: &GuestWalk) -> u64 {
    if L::GUEST_PTE_BYTES == 4 {
        gw.l1e & 0xffff_ffff
    } else {
        gw.l1e
    }
}

/// True if the walk's L2 entry is a superpage the guest may use, i.e.
/// there is no guest L1 (`l1mfn` is meaningless).
fn walk_is_l2_superpage<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu, gw: &GuestWalk) -> bool {
    guest_can_use_l2_superpages::<P, L>(p, v) && L::guest_e_get_flags(gw.l2e) & PSE != 0
}

// ---- block C ---------------------------------------------------------------------

/// `cr3_pa(cr3)`: the address bits of a CR3 value (bits 12-51).
const fn cr3_pa(cr3: u64) -> u64 {
    cr3 & PADDR_MASK & PAGE_MASK
}

/// `sh_walk_guest_tables` (multi.c 148-177): walk the guest's tables for
/// `va` with Xen's walker.  The root is the guest CR3 (HVM) or the guest
/// table (PV); 32-bit and 64-bit guests get their root page mapped for the
/// walk, PAE guests walk from the vCPU's cached copy of their four L3es.
/// The walk is written into `gw`, which needs no initialising.  Inline,
/// as C's `static inline`: two callers (the fault handler and
/// `sh_gva_to_gfn`), and the call would cost a frame around a call.
#[inline(always)]
pub fn sh_walk_guest_tables<'w, P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    va: u64,
    pfec: u32,
    gw: &'w mut MaybeUninit<GuestWalk>,
) -> (bool, &'w mut GuestWalk) {
    let d = p.vcpu_domain(v);
    let root_gfn = Gfn(if p.paging_mode_external(d) {
        cr3_pa(p.hvm_guest_cr3(v)) >> PAGE_SHIFT
    } else {
        p.guest_table_pfn(v)
    });

    if L::LEVELS != 3 {
        let root_mfn = Mfn(if p.tf_kernel_mode(v) {
            p.guest_table_pfn(v)
        } else {
            p.guest_table_user_pfn(v)
        });
        let root = p.map_domain_page(root_mfn);
        let r = p.guest_walk_tables::<L>(v, va, pfec, root_gfn, root_mfn, root.as_ptr(), gw);
        p.unmap_domain_page(root);
        r
    } else {
        p.guest_walk_tables::<L>(v, va, pfec, root_gfn, INVALID_MFN, p.shadow_gl3e_ptr(v), gw)
    }
}

/// `shadow_check_gwalk` (multi.c 185-240): under the paging lock, after
/// write access to the walked tables was removed, check that the guest
/// entries the walk saw are still there.  Skipped (true) if no guest table
/// was written since `version` was sampled.  False = something changed.
pub fn shadow_check_gwalk<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    va: u64,
    gw: &mut GuestWalk,
    version: u32,
) -> bool {
    let d = p.vcpu_domain(v);
    debug_assert!(p.paging_locked_by_me(d));

    // Taking the paging lock ordered this read after the walk.
    if version == p.gtable_dirty_version(d) {
        return true;
    }

    let mut mismatch = false;
    let bytes = L::GUEST_PTE_BYTES;
    if L::LEVELS >= 4 {
        let l4 = p.map_domain_page(gw.l4mfn);
        mismatch |= gw.l4e != l4.get(L::guest_l4_table_offset(va), bytes);
        p.unmap_domain_page(l4);
        let l3 = p.map_domain_page(gw.l3mfn);
        mismatch |= gw.l3e != l3.get(L::guest_l3_table_offset(va), bytes);
        p.unmap_domain_page(l3);
    } else if L::LEVELS == 3 {
        mismatch |= gw.l3e != p.shadow_gl3e(v, L::guest_l3_table_offset(va));
    }
    let l2 = p.map_domain_page(gw.l2mfn);
    mismatch |= gw.l2e != l2.get(L::guest_l2_table_offset(va), bytes);
    p.unmap_domain_page(l2);

    if !walk_is_l2_superpage::<P, L>(p, v, gw) {
        let l1 = p.map_domain_page(gw.l1mfn);
        mismatch |= guest_l1e_of_walk::<L>(gw) != l1.get(L::guest_l1_table_offset(va), bytes);
        p.unmap_domain_page(l1);
    }

    !mismatch
}

/// `shadow_check_gl1e` (multi.c 243-257): true if the guest L1 entry the
/// walk saw has changed since (re-read from the guest table, since the
/// frame may have changed).  False if there is no guest L1.
pub fn shadow_check_gl1e<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    gw: &mut GuestWalk,
) -> bool {
    let _ = v;
    if !p.mfn_valid(gw.l1mfn) {
        return false;
    }
    let l1 = p.map_domain_page(gw.l1mfn);
    let nl1e = l1.get(L::guest_l1_table_offset(gw.va), L::GUEST_PTE_BYTES);
    p.unmap_domain_page(l1);
    guest_l1e_of_walk::<L>(gw) != nl1e
}

/// `gw_remove_write_accesses` (multi.c 268-312): make the guest tables of
/// the walk read-only (or resync them if out of sync), returning
/// `GW_RMWR_FLUSHTLB` and/or `GW_RMWR_REWALK`.
pub fn gw_remove_write_accesses<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    va: u64,
    gw: &GuestWalk,
) -> u32 {
    let d = p.vcpu_domain(v);
    let mut rc = 0;

    if L::LEVELS >= 4 {
        if WalkOps::mfn_is_out_of_sync(p, gw.l3mfn) {
            p.sh_resync(d, gw.l3mfn);
            rc = GW_RMWR_REWALK;
        } else if p.sh_remove_write_access(d, gw.l3mfn, 3, va) != 0 {
            rc = GW_RMWR_FLUSHTLB;
        }
    }

    if L::LEVELS >= 3 {
        if WalkOps::mfn_is_out_of_sync(p, gw.l2mfn) {
            p.sh_resync(d, gw.l2mfn);
            rc |= GW_RMWR_REWALK;
        } else if p.sh_remove_write_access(d, gw.l2mfn, 2, va) != 0 {
            rc |= GW_RMWR_FLUSHTLB;
        }
    }

    if !walk_is_l2_superpage::<P, L>(p, v, gw)
        && !WalkOps::mfn_is_out_of_sync(p, gw.l1mfn)
        && p.sh_remove_write_access(d, gw.l1mfn, 1, va) != 0
    {
        rc |= GW_RMWR_FLUSHTLB;
    }

    rc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::{G2, G3, G4};

    fn walk(va: u64, l1e: u64) -> GuestWalk {
        GuestWalk {
            va,
            l4e: 0,
            l3e: 0,
            l2e: 0,
            l1e,
            l4mfn: INVALID_MFN,
            l3mfn: INVALID_MFN,
            l2mfn: INVALID_MFN,
            l1mfn: INVALID_MFN,
            pfec: 0,
        }
    }

    #[test]
    fn walk_to_gfn_and_gpa() {
        let gw = walk(0x1234_5abc, 0x0009_8000 | 0x63);
        assert_eq!(guest_walk_to_gfn::<G2>(&gw), Gfn(0x98));
        assert_eq!(guest_walk_to_gfn::<G3>(&gw), Gfn(0x98));
        assert_eq!(guest_walk_to_gfn::<G4>(&gw), Gfn(0x98));
        assert_eq!(guest_walk_to_gpa::<G4>(&gw), 0x98abc);

        // Not present: invalid.
        let np = walk(0x1000, 0x0009_8000 | 0x62);
        assert_eq!(guest_walk_to_gfn::<G4>(&np), INVALID_GFN);
        assert_eq!(guest_walk_to_gpa::<G2>(&np), INVALID_PADDR);

        // 2-level: the widened el1e (PSE36) keeps its high frame bits.
        let wide = walk(0xfff, (0x3_0000_0000u64) | 0x1000 | 0x1);
        assert_eq!(guest_walk_to_gfn::<G2>(&wide), Gfn(0x30_0001));
        assert_eq!(guest_walk_to_gpa::<G2>(&wide), 0x3_0000_1fff);

        // 64-bit entries: NX and the available high bits are not address.
        let nx = walk(0, (1 << 63) | (0x7ffu64 << 52) | 0x5000 | 0x1);
        assert_eq!(guest_walk_to_gfn::<G4>(&nx), Gfn(5));
    }

    #[test]
    fn superpage_rsvd_masks() {
        // 2 MiB: bits 13..20; 4 MiB: bits 13..21; 1 GiB: bits 13..29.
        assert_eq!(superpage_rsvd(21), 0x1f_e000);
        assert_eq!(superpage_rsvd(22), 0x3f_e000);
        assert_eq!(superpage_rsvd(30), 0x3fff_e000);
    }

    #[test]
    fn cr3_address_bits() {
        assert_eq!(cr3_pa(0x8000_0000_1234_5fff), 0x1234_5000);
    }
}
