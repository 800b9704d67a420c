//! multi.c block T: the linear map of the shadows in the monitor table,
//! dropping the old top-level shadows, and CR3 updates.
//!
//! Locking note (deliberate change from C): multi.c's `sh_update_cr3`
//! returns early, for a dying or shutting-down domain whose new top-level
//! shadow could not be installed, *without* releasing the paging lock it took
//! (multi.c 3327-3331 and 3394-3398).  The port releases it on those paths
//! too; see [`sh_update_cr3`].

use crate::index::{shadow_l2_table_offset, shadow_l4_table_offset};
use crate::level::GuestLevel;
use crate::platform::{Platform, Table};
use crate::types::*;

/// `SH_LINEAR_PT_VIRT_START`: PML4 slot 259 (asm/config.h), where HVM
/// monitor tables map the shadows linearly.  (ffi/c/cr3.c checks the value
/// against Xen's headers at build time.)
pub const SH_LINEAR_PT_VIRT_START: u64 = 0xffff_8180_0000_0000;

/// `__PAGE_HYPERVISOR_RW` given `_PAGE_NX` (`nx`, 0 without NX support).
pub const fn page_hypervisor_rw(nx: u32) -> u32 {
    flags::PRESENT | flags::ACCESSED | flags::DIRTY | flags::RW | nx
}

/// Number of top-level shadow slots a vCPU uses (`for_each_shadow_table`):
/// four PAE l2 shadows on 3-level shadows, a single root otherwise.
pub const fn shadow_table_count<L: GuestLevel>() -> usize {
    if L::SHADOW_LEVELS == 3 {
        4
    } else {
        1
    }
}

/// The monitor-table L4 entry that maps the 4-level shadow root `sl4` at
/// `SH_LINEAR_PT_VIRT_START` (4-level branch of
/// `sh_update_linear_entries`).
pub const fn linear_l4e_for_root(sl4: Mfn, nx: u32) -> u64 {
    shadow_e_from_mfn(sl4, page_hypervisor_rw(nx))
}

/// The four monitor-table L2 entries that extend a PAE shadow to 4 levels
/// for the linear map (3-level branch of `sh_update_linear_entries`): each
/// present shadow l3e becomes a hypervisor RW l2e to the same frame, the
/// others become empty.
pub fn linear_l2es_for_pae(l3table: [u64; 4], nx: u32) -> [u64; 4] {
    let mut out = [0u64; 4];
    for (o, &sl3e) in out.iter_mut().zip(l3table.iter()) {
        *o = if get_pte_flags(sl3e) & flags::PRESENT != 0 {
            shadow_e_from_mfn(shadow_e_get_mfn(sl3e), page_hypervisor_rw(nx))
        } else {
            0
        };
    }
    out
}

/// The PAE top level the hardware runs on for 2- and 3-level shadows
/// (the `l3table` block of `sh_update_cr3`, multi.c 3406-3427): one
/// present-only l3e per shadow l2 page, empty where there is none.
///
/// `roots` are the frames of the four shadow l2 pages (`Mfn(0)`: none).
pub fn fabricate_pae_l3table(roots: [Mfn; 4]) -> [u64; 4] {
    let mut out = [0u64; 4];
    for (o, &smfn) in out.iter_mut().zip(roots.iter()) {
        *o = if smfn.0 == 0 {
            0
        } else {
            shadow_e_from_mfn(smfn, flags::PRESENT)
        };
    }
    out
}

/// Index of the first of the four guest l3es within the page holding a
/// PAE guest's CR3 (`guest_index(guest_cr3) & ~3`: the low bits of the
/// entry index are cache-control bits of CR3, not part of the address).
/// Always <= 508, so the four entries stay inside the page.
pub const fn pae_l3_first_index(guest_cr3: u64) -> usize {
    (((guest_cr3 & 0xfff) / 8) as usize) & !3
}

