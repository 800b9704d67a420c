//! multi.c block Q (lines 2145-2903): the shadow page-fault handler.
//!
//! A #PF taken while a guest runs on shadow tables is either an artefact of
//! the shadows (a shadow entry not built yet, a write to a write-protected
//! guest page table, MMIO) that Xen fixes or emulates, or a real guest
//! fault that is handed back to the guest.  The emulation of page-table
//! writes is in [`crate::emulate`].

use core::mem::MaybeUninit;
use core::sync::atomic::{compiler_fence, Ordering};

use crate::audit::audit_fault;
use crate::cr3::sh_update_cr3;
use crate::create::shadow_get_and_create_l1e;
use crate::emulate::{sh_emulate_pt_write, EmulateFrom};
use crate::index::*;
use crate::level::GuestLevel;
use crate::platform::{FaultOps, GuestWalk, Platform};
use crate::prefetch::sh_prefetch;
use crate::propagate::{
    l1e_propagate_from_guest, sh_l1e_is_gnp, sh_l1e_is_magic, sh_l1e_mmio_get_gfn,
};
use crate::tlb::{probe_linear, shadow_e_present};
use crate::trace::{
    trace_clear_path_flags, trace_not_shadow_fault, trace_shadow_emulate_other, trace_shadow_fixup,
    trace_shadow_gen, trc,
};
use crate::types::*;
use crate::walk::{
    guest_walk_to_gfn, guest_walk_to_gpa, gw_remove_write_accesses, sh_walk_guest_tables,
    shadow_check_gl1e, shadow_check_gwalk, GW_RMWR_FLUSHTLB, GW_RMWR_REWALK,
};

/// Page-fault error code bits (`PFEC_*`, asm/processor.h).
pub mod pfec {
    pub const PAGE_PRESENT: u32 = 1 << 0;
    pub const WRITE_ACCESS: u32 = 1 << 1;
    pub const USER_MODE: u32 = 1 << 2;
    pub const RESERVED_BIT: u32 = 1 << 3;
    pub const INSN_FETCH: u32 = 1 << 4;
    /// The architectural bits; the ones above are Xen's own walk inputs.
    pub const ARCH_MASK: u32 = 0xffff;
    /// Walk input: an implicit supervisor access (LDT/GDT/IDT/TR).
    pub const IMPLICIT: u32 = 1 << 18;
}

/// `EXCRET_fault_fixed`: the fault was the shadow code's, the guest retries.
pub const EXCRET_FAULT_FIXED: i32 = 1;

/// Reconstructs the implicit-supervisor-access bit the hardware does not
/// report (multi.c 2336-2337): a data access at CPL 3 that the CPU walked
/// as a supervisor access can only be an implicit access to a system
/// table.  Supervisor-mode implicit accesses cannot be told apart and are
/// walked as explicit ones, as in C.
pub const fn implicit_supervisor_pfec(error_code: u32, cpl: u32) -> u32 {
    if error_code & (pfec::INSN_FETCH | pfec::USER_MODE) == 0 && cpl == 3 {
        error_code | pfec::IMPLICIT
    } else {
        error_code
    }
}

/// Turns a reserved-bit fault on a shadow entry into the not-present fault
/// the guest would have seen (flips RSVD and P; multi.c 2251, 2269).
pub const fn flip_to_not_present(error_code: u32) -> u32 {
    error_code ^ (pfec::RESERVED_BIT | pfec::PAGE_PRESENT)
}

/// The fast-emulation shortcut applies only to a plain supervisor write to
/// a present page (error code 3); anything else needs the full checks.
pub const fn fast_emulation_candidate(error_code: u32) -> bool {
    error_code == (pfec::WRITE_ACCESS | pfec::PAGE_PRESENT)
}

/// After the guest walk, the P bit of the error code follows the guest's
/// view (multi.c 2390-2393): an out-of-sync L1 may make the shadow entry
/// absent where the guest entry is present, or the other way round.
pub const fn pfec_present_from_walk(error_code: u32, walk_pfec: u32) -> u32 {
    (error_code & !pfec::PAGE_PRESENT) | (walk_pfec & pfec::PAGE_PRESENT)
}

