//! multi.c block F (lines 452-747): `_sh_propagate`, which computes a shadow
//! entry from a guest entry, and its four per-level wrappers; plus the
//! fast-path "magic" shadow L1 entries of types.h (285-391).
//!
//! The decisions that need no platform are split out as pure functions
//! (`pass_thru_flags`, `apply_access_dirty`, `apply_readonly`, the magic
//! encodings) so they can be unit-tested.

use crate::index::FetchType;
use crate::level::GuestLevel;
use crate::platform::walk::{
    MTRR_TYPE_UNCACHABLE, NO_HARDCODE_MEM_TYPE, PAT_TYPE_UNCACHABLE, PAT_TYPE_WRBACK,
};
use crate::platform::{Platform, WalkOps};
use crate::types::flags::*;
use crate::types::*;
use crate::walk::{
    guest_can_use_l2_superpages, guest_l1e_rsvd_bits, guest_l2e_rsvd_bits, guest_l3e_rsvd_bits,
    guest_l4e_rsvd_bits, guest_nx_enabled,
};

// ---- magic entries (types.h 285-391, CONFIG_BIGMEM off) ----------------------

/// `SH_L1E_MAGIC_MASK`: every bit from 36 up plus PRESENT.  A shadow L1 entry
/// with all of them set has reserved address bits set, so the CPU faults
/// with PFEC.RSVD and the fault handler recognises the entry cheaply.
pub const SH_L1E_MAGIC_MASK: u64 = 0xffff_fff0_0000_0000 | PRESENT as u64;
/// `SH_L1E_MMIO_MAGIC`.
pub const SH_L1E_MMIO_MAGIC: u64 = SH_L1E_MAGIC_MASK;
/// `SH_L1E_MMIO_MAGIC_BIT` (bit 3: set only in the guest-not-present value).
pub const SH_L1E_MMIO_MAGIC_BIT: u64 = 8;
/// `SH_L1E_MMIO_MAGIC_MASK`.
pub const SH_L1E_MMIO_MAGIC_MASK: u64 = SH_L1E_MMIO_MAGIC | SH_L1E_MMIO_MAGIC_BIT;
/// `SH_L1E_MMIO_GFN_MASK`: bits 4-35 carry the gfn.
pub const SH_L1E_MMIO_GFN_MASK: u64 = !(SH_L1E_MMIO_MAGIC_MASK | RW as u64 | USER as u64);

/// `MASK_INSR(v, m)` (xen/lib.h).
const fn mask_insr(v: u64, m: u64) -> u64 {
    v.wrapping_mul(m & m.wrapping_neg()) & m
}
/// `MASK_EXTR(v, m)`.
const fn mask_extr(v: u64, m: u64) -> u64 {
    (v & m) / (m & m.wrapping_neg())
}

/// `sh_have_pte_rsvd_bits()` (types.h): the CPU leaves physical-address bits
/// unused, and we are not virtualised (a hypervisor below us might not
/// honour reserved bits).
pub fn sh_have_pte_rsvd_bits<P: Platform>(p: &P) -> bool {
    p.paddr_bits() < PADDR_BITS && !p.cpu_has_hypervisor()
}

/// `sh_l1e_is_magic(sl1e)`.
pub const fn sh_l1e_is_magic(sl1e: u64) -> bool {
    sl1e & SH_L1E_MAGIC_MASK == SH_L1E_MAGIC_MASK
}

/// `sh_l1e_gnp_raw()`: the single guest-not-present value (all ones).
pub const fn sh_l1e_gnp_raw() -> u64 {
    !0
}

/// `sh_l1e_gnp()`: the guest-not-present magic entry, or an empty entry
/// where the CPU has no reserved address bits to use.
pub fn sh_l1e_gnp<P: Platform>(p: &P) -> u64 {
    if sh_have_pte_rsvd_bits(p) {
        sh_l1e_gnp_raw()
    } else {
        0
    }
}

/// `sh_l1e_is_gnp(sl1e)`.
pub const fn sh_l1e_is_gnp(sl1e: u64) -> bool {
    sl1e == sh_l1e_gnp_raw()
}

/// The raw encoding of `sh_l1e_mmio(gfn, gflags)`, before the CPU checks:
/// magic bits, the gfn in bits 4-35 and the guest's USER and RW bits.
pub const fn sh_l1e_mmio_raw(gfn: Gfn, gflags: u32) -> u64 {
    SH_L1E_MMIO_MAGIC | mask_insr(gfn.0, SH_L1E_MMIO_GFN_MASK) | (gflags & (USER | RW)) as u64
}

