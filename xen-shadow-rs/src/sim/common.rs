//! The simulator's version of what the port gets from common.c, set.c and
//! private.h: shadow pool, pinning, hash, reference counts, `shadow_set_lNe`,
//! promotion, write-access and shadow removal, out-of-sync L1s, top-level
//! shadows, validation of guest writes and log-dirty.  Written from the
//! semantics of Xen 4.17's C code (docs/architecture.md, "host simulator"),
//! not translated from it.
//!
//! Rules of this file: never hold the `RefCell` borrow of the state across a
//! call into the port (the port calls back into the simulator), and BUG()s of
//! C become panics with the same message, so that a fuzz run reports them.

use std::vec::Vec;

use super::{EmulOutcome, Owner, Sim, MFN_BASE, OOS_FIXUPS, OOS_PAGES, SH_REFCOUNT_WIDTH};
use crate::level::{G2, G3, G4};
use crate::platform::{Core, Table};
use crate::types::*;
use crate::validate::GuestTable;

/// `sh_type_is_pinnable(d, t)`.
pub fn type_is_pinnable(t: u32, opt_flags: u32) -> bool {
    t == sh_type::L2_32
        || t == sh_type::L2_PAE
        || t == sh_type::L4_64
        || (opt_flags & shopt::LINUX_L3_TOPLEVEL != 0 && t == sh_type::L3_64)
}

/// `sh_type_has_up_pointer(d, t)`.
pub fn type_has_up_pointer(t: u32, opt_flags: u32) -> bool {
    !(t == sh_type::L1_32 || t == sh_type::FL1_32 || t == sh_type::L2_32)
        && !type_is_pinnable(t, opt_flags)
}

/// A shadow type that is FL1 (backpointer is a gfn).
pub fn is_fl1(t: u32) -> bool {
    t == sh_type::FL1_32 || t == sh_type::FL1_PAE || t == sh_type::FL1_64
}

const PAGE_FLIPPABLE: u32 = flags::RW | flags::PWT | flags::PCD | flags::PAT;

impl Sim {
    // ---- helpers -----------------------------------------------------------

    pub(crate) fn opt_flags(&self) -> u32 {
        self.st.borrow().dom.opt_flags
    }

    pub(crate) fn owner(&self, m: Mfn) -> Owner {
        self.frame_index(m)
            .map(|i| self.st.borrow().frames[i].owner)
            .unwrap_or(Owner::None)
    }

    fn sh_type_of(&self, m: Mfn) -> u32 {
        self.with_frame(m, |f| f.sh_type).unwrap_or(0)
    }

    /// `domain_crash(d)`.
    pub(crate) fn crash(&self, why: &'static str) {
        let mut st = self.st.borrow_mut();
        st.stats.domain_crashes += 1;
        if st.dom.crashed.is_none() {
            st.dom.crashed = Some(why);
        }
        st.dom.shutting_down = true;
    }

    /// `guest_flush_tlb_mask(d, d->dirty_cpumask)`: every vCPU's TLB.
    pub(crate) fn flush_all_tlbs(&self) {
        let mut st = self.st.borrow_mut();
        st.stats.tlb_flushes += 1;
        for v in st.vcpus.iter_mut() {
            v.tlb.clear();
        }
        st.freed_since_flush.clear();
    }

    // ---- get_page / put_page, get_page_from_l1e -------------------------------

    /// `get_page(pg, d)` on a guest frame.
    pub(crate) fn get_page(&self, m: Mfn) -> bool {
        self.with_frame(m, |f| {
            if f.owner == Owner::Guest {
                f.refs += 1;
                true
            } else {
                false
            }
        })
        .unwrap_or(false)
    }

    /// `put_page(pg)`.
    pub(crate) fn put_page(&self, m: Mfn) {
        let ok = self.with_frame(m, |f| {
            if f.refs == 0 {
                false
            } else {
                f.refs -= 1;
                true
            }
        });
        assert!(
            ok == Some(true),
            "put_page: reference underflow on mfn {:#x}",
            m.0
        );
    }

    /// `get_page_from_l1e(sl1e, d, d)` for an HVM domain: a general
    /// reference on RAM frames and a writable type reference for RW
    /// mappings; MMIO frames (owned by dom_io) take none.  <0 on failure.
    fn get_page_from_l1e(&self, sl1e: u64) -> i32 {
        let m = shadow_e_get_mfn(sl1e);
        let rw = get_pte_flags(sl1e) & flags::RW != 0;
        match self.owner(m) {
            Owner::Io => 0,
            Owner::Guest => {
                self.with_frame(m, |f| {
                    f.refs += 1;
                    if rw {
                        f.type_count += 1;
                    }
                });
                0
            }
            // Never a mapping of Xen's or the shadows' own frames.
            _ => -1,
        }
    }

    /// `put_page_from_l1e(sl1e, d)`.
    pub(crate) fn put_page_from_l1e(&self, sl1e: u64) {
        let m = shadow_e_get_mfn(sl1e);
        let rw = get_pte_flags(sl1e) & flags::RW != 0;
        if self.owner(m) != Owner::Guest {
            return;
        }
        let ok = self.with_frame(m, |f| {
            if f.refs == 0 || (rw && f.type_count == 0) {
                return false;
            }
            f.refs -= 1;
            if rw {
                f.type_count -= 1;
            }
            true
        });
        assert!(
            ok == Some(true),
            "put_page_from_l1e: reference underflow on mfn {:#x}",
            m.0
        );
    }

    // ---- the shadow pool ----------------------------------------------------------

    /// `shadow_alloc(d, type, backpointer)`.
    pub(crate) fn sim_shadow_alloc(&self, t: u32, back: u64) -> Mfn {
        let pages = shadow_size(t).max(1) as usize;
        assert!(t != sh_type::NONE, "shadow_alloc: type none");
        let mut need_flush = false;
        let got: Vec<Mfn> = {
            let mut st = self.st.borrow_mut();
            assert!(
                st.dom.freelist.len() >= pages,
                "Can't allocate {pages} shadow pages! (shadow_prealloc was not called)"
            );
            let mut got = Vec::new();
            for _ in 0..pages {
                let Some(m) = st.dom.freelist.pop_front() else {
                    unreachable!()
                };
                need_flush |= st.freed_since_flush.contains(&m.0);
                got.push(m);
            }
            got
        };
        // Before the old contents are overwritten, no TLB may still hold a
        // translation through the page (tlbflush_timestamp in C).
        if need_flush {
            self.flush_all_tlbs();
        }
        for (i, &m) in got.iter().enumerate() {
            self.clear_frame(m);
            let next = got.get(i + 1).copied().unwrap_or(INVALID_MFN);
            self.with_frame(m, |f| {
                f.sh_type = t;
                f.pinned = false;
                f.count = 0;
                f.head = false;
                f.up = 0;
                f.back = back;
                f.next = next;
            });
        }
        // The head is the first page (sh_next_page walks forwards).
        if (sh_type::MIN_SHADOW..=sh_type::MAX_SHADOW).contains(&t) {
            self.with_frame(got[0], |f| f.head = true);
        }
        got[0]
    }