/// What a reserved-bit fault on a shadow L1 entry means (multi.c 2260-2297).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FastFault {
    /// The guest entry is not present: reflect a not-present fault.
    GuestNotPresent,
    /// Emulated MMIO at this gfn.
    Mmio(Gfn),
    /// The entry is no longer magic (another vCPU fixed it, or it could not
    /// be read): retry and let the hardware report the real fault.
    FalseAlarm,
}

/// Classifies the shadow L1 entry read through the linear map (`None`:
/// the read faulted).  The only reason for reserved bits in a shadow entry
/// is one of the two magic encodings.
pub const fn classify_fast_fault(sl1e: Option<u64>) -> FastFault {
    match sl1e {
        Some(e) if sh_l1e_is_magic(e) => {
            if sh_l1e_is_gnp(e) {
                FastFault::GuestNotPresent
            } else {
                FastFault::Mmio(sh_l1e_mmio_get_gfn(e))
            }
        }
        _ => FastFault::FalseAlarm,
    }
}

/// The p2m says the guest's frame cannot be shadowed (multi.c 2417-2429):
/// with refcounting, neither a usable type nor (outside MMIO) a real frame.
pub const fn bad_gfn(refcounts: bool, p2mt: P2mType, mfn_valid: bool) -> bool {
    refcounts && ((!p2mt.is_valid() && !p2mt.is_grant()) || (!p2mt.is_mmio() && !mfn_valid))
}

/// Where the locked part of the handler leaves off (C's goto labels).
enum Tail {
    /// `emulate:` a write to a guest page table.
    Emulate,
    /// `emulate_readonly:` a write to read-only memory (skipped by the
    /// emulator) or the continuation of `Emulate`.
    EmulateReadonly,
    /// `mmio:` device-model MMIO at this guest physical address.
    Mmio(u64),
}

/// What the locked part found: the walk (in the caller's slot, not a
/// copy) and the frame behind it.
struct Locked<'w> {
    gw: &'w GuestWalk,
    gfn: Gfn,
    gmfn: Mfn,
}

