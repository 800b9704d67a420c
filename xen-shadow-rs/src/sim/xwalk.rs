//! The simulator's `guest_walk_tables` (xen/arch/x86/mm/guest_walk.c): the
//! walk Xen does of the guest's own tables, with Xen's conventions (the
//! fabricated L1 entry of superpages, `walk_t` frames, A/D updates written
//! straight into guest memory, synthetic error codes when a table cannot be
//! mapped).  This is the "Xen side" of the model, structured like Xen's
//! walker; the independent reference is [`super::oracle`].

use super::{Owner, Sim};
use crate::fault::pfec;
use crate::level::GuestLevel;
use crate::platform::GuestWalk;
use crate::types::flags::*;
use crate::types::*;
use crate::walk::{
    guest_l1e_rsvd_bits, guest_l2e_rsvd_bits, guest_l3e_rsvd_bits, guest_l4e_rsvd_bits,
    guest_nx_enabled,
};

/// `AR_ACCUM_AND`, `AR_ACCUM_OR`.
const AR_AND: u32 = USER | RW;
const AR_OR: u32 = NX_BIT;

impl Sim {
    /// `map_domain_gfn`: the frame of a guest table, if the gfn is backed by
    /// ordinary RAM of the guest (not MMIO, not a hole).
    fn table_frame(&self, gfn: Gfn) -> Option<Mfn> {
        if !crate::propagate::gfn_valid(self, 0, gfn) {
            return None;
        }
        let (m, t) = self.p2m(gfn.0);
        (t.is_ram() && self.owner(m) == Owner::Guest).then_some(m)
    }

    fn read_entry<L: GuestLevel>(&self, m: Mfn, i: usize) -> u64 {
        if L::GUEST_PTE_BYTES == 4 {
            self.read_bytes(m, i * 4, 4)
        } else {
            self.read64(m, i)
        }
    }

    /// `set_ad_bits`: sets A (and D) in the walk's copy and, if the guest
    /// entry is unchanged, in guest memory.  True if memory was written.
    fn set_ad<L: GuestLevel>(&self, m: Mfn, i: usize, walk_e: &mut u64, dirty: bool) -> bool {
        let old = *walk_e;
        let new = old | u64::from(ACCESSED) | if dirty { u64::from(DIRTY) } else { 0 };
        if old == new {
            return false;
        }
        *walk_e = new;
        if self.read_entry::<L>(m, i) == old {
            if L::GUEST_PTE_BYTES == 4 {
                self.write_bytes(m, i * 4, 4, new);
            } else {
                self.write64(m, i, new);
            }
            true
        } else {
            false
        }
    }