    /// `shadow_free(d, smfn)`.
    pub(crate) fn sim_shadow_free(&self, smfn: Mfn) {
        let (t, head) = self
            .with_frame(smfn, |f| (f.sh_type, f.head))
            .unwrap_or((0, false));
        assert!(
            t != sh_type::NONE,
            "shadow_free: page {:#x} is not a shadow",
            smfn.0
        );
        assert!(
            head || t > sh_type::MAX_SHADOW,
            "shadow_free: not a head page"
        );
        let pages = shadow_size(t).max(1);
        let mut m = smfn;
        for _ in 0..pages {
            let next = self.with_frame(m, |f| f.next).unwrap_or(INVALID_MFN);
            let mut st = self.st.borrow_mut();
            for v in st.vcpus.iter_mut() {
                if v.last_writeable_pte_smfn == m {
                    v.last_writeable_pte_smfn = Mfn(0);
                }
                v.last_write_emul_ok = false;
            }
            let i = m.0 - MFN_BASE;
            let f = &mut st.frames[i as usize];
            f.sh_type = 0;
            f.head = false;
            f.pinned = false;
            f.next = INVALID_MFN;
            st.dom.freelist.push_back(m);
            st.freed_since_flush.insert(m.0);
            drop(st);
            m = next;
        }
    }

    /// `_shadow_prealloc(d, pages)`.
    fn prealloc_pages(&self, pages: usize) -> bool {
        if self.free_pages() >= pages {
            return true;
        }
        if self.st.borrow().dom.dying {
            return false;
        }
        // Stage one: unpin pinned shadows, from the tail of the list.
        let mut pos = self.prev_pinned(INVALID_MFN);
        while pos != INVALID_MFN {
            let next = self.prev_pinned(pos);
            self.st.borrow_mut().stats.prealloc_unpins += 1;
            self.sim_sh_unpin(pos);
            if self.free_pages() >= pages {
                return true;
            }
            pos = next;
        }
        // Stage two: unhook the mappings of the top levels in use.
        let nv = self.vcpu_count();
        for v in 0..nv {
            for i in 0..4 {
                let smfn = self.st.borrow().vcpus[v].shadow_table[i];
                if smfn.0 != 0 {
                    self.st.borrow_mut().stats.prealloc_unhooks += 1;
                    self.unhook_mappings(smfn, false);
                    if self.free_pages() >= pages {
                        self.flush_all_tlbs();
                        return true;
                    }
                }
            }
        }
        self.flush_all_tlbs();
        false
    }

    /// `shadow_prealloc(d, type, count)`.
    pub(crate) fn sim_shadow_prealloc(&self, t: u32, count: u32) -> bool {
        if self.st.borrow().dom.dying {
            return false;
        }
        let mut pages = count as usize * shadow_size(t).max(1) as usize;
        let log_dirty = self.st.borrow().dom.log_dirty;
        if log_dirty && (shf::L1_ANY | shf::FL1_ANY) & (1u32.checked_shl(t).unwrap_or(0)) != 0 {
            // paging_logdirty_levels()
            pages += 4;
        }
        let ok = self.prealloc_pages(pages);
        if !ok {
            self.crash("shadow_prealloc: can't pre-allocate shadow pages");
        }
        ok
    }

    /// `prev_pinned_shadow(page, d)`: walking the pinned list from the tail,
    /// the head page before `m` (`INVALID_MFN`: start at the tail).
    fn prev_pinned(&self, m: Mfn) -> Mfn {
        let st = self.st.borrow();
        let list = &st.dom.pinned;
        let start = if m == INVALID_MFN {
            list.len()
        } else {
            match list.iter().position(|&x| x == m) {
                Some(p) => p,
                None => return INVALID_MFN,
            }
        };
        let mut i = start;
        while i > 0 {
            i -= 1;
            let x = list[i];
            let head = st.frames[(x.0 - MFN_BASE) as usize].head;
            if head {
                return x;
            }
        }
        INVALID_MFN
    }

    /// The page after `m` in the pinned list (first if `INVALID_MFN`).
    pub(crate) fn pinned_next(&self, m: Mfn) -> Mfn {
        let st = self.st.borrow();
        let list = &st.dom.pinned;
        if m == INVALID_MFN {
            return list.front().copied().unwrap_or(INVALID_MFN);
        }
        match list.iter().position(|&x| x == m) {
            Some(p) => list.get(p + 1).copied().unwrap_or(INVALID_MFN),
            None => INVALID_MFN,
        }
    }

    /// The pages of the shadow whose head is `smfn`.
    fn shadow_pages(&self, smfn: Mfn) -> Vec<Mfn> {
        let t = self.sh_type_of(smfn);
        let mut v = Vec::new();
        let mut m = smfn;
        for _ in 0..shadow_size(t).max(1) {
            v.push(m);
            m = self.with_frame(m, |f| f.next).unwrap_or(INVALID_MFN);
        }
        v
    }

    // ---- reference counts and pins ---------------------------------------------------

    /// `sh_get_ref(d, smfn, entry_pa)`.
    pub(crate) fn sim_sh_get_ref(&self, smfn: Mfn, entry_pa: u64) -> bool {
        let opt = self.opt_flags();
        let r = self.with_frame(smfn, |f| {
            assert!(f.head, "sh_get_ref: {:#x} is not a shadow head", smfn.0);
            let nx = f.count + 1;
            if nx >= 1 << SH_REFCOUNT_WIDTH {
                return false;
            }
            f.count = nx;
            if entry_pa != 0 && type_has_up_pointer(f.sh_type, opt) && f.up == 0 {
                f.up = entry_pa;
            }
            true
        });
        assert!(r.is_some(), "sh_get_ref: invalid mfn {:#x}", smfn.0);
        r == Some(true)
    }

    /// `sh_put_ref(d, smfn, entry_pa)`.
    pub(crate) fn sim_sh_put_ref(&self, smfn: Mfn, entry_pa: u64) {
        let opt = self.opt_flags();
        let now = self.with_frame(smfn, |f| {
            assert!(f.head, "sh_put_ref: {:#x} is not a shadow head", smfn.0);
            if entry_pa != 0 && type_has_up_pointer(f.sh_type, opt) && f.up == entry_pa {
                f.up = 0;
            }
            assert!(
                f.count != 0,
                "shadow ref underflow, smfn={:#x} t={:#x}",
                smfn.0,
                f.sh_type
            );
            f.count -= 1;
            f.count
        });
        match now {
            Some(0) => self.destroy_shadow(smfn),
            Some(_) => {}
            None => panic!("sh_put_ref: invalid mfn {:#x}", smfn.0),
        }
    }

