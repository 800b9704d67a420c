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

/// The rights a hardware walk has accumulated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rights {
    rw: bool,
    user: bool,
    nx: bool,
}

impl Rights {
    const ALL: Rights = Rights {
        rw: true,
        user: true,
        nx: false,
    };
}

/// The leaf entry of a hardware walk (at index shift `sh`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Leaf {
    e: u64,
    sh: u32,
    r: Rights,
}

impl Leaf {
    /// The translation of `va` through it.
    fn entry(self, va: u64) -> TlbEntry {
        let span = (1u64 << (self.sh - 12)) - 1;
        TlbEntry {
            mfn: Mfn((shadow_e_get_mfn(self.e).0 & !span) + ((va >> 12) & span)),
            rw: self.r.rw,
            user: self.r.user,
            nx: self.r.nx,
        }
    }
}

/// One level of a hardware walk.
enum Step {
    Fault(u32),
    Leaf(Leaf),
    Next(Mfn, Rights),
}

/// A hardware walk down to the L1 table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Upper {
    /// It ended above L1.
    Done(Result<TlbEntry, u32>),
    /// At a superpage.
    Leaf(Leaf),
    /// It continues in this L1 table.
    L1(Mfn, Rights),
}

/// The last walk down to an L1 table, for [`Sim::hw_guest_translate_cached`]:
/// (hardware CR3, 2 MiB region of the address) and where the walk got.
#[derive(Clone, Copy, Debug, Default)]
pub struct WalkCache(Option<((u64, u64), Upper)>);

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
        let va = if self.levels() == 4 {
            va
        } else {
            va & 0xffff_ffff
        };
        match self.hw_guest_upper(hw_cr3, va) {
            Upper::Done(r) => r,
            Upper::Leaf(l) => Ok(l.entry(va)),
            Upper::L1(table, r) => self.hw_translate_levels(table, 1, va, r),
        }
    }

    /// [`Sim::hw_guest_translate`] for many addresses in a row: the walk
    /// down to the L1 table is kept in `cache` and reused for the next
    /// address in the same 2 MiB region (the same entries would be read
    /// again).  Only while the tables do not change (the checker's sweeps).
    pub fn hw_guest_translate_cached(
        &self,
        hw_cr3: u64,
        va: u64,
        cache: &mut WalkCache,
    ) -> Result<TlbEntry, u32> {
        let va = if self.levels() == 4 {
            va
        } else {
            va & 0xffff_ffff
        };
        let key = (hw_cr3, va >> 21);
        let upper = match cache.0 {
            Some((k, u)) if k == key => u,
            _ => {
                let u = self.hw_guest_upper(hw_cr3, va);
                cache.0 = Some((key, u));
                u
            }
        };
        match upper {
            Upper::Done(r) => r,
            Upper::Leaf(l) => Ok(l.entry(va)),
            Upper::L1(table, r) => self.hw_translate_levels(table, 1, va, r),
        }
    }

    /// The walk of `va` down to (not including) the L1 table.
    fn hw_guest_upper(&self, hw_cr3: u64, va: u64) -> Upper {
        if self.levels() == 4 {
            return self.hw_upper_from(Mfn(hw_cr3 >> PAGE_SHIFT), 4, va);
        }
        let va = va & 0xffff_ffff;
        let l3 = Mfn(hw_cr3 >> PAGE_SHIFT);
        let pdpte = self.read64(l3, (((hw_cr3 & 0xfe0) >> 3) + ((va >> 30) & 3)) as usize);
        if pdpte & 1 == 0 {
            return Upper::Done(Err(0));
        }
        // PDPTE reserved bits: 1, 2, 5-8, 63, and the address bits.
        if pdpte & (0x1e6 | (1 << 63) | hw_rsvd_addr()) != 0 {
            return Upper::Done(Err(pfec::RESERVED_BIT | pfec::PAGE_PRESENT));
        }
        self.hw_upper_from(shadow_e_get_mfn(pdpte), 2, va)
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
        self.hw_translate_levels(root, top, va, Rights::ALL)
    }

    /// The walk from `table` at `level` down, with the rights of the
    /// levels above.
    fn hw_translate_levels(
        &self,
        mut table: Mfn,
        level: usize,
        va: u64,
        mut r: Rights,
    ) -> Result<TlbEntry, u32> {
        let st = self.st.borrow();
        for level in (1..=level).rev() {
            match self.hw_step(&st, table, level, va, r) {
                Step::Fault(bits) => return Err(bits),
                Step::Leaf(l) => return Ok(l.entry(va)),
                Step::Next(t, nr) => {
                    table = t;
                    r = nr;
                }
            }
        }
        Ok(TlbEntry {
            mfn: INVALID_MFN,
            rw: r.rw,
            user: r.user,
            nx: r.nx,
        })
    }

    /// The walk of `top` levels from `root` down to (not including) level 1.
    fn hw_upper_from(&self, root: Mfn, top: usize, va: u64) -> Upper {
        let st = self.st.borrow();
        let mut table = root;
        let mut r = Rights::ALL;
        for level in (2..=top).rev() {
            match self.hw_step(&st, table, level, va, r) {
                Step::Fault(bits) => return Upper::Done(Err(bits)),
                Step::Leaf(l) => return Upper::Leaf(l),
                Step::Next(t, nr) => {
                    table = t;
                    r = nr;
                }
            }
        }
        Upper::L1(table, r)
    }

    /// One level of a hardware walk: the entry for `va` in `table`.
    fn hw_step(&self, st: &super::State, table: Mfn, level: usize, va: u64, r: Rights) -> Step {
        let sh = 12 + 9 * (level as u32 - 1);
        let owner = self
            .frame_index(table)
            .map_or(Owner::None, |i| st.frames[i].owner);
        if owner == Owner::None {
            // A table pointer to a frame that does not exist: the
            // hardware would read garbage; treat as not present.
            return Step::Fault(0);
        }
        let e = self.read64(table, ((va >> sh) & 511) as usize);
        let f = get_pte_flags(e);
        if f & PRESENT == 0 {
            return Step::Fault(0);
        }
        let ps = f & PSE != 0 && (level == 2 || level == 3);
        let mut rsvd = e & hw_rsvd_addr() != 0 || (level == 4 && f & PSE != 0);
        if ps {
            // Superpage: the low address bits above the PAT bit.
            let low = ((1u64 << sh) - 1) & !0x1fff;
            rsvd |= e & low != 0;
        }
        if rsvd {
            return Step::Fault(pfec::RESERVED_BIT | pfec::PAGE_PRESENT);
        }
        let r = Rights {
            rw: r.rw && f & RW != 0,
            user: r.user && f & USER != 0,
            nx: r.nx || f & NX_BIT != 0,
        };
        if ps || level == 1 {
            Step::Leaf(Leaf { e, sh, r })
        } else {
            Step::Next(shadow_e_get_mfn(e), r)
        }
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
