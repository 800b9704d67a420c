//! The platform traits implemented by the simulator.  Handles: the domain
//! is `0u32` (there is one), a vCPU is its index.

use core::mem::MaybeUninit;
use core::ptr::NonNull;

use super::{EmulOutcome, Owner, Sim, PADDR_BITS_SIM};
use crate::level::GuestLevel;
use crate::platform::fault::{x86emul, EmulResult, X86_EVENTTYPE_HW_EXCEPTION};
use crate::platform::walk::PAT_TYPE_WRBACK;
use crate::platform::{Core, Cr3Ops, FaultOps, GuestWalk, ShadowOps, Slot, Table, WalkOps};
use crate::types::*;

/// Number of vTLB slots (`VTLB_ENTRIES`).
const VTLB_ENTRIES: u64 = 13;

/// The faulting context (`struct cpu_user_regs *`); the simulator has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Regs;

/// The emulation context of one `sh_page_fault` emulation.
pub struct EmulCtxt {
    vcpu: usize,
    /// Instructions emulated so far (the simulated guest has one store).
    done: u32,
    event: Option<u32>,
}

impl Core for Sim {
    type Dom = u32;
    type Vcpu = u32;

    fn vcpu_domain(&self, _v: u32) -> u32 {
        0
    }
    fn current(&self) -> u32 {
        self.st.borrow().current as u32
    }
    fn domain_vcpu(&self, _d: u32, i: u32) -> Option<u32> {
        ((i as usize) < self.vcpu_count()).then_some(i)
    }
    fn max_vcpus(&self, _d: u32) -> u32 {
        self.vcpu_count() as u32
    }
    fn domain_id(&self, _d: u32) -> u16 {
        1
    }
    fn vcpu_id(&self, v: u32) -> u32 {
        v
    }
    fn is_hvm_domain(&self, _d: u32) -> bool {
        true
    }
    fn is_pv_32bit_domain(&self, _d: u32) -> bool {
        false
    }
    fn shadow_mode_refcounts(&self, _d: u32) -> bool {
        true
    }
    fn paging_mode_translate(&self, _d: u32) -> bool {
        true
    }
    fn paging_mode_external(&self, _d: u32) -> bool {
        true
    }
    fn paging_mode_log_dirty(&self, _d: u32) -> bool {
        self.st.borrow().dom.log_dirty
    }
    fn domain_is_dying(&self, _d: u32) -> bool {
        self.st.borrow().dom.dying
    }
    fn domain_is_shutting_down(&self, _d: u32) -> bool {
        self.st.borrow().dom.shutting_down
    }
    fn shadow_opt_flags(&self, _d: u32) -> u32 {
        self.st.borrow().dom.opt_flags
    }
    fn set_shadow_opt_flags(&self, _d: u32, f: u32) {
        self.st.borrow_mut().dom.opt_flags = f;
    }
    fn domain_crash(&self, _d: u32, why: &'static str) {
        self.crash(why);
    }
    fn log(&self, _args: core::fmt::Arguments<'_>) {}

    fn mfn_valid(&self, mfn: Mfn) -> bool {
        self.frame_index(mfn).is_some()
    }
    fn map_domain_page(&self, mfn: Mfn) -> Table {
        let t = self.frame_table(mfn);
        self.st.borrow_mut().maps += 1;
        t
    }
    fn unmap_domain_page(&self, _t: Table) {
        let mut st = self.st.borrow_mut();
        assert!(st.maps > 0, "unmap_domain_page without a mapping");
        st.maps -= 1;
    }
    fn page_nx(&self) -> u32 {
        flags::NX_BIT
    }
    fn paddr_bits(&self) -> u32 {
        PADDR_BITS_SIM
    }

    fn sp_type(&self, smfn: Mfn) -> u32 {
        self.with_frame(smfn, |f| f.sh_type).unwrap_or(0)
    }
    fn sp_head(&self, smfn: Mfn) -> bool {
        self.with_frame(smfn, |f| f.head).unwrap_or(false)
    }
    fn sp_pinned(&self, smfn: Mfn) -> bool {
        self.with_frame(smfn, |f| f.pinned).unwrap_or(false)
    }
    fn sp_count(&self, smfn: Mfn) -> u32 {
        self.with_frame(smfn, |f| f.count).unwrap_or(0)
    }
    fn sp_up(&self, smfn: Mfn) -> u64 {
        self.with_frame(smfn, |f| f.up).unwrap_or(0)
    }
    fn set_sp_up(&self, smfn: Mfn, up: u64) {
        self.with_frame(smfn, |f| f.up = up);
    }
    fn sp_backpointer(&self, smfn: Mfn) -> u64 {
        self.with_frame(smfn, |f| f.back).unwrap_or(0)
    }
    fn sh_next_page(&self, smfn: Mfn) -> Mfn {
        self.with_frame(smfn, |f| f.next).unwrap_or(INVALID_MFN)
    }

    fn page_shadow_flags(&self, gmfn: Mfn) -> u32 {
        self.with_frame(gmfn, |f| f.shadow_flags).unwrap_or(0)
    }
    fn page_pagetable_dying(&self, gmfn: Mfn) -> bool {
        self.with_frame(gmfn, |f| f.pagetable_dying)
            .unwrap_or(false)
    }
    fn set_page_pagetable_dying(&self, gmfn: Mfn, dying: bool) {
        self.with_frame(gmfn, |f| f.pagetable_dying = dying);
    }
    fn page_count_info(&self, mfn: Mfn) -> u64 {
        self.with_frame(mfn, |f| f.refs).unwrap_or(0)
    }
    fn page_type_info(&self, mfn: Mfn) -> u64 {
        // PGT_writable_page (7 << 60) with the type count.
        self.with_frame(mfn, |f| (7u64 << 60) | f.type_count)
            .unwrap_or(0)
    }
    fn page_owned_by(&self, mfn: Mfn, _d: u32) -> bool {
        self.owner(mfn) == Owner::Guest
    }

    fn sh_get_ref(&self, _d: u32, smfn: Mfn, entry_pa: u64) -> bool {
        self.sim_sh_get_ref(smfn, entry_pa)
    }
    fn sh_put_ref(&self, _d: u32, smfn: Mfn, entry_pa: u64) {
        self.sim_sh_put_ref(smfn, entry_pa)
    }
    fn sh_pin(&self, _d: u32, smfn: Mfn) -> bool {
        self.sim_sh_pin(smfn)
    }
    fn sh_unpin(&self, _d: u32, smfn: Mfn) {
        self.sim_sh_unpin(smfn)
    }
    fn get_shadow_status(&self, _d: u32, gmfn: Mfn, t: u32) -> Mfn {
        self.sim_hash_lookup(gmfn.0, t)
    }
    fn set_shadow_status(&self, _d: u32, gmfn: Mfn, t: u32, smfn: Mfn) {
        if !self.get_page(gmfn) {
            self.crash("set_shadow_status: cannot get page");
            return;
        }
        self.sim_hash_insert(gmfn.0, t, smfn);
    }
    fn delete_shadow_status(&self, _d: u32, gmfn: Mfn, t: u32, smfn: Mfn) {
        if self.sim_hash_delete(gmfn.0, t, smfn) {
            self.put_page(gmfn);
        }
    }
    fn shadow_hash_lookup(&self, _d: u32, n: u64, t: u32) -> Mfn {
        self.sim_hash_lookup(n, t)
    }
    fn shadow_hash_insert(&self, _d: u32, n: u64, t: u32, smfn: Mfn) {
        self.sim_hash_insert(n, t, smfn)
    }
    fn shadow_hash_delete(&self, _d: u32, n: u64, t: u32, smfn: Mfn) -> bool {
        self.sim_hash_delete(n, t, smfn)
    }
    fn shadow_alloc(&self, _d: u32, t: u32, back: u64) -> Mfn {
        assert!(
            self.lock_depth() > 0,
            "shadow_alloc without the paging lock"
        );
        self.sim_shadow_alloc(t, back)
    }
    fn shadow_free(&self, _d: u32, smfn: Mfn) {
        self.sim_shadow_free(smfn)
    }
    fn shadow_prealloc(&self, _d: u32, t: u32, count: u32) -> bool {
        self.sim_shadow_prealloc(t, count)
    }
    fn shadow_promote(&self, _d: u32, gmfn: Mfn, t: u32) {
        self.sim_promote(gmfn, t)
    }
    fn shadow_demote(&self, _d: u32, gmfn: Mfn, t: u32) {
        self.sim_demote(gmfn, t)
    }

    fn shadow_set_l1e(&self, _d: u32, sl1e: Slot, new: u64, _p2mt: P2mType) -> i32 {
        self.sim_set_l1e(sl1e.table, sl1e.mfn, sl1e.index, new)
    }
    fn shadow_set_l2e<L: GuestLevel>(&self, _d: u32, sl2e: Slot, new: u64) -> i32 {
        self.sim_set_upper(sl2e.table, sl2e.mfn, sl2e.index, new, L::LEVELS == 2, true)
    }
    fn shadow_set_l3e(&self, _d: u32, sl3e: Slot, new: u64) -> i32 {
        self.sim_set_upper(sl3e.table, sl3e.mfn, sl3e.index, new, false, false)
    }
    fn shadow_set_l4e(&self, _d: u32, sl4e: Slot, new: u64) -> i32 {
        let rc = self.sim_set_upper(sl4e.table, sl4e.mfn, sl4e.index, new, false, false);
        if rc & set::ERROR == 0 && get_pte_flags(new) & flags::PRESENT != 0 {
            let child = shadow_e_get_mfn(new);
            if super::common::type_is_pinnable(sh_type::L3_64, self.opt_flags()) {
                self.sim_sh_pin(child);
            }
        }
        rc
    }
    fn shadow_put_page_from_l1e(&self, _d: u32, sl1e: u64) {
        self.put_page_from_l1e(sl1e)
    }
    fn shadow_vram_put_mfn(&self, _d: u32, _mfn: Mfn, _l1f: u32, _sl1: Slot) {}

    fn sh_remove_write_access(&self, _d: u32, gmfn: Mfn, level: u32, fault_addr: u64) -> i32 {
        self.sim_remove_write_access(gmfn, level, fault_addr)
    }
    fn sh_remove_shadows(&self, _d: u32, gmfn: Mfn, fast: bool, all: bool) {
        self.sim_remove_shadows(gmfn, fast, all)
    }
    fn shadow_unhook_mappings(&self, _d: u32, smfn: Mfn, user_only: bool) {
        self.unhook_mappings(smfn, user_only)
    }
    fn sh_unsync(&self, v: u32, gmfn: Mfn) -> bool {
        self.sim_unsync(v as usize, gmfn)
    }
    fn sh_resync(&self, _d: u32, gmfn: Mfn) {
        self.sim_resync(gmfn)
    }
    fn sh_resync_all(&self, v: u32, skip: bool, this: bool, others: bool) {
        self.sim_resync_all(v as usize, skip, this, others)
    }
    fn oos_snapshot_lookup(&self, _d: u32, gmfn: Mfn) -> Mfn {
        self.sim_oos_snapshot_lookup(gmfn)
    }
    fn oos_fixup_add(&self, _d: u32, gmfn: Mfn, smfn: Mfn, off: u64) {
        self.sim_oos_fixup_add(gmfn, smfn, off)
    }
    fn shadow_audit_enabled(&self) -> bool {
        // Always on in the simulator: the port's audit (crate::audit) runs
        // from every fault, besides the checker's own invariants.
        true
    }
    fn shadow_audit_failed(&self, f: &crate::audit::Failure) {
        panic!("shadow audit failed: {f}");
    }
    fn for_each_shadow(&self, _d: u32, mut f: impl FnMut(Mfn, u32) -> bool) {
        let all: std::vec::Vec<(u32, Mfn)> = self
            .st
            .borrow()
            .dom
            .hash
            .iter()
            .map(|((_, t), m)| (*t, *m))
            .collect();
        for (t, m) in all {
            if f(m, t) {
                break;
            }
        }
    }
    fn oos_hash_is_present(&self, _d: u32, gmfn: Mfn) -> bool {
        self.oos_find(gmfn).is_some()
    }

    fn paging_lock(&self, _d: u32) {
        self.lock()
    }
    fn paging_lock_recursive(&self, _d: u32) {
        self.lock_recursive()
    }
    fn paging_unlock(&self, _d: u32) {
        self.unlock()
    }
    fn paging_locked_by_me(&self, _d: u32) -> bool {
        self.lock_depth() > 0
    }

    fn get_gfn(&self, _d: u32, gfn: Gfn, _alloc: bool) -> (Mfn, P2mType) {
        self.p2m(gfn.0)
    }
    fn put_gfn(&self, _d: u32, _gfn: Gfn) {}
    fn get_gfn_query_unlocked(&self, _d: u32, gfn: Gfn) -> (Mfn, P2mType) {
        self.p2m(gfn.0)
    }

    fn guest_walk_tables<'w, L: GuestLevel>(
        &self,
        v: u32,
        va: u64,
        pfec: u32,
        _top_gfn: Gfn,
        top_mfn: Mfn,
        _top: *mut u8,
        gw: &'w mut MaybeUninit<GuestWalk>,
    ) -> (bool, &'w mut GuestWalk) {
        let (ok, w) = self.xen_guest_walk::<L>(v, va, pfec, top_mfn);
        (ok, gw.write(w))
    }

