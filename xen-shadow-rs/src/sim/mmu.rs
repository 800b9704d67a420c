//! The simulated CPU's MMU: walks the tables the hardware runs on (the
//! installed shadows, or Xen's monitor table for Xen's own linear-map
//! reads), with the hardware's rules, and keeps a TLB of what it found.

use super::{Owner, Sim, TlbEntry, PADDR_BITS_SIM};
use crate::fault::pfec;
use crate::types::flags::*;
use crate::types::*;

/// One access as the CPU performs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    pub write: bool,
    pub user: bool,
    pub fetch: bool,
}

impl Access {
    /// Supervisor read.
    pub const R: Access = Access {
        write: false,
        user: false,
        fetch: false,
    };
    /// Supervisor write.
    pub const W: Access = Access {
        write: true,
        user: false,
        fetch: false,
    };
    /// User read.
    pub const UR: Access = Access {
        write: false,
        user: true,
        fetch: false,
    };
    /// User write.
    pub const UW: Access = Access {
        write: true,
        user: true,
        fetch: false,
    };

    /// The architectural error-code bits describing the access (I/D is
    /// always reported: the host runs with EFER.NX set).
    pub fn pfec(self) -> u32 {
        (if self.write { pfec::WRITE_ACCESS } else { 0 })
            | (if self.user { pfec::USER_MODE } else { 0 })
            | (if self.fetch { pfec::INSN_FETCH } else { 0 })
    }
}

/// Result of a hardware walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hw {
    /// The access is allowed; the physical frame and the rights of the
    /// translation.
    Ok(TlbEntry),
    /// #PF with this error code.
    Fault(u32),
}

/// Reserved address bits of a hardware entry (above the CPU's physical
/// address width, below bit 52).
const fn hw_rsvd_addr() -> u64 {
    ((1u64 << 52) - 1) & !((1u64 << PADDR_BITS_SIM) - 1)
}

impl Sim {
    /// Walks 4-level 64-bit tables rooted at `root` for `va` as the CPU
    /// would (CR0.WP is always set on the hardware under shadow paging;
    /// SMEP/SMAP follow the vCPU).  With `xen`, only presence and reserved
    /// bits are checked (Xen's own supervisor reads).
    pub fn hw_walk(
        &self,
        root: Mfn,
        va: u64,
        acc: Access,
        smep: bool,
        smap: bool,
        xen: bool,
    ) -> Hw {
        self.hw_walk_from(root, 4, va, acc, smep, smap, xen)
    }

    /// The walk of a guest access on vCPU `v`'s shadows: 4-level from the
    /// shadow root, or PAE (2- and 3-level guests) from the four entries of
    /// `l3table` at `hw_cr3`, with a 32-bit address.
    pub fn hw_guest_walk(&self, hw_cr3: u64, va: u64, acc: Access, smep: bool, smap: bool) -> Hw {
        Self::hw_access(self.hw_guest_translate(hw_cr3, va), acc, smep, smap, false)
    }

    /// [`Sim::hw_guest_walk`] without the access: the walk (which entries
    /// the CPU reads, where it stops) does not depend on the access, only
    /// the permission check and the error code do.  The translation, or
    /// the error-code bits the walk itself contributes (0 for not present,
    /// RSVD|P for a reserved bit).
    pub fn hw_guest_translate(&self, hw_cr3: u64, va: u64) -> Result<TlbEntry, u32> {
        if self.levels() == 4 {
            return self.hw_translate_from(Mfn(hw_cr3 >> PAGE_SHIFT), 4, va);
        }
        let va = va & 0xffff_ffff;
        let l3 = Mfn(hw_cr3 >> PAGE_SHIFT);
        let pdpte = self.read64(l3, (((hw_cr3 & 0xfe0) >> 3) + ((va >> 30) & 3)) as usize);
        if pdpte & 1 == 0 {
            return Err(0);
        }
        // PDPTE reserved bits: 1, 2, 5-8, 63, and the address bits.
        if pdpte & (0x1e6 | (1 << 63) | hw_rsvd_addr()) != 0 {
            return Err(pfec::RESERVED_BIT | pfec::PAGE_PRESENT);
        }
        self.hw_translate_from(shadow_e_get_mfn(pdpte), 2, va)
    }

    /// An access of kind `acc` on the outcome of a walk (see
    /// [`Sim::hw_guest_translate`]).  With `xen`, only presence and
    /// reserved bits count (Xen's own supervisor reads).
    pub fn hw_access(
        walk: Result<TlbEntry, u32>,
        acc: Access,
        smep: bool,
        smap: bool,
        xen: bool,
    ) -> Hw {
        let base = acc.pfec();
        match walk {
            Err(bits) => Hw::Fault(base | bits),
            Ok(ent) if xen || Self::hw_permits(&ent, acc, smep, smap) => Hw::Ok(ent),
            Ok(_) => Hw::Fault(base | pfec::PAGE_PRESENT),
        }
    }

    /// Does the hardware allow `acc` through a translation with `ent`'s
    /// rights (CR0.WP set)?
    pub fn hw_permits(ent: &TlbEntry, acc: Access, smep: bool, smap: bool) -> bool {
        let (rw, user, nx) = (ent.rw, ent.user, ent.nx);
        let deny = (acc.fetch && nx)
            || (acc.user && (!user || (acc.write && !rw)))
            || (!acc.user
                && ((user && acc.fetch && smep)
                    || (user && !acc.fetch && smap)
                    || (acc.write && !rw)));
        !deny
    }

