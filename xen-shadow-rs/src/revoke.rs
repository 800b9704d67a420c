//! multi.c block U without the out-of-sync part (3546-3670): taking write
//! access or all mappings of a guest frame away from L1 shadows.

use crate::index::*;
use crate::iter::foreach_l1e;
use crate::level::GuestLevel;
use crate::platform::Platform;
use crate::trace::{sflag, trace_shadow_path_flag};
use crate::types::*;

/// True if the shadow L1 entry `e` is a present, writable mapping of `mfn`.
pub fn is_writable_mapping_of(e: u64, mfn: Mfn) -> bool {
    get_pte_flags(e) & (flags::PRESENT | flags::RW) == (flags::PRESENT | flags::RW)
        && shadow_e_get_mfn(e) == mfn
}

/// `shadow_l1e_remove_flags(e, _PAGE_RW)`.
pub const fn without_rw(e: u64) -> u64 {
    e & !put_pte_flags(flags::RW)
}

/// `sh_guess_wrmap` (multi.c 3546-3610; the `guess_wrmap` paging-mode hook):
/// looks through the current vCPU's shadow linear map for the L1 entry
/// mapping `vaddr`; if it is a writable mapping of `gmfn`, makes it
/// read-only and returns 1, else 0.  The upper entries are read with
/// faulting-safe loads (`get_unsafe`), since nothing is locked against
/// them changing.
pub fn sh_guess_wrmap<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu, vaddr: u64, gmfn: Mfn) -> i32 {
    let d = p.vcpu_domain(v);
    let present = |e: Option<u64>| e.is_some_and(|e| get_pte_flags(e) & flags::PRESENT != 0);
    let probe = |level: u32, off: u64| {
        p.get_unsafe_u64(
            p.sh_linear_table_base(v, level)
                .wrapping_add(off.wrapping_mul(8)),
        )
    };

    if L::SHADOW_LEVELS >= 4 {
        // HVM guests may not have the shadow linear map installed yet; the
        // ordinary linear map shows whether its L4 slot is present.
        if p.paging_mode_external(d) && !present(p.get_unsafe_u64(p.linear_l4e_of_sh_linear_addr()))
        {
            return 0;
        }
        if !present(probe(4, shadow_l4_linear_offset(vaddr))) {
            return 0;
        }
        if !present(probe(3, shadow_l3_linear_offset(vaddr))) {
            return 0;
        }
    } else {
        // 3-level shadows: the vCPU's own copy of the top level.  C indexes
        // its 4 entries with the address's linear L3 offset (< 4 for the
        // 32-bit addresses of these guests); anything else cannot match.
        let i = shadow_l3_linear_offset(vaddr);
        if i >= 4 || get_pte_flags(p.vcpu_l3table(v, i as usize)) & flags::PRESENT == 0 {
            return 0;
        }
    }
    let sl2e = match probe(2, shadow_l2_linear_offset(vaddr)) {
        Some(e) if get_pte_flags(e) & flags::PRESENT != 0 => e,
        _ => return 0,
    };
    let sl1e = match probe(1, shadow_l1_linear_offset(vaddr)) {
        Some(e) => e,
        None => return 0,
    };
    if !is_writable_mapping_of(sl1e, gmfn) {
        return 0;
    }

    // Found it: write-protect the entry, through a mapping of the L1 shadow
    // page the L2 entry points at (the same entry the linear map shows).
    let sl1mfn = shadow_e_get_mfn(sl2e);
    let t = p.map_domain_page(sl1mfn);
    let r = p.shadow_set_l1e(
        d,
        t.slot(sl1mfn, shadow_l1_table_offset(vaddr)),
        without_rw(sl1e),
        P2mType::RamRw,
    );
    p.unmap_domain_page(t);
    if r & set::ERROR != 0 {
        // Only a grant mapping can fail here: let the guess fail.
        return 0;
    }
    trace_shadow_path_flag(p, sflag::WRMAP_GUESS_FOUND);
    1
}

/// `sh_rm_write_access_from_l1` (multi.c 3612-3646; a `hash_domain_foreach`
/// callback): makes every writable mapping of `readonly_mfn` in the L1
/// shadow `sl1mfn` read-only, remembering the shadow for the writable-
/// mapping heuristic; returns 1 (stopping early) once the frame has no
/// type references left.
pub fn sh_rm_write_access_from_l1<P: Platform, L: GuestLevel>(
    p: &P,
    d: P::Dom,
    sl1mfn: Mfn,
    readonly_mfn: Mfn,
) -> i32 {
    let curr = p.current();
    let done = foreach_l1e::<P, L>(p, sl1mfn, |e| {
        let v = e.get();
        if !is_writable_mapping_of(v, readonly_mfn) {
            return false;
        }
        p.shadow_set_l1e(d, e, without_rw(v), P2mType::RamRw);
        // The last shadow we took a writable mapping out of (the head page).
        if p.vcpu_domain(curr) == d {
            p.set_last_writeable_pte_smfn(curr, sl1mfn);
        }
        p.page_type_count(readonly_mfn) == 0
    });
    i32::from(done)
}

/// `sh_rm_mappings_from_l1` (multi.c 3649-3670; a `hash_domain_foreach`
/// callback): empties every mapping of `target_mfn` in the L1 shadow
/// `sl1mfn`; returns 1 (stopping early) once the frame has no references
/// left but its allocation.
pub fn sh_rm_mappings_from_l1<P: Platform, L: GuestLevel>(
    p: &P,
    d: P::Dom,
    sl1mfn: Mfn,
    target_mfn: Mfn,
) -> i32 {
    let done = foreach_l1e::<P, L>(p, sl1mfn, |e| {
        if shadow_e_get_mfn(e.get()) != target_mfn {
            return false;
        }
        p.shadow_set_l1e(d, e, 0, P2mType::Invalid);
        p.sh_check_page_has_no_refs(target_mfn)
    });
    i32::from(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writable_mapping_test_and_rw_removal() {
        let e = (1u64 << 63) | (0x1234 << 12) | 0x67;
        assert!(is_writable_mapping_of(e, Mfn(0x1234)));
        assert!(!is_writable_mapping_of(e, Mfn(0x1235)));
        assert!(!is_writable_mapping_of(e & !2, Mfn(0x1234)));
        assert!(!is_writable_mapping_of(e & !1, Mfn(0x1234)));
        assert_eq!(without_rw(e), e & !2);
        assert_eq!(without_rw(without_rw(e)), e & !2);
    }
}