/// `sh_l1e_mmio(gfn, gflags)`: the magic entry for emulated MMIO, or an
/// empty entry if the CPU cannot fault on it safely (no reserved bits, or
/// an L1TF-vulnerable CPU for which the encoded address is not safe).
pub fn sh_l1e_mmio<P: Platform>(p: &P, gfn: Gfn, gflags: u32) -> u64 {
    let sl1e = sh_l1e_mmio_raw(gfn, gflags);
    if !sh_have_pte_rsvd_bits(p)
        || (p.cpu_has_bug_l1tf() && !p.is_l1tf_safe_maddr(sl1e & PADDR_MASK & PAGE_MASK))
    {
        0
    } else {
        sl1e
    }
}

/// `sh_l1e_is_mmio(sl1e)`.
pub const fn sh_l1e_is_mmio(sl1e: u64) -> bool {
    sl1e & SH_L1E_MMIO_MAGIC_MASK == SH_L1E_MMIO_MAGIC
}

/// `sh_l1e_mmio_get_gfn(sl1e)`.
pub const fn sh_l1e_mmio_get_gfn(sl1e: u64) -> Gfn {
    Gfn(mask_extr(sl1e, SH_L1E_MMIO_GFN_MASK))
}

/// `sh_l1e_mmio_get_flags(sl1e)`: the guest's USER and RW bits.
pub const fn sh_l1e_mmio_get_flags(sl1e: u64) -> u32 {
    (sl1e as u32) & (USER | RW)
}

// ---- pure pieces of _sh_propagate --------------------------------------------

/// The guest flags `_sh_propagate` copies into the shadow (multi.c 525-531):
/// A, U, RW, P always; NX if the guest has NX enabled; the cache attributes
/// for L1 mappings of MMIO frames in domains without refcounting.
pub const fn pass_thru_flags(gflags: u32, nx: bool, pass_cache_attrs: bool) -> u32 {
    let mut pass = ACCESSED | USER | RW | PRESENT;
    if nx {
        pass |= NX_BIT;
    }
    if pass_cache_attrs {
        pass |= PAT | PCD | PWT;
    }
    gflags & pass
}

/// Accessed/dirty handling of `_sh_propagate` (multi.c 577-597): upper
/// levels get A and D (they may be used as L1s through the linear map,
/// except the 4-entry PAE L3); no guest A bit means no access at all; no
/// guest D bit on an L1 or a usable L2 superpage means no write.
pub const fn apply_access_dirty(
    level: u32,
    shadow_levels: u32,
    gflags: u32,
    mut sflags: u32,
    l2_superpages: bool,
) -> u32 {
    if level > 1 && !(shadow_levels == 3 && level == 3) {
        sflags |= ACCESSED | DIRTY;
    }
    if gflags & ACCESSED == 0 {
        sflags &= !PRESENT;
    }
    if (level == 1 || (level == 2 && gflags & PSE != 0 && l2_superpages)) && gflags & DIRTY == 0 {
        sflags &= !RW;
    }
    sflags
}

/// Read-only memory (multi.c 616-624): read-only p2m types lose RW; direct
/// MMIO in `mmio_ro_ranges` loses RW and PAT and becomes UC (PCD|PWT).
pub const fn apply_readonly(p2mt: P2mType, mmio_ro: bool, mut sflags: u32) -> u32 {
    if p2mt.is_readonly() {
        sflags &= !RW;
    } else if matches!(p2mt, P2mType::MmioDirect) && mmio_ro {
        sflags &= !(RW | PAT);
        sflags |= PCD | PWT;
    }
    sflags
}

/// `gfn_valid(d, gfn)` (asm/paging.h): the gfn fits in the guest's
/// physical address width.
pub fn gfn_valid<P: Platform>(p: &P, d: P::Dom, gfn: Gfn) -> bool {
    let shift = p.cpuid_maxphysaddr(d).wrapping_sub(PAGE_SHIFT);
    gfn.0.checked_shr(shift).unwrap_or(0) == 0
}

