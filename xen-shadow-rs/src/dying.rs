//! multi.c block W: `sh_pagetable_dying`, the guest telling us (through
//! HVMOP_pagetable_dying) that a process's page tables are being torn down.
//! We unhook the user-mode part of their top-level shadows now and remember
//! the hint so the fault path unshadows them early.

use crate::level::GuestLevel;
use crate::platform::Platform;
use crate::types::*;

/// First of the four PAE l3es at guest physical address `gpa` within its
/// page.  The address is rounded down to the 32-byte alignment PAE requires
/// of a CR3, so the four entries always lie inside the page.  (C indexes
/// from the exact byte offset and would read past the page end for a
/// guest-supplied `gpa` in the page's last 24 bytes.)
pub const fn pae_l3_index_of_gpa(gpa: u64) -> usize {
    (((gpa & 0xfff) / 8) as usize) & !3
}

/// Port of `sh_pagetable_dying` (multi.c 3775-3855 for PAE guests,
/// 3856-3890 for 2- and 4-level ones).  `v` is `current`, `gpa` the guest
/// physical address of the dying top-level table.
pub fn sh_pagetable_dying<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu, gpa: u64) {
    if L::LEVELS == 3 {
        pagetable_dying_pae::<P, L>(p, v, gpa)
    } else {
        pagetable_dying_one_root::<P, L>(p, v, gpa)
    }
}

/// Records that the guest uses the interface (so it will be relied on
/// instead of guessing when processes die) and that this vCPU saw it.
fn note_dying_op<P: Platform>(p: &P, d: P::Dom, v: P::Vcpu) {
    p.set_pagetable_dying_op(d);
    p.vcpu_set_sh_pagetable_dying(v, true);
}

/// Marks the guest page behind top-level shadow `smfn` dying and unhooks
/// the shadow's user-mode entries.
fn unhook_dying_root<P: Platform>(p: &P, d: P::Dom, smfn: Mfn, gmfn: Mfn) {
    p.set_page_pagetable_dying(gmfn, true);
    p.shadow_unhook_mappings(d, smfn, true);
}

/// PAE guests (multi.c 3775-3855): the four l2 shadows behind the l3 at
/// `gpa`, taken from the running shadow tables if `gpa` is the current CR3.
fn pagetable_dying_pae<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu, gpa: u64) {
    let d = p.vcpu_domain(v);
    let fast_path = p.hvm_guest_cr3(v) == gpa;

    let l3gfn = Gfn(gpa >> PAGE_SHIFT);
    let (l3mfn, p2mt) = p.get_gfn(d, l3gfn, false);
    if !p.mfn_valid(l3mfn) || !p2mt.is_ram() {
        p.log(format_args!(
            "sh_pagetable_dying: gpa not valid {:#x}\n",
            gpa
        ));
        p.put_gfn(d, l3gfn);
        return;
    }

    p.paging_lock(d);

    let gl3 = if fast_path {
        None
    } else {
        Some(p.map_domain_page(l3mfn))
    };
    let first = pae_l3_index_of_gpa(gpa);
    let mut flush = false;
    for i in 0..crate::cr3::shadow_table_count::<L>() {
        let smfn = match gl3 {
            None => {
                let s = p.vcpu_shadow_table(v, i);
                if s.0 == 0 {
                    INVALID_MFN
                } else {
                    s
                }
            }
            Some(t) => {
                // The l2 the guest l3e points at (present or not), and its
                // shadow if it has one.
                let gl3e = t.get64(first + i);
                let (gmfn, _) = p.get_gfn_query_unlocked(d, L::guest_e_get_gfn(gl3e));
                if gmfn == INVALID_MFN {
                    INVALID_MFN
                } else {
                    p.shadow_hash_lookup(d, gmfn.0, L::SH_L2)
                }
            }
        };

        if p.mfn_valid(smfn) && p.is_hvm_domain(d) {
            let gmfn = Mfn(p.sp_backpointer(smfn));
            unhook_dying_root(p, d, smfn, gmfn);
            flush = true;
        }
    }
    if flush {
        p.flush_tlb_mask_dirty(d);
    }

    note_dying_op(p, d, v);

    if let Some(t) = gl3 {
        p.unmap_domain_page(t);
    }
    p.paging_unlock(d);
    p.put_gfn(d, l3gfn);
}

/// 2- and 4-level guests (multi.c 3856-3890): one top-level shadow, of the
/// guest page at `gpa`.
fn pagetable_dying_one_root<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu, gpa: u64) {
    let d = p.vcpu_domain(v);
    let gfn = Gfn(gpa >> PAGE_SHIFT);
    let (gmfn, _) = p.get_gfn(d, gfn, false);
    p.paging_lock(d);

    let root_type = if L::LEVELS == 2 { L::SH_L2 } else { L::SH_L4 };
    let smfn = p.shadow_hash_lookup(d, gmfn.0, root_type);

    if p.mfn_valid(smfn) && p.is_hvm_domain(d) {
        unhook_dying_root(p, d, smfn, gmfn);
        // Top-level entries went away: flush.
        p.flush_tlb_mask_dirty(d);
    }

    note_dying_op(p, d, v);

    p.paging_unlock(d);
    p.put_gfn(d, gfn);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_gpa_index_stays_in_page() {
        assert_eq!(pae_l3_index_of_gpa(0x1000), 0);
        assert_eq!(pae_l3_index_of_gpa(0x1fe0), 508);
        assert_eq!(pae_l3_index_of_gpa(0x1ff8), 508);
        for off in 0..0x1000 {
            assert!(pae_l3_index_of_gpa(off) + 3 < 512);
        }
    }
}