/// Port of `sh_update_linear_entries` (multi.c 3076-3201): points the
/// shadow-linear slot of an HVM vCPU's monitor table at its current shadows.
pub fn sh_update_linear_entries<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu) {
    let d = p.vcpu_domain(v);

    // Only external-mode (HVM) vCPUs have a monitor table; and it may not
    // exist yet.
    if !p.paging_mode_external(d) || p.vcpu_monitor_table(v).0 == 0 {
        return;
    }

    let nx = p.page_nx();
    if L::SHADOW_LEVELS == 4 {
        // One L4 entry: the shadow root, mapped at SH_LINEAR_PT_VIRT_START.
        let e = linear_l4e_for_root(p.vcpu_shadow_table(v, 0), nx);
        if v == p.current() {
            // The monitor L4 is reachable through Xen's own linear map.
            let l4 = p.current_linear_table(4, SH_LINEAR_PT_VIRT_START);
            l4.set64(shadow_l4_table_offset(SH_LINEAR_PT_VIRT_START), e);
        } else {
            let ml4 = p.map_domain_page(p.vcpu_monitor_table(v));
            ml4.set64(shadow_l4_table_offset(SH_LINEAR_PT_VIRT_START), e);
            p.unmap_domain_page(ml4);
        }
    } else {
        // PAE shadows: the monitor L2 behind the shadow-linear slot holds
        // copies of the four fabricated l3es, which turns the PAE shadow
        // into something the 4-level linear map can walk.
        let mut l3table = [0u64; 4];
        for (i, e) in l3table.iter_mut().enumerate() {
            *e = p.vcpu_l3table(v, i);
        }
        let l2es = linear_l2es_for_pae(l3table, nx);
        let first = shadow_l2_table_offset(SH_LINEAR_PT_VIRT_START);

        if v == p.current() {
            let ml2 = p.current_linear_table(2, SH_LINEAR_PT_VIRT_START);
            write_l2es(ml2, first, &l2es);
        } else {
            let ml2 = map_monitor_linear_l2(p, v);
            write_l2es(ml2, first, &l2es);
            p.unmap_domain_page(ml2);
        }
    }

    // The linear map changed: flush this CPU's TLB, or a later fault on
    // this vCPU (with ASIDs, no vmexit flush) could read a stale top-level
    // shadow entry through it.
    p.sh_flush_local(d);
}

fn write_l2es(ml2: Table, first: usize, l2es: &[u64; 4]) {
    for (i, &e) in l2es.iter().enumerate() {
        ml2.set64(first + i, e);
    }
}

/// Maps the monitor L2 table behind the shadow-linear slot of `v`'s
/// monitor table (L4 slot -> L3 entry 0 -> L2), one mapping at a time.
fn map_monitor_linear_l2<P: Platform>(p: &P, v: P::Vcpu) -> Table {
    let ml4 = p.map_domain_page(p.vcpu_monitor_table(v));
    let l4e = ml4.get64(shadow_l4_table_offset(SH_LINEAR_PT_VIRT_START));
    p.unmap_domain_page(ml4);
    debug_assert!(get_pte_flags(l4e) & flags::PRESENT != 0);

    let ml3 = p.map_domain_page(shadow_e_get_mfn(l4e));
    let l3e = ml3.get64(0);
    p.unmap_domain_page(ml3);
    debug_assert!(get_pte_flags(l3e) & flags::PRESENT != 0);

    p.map_domain_page(shadow_e_get_mfn(l3e))
}

/// Port of `sh_detach_old_tables` (multi.c 3204-3225): drops the vCPU's
/// references to its top-level shadows and empties the slots.
pub fn sh_detach_old_tables<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu) {
    let d = p.vcpu_domain(v);
    for i in 0..shadow_table_count::<L>() {
        let smfn = p.vcpu_shadow_table(v, i);
        if smfn.0 != 0 {
            p.sh_put_ref(d, smfn, 0);
        }
        p.vcpu_set_shadow_table(v, i, Mfn(0));
    }
}