    /// `sh_pin(d, smfn)`.
    pub(crate) fn sim_sh_pin(&self, smfn: Mfn) -> bool {
        let (t, pinned) = self
            .with_frame(smfn, |f| (f.sh_type, f.pinned))
            .unwrap_or((0, false));
        assert!(
            type_is_pinnable(t, self.opt_flags()),
            "sh_pin: type {t} not pinnable"
        );
        let pages = self.shadow_pages(smfn);
        if pinned {
            if self.st.borrow().dom.pinned.front() == Some(&smfn) {
                return true;
            }
            self.st
                .borrow_mut()
                .dom
                .pinned
                .retain(|m| !pages.contains(m));
        } else {
            if !self.sim_sh_get_ref(smfn, 0) {
                return false;
            }
            self.with_frame(smfn, |f| f.pinned = true);
        }
        let mut st = self.st.borrow_mut();
        for m in pages.iter().rev() {
            st.dom.pinned.push_front(*m);
        }
        true
    }

    /// `sh_unpin(d, smfn)`.
    pub(crate) fn sim_sh_unpin(&self, smfn: Mfn) {
        let (t, pinned) = self
            .with_frame(smfn, |f| (f.sh_type, f.pinned))
            .unwrap_or((0, false));
        assert!(
            type_is_pinnable(t, self.opt_flags()),
            "sh_unpin: type {t} not pinnable"
        );
        if !pinned {
            return;
        }
        self.with_frame(smfn, |f| f.pinned = false);
        let pages = self.shadow_pages(smfn);
        self.st
            .borrow_mut()
            .dom
            .pinned
            .retain(|m| !pages.contains(m));
        self.sim_sh_put_ref(smfn, 0);
    }

    // ---- dispatchers into the port (common.c's switch statements) --------------------

    /// `sh_destroy_shadow(d, smfn)`.
    pub(crate) fn destroy_shadow(&self, smfn: Mfn) {
        let d = 0u32;
        match self.sh_type_of(smfn) {
            sh_type::L1_32 | sh_type::FL1_32 => {
                crate::destroy::sh_destroy_l1_shadow::<Sim, G2>(self, d, smfn)
            }
            sh_type::L2_32 => crate::destroy::sh_destroy_l2_shadow::<Sim, G2>(self, d, smfn),
            sh_type::L1_PAE | sh_type::FL1_PAE => {
                crate::destroy::sh_destroy_l1_shadow::<Sim, G3>(self, d, smfn)
            }
            sh_type::L2_PAE => crate::destroy::sh_destroy_l2_shadow::<Sim, G3>(self, d, smfn),
            sh_type::L1_64 | sh_type::FL1_64 => {
                crate::destroy::sh_destroy_l1_shadow::<Sim, G4>(self, d, smfn)
            }
            sh_type::L2_64 | sh_type::L2H_64 => {
                crate::destroy::sh_destroy_l2_shadow::<Sim, G4>(self, d, smfn)
            }
            sh_type::L3_64 => crate::destroy::sh_destroy_l3_shadow::<Sim, G4>(self, d, smfn),
            sh_type::L4_64 => crate::destroy::sh_destroy_l4_shadow::<Sim, G4>(self, d, smfn),
            t => panic!("tried to destroy shadow of bad type {t:#x}"),
        }
    }

    /// `shadow_unhook_mappings(d, smfn, user_only)`.
    pub(crate) fn unhook_mappings(&self, smfn: Mfn, user_only: bool) {
        let d = 0u32;
        match self.sh_type_of(smfn) {
            sh_type::L2_32 => {
                crate::destroy::sh_unhook_32b_mappings::<Sim, G2>(self, d, smfn, user_only)
            }
            sh_type::L2_PAE => {
                crate::destroy::sh_unhook_pae_mappings::<Sim, G3>(self, d, smfn, user_only)
            }
            sh_type::L4_64 => {
                crate::destroy::sh_unhook_64b_mappings::<Sim, G4>(self, d, smfn, user_only)
            }
            t => panic!("Bad top-level shadow type {t:#x}"),
        }
    }

    /// `sh_remove_write_access_from_sl1p(d, gmfn, smfn, off)`.
    fn rm_write_access_from_sl1p(&self, gmfn: Mfn, smfn: Mfn, off: u64) -> i32 {
        let d = 0u32;
        match self.sh_type_of(smfn) {
            sh_type::L1_32 | sh_type::FL1_32 => {
                crate::oos::sh_rm_write_access_from_sl1p::<Sim, G2>(self, d, gmfn, smfn, off)
            }
            sh_type::L1_PAE | sh_type::FL1_PAE => {
                crate::oos::sh_rm_write_access_from_sl1p::<Sim, G3>(self, d, gmfn, smfn, off)
            }
            sh_type::L1_64 | sh_type::FL1_64 => {
                crate::oos::sh_rm_write_access_from_sl1p::<Sim, G4>(self, d, gmfn, smfn, off)
            }
            _ => 0,
        }
    }

    /// The `sh_rm_write_access_from_l1` callback of `smfn`'s type.
    fn rm_write_access_from_l1(&self, smfn: Mfn, gmfn: Mfn) -> i32 {
        let d = 0u32;
        match self.sh_type_of(smfn) {
            sh_type::L1_32 | sh_type::FL1_32 => {
                crate::revoke::sh_rm_write_access_from_l1::<Sim, G2>(self, d, smfn, gmfn)
            }
            sh_type::L1_PAE | sh_type::FL1_PAE => {
                crate::revoke::sh_rm_write_access_from_l1::<Sim, G3>(self, d, smfn, gmfn)
            }
            sh_type::L1_64 | sh_type::FL1_64 => {
                crate::revoke::sh_rm_write_access_from_l1::<Sim, G4>(self, d, smfn, gmfn)
            }
            _ => 0,
        }
    }

    /// `hash_domain_foreach(d, mask, callbacks, mfn)`: the callbacks see a
    /// snapshot of the hash; an entry removed meanwhile is skipped, and a
    /// non-zero return stops the walk (as in C).
    fn hash_foreach(&self, mask: u32, mut cb: impl FnMut(&Sim, Mfn, u32) -> i32) {
        let entries: Vec<((u64, u32), Mfn)> = self
            .st
            .borrow()
            .dom
            .hash
            .iter()
            .filter(|((_, t), _)| mask & (1u32.checked_shl(*t).unwrap_or(0)) != 0)
            .map(|(k, v)| (*k, *v))
            .collect();
        for (k, smfn) in entries {
            let still =
                self.st.borrow().dom.hash.get(&k) == Some(&smfn) && self.sh_type_of(smfn) == k.1;
            if still && cb(self, smfn, k.1) != 0 {
                break;
            }
        }
    }

    // ---- revoking write access, removing shadows ---------------------------------------