    fn sh_linear_table_base(&self, _v: u32, level: u32) -> u64 {
        use crate::index::*;
        let s = super::SH_LINEAR_PT_VIRT_START;
        match level {
            1 => s,
            2 => Sim::linear_table_base(1).wrapping_add(shadow_l1_linear_offset(s) * 8),
            3 => Sim::linear_table_base(2).wrapping_add(shadow_l2_linear_offset(s) * 8),
            4 => Sim::linear_table_base(3).wrapping_add(shadow_l3_linear_offset(s) * 8),
            _ => 0,
        }
    }
    fn sh_linear_page(&self, v: u32, addr: u64, smfn: Mfn) -> Table {
        // What the hardware would map at `addr` through Xen's page tables
        // of the moment must be the page the caller expects: the generic
        // code's claim that the linear map reaches it is checked here on
        // every call.
        let root = {
            let st = self.st.borrow();
            assert_eq!(
                st.current, v as usize,
                "sh_linear_page: vCPU {v} is not current"
            );
            st.vcpus[st.current].arch_cr3
        };
        match self.hw_walk(root, addr, super::mmu::Access::W, false, false, true) {
            super::mmu::Hw::Ok(e) if e.mfn == smfn => {}
            w => panic!(
                "sh_linear_page: {addr:#x} does not map shadow {:#x} (walk: {w:?})",
                smfn.0
            ),
        }
        // The linear map, not a map_domain_page mapping: not counted.
        self.frame_table(smfn)
    }
    fn get_unsafe_u64(&self, addr: u64) -> Option<u64> {
        self.xen_read64(addr)
    }