/// `sh_page_fault` (multi.c 2145-2903): handles a #PF at `va` taken with
/// the registers `regs`.  Returns `EXCRET_fault_fixed` (1) if the fault was
/// an artefact of the shadow code and the guest should retry, 0 if it must
/// be handled elsewhere (usually: given to the guest with the error code
/// this function left in `regs`).
pub fn sh_page_fault<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    va: u64,
    regs: <P as FaultOps>::Regs,
) -> i32 {
    let d = p.vcpu_domain(v);
    // The access as the hardware reported it on entry (C's `access` and
    // `ft`, computed before the error code is rewritten).
    let entry_ec = p.regs_error_code(regs);
    let write_access = entry_ec & pfec::WRITE_ACCESS != 0;
    let ft = if write_access {
        FetchType::DemandWrite
    } else {
        FetchType::DemandRead
    };

    // Fast emulation: the last fault on this frame was a successfully
    // emulated page-table write; emulate again without taking the lock.
    let mut slow_path_only = false;
    if p.last_write_emul_ok(v) && p.last_emulated_frame(v) == va >> PAGE_SHIFT {
        if fast_emulation_candidate(entry_ec) {
            let gmfn = Mfn(p.last_emulated_mfn(v));
            if p.mfn_valid(gmfn) && p.mfn_is_out_of_sync(gmfn) {
                // Out-of-sync pages need the slow path to resync.
                p.set_last_write_emul_ok(v, false);
                slow_path_only = true;
            } else {
                let from = EmulateFrom {
                    fast_emul: true,
                    gmfn,
                    gfn: Gfn(0),
                    gl1e: 0,
                };
                return sh_emulate_pt_write::<P, L>(p, v, va, regs, from);
            }
        } else {
            p.set_last_write_emul_ok(v, false);
        }
    }

    // Fast fault path: reserved-bit faults come from magic shadow entries.
    if !slow_path_only && entry_ec & pfec::RESERVED_BIT != 0 {
        if fast_path_l1_is_out_of_sync(p, v, va) {
            // Take the slow path as if there were no shadow entry, so that
            // it resyncs the L1.
            p.regs_set_error_code(regs, flip_to_not_present(p.regs_error_code(regs)));
        } else {
            match classify_fast_fault(probe_linear(p, v, 1, shadow_l1_linear_offset(va))) {
                FastFault::GuestNotPresent => {
                    p.regs_set_error_code(regs, flip_to_not_present(p.regs_error_code(regs)));
                    p.sh_reset_early_unshadow(v);
                    trace_shadow_gen::<P, L>(p, trc::FAST_PROPAGATE, va);
                    return 0;
                }
                FastFault::Mmio(gfn) => {
                    let gpa = gfn.gaddr() | (va & !PAGE_MASK);
                    p.sh_reset_early_unshadow(v);
                    trace_shadow_gen::<P, L>(p, trc::FAST_MMIO, va);
                    let fixed = p.handle_mmio_with_translation(va, gpa >> PAGE_SHIFT, write_access);
                    return if fixed { EXCRET_FAULT_FIXED } else { 0 };
                }
                FastFault::FalseAlarm => {
                    trace_shadow_gen::<P, L>(p, trc::FALSE_FAST_PATH, va);
                    return EXCRET_FAULT_FIXED;
                }
            }
        }
    }

    // A fault inside Xen while it already works on the shadows (the paging
    // lock is ours) cannot be fixed here: taking the lock again would BUG.
    if p.paging_locked_by_me(d) {
        p.printk_recursive_shadow_fault(d);
        return 0;
    }

    let cpl = if p.is_hvm_domain(d) {
        p.hvm_get_cpl(v)
    } else {
        u32::from(p.regs_ss(regs) & 3)
    };

    // The walk's slot, filled by every (re)walk; the loop's result borrows
    // the last walk from it.
    let mut slot = MaybeUninit::uninit();
    let (tail, st) = 'rewalk: loop {
        let error_code = implicit_supervisor_pfec(p.regs_error_code(regs), cpl);

        // Lock-free walk; its consistency is re-checked under the lock
        // against this version of the guest tables.
        let version = p.gtable_dirty_version(d);
        compiler_fence(Ordering::SeqCst);
        let (walk_ok, gw) = sh_walk_guest_tables::<P, L>(p, v, va, error_code, &mut slot);

        p.regs_set_error_code(
            regs,
            pfec_present_from_walk(p.regs_error_code(regs), gw.pfec),
        );

        if !walk_ok {
            // A real guest fault: hand the walk's error code to the guest.
            p.sh_reset_early_unshadow(v);
            p.regs_set_error_code(regs, gw.pfec & pfec::ARCH_MASK);
            trace_not_shadow_fault::<P, L>(p, gw.l1e, va);
            return 0;
        }

        // The guest may have put page tables in special memory (and been
        // crashed for it already): propagating from them is not safe.
        if p.domain_shutdown_crashed(d) {
            trace_not_shadow_fault::<P, L>(p, gw.l1e, va);
            return 0;
        }

        let gfn = guest_walk_to_gfn::<L>(gw);
        let (gmfn, p2mt) = p.get_gfn(d, gfn, true);

        if bad_gfn(p.shadow_mode_refcounts(d), p2mt, p.mfn_valid(gmfn)) {
            p.sh_reset_early_unshadow(v);
            p.put_gfn(d, gfn);
            trace_not_shadow_fault::<P, L>(p, gw.l1e, va);
            return 0;
        }

        // Remember the successful translation for gva_to_gfn.
        p.vtlb_insert(
            v,
            va >> PAGE_SHIFT,
            gfn.0,
            p.regs_error_code(regs) | pfec::PAGE_PRESENT,
        );

        p.paging_lock(d);
        trace_clear_path_flags(p);

        // Reserve the shadow pages of a whole L1 chain (a 32-bit or PAE L1,
        // or a 64-bit L3+L2+L1) before write access is removed, so that an
        // out-of-sync L1 cannot be demoted and re-promoted with writable
        // mappings in between.
        let chain = if L::LEVELS < 4 { 1 } else { L::LEVELS - 1 };
        if !p.shadow_prealloc(d, L::SH_L1, chain) {
            p.paging_unlock(d);
            p.put_gfn(d, gfn);
            return 0;
        }

        let rc = gw_remove_write_accesses::<P, L>(p, v, va, gw);
        if rc & GW_RMWR_FLUSHTLB != 0 {
            // Walks overlapping this one may now be inconsistent.
            compiler_fence(Ordering::SeqCst);
            p.gtable_dirty_version_inc(d);
            p.flush_tlb_mask_dirty(d);
        }
        if rc & GW_RMWR_REWALK != 0 {
            // A table of the walk was resynced.
            p.paging_unlock(d);
            p.put_gfn(d, gfn);
            continue 'rewalk;
        }

        if !shadow_check_gwalk::<P, L>(p, v, va, gw, version) {
            p.paging_unlock(d);
            p.put_gfn(d, gfn);
            continue 'rewalk;
        }

        audit_fault::<P, L>(p, v, gw);

        // Get (or build) the shadow chain down to the L1 first: it may
        // promote pages, which changes the rights of the new entry.
        let sl1 = match shadow_get_and_create_l1e::<P, L>(p, v, gw, ft) {
            Some(s) => s,
            None => {
                // Only a failed shadow_set_lNe (which crashed the domain)
                // gets here, except for PAE guests, whose L3 entries the
                // hardware loads at CR3 time (some guests rely on that):
                // reload them.
                if L::LEVELS == 3 {
                    sh_update_cr3::<P, L>(p, v, false);
                } else {
                    debug_assert!(p.domain_is_shutting_down(d));
                }
                p.paging_unlock(d);
                p.put_gfn(d, gfn);
                trace_shadow_gen::<P, L>(p, trc::DOMF_DYING, va);
                return 0;
            }
        };

        // Writes to L1 page tables always unsync them.
        if p.sh_mfn_is_a_page_table(gmfn) && ft == FetchType::DemandWrite {
            p.sh_unsync(v, gmfn);
        }

        // A failed sh_remove_shadows() in an earlier resync may have
        // crashed the domain, leaving a page out of sync but unhashed.
        if p.domain_shutdown_crashed(d) {
            p.paging_unlock(d);
            p.put_gfn(d, gfn);
            return 0;
        }

        // Someone may have resynced a page: our gl1e could be stale.
        if shadow_check_gl1e::<P, L>(p, v, gw) {
            p.paging_unlock(d);
            p.put_gfn(d, gfn);
            continue 'rewalk;
        }

        // Compute the shadow entry and write it.
        let sl1e = l1e_propagate_from_guest::<P, L>(p, v, gw.l1e, gmfn, ft, p2mt);
        p.shadow_set_l1e(d, sl1, sl1e, p2mt);

        if p.mfn_valid(gw.l1mfn) && p.mfn_is_out_of_sync(gw.l1mfn) {
            // Keep the out-of-sync snapshot in step with what we shadowed.
            let snpmfn = p.oos_snapshot_lookup(d, gw.l1mfn);
            assert!(
                p.mfn_valid(snpmfn),
                "sh_page_fault: out-of-sync L1 without a snapshot"
            );
            let snp = p.map_domain_page(snpmfn);
            let i = L::guest_l1_table_offset(va);
            if L::GUEST_PTE_BYTES == 4 {
                snp.set32(i, gw.l1e as u32);
            } else {
                snp.set64(i, gw.l1e);
            }
            p.unmap_domain_page(snp);
        }

        sh_prefetch::<P, L>(p, v, gw, sl1);

        let ec = p.regs_error_code(regs);
        let st = Locked { gw, gfn, gmfn };

        // Writes to page tables are emulated, unless the page is out of
        // sync and the write comes from the kernel.
        if p.sh_mfn_is_a_page_table(gmfn)
            && !(p.mfn_is_out_of_sync(gmfn) && ec & pfec::USER_MODE == 0)
            && ft == FetchType::DemandWrite
        {
            break (Tail::Emulate, st);
        }

        // Device-model MMIO goes to the device model.
        if p2mt == P2mType::MmioDm {
            break (Tail::Mmio(guest_walk_to_gpa::<L>(st.gw)), st);
        }

        // Writes to read-only memory are dropped (the emulator skips the
        // instruction).
        if p2mt.is_readonly() && ft == FetchType::DemandWrite {
            break (Tail::EmulateReadonly, st);
        }

        // HVM guests always run with CR0.WP set so that page tables stay
        // write-protected; if the guest believes WP is clear, its
        // supervisor writes to read-only pages must be emulated.
        if p.is_hvm_domain(d)
            && !p.hvm_wp_enabled(v)
            && ec == (pfec::WRITE_ACCESS | pfec::PAGE_PRESENT)
            && p.mfn_valid(gmfn)
        {
            break (Tail::Emulate, st);
        }

        // Fixed.
        p.log_dirty_fault_count_inc(d);
        p.sh_reset_early_unshadow(v);
        trace_shadow_fixup::<P, L>(p, st.gw.l1e, va);
        return done::<P, L>(p, v, d, &st);
    };

    match tail {
        Tail::Emulate => {
            if !p.shadow_mode_refcounts(d) || !p.guest_mode(regs) {
                return not_a_shadow_fault::<P, L>(p, v, d, va, &st);
            }
            // User-mode writes are not emulated: they hint that the page is
            // no longer a page table (no sane OS lets user space write its
            // page tables).
            if p.regs_error_code(regs) & pfec::USER_MODE != 0 {
                p.sh_remove_shadows(d, st.gmfn, false, true);
                trace_shadow_emulate_other::<P, L>(p, trc::EMULATE_UNSHADOW_USER, va, st.gfn);
                return done::<P, L>(p, v, d, &st);
            }
            emulate_readonly::<P, L>(p, v, d, va, regs, &st)
        }
        Tail::EmulateReadonly => emulate_readonly::<P, L>(p, v, d, va, regs, &st),
        Tail::Mmio(gpa) => {
            if !p.guest_mode(regs) {
                return not_a_shadow_fault::<P, L>(p, v, d, va, &st);
            }
            audit_fault::<P, L>(p, v, st.gw);
            p.sh_reset_early_unshadow(v);
            p.paging_unlock(d);
            p.put_gfn(d, st.gfn);
            trace_shadow_gen::<P, L>(p, trc::MMIO, va);
            if p.handle_mmio_with_translation(va, gpa >> PAGE_SHIFT, write_access) {
                EXCRET_FAULT_FIXED
            } else {
                0
            }
        }
    }
}