/// `_sh_propagate` (multi.c 459-682): the shadow entry for guest entry
/// `guest_e` of level `LEVEL` whose target is `target_mfn` (the guest frame
/// for L1s, the next shadow for upper levels).
fn sh_propagate<P: Platform, L: GuestLevel, const LEVEL: u32>(
    p: &P,
    v: P::Vcpu,
    guest_e: u64,
    target_mfn: Mfn,
    ft: FetchType,
    p2mt: P2mType,
) -> u64 {
    let d = p.vcpu_domain(v);
    let target_gfn = L::guest_e_get_gfn(guest_e);

    debug_assert!(L::LEVELS > 3 || LEVEL != 3, "PAE L3s are not shadowed");

    // Nothing to map to.
    if (!p2mt.is_valid() && !p2mt.is_grant()) || !gfn_valid(p, d, target_gfn) {
        return 0;
    }

    let gflags = L::guest_e_get_flags(guest_e);

    // With out-of-sync shadows compiled in, not-present guest entries are
    // always shadowed empty (never with the guest-not-present magic).
    if gflags & PRESENT == 0 {
        return 0;
    }

    // An L1 mapping emulated MMIO: the magic MMIO entry.
    if LEVEL == 1 && p2mt == P2mType::MmioDm {
        let sl1e = sh_l1e_mmio(p, target_gfn, gflags);
        if sh_l1e_is_magic(sl1e) {
            p.set_has_fast_mmio_entries(d);
        }
        return sl1e;
    }

    // Only L1 entries may point at MMIO (or invalid) frames, and only
    // without refcounting or for direct MMIO; otherwise (a prefetch)
    // there is nothing useful to shadow.
    let mmio_mfn = !p.mfn_valid(target_mfn) || (LEVEL == 1 && p.page_owner_is_dom_io(target_mfn));
    let refcounts = p.shadow_mode_refcounts(d);
    if mmio_mfn && !(LEVEL == 1 && (!refcounts || p2mt == P2mType::MmioDirect)) {
        debug_assert!(ft == FetchType::Prefetch);
        return 0;
    }

    let mut sflags = pass_thru_flags(
        gflags,
        guest_nx_enabled::<P, L>(p, v),
        LEVEL == 1 && !refcounts && mmio_mfn,
    );

    // HVM L1 entries: the caching attributes the guest (or the toolstack's
    // pinned ranges, or the UC mode) asks for.
    if LEVEL == 1
        && p.is_hvm_domain(d)
        && (!p.mfn_valid(target_mfn) || !p.is_special_page(target_mfn))
    {
        debug_assert!(sflags & (PAT | PCD | PWT) == 0);
        let pinned = if mmio_mfn {
            -1
        } else {
            p.hvm_get_mem_pinned_cacheattr(d, target_gfn, 0)
        };
        if pinned >= 0 {
            sflags |= p.pat_type_2_pte_flags(pinned as u8);
        } else if p.is_in_uc_mode(d) {
            sflags |= p.pat_type_2_pte_flags(PAT_TYPE_UNCACHABLE);
        } else if p.iomem_access_permitted(d, target_mfn.0, target_mfn.0) {
            if p2mt == P2mType::MmioDirect {
                sflags |= p.get_pat_flags(
                    v,
                    gflags,
                    target_gfn.gaddr(),
                    target_mfn.maddr(),
                    MTRR_TYPE_UNCACHABLE,
                );
            } else if p.iommu_snoop() {
                sflags |= p.pat_type_2_pte_flags(PAT_TYPE_WRBACK);
            } else {
                sflags |= p.get_pat_flags(
                    v,
                    gflags,
                    target_gfn.gaddr(),
                    target_mfn.maddr(),
                    NO_HARDCODE_MEM_TYPE,
                );
            }
        }
    }

    sflags = apply_access_dirty(
        LEVEL,
        L::SHADOW_LEVELS,
        gflags,
        sflags,
        guest_can_use_l2_superpages::<P, L>(p, v),
    );

    // Dirty-VRAM tracking: until the first write is seen, map the range
    // read-only; a demand write records the time instead.
    if LEVEL == 1 && p.is_hvm_domain(d) {
        if let Some((begin, end)) = p.dirty_vram_clean_range(d) {
            if target_gfn.0 >= begin && target_gfn.0 < end {
                if ft.is_write() {
                    p.dirty_vram_set_last_dirty_now(d);
                } else {
                    sflags &= !RW;
                }
            }
        }
    }

    let mmio_ro =
        !p2mt.is_readonly() && p2mt == P2mType::MmioDirect && p.mmio_ro_ranges_contains(target_mfn);
    sflags = apply_readonly(p2mt, mmio_ro, sflags);

    // Guest page tables stay read-only, unless out of sync and this is the
    // guest's demand write to it.
    if LEVEL == 1
        && WalkOps::sh_mfn_is_a_page_table(p, target_mfn)
        && !(WalkOps::mfn_oos_may_write(p, target_mfn) && ft == FetchType::DemandWrite)
    {
        sflags &= !RW;
    }

    // Log-dirty, handled inside the shadow code: a demand write marks the
    // frame dirty; otherwise only already-dirty frames may be writable.
    if LEVEL == 1 && p.paging_mode_log_dirty(d) && p.mfn_valid(target_mfn) {
        if ft.is_write() {
            p.paging_mark_dirty(d, target_mfn);
        } else if sflags & RW != 0 && !p.paging_mfn_is_dirty(d, target_mfn) {
            sflags &= !RW;
        }
    }

    // 64-bit PV guests separate user and kernel with two page tables, so
    // the guest's USER bit is meaningless: always set it.
    if L::LEVELS == 4 && !p.is_hvm_domain(d) && !p.is_pv_32bit_domain(d) {
        sflags |= USER;
    }

    shadow_e_from_mfn(target_mfn, sflags)
}