    fn flush_tlb_mask_dirty(&self, _d: u32) {
        self.flush_all_tlbs()
    }
    fn sh_flush_local(&self, _d: u32) {
        let mut st = self.st.borrow_mut();
        let c = st.current;
        st.vcpus[c].tlb.clear();
    }
}

impl WalkOps for Sim {
    fn hvm_guest_cr3(&self, v: u32) -> u64 {
        self.st.borrow().vcpus[v as usize].guest_cr3
    }
    fn guest_table_pfn(&self, v: u32) -> u64 {
        self.st.borrow().vcpus[v as usize].guest_table.0
    }
    fn guest_table_user_pfn(&self, v: u32) -> u64 {
        self.guest_table_pfn(v)
    }
    fn tf_kernel_mode(&self, _v: u32) -> bool {
        true
    }
    fn shadow_gl3e_ptr(&self, v: u32) -> *mut u8 {
        let mut st = self.st.borrow_mut();
        st.vcpus[v as usize].gl3e.as_mut_ptr().cast()
    }
    fn shadow_gl3e(&self, v: u32, i: usize) -> u64 {
        self.st.borrow().vcpus[v as usize]
            .gl3e
            .get(i)
            .copied()
            .unwrap_or(0)
    }
    fn gtable_dirty_version(&self, _d: u32) -> u32 {
        self.st.borrow().dom.gtable_dirty_version
    }
    fn hvm_paging_enabled(&self, _v: u32) -> bool {
        true
    }
    fn hvm_pse_enabled(&self, v: u32) -> bool {
        self.st.borrow().vcpus[v as usize].mode.pse
    }
    fn hvm_nx_enabled(&self, v: u32) -> bool {
        self.st.borrow().vcpus[v as usize].mode.nx
    }
    fn cpuid_maxphysaddr(&self, _d: u32) -> u32 {
        self.st.borrow().dom.maxphysaddr
    }
    fn cpuid_vendor_is_amd(&self, _d: u32) -> bool {
        false
    }
    fn page_owner_is_dom_io(&self, mfn: Mfn) -> bool {
        self.owner(mfn) == Owner::Io
    }
    fn is_special_page(&self, _mfn: Mfn) -> bool {
        false
    }
    fn sh_mfn_is_a_page_table(&self, mfn: Mfn) -> bool {
        self.sh_mfn_is_a_page_table_sim(mfn)
    }
    fn mfn_is_out_of_sync(&self, mfn: Mfn) -> bool {
        self.page_is_oos(mfn)
    }
    fn mfn_oos_may_write(&self, mfn: Mfn) -> bool {
        self.with_frame(mfn, |f| {
            f.page_table && f.shadow_flags & shf::OOS_MAY_WRITE != 0
        })
        .unwrap_or(false)
    }
    fn hvm_get_mem_pinned_cacheattr(&self, _d: u32, _gfn: Gfn, _order: u32) -> i32 {
        -1
    }
    fn pat_type_2_pte_flags(&self, pat_type: u8) -> u32 {
        if pat_type == PAT_TYPE_WRBACK {
            0
        } else {
            flags::PCD | flags::PWT
        }
    }
    fn get_pat_flags(
        &self,
        _v: u32,
        _gflags: u32,
        _gpaddr: u64,
        _spaddr: u64,
        gmtrr_mtype: u8,
    ) -> u32 {
        if gmtrr_mtype == crate::platform::walk::MTRR_TYPE_UNCACHABLE {
            flags::PCD | flags::PWT
        } else {
            0
        }
    }
    fn is_in_uc_mode(&self, _d: u32) -> bool {
        false
    }
    fn iomem_access_permitted(&self, _d: u32, s: u64, e: u64) -> bool {
        s == e && self.owner(Mfn(s)) == Owner::Io
    }
    fn iommu_snoop(&self) -> bool {
        true
    }
    fn mmio_ro_ranges_contains(&self, _mfn: Mfn) -> bool {
        false
    }
    fn dirty_vram_clean_range(&self, _d: u32) -> Option<(u64, u64)> {
        None
    }
    fn dirty_vram_set_last_dirty_now(&self, _d: u32) {}
    fn paging_mark_dirty(&self, _d: u32, mfn: Mfn) {
        self.sim_mark_dirty(mfn)
    }
    fn paging_mfn_is_dirty(&self, _d: u32, mfn: Mfn) -> bool {
        self.st.borrow().dom.dirty.contains(&mfn.0)
    }
    fn set_has_fast_mmio_entries(&self, _d: u32) {
        self.st.borrow_mut().dom.has_fast_mmio_entries = true;
    }
    fn cpu_has_hypervisor(&self) -> bool {
        false
    }
    fn cpu_has_bug_l1tf(&self) -> bool {
        false
    }
    fn is_l1tf_safe_maddr(&self, _pte: u64) -> bool {
        true
    }
}