/// Port of `sh_update_cr3` (multi.c 3227-3486): after the guest's top-level
/// table changed, shadows the new one, installs it and recomputes what the
/// hardware runs on (`v->arch.cr3`, for HVM `hw_cr[3]` and the linear map).
///
/// Returns the `pagetable_t` (pfn) of an old top-level shadow whose
/// reference the caller must still drop (`shadow_put_top_level`), or 0.
///
/// Deliberate difference from C: when the new shadow could not be
/// installed (dying domain, multi.c 3327-3331 and 3394-3398), C returns
/// with the paging lock still held, which leaks one level of the recursive
/// lock for good (a later `paging_lock` on another pCPU spins forever, one
/// on this pCPU panics).  Here the locked part is a separate function
/// ([`update_cr3_locked`]) and the lock is released after it whichever way
/// it returned.
pub fn sh_update_cr3<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu, noflush: bool) -> u64 {
    let d = p.vcpu_domain(v);

    // A PV vCPU that was never brought up has nothing to shadow.
    if !p.is_hvm_domain(d) && !p.vcpu_is_initialised(v) {
        return 0;
    }

    // Called both from outside (lock not held) and from the shadow code
    // itself (lock held): hence the recursive lock.  Every exit of the
    // locked part, early or not, comes back here to release it.
    p.paging_lock_recursive(d);
    let old_entry = update_cr3_locked::<P, L>(p, v, d, noflush);
    p.paging_unlock(d);

    old_entry
}