/// Part of the fast fault path (multi.c 2236-2253): is the L1 shadow
/// covering `va` missing, or does it shadow an out-of-sync guest L1?  Then
/// its entries cannot be trusted and the slow path must run.
fn fast_path_l1_is_out_of_sync<P: Platform>(p: &P, v: P::Vcpu, va: u64) -> bool {
    match probe_linear(p, v, 2, shadow_l2_linear_offset(va)) {
        Some(sl2e) if shadow_e_present(sl2e) => {
            let gl1mfn = Mfn(p.sp_backpointer(shadow_e_get_mfn(sl2e)));
            !p.mfn_valid(gl1mfn) || p.mfn_is_out_of_sync(gl1mfn)
        }
        _ => true,
    }
}

/// `done:` (multi.c 2626-2632): the fault was fixed.
fn done<P: Platform, L: GuestLevel>(p: &P, v: P::Vcpu, d: P::Dom, st: &Locked) -> i32 {
    audit_fault::<P, L>(p, v, st.gw);
    p.paging_unlock(d);
    p.put_gfn(d, st.gfn);
    EXCRET_FAULT_FIXED
}

/// `not_a_shadow_fault:` and `propagate:` (multi.c 2890-2902): the guest
/// gets the fault.
fn not_a_shadow_fault<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    d: P::Dom,
    va: u64,
    st: &Locked,
) -> i32 {
    audit_fault::<P, L>(p, v, st.gw);
    p.sh_reset_early_unshadow(v);
    p.paging_unlock(d);
    p.put_gfn(d, st.gfn);
    trace_not_shadow_fault::<P, L>(p, st.gw.l1e, va);
    0
}