impl ShadowOps for Sim {
    fn set_last_writeable_pte_smfn(&self, v: u32, smfn: Mfn) {
        self.st.borrow_mut().vcpus[v as usize].last_writeable_pte_smfn = smfn;
    }
    fn init_xen_l4_slots(&self, _l4t: Table, _l4mfn: Mfn, _d: u32, _sl4mfn: Mfn, _ro_mpt: bool) {
        panic!("init_xen_l4_slots: PV guests are not simulated");
    }
    fn init_xen_pae_l2_slots(&self, _l2t: Table, _d: u32) {
        panic!("init_xen_pae_l2_slots: PV guests are not simulated");
    }
    fn sh_reset_l3_up_pointers(&self, _v: u32) {
        let l3s: std::vec::Vec<Mfn> = self
            .st
            .borrow()
            .dom
            .hash
            .iter()
            .filter(|((_, t), _)| *t == sh_type::L3_64)
            .map(|(_, m)| *m)
            .collect();
        for m in l3s {
            self.set_sp_up(m, 0);
        }
    }
    fn pinned_shadows_next(&self, _d: u32, smfn: Mfn) -> Mfn {
        self.pinned_next(smfn)
    }
    fn compat_l2_first_xen_slot(&self, _d: u32) -> usize {
        512
    }
    fn sh_check_page_has_no_refs(&self, mfn: Mfn) -> bool {
        self.with_frame(mfn, |f| f.refs == 0).unwrap_or(true)
    }
    fn page_type_count(&self, mfn: Mfn) -> u64 {
        self.with_frame(mfn, |f| f.type_count).unwrap_or(0)
    }
    fn linear_l4e_of_sh_linear_addr(&self) -> u64 {
        Sim::linear_table_base(4).wrapping_add(
            crate::index::shadow_l4_table_offset(super::SH_LINEAR_PT_VIRT_START) as u64 * 8,
        )
    }
}