/// The body of [`sh_update_cr3`] that runs under the paging lock.
fn update_cr3_locked<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    d: P::Dom,
    noflush: bool,
) -> u64 {
    // Resync this vCPU's out-of-sync pages while the old shadows (and so
    // the VA hints of the OOS entries) are still the ones in use.
    p.sh_resync_all(v, false, true, false);

    debug_assert!(p.paging_locked_by_me(d));

    // The guest's new top level (for 64-bit PV in user mode: the user one).
    let gmfn = Mfn(if L::LEVELS == 4 && !p.tf_kernel_mode(v) {
        p.guest_table_user_pfn(v)
    } else {
        p.guest_table_pfn(v)
    });

    if L::LEVELS == 3 {
        // PAE: shadow a snapshot of the guest's four l3es, taken now and
        // kept until the next CR3 write, rather than the guest page itself.
        debug_assert!(p.paging_mode_external(d));
        let first = pae_l3_first_index(p.hvm_guest_cr3(v));
        let gl3 = p.map_domain_page(gmfn);
        for i in 0..4 {
            p.vcpu_set_gl3e(v, i, gl3.get64(first + i));
        }
        p.unmap_domain_page(gl3);
    }

    // Write-protect the new guest top level(s) before replacing the old
    // shadows, so the write-access heuristics can still use the (old)
    // shadow linear maps.
    let mut old_entry: u64 = 0;
    match L::LEVELS {
        4 => {
            if p.sh_remove_write_access(d, gmfn, 4, 0) != 0 {
                p.flush_tlb_mask_dirty(d);
            }
            old_entry = p.sh_set_toplevel_shadow::<L>(v, 0, gmfn, L::SH_L4);
            if p.vcpu_shadow_table(v, 0).0 == 0 {
                debug_assert!(p.domain_is_dying(d) || p.domain_is_shutting_down(d));
                return old_entry;
            }
            if !p.paging_mode_external(d) && !p.is_pv_32bit_domain(d) {
                // 64-bit PV: the read-only M2P slot is visible to the
                // kernel unless the guest asked for strict M2P, and never
                // to user mode under strict M2P.
                let smfn = p.vcpu_shadow_table(v, 0);
                let kernel = p.tf_kernel_mode(v);
                let strict = p.vm_assist_m2p_strict(d);
                if !kernel && strict {
                    p.zap_ro_mpt(smfn);
                } else if kernel && !strict {
                    p.fill_ro_mpt(smfn);
                }
            }
        }
        3 => {
            // Four shadow roots, one per guest l3e.  First make every
            // present l2 read-only, then install the shadows.
            let mut flush = 0;
            for i in 0..4 {
                let gl3e = p.shadow_gl3e(v, i);
                if L::guest_e_get_flags(gl3e) & flags::PRESENT != 0 {
                    let (gl2mfn, p2mt) = p.get_gfn_query_unlocked(d, L::guest_e_get_gfn(gl3e));
                    if p2mt.is_ram() {
                        flush |= p.sh_remove_write_access(d, gl2mfn, 2, 0);
                    }
                }
            }
            if flush != 0 {
                p.flush_tlb_mask_dirty(d);
            }
            for i in 0..4 {
                let gl3e = p.shadow_gl3e(v, i);
                old_entry = if L::guest_e_get_flags(gl3e) & flags::PRESENT != 0 {
                    let (gl2mfn, p2mt) = p.get_gfn_query_unlocked(d, L::guest_e_get_gfn(gl3e));
                    if p2mt.is_ram() {
                        p.sh_set_toplevel_shadow::<L>(v, i, gl2mfn, L::SH_L2)
                    } else {
                        p.sh_set_toplevel_shadow::<L>(v, i, INVALID_MFN, 0)
                    }
                } else {
                    p.sh_set_toplevel_shadow::<L>(v, i, INVALID_MFN, 0)
                };
                debug_assert_eq!(old_entry, 0);
            }
        }
        _ => {
            if p.sh_remove_write_access(d, gmfn, 2, 0) != 0 {
                p.flush_tlb_mask_dirty(d);
            }
            old_entry = p.sh_set_toplevel_shadow::<L>(v, 0, gmfn, L::SH_L2);
            debug_assert_eq!(old_entry, 0);
            if p.vcpu_shadow_table(v, 0).0 == 0 {
                debug_assert!(p.domain_is_dying(d) || p.domain_is_shutting_down(d));
                return old_entry;
            }
        }
    }

    // PAE shadows: build the four-entry top level the hardware runs on.
    if L::SHADOW_LEVELS == 3 {
        let mut roots = [Mfn(0); 4];
        if L::LEVELS == 2 {
            // 2-on-3: the four pages of the one l2 shadow.
            let mut smfn = p.vcpu_shadow_table(v, 0);
            for (i, r) in roots.iter_mut().enumerate() {
                if i != 0 {
                    smfn = p.sh_next_page(smfn);
                }
                *r = smfn;
            }
        } else {
            // 3-on-3: the four l2 shadows.
            for (i, r) in roots.iter_mut().enumerate() {
                *r = p.vcpu_shadow_table(v, i);
            }
        }
        for (i, e) in fabricate_pae_l3table(roots).iter().enumerate() {
            p.vcpu_set_l3table(v, i, *e);
        }
    }

    // v->arch.cr3: HVM vCPUs run on their monitor table, PV ones (4-level
    // only) directly on the shadow root.
    if p.paging_mode_external(d) {
        p.make_cr3(v, p.vcpu_monitor_table(v));
    } else if L::SHADOW_LEVELS == 4 {
        p.make_cr3(v, p.vcpu_shadow_table(v, 0));
    }

    // What the guest's CR3 really holds under HVM: the fabricated PAE l3
    // or the 4-level shadow root.
    if p.paging_mode_external(d) {
        debug_assert!(p.is_hvm_domain(d));
        let hw_cr3 = if L::SHADOW_LEVELS == 3 {
            p.vcpu_l3table_maddr(v)
        } else {
            p.vcpu_shadow_table(v, 0).maddr()
        };
        p.vcpu_set_hvm_hw_cr3(v, hw_cr3);
        p.hvm_update_guest_cr3(v, noflush);
    }

    sh_update_linear_entries::<P, L>(p, v);

    // Cached gva->gfn translations are stale now.
    p.vtlb_flush(v);
    p.set_last_write_emul_ok(v, false);

    // Resync the other vCPUs' out-of-sync shadows (without resyncing the
    // pages themselves; skipping those the new tables do not map).
    p.sh_resync_all(v, true, false, true);

    old_entry
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::{G2, G3, G4};

    const NX: u32 = flags::NX_BIT;

    #[test]
    fn linear_slot_is_pml4_259() {
        assert_eq!(shadow_l4_table_offset(SH_LINEAR_PT_VIRT_START), 259);
        assert_eq!(shadow_l2_table_offset(SH_LINEAR_PT_VIRT_START), 0);
        assert_eq!((SH_LINEAR_PT_VIRT_START >> 30) & 511, 0);
    }

    #[test]
    fn linear_l4e_maps_root_rw_nx() {
        let e = linear_l4e_for_root(Mfn(0x1234), NX);
        assert_eq!(e, (1 << 63) | (0x1234 << 12) | 0x63);
        // Without NX support the NX bit stays clear.
        assert_eq!(linear_l4e_for_root(Mfn(0x1234), 0), (0x1234 << 12) | 0x63);
    }

    #[test]
    fn linear_l2es_copy_only_present_l3es() {
        let l3 = [
            (0x10 << 12) | 1,
            0,
            (0x30 << 12) | 0x1e, /* not present */
            (0x40 << 12) | 1,
        ];
        let l2 = linear_l2es_for_pae(l3, NX);
        assert_eq!(l2[0], (1 << 63) | (0x10 << 12) | 0x63);
        assert_eq!(l2[1], 0);
        assert_eq!(l2[2], 0);
        assert_eq!(l2[3], (1 << 63) | (0x40 << 12) | 0x63);
        // Flags of the shadow l3e (NX folded at bit 63, high bits) do not
        // leak into the frame number.
        let l2 = linear_l2es_for_pae([(1 << 63) | (0x50 << 12) | 1, 0, 0, 0], 0);
        assert_eq!(l2[0], (0x50 << 12) | 0x63);
    }

    #[test]
    fn pae_l3table_is_present_only() {
        let t = fabricate_pae_l3table([Mfn(7), Mfn(0), Mfn(9), Mfn(0)]);
        assert_eq!(t, [(7 << 12) | 1, 0, (9 << 12) | 1, 0]);
    }

    #[test]
    fn pae_cr3_index_ignores_cache_bits_and_stays_in_page() {
        assert_eq!(pae_l3_first_index(0x1234_5000), 0);
        assert_eq!(pae_l3_first_index(0x1234_5020), 4);
        // PWT/PCD (bits 3, 4) must not move the index.
        assert_eq!(pae_l3_first_index(0x1234_5038), 4);
        assert_eq!(pae_l3_first_index(0x1234_5fff), 508);
        for cr3 in 0..0x1000u64 {
            assert!(pae_l3_first_index(cr3) + 3 < 512);
        }
    }

    #[test]
    fn slot_counts() {
        assert_eq!(shadow_table_count::<G2>(), 4);
        assert_eq!(shadow_table_count::<G3>(), 4);
        assert_eq!(shadow_table_count::<G4>(), 1);
    }
}