/// `emulate_readonly:` (multi.c 2656-2710): the locked preparation of an
/// emulation; it drops the lock and the gfn reference and emulates.
fn emulate_readonly<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    d: P::Dom,
    va: u64,
    regs: <P as FaultOps>::Regs,
    st: &Locked,
) -> i32 {
    if !p.is_hvm_domain(d) {
        // PV page-table writes never come here.
        debug_assert!(false, "sh_page_fault: emulation for a PV domain");
        return not_a_shadow_fault::<P, L>(p, v, d, va, st);
    }

    // A write to a top-level table that the guest said belongs to a dying
    // process, and that no vCPU runs on: drop its shadows.
    if p.sh_mfn_is_a_page_table(st.gmfn)
        && p.is_hvm_domain(d)
        && p.page_pagetable_dying(st.gmfn)
        && !toplevel_in_use::<P, L>(p, d, st.gmfn)
    {
        p.sh_remove_shadows(d, st.gmfn, true, false);
    }

    // The emulated write takes the lock again when it touches the tables.
    audit_fault::<P, L>(p, v, st.gw);
    p.paging_unlock(d);
    p.put_gfn(d, st.gfn);

    p.set_this_cpu_trace_emulate_write_val(L::LEVELS, 0);

    let from = EmulateFrom {
        fast_emul: false,
        gmfn: st.gmfn,
        gfn: st.gfn,
        gl1e: st.gw.l1e,
    };
    sh_emulate_pt_write::<P, L>(p, v, va, regs, from)
}