impl Sim {
    /// Frame `mfn` as a `Table`, without counting a mapping: what
    /// `map_domain_page` hands out, and what Xen's linear maps show.
    fn frame_table(&self, mfn: Mfn) -> Table {
        let ptr = self
            .page_ptr(mfn)
            .unwrap_or_else(|| panic!("frame_table: invalid mfn {:#x}", mfn.0));
        let nn = NonNull::new(ptr.cast::<u8>()).unwrap_or_else(|| unreachable!());
        // SAFETY: `nn` is the 4 KiB-aligned start of a frame of `self.mem`,
        // which is allocated once, never moved and outlives every Table the
        // simulator hands out (they are used within calls on `self`).
        unsafe { Table::from_raw(nn) }
    }
}

impl Cr3Ops for Sim {
    fn vcpu_is_initialised(&self, _v: u32) -> bool {
        true
    }
    fn vcpu_guest_table(&self, v: u32) -> Mfn {
        self.st.borrow().vcpus[v as usize].guest_table
    }
    fn vcpu_monitor_table(&self, v: u32) -> Mfn {
        self.st.borrow().vcpus[v as usize].monitor
    }
    fn vcpu_shadow_table(&self, v: u32, i: usize) -> Mfn {
        self.st.borrow().vcpus[v as usize]
            .shadow_table
            .get(i)
            .copied()
            .unwrap_or(Mfn(0))
    }
    fn vcpu_set_shadow_table(&self, v: u32, i: usize, smfn: Mfn) {
        if let Some(s) = self.st.borrow_mut().vcpus[v as usize]
            .shadow_table
            .get_mut(i)
        {
            *s = smfn;
        }
    }
    fn vcpu_set_l3table(&self, v: u32, i: usize, e: u64) {
        let frame = {
            let mut st = self.st.borrow_mut();
            let vs = &mut st.vcpus[v as usize];
            match vs.l3table.get_mut(i) {
                Some(s) => *s = e,
                None => return,
            }
            vs.l3frame
        };
        // The hardware reads the PAE top level from this frame.
        self.write64(frame, i, e);
    }
    fn vcpu_l3table(&self, v: u32, i: usize) -> u64 {
        self.st.borrow().vcpus[v as usize]
            .l3table
            .get(i)
            .copied()
            .unwrap_or(0)
    }
    fn vcpu_l3table_maddr(&self, v: u32) -> u64 {
        self.st.borrow().vcpus[v as usize].l3frame.maddr()
    }
    fn vcpu_set_gl3e(&self, v: u32, i: usize, e: u64) {
        if let Some(s) = self.st.borrow_mut().vcpus[v as usize].gl3e.get_mut(i) {
            *s = e;
        }
    }
    fn vcpu_set_sh_pagetable_dying(&self, v: u32, dying: bool) {
        self.st.borrow_mut().vcpus[v as usize].pagetable_dying = dying;
    }
    fn set_pagetable_dying_op(&self, _d: u32) {
        self.st.borrow_mut().dom.pagetable_dying_op = true;
    }
    fn sh_set_toplevel_shadow<L: GuestLevel>(
        &self,
        v: u32,
        slot: usize,
        gmfn: Mfn,
        root_type: u32,
    ) -> u64 {
        assert_eq!(
            L::LEVELS,
            self.levels(),
            "sh_set_toplevel_shadow: wrong level"
        );
        self.sim_set_toplevel_shadow(v as usize, slot, gmfn, root_type)
    }
    fn vm_assist_m2p_strict(&self, _d: u32) -> bool {
        false
    }
    fn fill_ro_mpt(&self, _mfn: Mfn) {}
    fn zap_ro_mpt(&self, _mfn: Mfn) {}
    fn make_cr3(&self, v: u32, mfn: Mfn) {
        self.st.borrow_mut().vcpus[v as usize].arch_cr3 = mfn;
    }
    fn vcpu_set_hvm_hw_cr3(&self, v: u32, value: u64) {
        self.st.borrow_mut().vcpus[v as usize].hw_cr3 = value;
    }
    fn hvm_update_guest_cr3(&self, v: u32, noflush: bool) {
        if !noflush {
            self.st.borrow_mut().vcpus[v as usize].tlb.clear();
        }
    }
    fn vtlb_flush(&self, v: u32) {
        self.st.borrow_mut().vcpus[v as usize].vtlb.clear();
    }
    fn current_linear_table(&self, level: u32, va: u64) -> Table {
        let (root, ml2) = {
            let st = self.st.borrow();
            (
                st.vcpus[st.current].monitor,
                st.vcpus[st.current].monitor_l2,
            )
        };
        let _ = va;
        let page = match level {
            4 => root,
            2 if ml2 != INVALID_MFN => ml2,
            _ => panic!("current_linear_table: level {level} is not simulated"),
        };
        // Xen's linear map, not a map_domain_page mapping: nothing to
        // release, so it is not counted.
        self.frame_table(page)
    }
}