    /// `sh_remove_write_access(d, gmfn, level, fault_addr)`.
    pub(crate) fn sim_remove_write_access(&self, gmfn: Mfn, level: u32, fault_addr: u64) -> i32 {
        let tc = |s: &Sim| s.with_frame(gmfn, |f| f.type_count).unwrap_or(0);
        let is_pt = self
            .with_frame(gmfn, |f| f.page_table && f.owner == Owner::Guest)
            .unwrap_or(false);
        let may_write = self
            .with_frame(gmfn, |f| {
                f.page_table && f.shadow_flags & shf::OOS_MAY_WRITE != 0
            })
            .unwrap_or(false);
        if (is_pt && !may_write) || tc(self) == 0 {
            return 0;
        }

        // Heuristics: the writable mapping is likely in the current page
        // tables, at the guest's linear or direct map.
        let curr = self.current_vcpu();
        if let Some(gfn) = self.mfn_to_gfn(gmfn) {
            let gaddr = gfn << PAGE_SHIFT;
            let _ = level;
            let _ = fault_addr;
            // Linux's direct map (64-bit) or lowmem map (32-bit), as C
            // guesses them.
            let bases: &[u64] = if self.levels() == 4 {
                &[
                    0xffff_8800_0000_0000,
                    0xffff_8100_0000_0000,
                    0x0000_0100_0000_0000,
                ]
            } else {
                &[0xc000_0000]
            };
            for &base in bases {
                by_level!(
                    self.levels(),
                    crate::revoke::sh_guess_wrmap(
                        self,
                        curr as u32,
                        base.wrapping_add(gaddr),
                        gmfn
                    )
                );
                if tc(self) == 0 {
                    return 1;
                }
            }
        }
        // The shadow where the last brute-force search succeeded.
        let last = self.st.borrow().vcpus[curr].last_writeable_pte_smfn;
        if last.0 != 0 {
            self.rm_write_access_from_l1(last, gmfn);
        }
        if tc(self) == 0 {
            return 1;
        }

        // Brute force.
        self.hash_foreach(shf::L1_ANY | shf::FL1_ANY, |s, smfn, _| {
            s.rm_write_access_from_l1(smfn, gmfn)
        });

        if tc(self) != 0 {
            if level == 0 {
                return -1;
            }
            self.crash("can't remove write access: special-use mappings");
        }
        1
    }

    /// `sh_remove_shadow_via_pointer(d, smfn)`.
    fn remove_shadow_via_pointer(&self, smfn: Mfn) -> i32 {
        let (t, up, count) = self
            .with_frame(smfn, |f| (f.sh_type, f.up, f.count))
            .unwrap_or((0, 0, 0));
        if up == 0 {
            return 0;
        }
        let pmfn = Mfn(up >> PAGE_SHIFT);
        let idx = ((up & (PAGE_SIZE - 1)) / 8) as usize;
        assert!(
            shadow_e_get_mfn(self.read64(pmfn, idx)) == smfn,
            "up-pointer of {:#x} does not point at it",
            smfn.0
        );
        let rc = i32::from(count == 1);
        let d = 0u32;
        let table = self.map_domain_page(pmfn);
        let e = table.slot(pmfn, idx);
        match t {
            sh_type::L1_32 | sh_type::L2_32 => {
                crate::remove::sh_clear_shadow_entry::<Sim, G2>(self, d, e)
            }
            sh_type::L1_PAE | sh_type::L2_PAE => {
                crate::remove::sh_clear_shadow_entry::<Sim, G3>(self, d, e)
            }
            sh_type::L1_64 | sh_type::L2_64 | sh_type::L2H_64 | sh_type::L3_64 | sh_type::L4_64 => {
                crate::remove::sh_clear_shadow_entry::<Sim, G4>(self, d, e)
            }
            _ => panic!("sh_remove_shadow_via_pointer: bad type {t}"),
        }
        self.unmap_domain_page(table);
        rc
    }

    /// `sh_remove_shadows(d, gmfn, fast, all)`.
    pub(crate) fn sim_remove_shadows(&self, gmfn: Mfn, fast: bool, all: bool) {
        self.lock_recursive();
        self.st.borrow_mut().stats.unshadows += 1;
        let d = 0u32;
        let shadowed = |s: &Sim, t: u32| {
            s.with_frame(gmfn, |f| f.page_table && f.shadow_flags & (1 << t) != 0)
                .unwrap_or(false)
        };
        if self.with_frame(gmfn, |f| f.page_table).unwrap_or(false) {
            let opt = self.opt_flags();
            for t in [
                sh_type::L2_32,
                sh_type::L1_32,
                sh_type::L2_PAE,
                sh_type::L1_PAE,
                sh_type::L4_64,
                sh_type::L3_64,
                sh_type::L2H_64,
                sh_type::L2_64,
                sh_type::L1_64,
            ] {
                if !shadowed(self, t) {
                    continue;
                }
                let smfn = self.sim_hash_lookup(gmfn.0, t);
                if smfn == INVALID_MFN {
                    self.log(format_args!(
                        "gmfn {:#x} has flags but no type-{t:#x} shadow",
                        gmfn.0
                    ));
                    continue;
                }
                if type_is_pinnable(t, opt) {
                    self.sim_sh_unpin(smfn);
                } else if type_has_up_pointer(t, opt) {
                    self.remove_shadow_via_pointer(smfn);
                }
                if !fast && shadowed(self, t) {
                    let mask = match t {
                        sh_type::L1_32 => shf::L2_32,
                        sh_type::L1_PAE => shf::L2_PAE,
                        sh_type::L1_64 => shf::L2H_64 | shf::L2_64,
                        sh_type::L2_64 | sh_type::L2H_64 => shf::L3_64,
                        sh_type::L3_64 => shf::L4_64,
                        _ => 0,
                    };
                    self.hash_foreach(mask, |s, pmfn, pt| match pt {
                        sh_type::L2_32 => {
                            crate::remove::sh_remove_l1_shadow::<Sim, G2>(s, d, pmfn, smfn)
                        }
                        sh_type::L2_PAE => {
                            crate::remove::sh_remove_l1_shadow::<Sim, G3>(s, d, pmfn, smfn)
                        }
                        sh_type::L2_64 | sh_type::L2H_64 => {
                            crate::remove::sh_remove_l1_shadow::<Sim, G4>(s, d, pmfn, smfn)
                        }
                        sh_type::L3_64 => {
                            crate::remove::sh_remove_l2_shadow::<Sim, G4>(s, d, pmfn, smfn)
                        }
                        sh_type::L4_64 => {
                            crate::remove::sh_remove_l3_shadow::<Sim, G4>(s, d, pmfn, smfn)
                        }
                        _ => 0,
                    });
                }
            }
            if !fast && all && self.with_frame(gmfn, |f| f.page_table).unwrap_or(false) {
                self.crash("sh_remove_shadows: can't find all shadows");
            }
            self.flush_all_tlbs();
        }
        self.unlock();
    }

    // ---- the hash ---------------------------------------------------------------------

    pub(crate) fn sim_hash_lookup(&self, n: u64, t: u32) -> Mfn {
        self.st
            .borrow()
            .dom
            .hash
            .get(&(n, t))
            .copied()
            .unwrap_or(INVALID_MFN)
    }