/// `sh_update_cr3` on the host simulator.
#[cfg(test)]
mod sim_tests {
    use crate::sim::guest::{Guest, ROOT_B};
    use crate::sim::Config;
    use crate::types::Mfn;

    /// The deliberate difference from C: when no top-level shadow can be
    /// installed (dying domain: shadow_prealloc refuses), C returns with
    /// the recursive paging lock still held; the port releases it.
    #[test]
    fn update_cr3_releases_the_lock_when_no_shadow_can_be_installed() {
        let mut g = Guest::boot(Config::default(), false);
        assert_ne!(g.sim.vcpu(0).shadow_table[0], Mfn(0));
        g.sim.set_dying(true, true);
        // Root B was never shadowed: a new L4 shadow would be needed.
        g.load_cr3(0, ROOT_B);
        assert_eq!(g.sim.lock_depth(), 0, "paging lock leaked by sh_update_cr3");
        assert_eq!(g.sim.vcpu(0).shadow_table[0], Mfn(0));
        // And the old top level's references went with it.
        assert!(crate::sim::checker::check_shadow_state(&g.sim).is_ok());
    }

    /// A CR3 switch installs the new root's shadow, keeps the old one
    /// pinned for a switch back, and points the monitor table's linear
    /// slot at the new shadow.
    #[test]
    fn cr3_switch_installs_and_pins_shadows() {
        let mut g = Guest::boot(Config::default(), false);
        let a = g.sim.vcpu(0).shadow_table[0];
        g.load_cr3(0, ROOT_B);
        let b = g.sim.vcpu(0).shadow_table[0];
        assert_ne!(a, b);
        let fa = g.sim.frame(a).unwrap();
        assert!(
            fa.pinned && fa.count == 1,
            "old root stays pinned only: {fa:?}"
        );
        let vs = g.sim.vcpu(0);
        assert_eq!(vs.hw_cr3, b.maddr());
        let slot = crate::index::shadow_l4_table_offset(super::SH_LINEAR_PT_VIRT_START);
        assert_eq!(
            crate::types::shadow_e_get_mfn(g.sim.read64(vs.monitor, slot)),
            b
        );
        crate::sim::checker::check_global(&g).unwrap();
    }
}