    /// `guest_walk_tables` for guest level `L` of vCPU `v` (the root is
    /// `top_mfn`; PAE guests start from the vCPU's `gl3e` copy).
    pub fn xen_guest_walk<L: GuestLevel>(
        &self,
        v: u32,
        va: u64,
        walk_in: u32,
        top_mfn: Mfn,
    ) -> (bool, GuestWalk) {
        let vi = v as usize;
        let mode = self.st.borrow().vcpus[vi].mode;
        let walk =
            walk_in & (pfec::IMPLICIT | pfec::INSN_FETCH | pfec::USER_MODE | pfec::WRITE_ACCESS);
        let va = if L::LEVELS < 4 { va & 0xffff_ffff } else { va };
        let mut gw = GuestWalk {
            va,
            l4e: 0,
            l3e: 0,
            l2e: 0,
            l1e: 0,
            l4mfn: if L::LEVELS < 4 { INVALID_MFN } else { Mfn(0) },
            l3mfn: if L::LEVELS < 4 { INVALID_MFN } else { Mfn(0) },
            l2mfn: Mfn(0),
            l1mfn: Mfn(0),
            pfec: walk & (pfec::USER_MODE | pfec::WRITE_ACCESS),
        };
        let nx = guest_nx_enabled::<Sim, L>(self, v);
        if nx || mode.smep {
            gw.pfec |= walk & pfec::INSN_FETCH;
        }
        let mut ar_and = !0u32;
        let mut ar_or = 0u32;
        let fl = |e: u64| L::guest_e_get_flags(e);
        let (mut i4, mut i3) = (0, 0);

        let l2mfn = if L::LEVELS == 4 {
            // L4
            gw.l4mfn = top_mfn;
            i4 = L::guest_l4_table_offset(va);
            gw.l4e = self.read_entry::<L>(top_mfn, i4);
            if fl(gw.l4e) & PRESENT == 0 {
                return (false, gw);
            }
            if guest_l4e_rsvd_bits::<Sim, L>(self, v, gw.l4e) {
                gw.pfec |= pfec::RESERVED_BIT | pfec::PAGE_PRESENT;
                return (false, gw);
            }
            ar_and &= fl(gw.l4e);
            ar_or |= fl(gw.l4e);

            // L3
            let Some(l3mfn) = self.table_frame(L::guest_e_get_gfn(gw.l4e)) else {
                return (false, gw);
            };
            gw.l3mfn = l3mfn;
            i3 = L::guest_l3_table_offset(va);
            gw.l3e = self.read_entry::<L>(l3mfn, i3);
            if fl(gw.l3e) & PRESENT == 0 {
                return (false, gw);
            }
            if guest_l3e_rsvd_bits::<Sim, L>(self, v, gw.l3e) {
                gw.pfec |= pfec::RESERVED_BIT | pfec::PAGE_PRESENT;
                return (false, gw);
            }
            ar_and &= fl(gw.l3e);
            ar_or |= fl(gw.l3e);
            // (PSE in an l3e is reserved: no 1 GiB pages under shadow paging.)
            let Some(m) = self.table_frame(L::guest_e_get_gfn(gw.l3e)) else {
                return (false, gw);
            };
            m
        } else if L::LEVELS == 3 {
            // PAE: the l3e from the vCPU's copy taken at CR3 load; no
            // access rights in it.
            gw.l3e = self.st.borrow().vcpus[vi].gl3e[L::guest_l3_table_offset(va)];
            if fl(gw.l3e) & PRESENT == 0 {
                return (false, gw);
            }
            if guest_l3e_rsvd_bits::<Sim, L>(self, v, gw.l3e) {
                gw.pfec |= pfec::RESERVED_BIT | pfec::PAGE_PRESENT;
                return (false, gw);
            }
            let Some(m) = self.table_frame(L::guest_e_get_gfn(gw.l3e)) else {
                return (false, gw);
            };
            m
        } else {
            top_mfn
        };

        // L2
        gw.l2mfn = l2mfn;
        let i2 = L::guest_l2_table_offset(va);
        gw.l2e = self.read_entry::<L>(l2mfn, i2);
        if fl(gw.l2e) & PRESENT == 0 {
            return (false, gw);
        }
        if guest_l2e_rsvd_bits::<Sim, L>(self, v, gw.l2e) {
            gw.pfec |= pfec::RESERVED_BIT | pfec::PAGE_PRESENT;
            return (false, gw);
        }
        ar_and &= fl(gw.l2e);
        ar_or |= fl(gw.l2e);

        let leaf_level;
        if fl(gw.l2e) & PSE != 0 {
            // A superpage: fabricate an l1e granting everything (the l2e
            // carries the rights), with the l2e's cache bits.
            let start = L::guest_e_get_gfn(gw.l2e).0;
            let mut f = PRESENT | USER | RW | ACCESSED | DIRTY;
            f |= fl(gw.l2e) & (PAT | PWT | PCD);
            if start & 1 == 0 {
                f &= !PAT;
            }
            let span = L::GUEST_L1_ENTRIES as u64 - 1;
            let gfn = (start & !span) + L::guest_l1_table_offset(va) as u64;
            gw.l1e = (gfn << PAGE_SHIFT) | put_pte_flags(f);
            gw.l1mfn = INVALID_MFN;
            leaf_level = 2;
        } else {
            let Some(l1mfn) = self.table_frame(L::guest_e_get_gfn(gw.l2e)) else {
                return (false, gw);
            };
            gw.l1mfn = l1mfn;
            gw.l1e = self.read_entry::<L>(l1mfn, L::guest_l1_table_offset(va));
            if fl(gw.l1e) & PRESENT == 0 {
                return (false, gw);
            }
            if guest_l1e_rsvd_bits::<Sim, L>(self, v, gw.l1e) {
                gw.pfec |= pfec::RESERVED_BIT | pfec::PAGE_PRESENT;
                return (false, gw);
            }
            ar_and &= fl(gw.l1e);
            ar_or |= fl(gw.l1e);
            leaf_level = 1;
        }

        gw.pfec |= pfec::PAGE_PRESENT;
        let ar = (ar_and & AR_AND) | (ar_or & AR_OR);
        let fetch = walk & pfec::INSN_FETCH != 0;
        let write = walk & pfec::WRITE_ACCESS != 0;
        if fetch && ar & NX_BIT != 0 {
            return (false, gw);
        }
        if walk & pfec::USER_MODE != 0 {
            if ar & USER == 0 || (write && ar & RW == 0) {
                return (false, gw);
            }
        } else {
            if ar & USER != 0 {
                if fetch && mode.smep {
                    return (false, gw);
                }
                // EFLAGS.AC is always clear in the simulated guest.
                if !fetch && mode.smap {
                    return (false, gw);
                }
            }
            if write && ar & RW == 0 && mode.wp {
                return (false, gw);
            }
        }

        // Success: set the accessed and dirty bits, leaf first.
        let d = 0;
        if leaf_level == 1 {
            let mut e = gw.l1e;
            if self.set_ad::<L>(gw.l1mfn, L::guest_l1_table_offset(va), &mut e, write) {
                crate::platform::WalkOps::paging_mark_dirty(self, d, gw.l1mfn);
            }
            gw.l1e = e;
        }
        let mut e = gw.l2e;
        if self.set_ad::<L>(gw.l2mfn, i2, &mut e, write && leaf_level == 2) {
            crate::platform::WalkOps::paging_mark_dirty(self, d, gw.l2mfn);
        }
        gw.l2e = e;
        if L::LEVELS == 4 {
            let mut e = gw.l3e;
            if self.set_ad::<L>(gw.l3mfn, i3, &mut e, false) {
                crate::platform::WalkOps::paging_mark_dirty(self, d, gw.l3mfn);
            }
            gw.l3e = e;
            let mut e = gw.l4e;
            if self.set_ad::<L>(gw.l4mfn, i4, &mut e, false) {
                crate::platform::WalkOps::paging_mark_dirty(self, d, gw.l4mfn);
            }
            gw.l4e = e;
        }
        (true, gw)
    }
}