    pub(crate) fn sim_hash_insert(&self, n: u64, t: u32, smfn: Mfn) {
        let old = self.st.borrow_mut().dom.hash.insert((n, t), smfn);
        assert!(
            old.is_none(),
            "shadow_hash_insert: ({n:#x}, {t}) already hashed"
        );
    }

    pub(crate) fn sim_hash_delete(&self, n: u64, t: u32, smfn: Mfn) -> bool {
        let mut st = self.st.borrow_mut();
        if st.dom.hash.get(&(n, t)) == Some(&smfn) {
            st.dom.hash.remove(&(n, t));
            true
        } else {
            false
        }
    }

    // ---- promotion ----------------------------------------------------------------------

    /// `shadow_promote(d, gmfn, type)`.
    pub(crate) fn sim_promote(&self, gmfn: Mfn, t: u32) {
        if self.page_is_oos(gmfn) {
            self.sim_resync(gmfn);
        }
        let (tc, shutting) = (
            self.with_frame(gmfn, |f| f.type_count).unwrap_or(0),
            self.st.borrow().dom.shutting_down,
        );
        assert!(
            tc == 0 || shutting,
            "shadow_promote: {:#x} still has {tc} writable mappings",
            gmfn.0
        );
        self.with_frame(gmfn, |f| {
            if !f.page_table {
                f.page_table = true;
                f.shadow_flags = 0;
                f.pagetable_dying = false;
            }
            assert!(
                f.shadow_flags & (1 << t) == 0,
                "shadow_promote: type {t} twice"
            );
            f.shadow_flags |= 1 << t;
        });
    }

    /// `shadow_demote(d, gmfn, type)`.
    pub(crate) fn sim_demote(&self, gmfn: Mfn, t: u32) {
        let empty = self.with_frame(gmfn, |f| {
            assert!(
                f.page_table && f.shadow_flags & (1 << t) != 0,
                "shadow_demote: not promoted"
            );
            f.shadow_flags &= !(1 << t);
            f.shadow_flags & shf::PAGE_TYPE_MASK == 0
        });
        if empty == Some(true) {
            if self.page_is_oos(gmfn) {
                self.oos_hash_remove(gmfn);
            }
            self.with_frame(gmfn, |f| f.page_table = false);
        }
    }

    // ---- out-of-sync L1s ------------------------------------------------------------------

    pub(crate) fn page_is_oos(&self, m: Mfn) -> bool {
        self.with_frame(m, |f| {
            f.page_table && f.shadow_flags & shf::OUT_OF_SYNC != 0
        })
        .unwrap_or(false)
    }

    /// The (vCPU, slot) of `gmfn` in the OOS tables.
    pub(crate) fn oos_find(&self, gmfn: Mfn) -> Option<(usize, usize)> {
        let st = self.st.borrow();
        for (v, vs) in st.vcpus.iter().enumerate() {
            let mut idx = (gmfn.0 % OOS_PAGES as u64) as usize;
            if vs.oos[idx] != gmfn {
                idx = (idx + 1) % OOS_PAGES;
            }
            if vs.oos[idx] == gmfn {
                return Some((v, idx));
            }
        }
        None
    }

    fn oos_hash_remove(&self, gmfn: Mfn) {
        let (v, idx) = self
            .oos_find(gmfn)
            .unwrap_or_else(|| panic!("gmfn {:#x} was OOS but not in hash table", gmfn.0));
        self.st.borrow_mut().vcpus[v].oos[idx] = INVALID_MFN;
    }

    pub(crate) fn sim_oos_snapshot_lookup(&self, gmfn: Mfn) -> Mfn {
        let (v, idx) = self
            .oos_find(gmfn)
            .unwrap_or_else(|| panic!("gmfn {:#x} was OOS but not in hash table", gmfn.0));
        self.st.borrow().vcpus[v].oos_snapshot[idx]
    }

    /// `oos_fixup_add(d, gmfn, smfn, off)`.
    pub(crate) fn sim_oos_fixup_add(&self, gmfn: Mfn, smfn: Mfn, off: u64) {
        let (v, idx) = self
            .oos_find(gmfn)
            .unwrap_or_else(|| panic!("gmfn {:#x} was OOS but not in hash table", gmfn.0));
        let fx = self.st.borrow().vcpus[v].oos_fixup[idx];
        for i in 0..OOS_FIXUPS {
            if fx.smfn[i] != INVALID_MFN && fx.smfn[i] == smfn && fx.off[i] == off {
                return;
            }
        }
        let next = fx.next;
        if fx.smfn[next] != INVALID_MFN {
            // Reuse the slot: remove the writable mapping it remembered.
            self.rm_write_access_from_sl1p(gmfn, fx.smfn[next], fx.off[next]);
        }
        let mut st = self.st.borrow_mut();
        let f = &mut st.vcpus[v].oos_fixup[idx];
        f.smfn[next] = smfn;
        f.off[next] = off;
        f.next = (next + 1) % OOS_FIXUPS;
    }

    /// `_sh_resync_l1(v, gmfn, snpmfn)`.
    fn resync_l1(&self, v: usize, gmfn: Mfn, snp: Mfn) {
        let fl = self.with_frame(gmfn, |f| f.shadow_flags).unwrap_or(0);
        let v = v as u32;
        if fl & shf::L1_32 != 0 {
            crate::oos::sh_resync_l1::<Sim, G2>(self, v, gmfn, snp);
        } else if fl & shf::L1_PAE != 0 {
            crate::oos::sh_resync_l1::<Sim, G3>(self, v, gmfn, snp);
        } else if fl & shf::L1_64 != 0 {
            crate::oos::sh_resync_l1::<Sim, G4>(self, v, gmfn, snp);
        }
    }

    /// `_sh_resync(v, gmfn, fixup, snp)`: write-protect and resync.
    fn resync_one(&self, v: usize, idx: usize, gmfn: Mfn) {
        self.st.borrow_mut().stats.resyncs += 1;
        let fl = self.with_frame(gmfn, |f| f.shadow_flags).unwrap_or(0);
        assert!(
            fl & shf::PAGE_TYPE_MASK & !shf::L1_ANY == 0,
            "_sh_resync: OOS page {:#x} shadowed as more than an L1",
            gmfn.0
        );
        // oos_remove_write_access: the fixups, then the rest.
        let fx = self.st.borrow().vcpus[v].oos_fixup[idx];
        for i in 0..OOS_FIXUPS {
            if fx.smfn[i] != INVALID_MFN {
                self.rm_write_access_from_sl1p(gmfn, fx.smfn[i], fx.off[i]);
                self.st.borrow_mut().vcpus[v].oos_fixup[idx].smfn[i] = INVALID_MFN;
            }
        }
        match self.sim_remove_write_access(gmfn, 0, 0) {
            -1 => {
                // An unfindable writable mapping: unshadow instead.
                self.sim_remove_shadows(gmfn, false, true);
                return;
            }
            _ => self.flush_all_tlbs(),
        }
        self.with_frame(gmfn, |f| f.shadow_flags &= !shf::OOS_MAY_WRITE);
        let snp = self.st.borrow().vcpus[v].oos_snapshot[idx];
        self.resync_l1(v, gmfn, snp);
        self.with_frame(gmfn, |f| f.shadow_flags &= !shf::OUT_OF_SYNC);
    }