impl FaultOps for Sim {
    type Regs = Regs;
    type EmulCtxt = EmulCtxt;

    fn regs_error_code(&self, _regs: Regs) -> u32 {
        self.st.borrow().error_code
    }
    fn regs_set_error_code(&self, _regs: Regs, ec: u32) {
        self.st.borrow_mut().error_code = ec;
    }
    fn regs_ss(&self, _regs: Regs) -> u16 {
        if self.st.borrow().regs_user {
            3
        } else {
            0
        }
    }
    fn guest_mode(&self, _regs: Regs) -> bool {
        true
    }
    fn hvm_get_cpl(&self, _v: u32) -> u32 {
        if self.st.borrow().regs_user {
            3
        } else {
            0
        }
    }
    fn hvm_event_pending(&self, _v: u32) -> bool {
        false
    }
    fn hvm_wp_enabled(&self, v: u32) -> bool {
        self.st.borrow().vcpus[v as usize].mode.wp
    }
    fn last_write_emul_ok(&self, v: u32) -> bool {
        self.st.borrow().vcpus[v as usize].last_write_emul_ok
    }
    fn set_last_write_emul_ok(&self, v: u32, ok: bool) {
        self.st.borrow_mut().vcpus[v as usize].last_write_emul_ok = ok;
    }
    fn last_write_was_pt(&self, v: u32) -> bool {
        self.st.borrow().vcpus[v as usize].last_write_was_pt
    }
    fn set_last_write_was_pt(&self, v: u32, was_pt: bool) {
        self.st.borrow_mut().vcpus[v as usize].last_write_was_pt = was_pt;
    }
    fn last_emulated_frame(&self, v: u32) -> u64 {
        self.st.borrow().vcpus[v as usize].last_emulated_frame
    }
    fn set_last_emulated_frame(&self, v: u32, frame: u64) {
        self.st.borrow_mut().vcpus[v as usize].last_emulated_frame = frame;
    }
    fn last_emulated_mfn(&self, v: u32) -> u64 {
        self.st.borrow().vcpus[v as usize].last_emulated_mfn
    }
    fn set_last_emulated_mfn(&self, v: u32, mfn: u64) {
        self.st.borrow_mut().vcpus[v as usize].last_emulated_mfn = mfn;
    }
    fn sh_reset_early_unshadow(&self, v: u32) {
        self.st.borrow_mut().vcpus[v as usize].last_emulated_mfn_for_unshadow = INVALID_MFN.0;
    }
    fn vtlb_lookup(&self, v: u32, va: u64, pfec: u32) -> u64 {
        let page = va >> PAGE_SHIFT;
        let st = self.st.borrow();
        match st.vcpus[v as usize].vtlb.get(&(page % VTLB_ENTRIES)) {
            Some(&(p, gfn, epfec)) if epfec != 0 && p == page && epfec & pfec == pfec => gfn,
            _ => INVALID_GFN.0,
        }
    }
    fn vtlb_insert(&self, v: u32, page: u64, frame: u64, pfec: u32) {
        self.st.borrow_mut().vcpus[v as usize]
            .vtlb
            .insert(page % VTLB_ENTRIES, (page, frame, pfec));
    }
    fn domain_shutdown_crashed(&self, _d: u32) -> bool {
        let st = self.st.borrow();
        st.dom.shutting_down && st.dom.crashed.is_some()
    }
    fn gtable_dirty_version_inc(&self, _d: u32) {
        let mut st = self.st.borrow_mut();
        st.dom.gtable_dirty_version = st.dom.gtable_dirty_version.wrapping_add(1);
    }
    fn log_dirty_fault_count_inc(&self, _d: u32) {
        let mut st = self.st.borrow_mut();
        st.dom.fault_count = st.dom.fault_count.wrapping_add(1);
    }
    fn printk_recursive_shadow_fault(&self, _d: u32) {}
    fn handle_mmio_with_translation(&self, gla: u64, _gpfn: u64, write_access: bool) -> bool {
        // handle_mmio() -> x86_emulate -> linear_read/linear_write: the
        // emulator translates the address again with the guest's rights
        // (hvm_copy_*_guest_linear via sh_gva_to_gfn) and raises #PF if
        // they deny the access; only a translation to non-RAM reaches the
        // device model.
        let (user, fetch, v, pending) = {
            let st = self.st.borrow();
            (st.regs_user, st.regs_fetch, st.current, st.pending)
        };
        let mut pfec = crate::fault::pfec::PAGE_PRESENT
            | if write_access {
                crate::fault::pfec::WRITE_ACCESS
            } else {
                0
            }
            | if user {
                crate::fault::pfec::USER_MODE
            } else {
                0
            }
            | if fetch {
                crate::fault::pfec::INSN_FETCH
            } else {
                0
            };
        let gfn = by_level!(
            self.levels(),
            crate::tlb::sh_gva_to_gfn(self, v as u32, gla, &mut pfec)
        );
        if gfn == INVALID_GFN.0 {
            let mut st = self.st.borrow_mut();
            st.emul = Some(EmulOutcome::PageFault(pfec & 0xffff));
            st.injected = Some((14, pfec as i32));
            return true;
        }
        let (m, t) = self.p2m(gfn);
        if t.is_ram() && self.owner(m) == Owner::Guest {
            // The mapping changed under the magic entry: the emulator
            // accesses RAM (modelled as an emulated write).
            let out = match pending {
                Some(w) if write_access => self.emulate_write(v, w),
                _ => EmulOutcome::Written,
            };
            self.st.borrow_mut().emul = Some(out);
            return true;
        }
        let mut st = self.st.borrow_mut();
        st.stats.mmio += 1;
        st.mmio.push((gfn, write_access));
        // The device model completes the instruction.
        st.emul = Some(EmulOutcome::Written);
        true
    }
    fn hvm_inject_hw_exception(&self, vector: u32, error_code: i32) {
        self.st.borrow_mut().injected = Some((vector, error_code));
    }
    fn shadow_emulate<R>(
        &self,
        _regs: Regs,
        _pte_size: u32,
        f: impl FnOnce(&mut EmulCtxt) -> R,
    ) -> R {
        let mut ctxt = EmulCtxt {
            vcpu: self.current_vcpu(),
            done: 0,
            event: None,
        };
        f(&mut ctxt)
    }
    fn x86_emulate(&self, ctxt: &mut EmulCtxt) -> EmulResult {
        let mut r = EmulResult::default();
        ctxt.done += 1;
        let pending = self.st.borrow_mut().pending.take();
        let Some(w) = pending else {
            // No further instruction that writes memory.
            r.rc = x86emul::UNHANDLEABLE;
            return r;
        };
        match self.emulate_write(ctxt.vcpu, w) {
            EmulOutcome::Written => {
                self.st.borrow_mut().emul = Some(EmulOutcome::Written);
                r.rc = x86emul::OKAY;
            }
            EmulOutcome::PageFault(ec) => {
                ctxt.event = Some(ec);
                r.rc = x86emul::EXCEPTION;
                r.event_type = X86_EVENTTYPE_HW_EXCEPTION;
                r.event_vector = 14;
                r.event_error_code = ec as i32;
            }
            EmulOutcome::Unhandleable => {
                self.st.borrow_mut().emul = Some(EmulOutcome::Unhandleable);
                r.rc = x86emul::UNHANDLEABLE;
            }
        }
        r
    }
    fn shadow_continue_emulation(&self, _ctxt: &mut EmulCtxt, _regs: Regs) {}
    fn hvm_inject_emul_event(&self, ctxt: &EmulCtxt) {
        if let Some(ec) = ctxt.event {
            let mut st = self.st.borrow_mut();
            st.emul = Some(EmulOutcome::PageFault(ec));
            st.injected = Some((14, ec as i32));
        }
    }
    fn tb_init_done(&self) -> bool {
        true
    }
    fn trace_var(&self, _event: u32, data: &[u8]) {
        assert!(data.len() <= 28, "trace record of {} bytes", data.len());
    }
    fn this_cpu_trace_shadow_path_flags(&self) -> u32 {
        self.st.borrow().trace_flags
    }
    fn set_this_cpu_trace_shadow_path_flags(&self, flags: u32) {
        self.st.borrow_mut().trace_flags = flags;
    }
    fn this_cpu_trace_emulate_write_val(&self, _levels: u32) -> u64 {
        self.st.borrow().trace_emulate_write_val
    }
    fn set_this_cpu_trace_emulate_write_val(&self, _levels: u32, val: u64) {
        self.st.borrow_mut().trace_emulate_write_val = val;
    }
    fn this_cpu_trace_emulate_initial_va(&self) -> u32 {
        self.st.borrow().trace_initial_va
    }
    fn set_this_cpu_trace_emulate_initial_va(&self, va: u32) {
        self.st.borrow_mut().trace_initial_va = va;
    }
    fn this_cpu_trace_extra_emulation_count(&self) -> u32 {
        self.st.borrow().trace_extra
    }
    fn set_this_cpu_trace_extra_emulation_count(&self, n: u32) {
        self.st.borrow_mut().trace_extra = n;
    }
}

/// Runs the port's `sh_update_cr3` for the simulated level.
pub fn update_cr3(sim: &Sim, v: u32, noflush: bool) -> u64 {
    by_level!(sim.levels(), crate::cr3::sh_update_cr3(sim, v, noflush))
}