/// `l4e_propagate_from_guest` (multi.c 690-702): the shadow L4 entry for
/// `gl4e`, pointing at `sl3mfn`.
pub fn l4e_propagate_from_guest<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    gl4e: u64,
    sl3mfn: Mfn,
    ft: FetchType,
) -> u64 {
    debug_assert!(
        sl3mfn == INVALID_MFN
            || L::guest_e_get_flags(gl4e) & PRESENT == 0
            || !guest_l4e_rsvd_bits::<P, L>(p, v, gl4e)
    );
    sh_propagate::<P, L, 4>(p, v, gl4e, sl3mfn, ft, P2mType::RamRw)
}

/// `l3e_propagate_from_guest` (multi.c 704-716): the shadow L3 entry for
/// `gl3e`, pointing at `sl2mfn` (4-level guests).
pub fn l3e_propagate_from_guest<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    gl3e: u64,
    sl2mfn: Mfn,
    ft: FetchType,
) -> u64 {
    debug_assert!(
        sl2mfn == INVALID_MFN
            || L::guest_e_get_flags(gl3e) & PRESENT == 0
            || !guest_l3e_rsvd_bits::<P, L>(p, v, gl3e)
    );
    sh_propagate::<P, L, 3>(p, v, gl3e, sl2mfn, ft, P2mType::RamRw)
}

/// `l2e_propagate_from_guest` (multi.c 719-731): the shadow L2 entry for
/// `gl2e`, pointing at `sl1mfn` (an L1 or FL1 shadow).
pub fn l2e_propagate_from_guest<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    gl2e: u64,
    sl1mfn: Mfn,
    ft: FetchType,
) -> u64 {
    debug_assert!(
        sl1mfn == INVALID_MFN
            || L::guest_e_get_flags(gl2e) & PRESENT == 0
            || !guest_l2e_rsvd_bits::<P, L>(p, v, gl2e)
    );
    sh_propagate::<P, L, 2>(p, v, gl2e, sl1mfn, ft, P2mType::RamRw)
}