    /// `sh_resync(d, gmfn)`.
    pub(crate) fn sim_resync(&self, gmfn: Mfn) {
        let (v, idx) = self
            .oos_find(gmfn)
            .unwrap_or_else(|| panic!("gmfn {:#x} was OOS but not in hash table", gmfn.0));
        self.resync_one(v, idx, gmfn);
        self.st.borrow_mut().vcpus[v].oos[idx] = INVALID_MFN;
    }

    /// `sh_resync_all(v, skip, this, others)`.
    pub(crate) fn sim_resync_all(&self, v: usize, skip: bool, this: bool, others: bool) {
        if this {
            for idx in 0..OOS_PAGES {
                let g = self.st.borrow().vcpus[v].oos[idx];
                if self.mfn_valid(g) {
                    self.resync_one(v, idx, g);
                    self.st.borrow_mut().vcpus[v].oos[idx] = INVALID_MFN;
                }
            }
        }
        if !others {
            return;
        }
        for o in 0..self.vcpu_count() {
            if o == v {
                continue;
            }
            for idx in 0..OOS_PAGES {
                let g = self.st.borrow().vcpus[o].oos[idx];
                if !self.mfn_valid(g) {
                    continue;
                }
                if skip {
                    let fl = self.with_frame(g, |f| f.shadow_flags).unwrap_or(0);
                    let safe = if fl & shf::L1_64 != 0 {
                        crate::oos::sh_safe_not_to_sync::<Sim, G4>(self, v as u32, g)
                    } else if fl & shf::L1_PAE != 0 {
                        crate::oos::sh_safe_not_to_sync::<Sim, G3>(self, v as u32, g)
                    } else if fl & shf::L1_32 != 0 {
                        crate::oos::sh_safe_not_to_sync::<Sim, G2>(self, v as u32, g)
                    } else {
                        panic!("gmfn {:#x} was OOS but not shadowed as an l1", g.0)
                    };
                    if safe {
                        continue;
                    }
                    let snp = self.st.borrow().vcpus[o].oos_snapshot[idx];
                    self.resync_l1(o, g, snp);
                } else {
                    self.resync_one(o, idx, g);
                    self.st.borrow_mut().vcpus[o].oos[idx] = INVALID_MFN;
                }
            }
        }
    }

    /// `oos_hash_add(v, gmfn)`.
    fn oos_hash_add(&self, v: usize, gmfn: Mfn) {
        let mut gmfn_in = gmfn;
        let mut fixup = super::OosFixup::EMPTY;
        let mut idx = (gmfn.0 % OOS_PAGES as u64) as usize;
        let oidx = idx;
        let mut swap = false;
        {
            let cur = self.st.borrow().vcpus[v].oos[idx];
            if self.mfn_valid(cur) && (cur.0 % OOS_PAGES as u64) as usize == idx {
                // Punt the current occupant into the next slot.
                let mut st = self.st.borrow_mut();
                let vs = &mut st.vcpus[v];
                core::mem::swap(&mut vs.oos[idx], &mut gmfn_in);
                core::mem::swap(&mut vs.oos_fixup[idx], &mut fixup);
                swap = true;
                idx = (idx + 1) % OOS_PAGES;
            }
        }
        let cur = self.st.borrow().vcpus[v].oos[idx];
        if self.mfn_valid(cur) {
            // Crush the current occupant.
            self.resync_one(v, idx, cur);
        }
        {
            let mut st = self.st.borrow_mut();
            let vs = &mut st.vcpus[v];
            vs.oos[idx] = gmfn_in;
            vs.oos_fixup[idx] = fixup;
            if swap {
                vs.oos_snapshot.swap(idx, oidx);
            }
        }
        let (g, snp) = {
            let st = self.st.borrow();
            (st.vcpus[v].oos[oidx], st.vcpus[v].oos_snapshot[oidx])
        };
        self.copy_frame(snp, g);
    }

    /// `sh_unsync(v, gmfn)`.
    pub(crate) fn sim_unsync(&self, v: usize, gmfn: Mfn) -> bool {
        let fl = self.with_frame(gmfn, |f| f.shadow_flags).unwrap_or(0);
        let types = fl & shf::PAGE_TYPE_MASK;
        let multiple = types != 0 && types & types.wrapping_sub(1) != 0;
        if fl & ((shf::PAGE_TYPE_MASK & !shf::L1_ANY) | shf::OUT_OF_SYNC) != 0
            || multiple
            || !self.st.borrow().dom.oos_active
        {
            return false;
        }
        self.with_frame(gmfn, |f| {
            f.shadow_flags |= shf::OUT_OF_SYNC | shf::OOS_MAY_WRITE
        });
        self.oos_hash_add(v, gmfn);
        self.st.borrow_mut().stats.unsyncs += 1;
        true
    }

    // ---- top-level shadows ------------------------------------------------------------------

    /// `sh_set_toplevel_shadow(v, slot, gmfn, root_type, sh_make_shadow)`.
    pub(crate) fn sim_set_toplevel_shadow(
        &self,
        v: usize,
        slot: usize,
        gmfn: Mfn,
        root_type: u32,
    ) -> u64 {
        let old = self.st.borrow().vcpus[v].shadow_table[slot];
        let mut new = Mfn(0);
        if self.mfn_valid(gmfn) {
            let mut smfn = self.sim_hash_lookup(gmfn.0, root_type);
            let mut ok = true;
            if smfn == INVALID_MFN {
                if self.sim_shadow_prealloc(root_type, 1) {
                    let levels = self.levels();
                    smfn = by_level!(
                        levels,
                        crate::create::sh_make_shadow(self, v as u32, gmfn, root_type)
                    );
                } else {
                    ok = false;
                }
            }
            if ok {
                if self.sim_sh_get_ref(smfn, 0) {
                    self.sim_sh_pin(smfn);
                    new = smfn;
                } else {
                    self.crash("can't install toplevel shadow");
                }
            }
        }
        self.st.borrow_mut().vcpus[v].shadow_table[slot] = new;
        if old.0 != 0 {
            // HVM: never running on the old shadow, drop it now.
            self.sim_sh_put_ref(old, 0);
        }
        0
    }

    // ---- validating guest writes (common.c sh_validate_guest_entry) --------------------