/// Is `gmfn` the top-level table of some vCPU of `d` (multi.c 2666-2694)?
/// PAE guests: one of the vCPU's four L2 shadows shadows it; others: it is
/// the vCPU's guest_table.
fn toplevel_in_use<P: Platform, L: GuestLevel>(p: &P, d: P::Dom, gmfn: Mfn) -> bool {
    for i in 0..p.max_vcpus(d) {
        let Some(tmp) = p.domain_vcpu(d, i) else {
            continue;
        };
        let used = if L::LEVELS == 3 {
            (0..4).any(|j| {
                let smfn = p.vcpu_shadow_table(tmp, j);
                p.mfn_valid(smfn) && smfn.0 != 0 && p.sp_backpointer(smfn) == gmfn.0
            })
        } else {
            p.vcpu_guest_table(tmp) == gmfn
        };
        if used {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implicit_access_only_for_cpl3_supervisor_data() {
        // A CPL3 data access the CPU walked as supervisor: implicit.
        assert_eq!(implicit_supervisor_pfec(0x2, 3), 0x2 | pfec::IMPLICIT);
        assert_eq!(implicit_supervisor_pfec(0x0, 3), pfec::IMPLICIT);
        // User accesses and instruction fetches are explicit.
        assert_eq!(implicit_supervisor_pfec(0x6, 3), 0x6);
        assert_eq!(implicit_supervisor_pfec(0x10, 3), 0x10);
        // Supervisor mode: cannot be told apart, walked as explicit.
        assert_eq!(implicit_supervisor_pfec(0x3, 0), 0x3);
        assert_eq!(implicit_supervisor_pfec(0x3, 1), 0x3);
    }

    #[test]
    fn fast_path_reflection_flips_rsvd_and_present() {
        // P|W|RSVD (a write hitting a magic entry) -> W (not present).
        assert_eq!(flip_to_not_present(0xb), 0x2);
        assert_eq!(flip_to_not_present(0xd), 0x4);
        assert_eq!(flip_to_not_present(flip_to_not_present(0x1f)), 0x1f);
    }

    #[test]
    fn fast_emulation_needs_error_code_3() {
        assert!(fast_emulation_candidate(3));
        assert!(!fast_emulation_candidate(7));
        assert!(!fast_emulation_candidate(2));
        assert!(!fast_emulation_candidate(3 | pfec::RESERVED_BIT));
    }

    #[test]
    fn present_bit_follows_the_walk() {
        assert_eq!(pfec_present_from_walk(0x3, 0x0), 0x2);
        assert_eq!(pfec_present_from_walk(0x2, 0x1), 0x3);
        assert_eq!(pfec_present_from_walk(0x6, 0x7), 0x7);
    }

    #[test]
    fn magic_entries_classify() {
        assert_eq!(classify_fast_fault(Some(!0)), FastFault::GuestNotPresent);
        // MMIO magic: mask bits + gfn in bits 4.. + guest RW/USER.
        let gfn = 0xfee00u64;
        let mmio = 0xffff_fff0_0000_0001u64 | (gfn << 4) | 0x6;
        assert_eq!(classify_fast_fault(Some(mmio)), FastFault::Mmio(Gfn(gfn)));
        // An ordinary entry (someone fixed it) or an unreadable one.
        assert_eq!(
            classify_fast_fault(Some(0x1234_5067)),
            FastFault::FalseAlarm
        );
        assert_eq!(classify_fast_fault(None), FastFault::FalseAlarm);
    }

    #[test]
    fn bad_gfn_decision() {
        // Without refcounts (external/translated off) nothing is bad.
        assert!(!bad_gfn(false, P2mType::Invalid, false));
        assert!(!bad_gfn(true, P2mType::RamRw, true));
        assert!(bad_gfn(true, P2mType::RamRw, false));
        assert!(bad_gfn(true, P2mType::Invalid, true));
        // MMIO needs no valid frame; grants are fine if the frame is.
        assert!(!bad_gfn(true, P2mType::MmioDm, false));
        assert!(!bad_gfn(true, P2mType::GrantMapRw, true));
        assert!(bad_gfn(true, P2mType::GrantMapRw, false));
    }
}

/// `sh_page_fault` on the host simulator.
#[cfg(test)]
mod sim_tests {
    use crate::sim::guest::{Guest, Op, Seen, FIRST_DATA, PHYSMAP, USER_L1A};
    use crate::sim::mmu::Access;
    use crate::sim::Config;
    use crate::types::*;

    const UR: Access = Access::UR;

    #[test]
    fn first_touch_is_fixed_and_builds_the_shadow_chain() {
        let mut g = Guest::boot(Config::default(), false);
        assert_eq!(g.sim.shadow_entry(0, 0x5000, 1), None);
        assert_eq!(g.access(0, 0x5000, UR, 8, 0).unwrap(), Seen::Done);
        let s = g.sim.stats();
        assert_eq!((s.faults, s.fixed, s.reflected), (1, 1, 0));
        let sl1e = g.sim.shadow_entry(0, 0x5000, 1).unwrap();
        let (m, _) = g.sim.p2m(FIRST_DATA + 5);
        assert_eq!(shadow_e_get_mfn(sl1e), m);
        // Prefetch filled the neighbours too.
        assert!(g.sim.shadow_entry(0, 0x6000, 1).is_some_and(|e| e & 1 != 0));
    }

    #[test]
    fn guest_faults_are_reflected_with_the_walk_error_code() {
        let mut g = Guest::boot(Config::default(), false);
        // Not present (no L2 entry above 4 MiB): U only.
        assert_eq!(g.access(0, 0x80_0000, UR, 8, 0).unwrap(), Seen::Fault(0x4));
        // User access to the supervisor direct map: P|U.
        assert_eq!(g.access(0, PHYSMAP, UR, 8, 0).unwrap(), Seen::Fault(0x5));
        // The second not-present fault takes the fast path (magic entry).
        g.step(Op::write(PHYSMAP + (USER_L1A << 12), 8, 0)).unwrap();
        let before = g.sim.stats().reflected;
        assert_eq!(g.access(0, 0x0, UR, 8, 0).unwrap(), Seen::Fault(0x4));
        assert_eq!(g.access(0, 0x0, UR, 8, 0).unwrap(), Seen::Fault(0x4));
        assert_eq!(g.sim.stats().reflected, before + 2);
    }

    #[test]
    fn writes_to_page_tables_are_emulated_and_revalidated() {
        let mut g = Guest::boot(Config::default(), false);
        // Without out-of-sync L1s (else the L1 would go out of sync and
        // the guest write it directly; see oos.rs).
        g.sim.set_oos_active(false);
        g.access(0, 0x1000, UR, 8, 0).unwrap();
        // Repoint user page 1 at another data frame through the direct map.
        let new = FIRST_DATA + 20;
        let pte = (new << PAGE_SHIFT) | 0x67;
        g.step(Op::write(PHYSMAP + (USER_L1A << 12) + 8, 8, pte))
            .unwrap();
        assert!(g.sim.stats().emulated_writes >= 1);
        let (m, _) = g.sim.p2m(new);
        let sl1e = g.sim.shadow_entry(0, 0x1000, 1).unwrap();
        assert!(
            sl1e & 1 == 0 || shadow_e_get_mfn(sl1e) == m,
            "stale shadow {sl1e:#x}"
        );
        assert_eq!(g.access(0, 0x1000, UR, 8, 0).unwrap(), Seen::Done);
        assert_eq!(
            shadow_e_get_mfn(g.sim.shadow_entry(0, 0x1000, 1).unwrap()),
            m
        );
    }
}