    #[allow(clippy::too_many_arguments)]
    fn hw_walk_from(
        &self,
        root: Mfn,
        top: usize,
        va: u64,
        acc: Access,
        smep: bool,
        smap: bool,
        xen: bool,
    ) -> Hw {
        Self::hw_access(self.hw_translate_from(root, top, va), acc, smep, smap, xen)
    }

    /// The walk of `top` levels from `root` (see [`Sim::hw_guest_translate`]).
    fn hw_translate_from(&self, root: Mfn, top: usize, va: u64) -> Result<TlbEntry, u32> {
        let mut table = root;
        let mut rw = true;
        let mut user = true;
        let mut nx = false;
        let shifts = [39u32, 30, 21, 12];
        let mut frame = INVALID_MFN;
        let st = self.st.borrow();
        for (lvl, &sh) in shifts.iter().enumerate().skip(4 - top) {
            let owner = self
                .frame_index(table)
                .map_or(Owner::None, |i| st.frames[i].owner);
            if owner == Owner::None {
                // A table pointer to a frame that does not exist: the
                // hardware would read garbage; treat as not present.
                return Err(0);
            }
            let e = self.read64(table, ((va >> sh) & 511) as usize);
            let f = get_pte_flags(e);
            if f & PRESENT == 0 {
                return Err(0);
            }
            let level = 4 - lvl;
            let ps = f & PSE != 0 && (level == 2 || level == 3);
            let mut rsvd = e & hw_rsvd_addr() != 0 || (level == 4 && f & PSE != 0);
            if ps {
                // Superpage: the low address bits above the PAT bit.
                let low = ((1u64 << sh) - 1) & !0x1fff;
                rsvd |= e & low != 0;
            }
            if rsvd {
                return Err(pfec::RESERVED_BIT | pfec::PAGE_PRESENT);
            }
            rw &= f & RW != 0;
            user &= f & USER != 0;
            nx |= f & NX_BIT != 0;
            if ps || level == 1 {
                let span = (1u64 << (sh - 12)) - 1;
                frame = Mfn((shadow_e_get_mfn(e).0 & !span) + ((va >> 12) & span));
                break;
            }
            table = shadow_e_get_mfn(e);
        }
        Ok(TlbEntry {
            mfn: frame,
            rw,
            user,
            nx,
        })
    }

    /// The access of vCPU `v` at `va` through its shadows (`hw_cr3`), the
    /// translation entering the TLB on success.
    pub fn cpu_access(&self, v: usize, va: u64, acc: Access) -> Hw {
        let (root, mode) = {
            let st = self.st.borrow();
            let vs = &st.vcpus[v];
            (Mfn(vs.hw_cr3 >> PAGE_SHIFT), vs.mode)
        };
        if root.0 == 0 {
            return Hw::Fault(acc.pfec());
        }
        let r = self.hw_guest_walk(root.maddr(), va, acc, mode.smep, mode.smap);
        if let Hw::Ok(e) = r {
            self.st.borrow_mut().vcpus[v]
                .tlb
                .insert(va >> PAGE_SHIFT, e);
        }
        r
    }

    /// A load by Xen at virtual address `addr`, through the current vCPU's
    /// monitor table (`get_unsafe`): `None` if it would fault.
    pub fn xen_read64(&self, addr: u64) -> Option<u64> {
        let root = {
            let st = self.st.borrow();
            st.vcpus[st.current].arch_cr3
        };
        let acc = Access {
            write: false,
            user: false,
            fetch: false,
        };
        match self.hw_walk(root, addr, acc, false, false, true) {
            Hw::Ok(e) if addr & 7 == 0 && self.frame_index(e.mfn).is_some() => {
                Some(self.read64(e.mfn, ((addr & 0xfff) / 8) as usize))
            }
            _ => None,
        }
    }

    /// Xen's `__linear_lN_table` base (the monitor self-map in slot 258).
    pub fn linear_table_base(level: u32) -> u64 {
        let mut base = super::LINEAR_PT_VIRT_START;
        for l in 1..level {
            let shift = 12 + 9 * (l - 1);
            base =
                base.wrapping_add(((super::LINEAR_PT_VIRT_START & ((1 << 48) - 1)) >> shift) * 8);
        }
        base
    }
}

impl Sim {
    /// The shadow entry of `level` (4..1) on the walk of `va` from vCPU
    /// `v`'s shadow root, if the walk gets that far (for tests).
    pub fn shadow_entry(&self, v: usize, va: u64, level: u32) -> Option<u64> {
        let mut table = Mfn(self.st.borrow().vcpus[v].hw_cr3 >> PAGE_SHIFT);
        let mut top = 4u32;
        if self.levels() < 4 {
            let pdpte = self.read64(table, ((va >> 30) & 3) as usize);
            if level == 3 {
                return Some(pdpte);
            }
            if pdpte & 1 == 0 {
                return None;
            }
            table = shadow_e_get_mfn(pdpte);
            top = 2;
        }
        for l in (1..=top).rev() {
            self.frame_index(table)?;
            let e = self.read64(table, ((va >> (12 + 9 * (l - 1))) & 511) as usize);
            if l == level {
                return Some(e);
            }
            if get_pte_flags(e) & PRESENT == 0 {
                return None;
            }
            table = shadow_e_get_mfn(e);
        }
        None
    }
}