    /// `sh_validate_guest_entry(v, gmfn, entry, size)`.
    pub(crate) fn validate_guest_entry(&self, v: usize, gmfn: Mfn, off: usize, size: u32) -> i32 {
        self.sim_mark_dirty(gmfn);
        let (pt, fl) = self
            .with_frame(gmfn, |f| (f.page_table, f.shadow_flags))
            .unwrap_or((false, 0));
        if !pt {
            return 0;
        }
        let table = self.map_domain_page(gmfn);
        let v = v as u32;
        let mut rc = 0;
        use crate::validate::sh_map_and_validate_gle as mv;
        let run = |rc: &mut i32, bit: u32, which: GuestTable, lv: u32| {
            if fl & bit == 0 {
                return;
            }
            *rc |= match lv {
                2 => mv::<Sim, G2>(self, v, which, gmfn, table, off, size),
                3 => mv::<Sim, G3>(self, v, which, gmfn, table, off, size),
                _ => mv::<Sim, G4>(self, v, which, gmfn, table, off, size),
            };
        };
        run(&mut rc, shf::L1_32, GuestTable::L1, 2);
        run(&mut rc, shf::L2_32, GuestTable::L2, 2);
        run(&mut rc, shf::L1_PAE, GuestTable::L1, 3);
        run(&mut rc, shf::L2_PAE, GuestTable::L2, 3);
        run(&mut rc, shf::L1_64, GuestTable::L1, 4);
        run(&mut rc, shf::L2_64, GuestTable::L2, 4);
        run(&mut rc, shf::L2H_64, GuestTable::L2h, 4);
        run(&mut rc, shf::L3_64, GuestTable::L3, 4);
        run(&mut rc, shf::L4_64, GuestTable::L4, 4);
        self.unmap_domain_page(table);
        rc
    }

    /// `validate_guest_pt_write(v, gmfn, entry, size)` (hvm.c).
    fn validate_pt_write(&self, v: usize, gmfn: Mfn, off: usize, size: u32) {
        let rc = self.validate_guest_entry(v, gmfn, off, size);
        if rc & set::FLUSH != 0 {
            self.flush_all_tlbs();
        }
        if rc & set::ERROR != 0 {
            self.sim_remove_shadows(gmfn, false, false);
        }
    }

    // ---- writing shadow entries (set.c) --------------------------------------------------

    /// `shadow_set_l1e(d, sl1e, new, type, sl1mfn)`.
    pub(crate) fn sim_set_l1e(&self, t: Table, smfn: Mfn, idx: usize, new: u64) -> i32 {
        let mut new = new;
        let mut rc = 0;
        let nmfn = shadow_e_get_mfn(new);
        let nf = get_pte_flags(new);
        let magic = crate::propagate::sh_l1e_is_magic(new);
        if self.mfn_valid(nmfn)
            && self
                .with_frame(nmfn, |f| {
                    f.page_table && f.shadow_flags & shf::OOS_MAY_WRITE != 0
                })
                .unwrap_or(false)
            && nf & (flags::RW | flags::PRESENT) == (flags::RW | flags::PRESENT)
            && !magic
        {
            self.sim_oos_fixup_add(nmfn, smfn, idx as u64);
        }
        let old = t.get64(idx);
        if old == new {
            return 0;
        }
        if nf & flags::PRESENT != 0 && !magic {
            match self.get_page_from_l1e(new) {
                0 => {}
                r if r > 0 && (r as u32) & !PAGE_FLIPPABLE == 0 => {
                    new ^= put_pte_flags(r as u32);
                }
                _ => {
                    rc |= set::ERROR;
                    new = 0;
                }
            }
        }
        t.set64(idx, new);
        rc |= set::CHANGED;
        let of = get_pte_flags(old);
        if of & flags::PRESENT != 0 && !crate::propagate::sh_l1e_is_magic(old) {
            self.put_page_from_l1e(old);
        }
        rc
    }

    /// `perms_strictly_increased(old, new)`.
    fn perms_strictly_increased(old: u32, new: u32) -> bool {
        let of = old & (flags::PRESENT | flags::RW | flags::USER | flags::NX_BIT);
        let nf = new & (flags::PRESENT | flags::RW | flags::USER | flags::NX_BIT);
        // Flip the NX bit, since it's the only one that decreases rights;
        // we calculate as if it were an "X" bit.
        let of = of ^ flags::NX_BIT;
        let nf = nf ^ flags::NX_BIT;
        // If the changed bits are all set in the new flags, then rights
        // strictly increased between old and new.
        (of ^ nf) & nf == (of ^ nf)
    }

    /// `shadow_set_l2e/l3e/l4e`: an upper-level entry (`pair`: 2-on-3
    /// pairs of l2es).
    pub(crate) fn sim_set_upper(
        &self,
        t: Table,
        smfn: Mfn,
        idx: usize,
        new: u64,
        pair: bool,
        resync: bool,
    ) -> i32 {
        let idx = if pair { idx & !1 } else { idx };
        let old = t.get64(idx);
        if old == new {
            return 0;
        }
        let pa = smfn.maddr() | (idx as u64 * 8);
        let mut second = new;
        if get_pte_flags(new) & flags::PRESENT != 0 {
            let child = shadow_e_get_mfn(new);
            if !self.sim_sh_get_ref(child, pa) {
                self.crash("shadow_set_lNe: sh_get_ref failed");
                return set::ERROR;
            }
            if resync {
                let (ct, back) = self
                    .with_frame(child, |f| (f.sh_type, f.back))
                    .unwrap_or((0, 0));
                let g = Mfn(back);
                if !is_fl1(ct) && self.mfn_valid(g) && self.page_is_oos(g) {
                    self.sim_resync(g);
                }
            }
            if pair {
                let n = self.with_frame(child, |f| f.next).unwrap_or(INVALID_MFN);
                second = shadow_e_from_mfn(n, get_pte_flags(new));
            }
        }
        t.set64(idx, new);
        if pair {
            t.set64(idx + 1, second);
        }
        let mut rc = set::CHANGED;
        if get_pte_flags(old) & flags::PRESENT != 0 {
            let omfn = shadow_e_get_mfn(old);
            if omfn != shadow_e_get_mfn(new)
                || !Self::perms_strictly_increased(get_pte_flags(old), get_pte_flags(new))
            {
                rc |= set::FLUSH;
            }
            self.sim_sh_put_ref(omfn, pa);
        }
        rc
    }

    // ---- log-dirty -----------------------------------------------------------------------

    /// `paging_mark_dirty(d, mfn)`.
    pub(crate) fn sim_mark_dirty(&self, m: Mfn) {
        let mut st = self.st.borrow_mut();
        if st.dom.log_dirty {
            st.dom.dirty.insert(m.0);
        }
    }

    /// Enables log-dirty mode (`sh_enable_log_dirty`): all shadows are
    /// blown away so that every page's first write faults.
    pub fn log_dirty_enable(&self) {
        self.lock();
        {
            let mut st = self.st.borrow_mut();
            st.dom.log_dirty = true;
            st.dom.dirty.clear();
        }
        self.blow_tables();
        self.unlock();
    }

    /// `sh_clean_dirty_bitmap`: returns the dirty set and starts a new round.
    pub fn log_dirty_clean(&self) -> Vec<u64> {
        self.lock();
        let dirty: Vec<u64> = core::mem::take(&mut self.st.borrow_mut().dom.dirty)
            .into_iter()
            .collect();
        self.blow_tables();
        self.unlock();
        dirty
    }