/// `l1e_propagate_from_guest` (multi.c 733-747): the shadow L1 entry for
/// `gl1e`, which maps guest frame `gmfn` of p2m type `p2mt`.
pub fn l1e_propagate_from_guest<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    gl1e: u64,
    gmfn: Mfn,
    ft: FetchType,
    p2mt: P2mType,
) -> u64 {
    debug_assert!(
        gmfn == INVALID_MFN
            || L::guest_e_get_flags(gl1e) & PRESENT == 0
            || !guest_l1e_rsvd_bits::<P, L>(p, v, gl1e)
    );
    sh_propagate::<P, L, 1>(p, v, gl1e, gmfn, ft, p2mt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_mask_values() {
        assert_eq!(SH_L1E_MMIO_GFN_MASK, 0x0000_000f_ffff_fff0);
        // The magic bits overlap the address field (they are reserved bits
        // only because paddr_bits < 52).
        assert_ne!(PADDR_MASK & PAGE_MASK & SH_L1E_MAGIC_MASK, 0);
    }

    #[test]
    fn gnp_is_magic_not_mmio() {
        let e = sh_l1e_gnp_raw();
        assert!(sh_l1e_is_magic(e) && sh_l1e_is_gnp(e) && !sh_l1e_is_mmio(e));
    }

    #[test]
    fn mmio_round_trips() {
        for &gfn in &[0u64, 1, 0xabcde, 0xffff_ffff] {
            for &f in &[
                0,
                RW,
                USER,
                RW | USER,
                RW | USER | ACCESSED | DIRTY | PRESENT,
            ] {
                let e = sh_l1e_mmio_raw(Gfn(gfn), f);
                assert!(sh_l1e_is_magic(e));
                assert!(sh_l1e_is_mmio(e));
                assert!(!sh_l1e_is_gnp(e));
                assert_eq!(sh_l1e_mmio_get_gfn(e), Gfn(gfn));
                assert_eq!(sh_l1e_mmio_get_flags(e), f & (RW | USER));
            }
        }
        // Gfns wider than 32 bits are truncated, never spill into magic bits.
        let e = sh_l1e_mmio_raw(Gfn(0x1_2345_6789), RW);
        assert!(sh_l1e_is_mmio(e));
        assert_eq!(sh_l1e_mmio_get_gfn(e), Gfn(0x2345_6789));
    }

    #[test]
    fn real_entries_are_never_magic() {
        // Frames below 2^36 bytes of address, any flag combination incl. NX
        // and the available bits: never magic.
        for &mfn in &[0u64, 1, 0x12345, (1 << 24) - 1] {
            for f in [
                0u32,
                PRESENT,
                PRESENT | RW | USER | ACCESSED | DIRTY,
                0xfff | NX_BIT,
            ] {
                let e = shadow_e_from_mfn(Mfn(mfn), f);
                assert!(!sh_l1e_is_magic(e), "{e:#x}");
                assert!(!sh_l1e_is_mmio(e) && !sh_l1e_is_gnp(e));
            }
        }
        assert!(!sh_l1e_is_magic(0));
    }

    #[test]
    fn pass_thru() {
        let g = PRESENT | RW | USER | ACCESSED | DIRTY | PCD | PWT | PAT | GLOBAL | NX_BIT;
        assert_eq!(
            pass_thru_flags(g, false, false),
            PRESENT | RW | USER | ACCESSED
        );
        assert_eq!(
            pass_thru_flags(g, true, false),
            PRESENT | RW | USER | ACCESSED | NX_BIT
        );
        assert_eq!(
            pass_thru_flags(g, false, true),
            PRESENT | RW | USER | ACCESSED | PAT | PCD | PWT
        );
    }

    #[test]
    fn access_dirty() {
        let all = PRESENT | RW | USER | ACCESSED;
        // L1: no D bit => read-only; no A bit => not present.
        assert_eq!(apply_access_dirty(1, 4, all, all, true), all & !RW);
        assert_eq!(apply_access_dirty(1, 4, all | DIRTY, all, true), all);
        assert_eq!(
            apply_access_dirty(1, 4, all & !ACCESSED, all & !ACCESSED, true),
            USER
        );
        assert_eq!(
            apply_access_dirty(1, 4, (all | DIRTY) & !ACCESSED, all & !ACCESSED, true),
            RW | USER
        );
        // Upper levels get A|D.
        assert_eq!(apply_access_dirty(2, 4, all, all, true), all | DIRTY);
        assert_eq!(apply_access_dirty(4, 4, all, all, true), all | DIRTY);
        // Except a PAE shadow L3.
        assert_eq!(apply_access_dirty(3, 3, all, all, true), all);
        // A superpage L2 without D is read-only, only if superpages apply.
        assert_eq!(
            apply_access_dirty(2, 3, all | PSE, all, true),
            (all | DIRTY) & !RW
        );
        assert_eq!(apply_access_dirty(2, 3, all | PSE, all, false), all | DIRTY);
    }

    #[test]
    fn readonly() {
        let f = PRESENT | RW | PAT;
        assert_eq!(apply_readonly(P2mType::RamRw, false, f), f);
        assert_eq!(apply_readonly(P2mType::RamRo, false, f), PRESENT | PAT);
        assert_eq!(apply_readonly(P2mType::GrantMapRo, true, f), PRESENT | PAT);
        assert_eq!(apply_readonly(P2mType::MmioDirect, false, f), f);
        assert_eq!(
            apply_readonly(P2mType::MmioDirect, true, f),
            PRESENT | PCD | PWT
        );
    }
}