    /// `sh_disable_log_dirty`.
    pub fn log_dirty_disable(&self) {
        self.lock();
        self.st.borrow_mut().dom.log_dirty = false;
        self.blow_tables();
        self.unlock();
    }

    /// `shadow_blow_tables(d)`.
    pub fn blow_tables(&self) {
        let mut pos = self.prev_pinned(INVALID_MFN);
        while pos != INVALID_MFN {
            let next = self.prev_pinned(pos);
            self.sim_sh_unpin(pos);
            pos = next;
        }
        for v in 0..self.vcpu_count() {
            for i in 0..4 {
                let smfn = self.st.borrow().vcpus[v].shadow_table[i];
                if smfn.0 != 0 {
                    self.unhook_mappings(smfn, false);
                }
            }
        }
        self.flush_all_tlbs();
    }

    // ---- the paging lock -----------------------------------------------------------------

    pub(crate) fn lock(&self) {
        let mut st = self.st.borrow_mut();
        assert!(
            st.lock_depth == 0,
            "paging_lock: lock already held (non-recursive take)"
        );
        st.lock_depth = 1;
    }

    pub(crate) fn lock_recursive(&self) {
        self.st.borrow_mut().lock_depth += 1;
    }

    pub(crate) fn unlock(&self) {
        let mut st = self.st.borrow_mut();
        assert!(st.lock_depth > 0, "paging_unlock: lock not held");
        st.lock_depth -= 1;
    }

    // ---- the emulator (hvm.c hvm_emulate_write and its helpers) ------------------------------

    /// `emulate_gva_to_mfn`: Ok(mfn), Err(None) for a silently discarded
    /// write (read-only RAM), Err(Some(outcome)) otherwise.
    fn emulate_gva_to_mfn(&self, v: usize, va: u64) -> Result<Mfn, Option<EmulOutcome>> {
        let mut pfec = crate::fault::pfec::PAGE_PRESENT | crate::fault::pfec::WRITE_ACCESS;
        let gfn = by_level!(
            self.levels(),
            crate::tlb::sh_gva_to_gfn(self, v as u32, va, &mut pfec)
        );
        if gfn == INVALID_GFN.0 {
            return Err(Some(EmulOutcome::PageFault(pfec)));
        }
        let (m, t) = self.p2m(gfn);
        if t.is_discard_write() {
            return Err(None);
        }
        if !t.is_ram() || self.owner(m) != Owner::Guest {
            return Err(Some(EmulOutcome::Unhandleable));
        }
        let pt = self.sh_mfn_is_a_page_table_sim(m);
        self.st.borrow_mut().vcpus[v].last_write_was_pt = pt;
        Ok(m)
    }

    pub(crate) fn sh_mfn_is_a_page_table_sim(&self, m: Mfn) -> bool {
        self.with_frame(m, |f| f.owner == Owner::Guest && f.page_table)
            .unwrap_or(false)
    }

    /// `hvm_emulate_write` of the pending instruction's store.
    pub(crate) fn emulate_write(&self, v: usize, w: super::PendingWrite) -> EmulOutcome {
        let bytes = w.bytes as u64;
        let va = w.va;
        let m0 = match self.emulate_gva_to_mfn(v, va) {
            Ok(m) => m,
            Err(None) => return EmulOutcome::Written,
            Err(Some(o)) => return o,
        };
        if va & (bytes - 1) != 0 {
            // Unaligned writes mean probably not a page table.
            self.sim_remove_shadows(m0, false, false);
        }
        let end = va.wrapping_add(bytes - 1);
        let m1 = if end & PAGE_MASK != va & PAGE_MASK {
            match self.emulate_gva_to_mfn(v, end & PAGE_MASK) {
                Ok(m) => {
                    self.sim_remove_shadows(m, false, false);
                    Some(m)
                }
                Err(None) => return EmulOutcome::Written,
                Err(Some(o)) => return o,
            }
        } else {
            None
        };
        let off = (va & !PAGE_MASK) as usize;
        let b1 = match m1 {
            Some(_) => 4096 - off,
            None => bytes as usize,
        };
        let low_bit_was_clear = self.read_bytes(m0, off, 1) & 1 == 0;

        self.lock();
        self.write_bytes(m0, off, b1, w.val);
        if let Some(m1) = m1 {
            self.write_bytes(m1, 0, bytes as usize - b1, w.val >> (8 * b1));
        }
        // sh_emulate_unmap_dest
        let first4 = self.read_bytes(m0, off, 4.min(b1));
        if bytes >= 4 && first4 == 0 && m1.is_none() {
            if off % 8 == 0 {
                self.check_for_early_unshadow(v, m0);
            }
        } else {
            self.st.borrow_mut().vcpus[v].last_emulated_mfn_for_unshadow = INVALID_MFN.0;
        }
        let shflags = self.with_frame(m0, |f| f.shadow_flags).unwrap_or(0);
        let now_clear = self.read_bytes(m0, off, 1) & 1 == 0;
        let skip = low_bit_was_clear
            && now_clear
            && m1.is_none()
            && ((shflags & shf::SHF_32 == 0 && off % 8 == 0 && bytes <= 8)
                || (shflags & (shf::SHF_PAE | shf::SHF_64) == 0 && off % 4 == 0 && bytes <= 4));
        if !skip {
            self.validate_pt_write(v, m0, off, b1 as u32);
            if let Some(m1) = m1 {
                self.validate_pt_write(v, m1, 0, (bytes as usize - b1) as u32);
            }
        }
        self.sim_mark_dirty(m0);
        if let Some(m1) = m1 {
            self.sim_mark_dirty(m1);
        }
        {
            let mut st = self.st.borrow_mut();
            st.dom.gtable_dirty_version = st.dom.gtable_dirty_version.wrapping_add(1);
            st.stats.emulated_writes += 1;
        }
        self.unlock();
        EmulOutcome::Written
    }

    /// `check_for_early_unshadow(v, gmfn)`.
    fn check_for_early_unshadow(&self, v: usize, gmfn: Mfn) {
        let (dying, op, last) = {
            let st = self.st.borrow();
            (
                st.vcpus[v].pagetable_dying,
                st.dom.pagetable_dying_op,
                st.vcpus[v].last_emulated_mfn_for_unshadow,
            )
        };
        let fl = self.with_frame(gmfn, |f| f.shadow_flags).unwrap_or(0);
        if (dying || (!op && last == gmfn.0))
            && self.sh_mfn_is_a_page_table_sim(gmfn)
            && (!op || fl & (shf::L2_32 | shf::L2_PAE | shf::L4_64) == 0)
        {
            self.sim_remove_shadows(gmfn, true, false);
        }
        self.st.borrow_mut().vcpus[v].last_emulated_mfn_for_unshadow = gmfn.0;
    }
}
