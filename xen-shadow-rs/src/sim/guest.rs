//! A simulated guest on the simulated machine: it builds its page tables,
//! loads CR3 and runs operations (memory accesses of every width, PTE
//! writes through its direct map, CR3 loads, INVLPG, pagetable_dying,
//! log-dirty rounds, shadow-pool resets) the way a vCPU would: every access
//! goes through the shadow MMU, faults go to the port's `sh_page_fault`,
//! INVLPG to `sh_invlpg`, CR3 loads to `sh_update_cr3`.  After every
//! operation the checker runs.
//!
//! [`Guest::run_bytes`] interprets raw bytes as a sequence of operations
//! (the fuzz targets); [`Rng`] generates them for the property tests.

use std::collections::HashMap;
use std::string::String;
use std::vec::Vec;

use super::checker::{self, Violation};
use super::mmu::{Access, Hw};
use super::platform::{update_cr3, Regs};
use super::{Config, CpuMode, EmulOutcome, Owner, PendingWrite, Sim};
use crate::level::{G2, G3, G4};
use crate::types::*;

/// Where the guest maps all of its physical memory (Linux's direct map, one
/// of the addresses `sh_remove_write_access` guesses).
pub const PHYSMAP: u64 = 0xffff_8800_0000_0000;

/// The direct map of a guest with `levels` paging levels.
pub const fn physmap_of(levels: u32) -> u64 {
    if levels == 4 {
        PHYSMAP
    } else {
        0xc000_0000
    }
}

/// PAE: are the four PDPTEs at the start of frame `m` loadable (no
/// reserved bit in a present one: bits 1, 2, 5-8, 52-63 and the address
/// bits above MAXPHYADDR)?
pub fn pdptes_valid(sim: &Sim, m: Mfn, maxphyaddr: u32) -> bool {
    let addr_rsvd = ((1u64 << 52) - 1) & !((1u64 << maxphyaddr) - 1);
    (0..4).all(|i| {
        let e = sim.read64(m, i);
        e & 1 == 0 || e & (0x1e6 | 0xfff0_0000_0000_0000 | addr_rsvd) == 0
    })
}

/// The guest frames holding the boot page tables.
pub const ROOT_A: u64 = 0;
pub const ROOT_B: u64 = 1;
pub const PHYS_L3: u64 = 2;
pub const PHYS_L2: u64 = 3;
pub const PHYS_L1: u64 = 4;
pub const USER_L3: u64 = 5;
pub const USER_L2: u64 = 6;
pub const USER_L1A: u64 = 7;
pub const USER_L1B: u64 = 8;
/// The first data frame.
pub const FIRST_DATA: u64 = 9;

/// User pages mapped at boot: VA `i << 12` for i in 0..1024 (two L1s).
pub const USER_PAGES: u64 = 1024;

/// A tiny deterministic PRNG (xorshift64*), so the property tests need no
/// extra crates and every failure is reproducible from its seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// Reads operation parameters from raw bytes (zeros once exhausted).
pub struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Bytes { data, pos: 0 }
    }
    pub fn done(&self) -> bool {
        self.pos >= self.data.len()
    }
    pub fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos = self.pos.saturating_add(1);
        b
    }
    pub fn u16(&mut self) -> u16 {
        u16::from(self.u8()) | (u16::from(self.u8()) << 8)
    }
    pub fn u64(&mut self) -> u64 {
        (0..8).fold(0u64, |a, i| a | (u64::from(self.u8()) << (8 * i)))
    }
}

/// One guest operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// A memory access by the running vCPU.
    Access {
        va: u64,
        acc: Access,
        bytes: u32,
        val: u64,
    },
    /// Load CR3 with the root in guest frame `gfn`.
    LoadCr3 {
        gfn: u64,
    },
    /// INVLPG `va`.
    Invlpg {
        va: u64,
    },
    /// `HVMOP_pagetable_dying` on the table at `gpa`.
    PagetableDying {
        gpa: u64,
    },
    LogDirtyEnable,
    LogDirtyClean,
    LogDirtyDisable,
    /// Debug key 'S': blow all shadow tables.
    BlowTables,
    /// Run the other vCPU.
    Switch {
        vcpu: usize,
    },
}

impl Op {
    /// A supervisor write of the low `bytes` bytes of `val` at `va`.
    pub const fn write(va: u64, bytes: u32, val: u64) -> Op {
        Op::Access {
            va,
            acc: Access::W,
            bytes,
            val,
        }
    }

    /// A supervisor read of `bytes` bytes at `va`.
    pub const fn read(va: u64, bytes: u32) -> Op {
        Op::Access {
            va,
            acc: Access::R,
            bytes,
            val: 0,
        }
    }
}

/// What the guest saw for an access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    Done,
    Fault(u32),
}

/// The simulated guest and its machine.
pub struct Guest {
    pub sim: Sim,
    pub cfg: Config,
    /// The CR3 each vCPU loaded last (gfn of the root).
    pub cr3: Vec<u64>,
    /// Operations run.
    pub ops: u64,
    /// Log of operations (kept short; for failure reports).
    pub log: Vec<String>,
    pub keep_log: bool,
    /// The domain was crashed the way Xen crashes it on purpose (see
    /// [`Guest::expected_crash`]); no further operations run.
    pub dead: bool,
    /// Check every address every this many operations (0: never; the
    /// fuzz targets check everything once at the end instead).
    pub sweep_every: u64,
    /// The architectural TLB: translations each vCPU may still use because
    /// it has not flushed them (CR3 load, INVLPG) since it walked them:
    /// (vCPU, va page) -> [(gpa page, access kinds it allowed)].  Xen may
    /// legitimately act on them (its vTLB caches gva->gfn until a flush).
    pub arch_tlb: HashMap<(usize, u64), Vec<(u64, u8)>>,
}

/// The bit of an access kind in the architectural TLB's masks.
pub fn kind_bit(acc: Access) -> u8 {
    1 << (u8::from(acc.write) | (u8::from(acc.user) << 1) | (u8::from(acc.fetch) << 2))
}

/// The access kinds a cached translation may have been filled by and still
/// serve `acc` from Xen's vTLB: C's `vtlb_lookup` (shadow/private.h, the
/// port calls the same) takes an entry whenever the lookup's error code is
/// a subset of the entry's ("any successful walk that had at least these
/// pfec bits is OK").  So a supervisor read may be served by what a fetch or
/// a user access cached, though SMAP or SMEP would refuse it on a walk
/// (finding 41054561).  Only emulated accesses go through the vTLB.
/// Always a superset of [`kinds_allowing`] (a write's bits include a
/// read's), as a test checks.
pub fn vtlb_kinds_allowing(acc: Access) -> u8 {
    let mut k = 0;
    for bits in 0..8u8 {
        let (write, user, fetch) = (bits & 1 != 0, bits & 2 != 0, bits & 4 != 0);
        if (write || !acc.write) && (user || !acc.user) && (fetch || !acc.fetch) {
            k |= kind_bit(Access { write, user, fetch });
        }
    }
    k
}

/// The access kinds whose success through a translation shows that `acc`
/// is allowed through it too: `acc` itself and, for a read (not a fetch),
/// the write of the same privilege (a write needs all a read of the same
/// privilege needs: present, U/S, SMAP; and more: R/W, D).  A TLB entry
/// a write filled serves later reads.
pub fn kinds_allowing(acc: Access) -> u8 {
    let mut k = kind_bit(acc);
    if !acc.write && !acc.fetch {
        k |= kind_bit(Access { write: true, ..acc });
    }
    k
}

/// A finding: an invariant violation after an operation.
#[derive(Debug)]
pub struct Finding {
    pub op: Op,
    pub index: u64,
    pub violation: Violation,
}

impl Guest {
    /// A machine with `cfg` and a guest whose boot page tables map its RAM
    /// at [`PHYSMAP`] (supervisor, RW) and [`USER_PAGES`] user pages at VA 0
    /// onto its data frames; CR3 is loaded with root A.
    pub fn boot(cfg: Config, physmap_superpage: bool) -> Guest {
        let sim = Sim::new(&cfg);
        let nv = sim.vcpu_count();
        let mut g = Guest {
            sim,
            cr3: std::vec![ROOT_A; nv],
            cfg,
            ops: 0,
            log: Vec::new(),
            keep_log: false,
            dead: false,
            sweep_every: 32,
            arch_tlb: HashMap::new(),
        };
        let ram = g.cfg.ram;
        let gfns = g.sim.gfn_count();
        let levels = g.sim.levels();
        let pte = |gfn: u64, f: u64| (gfn << PAGE_SHIFT) | f;
        let data = ram.saturating_sub(FIRST_DATA).max(1);
        match levels {
            4 => {
                // Direct map: L4[272] of both roots -> PHYS_L3 -> PHYS_L2
                // -> PHYS_L1 (or a 2 MiB superpage) covering every gfn.
                let phys_l4 = ((PHYSMAP >> 39) & 511) as usize;
                for root in [ROOT_A, ROOT_B] {
                    g.poke(root, phys_l4, pte(PHYS_L3, 0x63));
                    g.poke(root, 0, pte(USER_L3, 0x67));
                }
                g.poke(PHYS_L3, 0, pte(PHYS_L2, 0x63));
                g.poke(USER_L3, 0, pte(USER_L2, 0x67));
            }
            3 => {
                // PAE: PDPTE 0 -> the user L2, PDPTE 3 -> the direct map's
                // L2 (0xc0000000); PDPTEs carry only P.
                for root in [ROOT_A, ROOT_B] {
                    g.poke(root, 0, pte(USER_L2, 0x1));
                    g.poke(root, 3, pte(PHYS_L2, 0x1));
                }
            }
            _ => {
                // 32-bit: L2 entry 0 -> USER_L1A (all 1024 user pages),
                // entry 768 -> the direct map.
                for root in [ROOT_A, ROOT_B] {
                    g.poke32(root, 0, pte(USER_L1A, 0x67));
                    g.poke32(root, 1, pte(USER_L1B, 0x67));
                    g.poke32(
                        root,
                        768,
                        if physmap_superpage {
                            pte(0, 0xe3)
                        } else {
                            pte(PHYS_L1, 0x63)
                        },
                    );
                }
                for gfn in 0..gfns.min(1024) {
                    g.poke32(PHYS_L1, gfn as usize, pte(gfn, 0x63));
                }
                for i in 0..USER_PAGES {
                    g.poke32(USER_L1A, i as usize, pte(FIRST_DATA + (i % data), 0x67));
                }
            }
        }
        if levels >= 3 {
            if physmap_superpage {
                g.poke(PHYS_L2, 0, pte(0, 0xe3));
            } else {
                g.poke(PHYS_L2, 0, pte(PHYS_L1, 0x63));
                for gfn in 0..gfns.min(512) {
                    g.poke(PHYS_L1, gfn as usize, pte(gfn, 0x63));
                }
            }
            // User pages: VA 0..4 MiB through two L1s, onto the data frames.
            g.poke(USER_L2, 0, pte(USER_L1A, 0x67));
            g.poke(USER_L2, 1, pte(USER_L1B, 0x67));
            for i in 0..USER_PAGES {
                let l1 = if i < 512 { USER_L1A } else { USER_L1B };
                let gfn = FIRST_DATA + (i % data);
                g.poke(l1, (i % 512) as usize, pte(gfn, 0x67));
            }
        }
        for v in 0..nv {
            g.sim.set_current(v);
            assert!(g.load_cr3(v, ROOT_A), "boot CR3 not loadable");
        }
        g.sim.set_current(0);
        g
    }

    /// Writes a guest page-table entry before paging is on (no shadows
    /// exist yet, so no emulation is involved).
    fn poke(&self, gfn: u64, i: usize, val: u64) {
        let (m, _) = self.sim.p2m(gfn);
        self.sim.write64(m, i, val);
    }

    /// The same for a 32-bit entry.
    fn poke32(&self, gfn: u64, i: usize, val: u64) {
        let (m, _) = self.sim.p2m(gfn);
        self.sim.write_bytes(m, i * 4, 4, val);
    }

    /// Where this guest's direct map is: Linux's 64-bit direct map, or its
    /// 32-bit lowmem map at 0xc0000000.
    pub fn physmap(&self) -> u64 {
        physmap_of(self.sim.levels())
    }

    /// The guest's CPU mode as the oracle sees it.
    pub fn oracle_cpu(&self, v: usize) -> super::oracle::Cpu {
        let m: CpuMode = self.sim.cr3_and_mode(v).2;
        let levels = self.sim.levels();
        super::oracle::Cpu {
            levels,
            wp: m.wp,
            nxe: m.nx && levels >= 3,
            smep: m.smep,
            smap: m.smap,
            pse: m.pse,
            maxphyaddr: self.sim.maxphysaddr(),
        }
    }

    /// The guest's CR3 load (`hvm_set_cr3` + `paging_update_cr3`).
    /// Returns false if the load faults (#GP) and nothing changed.
    pub fn load_cr3(&mut self, v: usize, gfn: u64) -> bool {
        let (m, t) = self.sim.p2m(gfn);
        if !t.is_ram() || self.sim.owner(m) != Owner::Guest {
            // Xen refuses a CR3 outside RAM (the guest gets #GP).
            return false;
        }
        if self.sim.levels() == 3 && !pdptes_valid(&self.sim, m, self.sim.maxphysaddr()) {
            // MOV CR3 with a present PDPTE that has reserved bits set is a
            // #GP on the CPU; Xen does not raise it (nor does C) and
            // shadows whatever the PDPTEs point at, so a guest that did it
            // would see translations its CPU never gives.  The simulated
            // guest does what the CPU does: the load does not happen.
            return false;
        }
        {
            let mut st = self.sim.st.borrow_mut();
            let vs = &mut st.vcpus[v];
            vs.guest_cr3 = gfn << PAGE_SHIFT;
            vs.guest_table = m;
        }
        if let Some(c) = self.cr3.get_mut(v) {
            *c = gfn;
        }
        let old = update_cr3(&self.sim, v as u32, false);
        if old != 0 {
            // shadow_put_top_level
            self.sim.lock();
            self.sim.sim_sh_put_ref(Mfn(old), 0);
            self.sim.unlock();
        }
        true
    }

    /// Executes one memory access of vCPU `v`: the MMU walks the shadows;
    /// a fault goes to `sh_page_fault`, which fixes it (retry), emulates
    /// the write, or hands the guest a fault.
    pub fn access(
        &mut self,
        v: usize,
        va: u64,
        acc: Access,
        bytes: u32,
        val: u64,
    ) -> Result<Seen, Violation> {
        let bytes = match bytes {
            1 | 2 | 4 | 8 => bytes,
            _ => 8,
        };
        let last = va.wrapping_add(u64::from(bytes) - 1);
        for _attempt in 0..8 {
            // Both pages of a page-crossing access must translate; the
            // fault is reported at the first byte that does not.
            let crossing = last >> PAGE_SHIFT != va >> PAGE_SHIFT;
            let mut second = None;
            let (hw, fault_va) = match self.sim.cpu_access(v, va, acc) {
                Hw::Ok(e) if crossing => match self.sim.cpu_access(v, last & PAGE_MASK, acc) {
                    Hw::Ok(e2) => {
                        second = Some(e2);
                        (Hw::Ok(e), va)
                    }
                    f => (f, last & PAGE_MASK),
                },
                other => (other, va),
            };
            match hw {
                Hw::Ok(e) => {
                    if acc.write {
                        let off = (va & !PAGE_MASK) as usize;
                        let first = (4096 - off).min(bytes as usize);
                        self.store(e.mfn, off, first, val);
                        if let Some(e2) = second {
                            self.store(e2.mfn, 0, bytes as usize - first, val >> (8 * first));
                        }
                    }
                    return Ok(Seen::Done);
                }
                Hw::Fault(ec) => {
                    {
                        let mut st = self.sim.st.borrow_mut();
                        st.error_code = ec;
                        st.regs_user = acc.user;
                        st.regs_fetch = acc.fetch;
                        st.pending = acc.write.then_some(PendingWrite { va, bytes, val });
                        st.emul = None;
                        st.injected = None;
                        st.stats.faults += 1;
                    }
                    let rc = by_level!(
                        self.sim.levels(),
                        crate::fault::sh_page_fault(&self.sim, v as u32, fault_va, Regs)
                    );
                    let (emul, ec_after) = {
                        let mut st = self.sim.st.borrow_mut();
                        st.pending = None;
                        (st.emul.take(), st.error_code)
                    };
                    match emul {
                        Some(EmulOutcome::Written) => return Ok(Seen::Done),
                        Some(EmulOutcome::PageFault(ec)) => return Ok(Seen::Fault(ec)),
                        _ => {}
                    }
                    if rc == 0 {
                        self.sim.st.borrow_mut().stats.reflected += 1;
                        return Ok(Seen::Fault(ec_after & 0xffff));
                    }
                    self.sim.st.borrow_mut().stats.fixed += 1;
                }
            }
        }
        Err(Violation::NoProgress { va })
    }

    /// A store the hardware let through: RAM frames take it, a direct-MMIO
    /// frame too (it is memory in the model).
    fn store(&self, m: Mfn, off: usize, bytes: usize, val: u64) {
        match self.sim.owner(m) {
            Owner::Guest | Owner::Io => self.sim.write_bytes(m, off, bytes, val),
            _ => {}
        }
    }

    /// Xen crashes a guest whose user mode writes to a page table that is
    /// some vCPU's top level: the fault handler unshadows on user-mode
    /// writes (`sh_remove_shadows(.., all)`), a top level in use cannot be
    /// unshadowed, and "can't find all shadows" crashes the domain (the
    /// same in C).  Only a guest that maps its own top-level table
    /// user-writable gets there, possibly as the second page of a
    /// page-crossing write.
    ///
    /// The same unshadow, hence the same crash, follows a failed fast
    /// emulation (multi.c `early_emulation`, "emulator failure,
    /// unshadowing"): the vCPU's last emulated write went to a top-level
    /// table through this page (`fast_emul`: the frame it remembers), the
    /// guest has since re-pointed the page at a frame that is not RAM
    /// without flushing, and the next supervisor write to the page goes
    /// straight to the emulator, which cannot map the new target
    /// (`emulate_gva_to_mfn`: BAD_GFN_TO_MFN) and fails.  C does the same.
    ///
    /// And a third way to the same failed emulation: a supervisor write
    /// that crosses from a top-level table in use into a page the emulator
    /// cannot map (`second_no_ram`, [`Guest::second_page_without_ram`]).  The write to the table is emulated, the
    /// emulator cannot map the second page, and the failure unshadows the
    /// table with `all` (`shadow_remove_all_shadows`).  C does the same;
    /// a table not in use livelocks instead
    /// ([`Guest::expected_livelock_crossing`]).
    pub fn expected_crash(
        &self,
        acc: Access,
        e: &checker::Expect,
        second_no_ram: bool,
        fast_emul: Option<Mfn>,
    ) -> bool {
        let Some(why) = self.sim.crashed() else {
            return false;
        };
        if why != "sh_remove_shadows: can't find all shadows" {
            return false;
        }
        let super::oracle::Outcome::Ok { gpa, .. } = e.outcome else {
            return false;
        };
        let (m, t) = self.sim.p2m(gpa >> PAGE_SHIFT);
        // A frame shadowed by a top-level shadow some vCPU runs on (its L4,
        // or for PAE guests one of the L2s its PDPTEs name).
        let top = |m: Mfn| {
            (0..self.sim.vcpu_count()).any(|v| {
                self.sim.guest_table_of(v) == m
                    || self.sim.st.borrow().vcpus[v]
                        .shadow_table
                        .iter()
                        .any(|s| s.0 != 0 && self.sim.frame(*s).is_some_and(|f| f.back == m.0))
            })
        };
        let user_write_to_top = acc.user && acc.write && top(m);
        let failed_fast_emulation =
            !acc.user && acc.write && !t.is_ram() && fast_emul.is_some_and(top);
        let crossing_into_no_ram = !acc.user && acc.write && second_no_ram && top(m);
        user_write_to_top || failed_fast_emulation || crossing_into_no_ram
    }

    /// Whether the emulator's translation of an access's second page
    /// (`second`: what the oracle says of it) may give a frame it cannot
    /// map for writing (no RAM, or MMIO; `emulate_gva_to_mfn`:
    /// BAD_GFN_TO_MFN).  The frame is what the guest's tables say now, or
    /// a translation the vCPU cached and has not flushed (`cached`: its
    /// `arch_tlb` entry before the access), which Xen's vTLB serves to the
    /// emulator as the TLB would to the CPU.
    pub fn second_page_without_ram(
        &self,
        acc: Access,
        second: &checker::Expect,
        cached: &[(u64, u8)],
    ) -> bool {
        let now = match &second.outcome {
            super::oracle::Outcome::Ok { gpa, .. } => Some(gpa >> PAGE_SHIFT),
            _ => None,
        };
        let served = vtlb_kinds_allowing(acc);
        now.into_iter()
            .chain(
                cached
                    .iter()
                    .filter(|(_, k)| k & served != 0)
                    .map(|(f, _)| *f),
            )
            .any(|f| {
                let t = self.sim.p2m(f).1;
                !t.is_ram() && !t.is_discard_write()
            })
    }

    /// A livelock of page-crossing writes, in C as in the port: a
    /// supervisor write whose first page is emulated and whose second page
    /// the emulator cannot map (`second_no_ram`,
    /// [`Guest::second_page_without_ram`]), so the emulation fails,
    /// the fault handler unshadows the first page and reports the fault
    /// fixed, and the retry is emulated again.  The first page's write is
    /// emulated every time when
    ///
    /// * it is a page table on the write's own walk (the retry's walk
    ///   shadows it again), or
    /// * CR0.WP is clear and the guest maps it read-only (multi.c emulates
    ///   supervisor writes through read-only mappings when WP is clear).
    pub fn expected_livelock_crossing(
        &self,
        v: usize,
        acc: Access,
        first: &checker::Expect,
        second: &checker::Expect,
        second_no_ram: bool,
    ) -> bool {
        use super::oracle::Outcome;
        let Outcome::Ok {
            gpa: g1,
            walked: w1,
        } = &first.outcome
        else {
            return false;
        };
        let w2: &[u64] = match &second.outcome {
            Outcome::Ok { walked, .. } => walked,
            _ => &[],
        };
        let on_walk = w1
            .iter()
            .chain(w2)
            .any(|a| a >> PAGE_SHIFT == g1 >> PAGE_SHIFT);
        let wp_off_read_only = !self.sim.cr3_and_mode(v).2.wp && !self.walk_writable(w1);
        !acc.user && acc.write && second_no_ram && (on_walk || wp_off_read_only)
    }

    /// Records that vCPU `v` translated the page of `va` for `acc` as
    /// `e` says: the CPU (or Xen's vTLB) may cache it until the next flush.
    fn remember(&mut self, v: usize, va: u64, acc: Access, e: &checker::Expect) {
        if let super::oracle::Outcome::Ok { gpa, .. } = &e.outcome {
            let entry = self.arch_tlb.entry((v, va >> PAGE_SHIFT)).or_default();
            let page = gpa >> PAGE_SHIFT;
            match entry.iter_mut().find(|(p, _)| *p == page) {
                Some((_, k)) => *k |= kind_bit(acc),
                None => entry.push((page, kind_bit(acc))),
            }
        }
    }

    /// Whether every entry of a walk (`walked`: the guest-physical
    /// addresses of the entries the oracle read) has RW set.
    fn walk_writable(&self, walked: &[u64]) -> bool {
        let size = if self.sim.levels() == 2 { 4 } else { 8 };
        walked.iter().all(|&a| {
            let (m, t) = self.sim.p2m(a >> PAGE_SHIFT);
            t.is_ram() && self.sim.read_bytes(m, (a & !PAGE_MASK) as usize, size) & 2 != 0
        })
    }

    /// A user-mode write to a page table that translates the written
    /// address itself never completes, in C as in the port: each fault
    /// unshadows the page (user-mode page-table writes are not emulated),
    /// the retry re-shadows it on the way to the same write.  The guest
    /// livelocks; Xen stays healthy.
    ///
    /// Likewise, with CR0.WP clear, a supervisor write through a read-only
    /// mapping of direct MMIO: the fault handler emulates it (WP=0 case),
    /// the emulator cannot map MMIO for writing (`emulate_gva_to_mfn`:
    /// not RAM), the failed emulation unshadows and reports the fault
    /// fixed, and the guest retries forever.
    ///
    /// Either can be the second page of a page-crossing access (its first
    /// page translating normally).
    pub fn expected_livelock(&self, v: usize, acc: Access, e: &checker::Expect) -> bool {
        let super::oracle::Outcome::Ok { gpa, walked } = &e.outcome else {
            return false;
        };
        let self_map =
            acc.user && acc.write && walked.iter().any(|a| a >> PAGE_SHIFT == gpa >> PAGE_SHIFT);
        let wp_off_mmio = !acc.user
            && acc.write
            && !self.sim.cr3_and_mode(v).2.wp
            && self.sim.p2m(gpa >> PAGE_SHIFT).1 == P2mType::MmioDirect;
        self_map || wp_off_mmio
    }

    /// Decodes one operation from `b`.
    pub fn decode(&self, b: &mut Bytes<'_>) -> Op {
        let op = self.decode_raw(b);
        if self.sim.levels() == 4 {
            return op;
        }
        // 32-bit guests have 32-bit addresses.
        match op {
            Op::Access {
                va,
                acc,
                bytes,
                val,
            } => Op::Access {
                va: va & 0xffff_ffff,
                acc,
                bytes,
                val,
            },
            Op::Invlpg { va } => Op::Invlpg {
                va: va & 0xffff_ffff,
            },
            o => o,
        }
    }

    fn decode_raw(&self, b: &mut Bytes<'_>) -> Op {
        let gfns = self.sim.gfn_count().max(1);
        let physmap = self.physmap();
        let sel = b.u8();
        let va_of = |b: &mut Bytes<'_>| -> u64 {
            let k = b.u8();
            match k % 8 {
                // a user page
                0..=2 => (u64::from(b.u16()) % USER_PAGES) << PAGE_SHIFT | u64::from(b.u8() & 0xf8),
                // the direct map: any guest frame (page tables included)
                3..=5 => {
                    physmap
                        + ((u64::from(b.u8()) % (gfns + 2)) << PAGE_SHIFT)
                        + u64::from(b.u16() & 0xfff)
                }
                // anything
                _ => b.u64() & 0xffff_ffff_ffff_f000 | u64::from(b.u8()),
            }
        };
        match sel % 16 {
            0..=3 => {
                let k = b.u8();
                let acc = Access {
                    write: k & 1 != 0,
                    user: k & 2 != 0,
                    fetch: k & 1 == 0 && k & 4 != 0,
                };
                let bytes = 1u32 << (b.u8() % 4);
                let va = va_of(b);
                Op::Access {
                    va,
                    acc,
                    bytes,
                    val: b.u64(),
                }
            }
            4..=9 => {
                // A PTE write through the direct map: an entry of any
                // frame, with a value built from a frame and flags, or raw.
                // Mostly the boot tables (whose entries the checker's
                // addresses go through), else any frame.
                let g8 = b.u8();
                let gfn = if g8 & 1 == 0 {
                    u64::from(g8 >> 1) % FIRST_DATA
                } else {
                    u64::from(g8 >> 1) % gfns
                };
                let i16 = b.u16();
                // Low indices (VA 0.., where the user pages are) are likelier.
                let idx = if i16 & 0x8000 != 0 {
                    u64::from(i16 & 511)
                } else {
                    u64::from(i16 & 3)
                };
                let kind = b.u8();
                let bytes = match kind % 8 {
                    0 => 1,
                    1 => 2,
                    2 | 3 => 4,
                    _ => 8,
                };
                let sub = if bytes == 8 {
                    0
                } else {
                    u64::from(b.u8() % 8) & !(u64::from(bytes) - 1)
                };
                let target = u64::from(b.u8()) % (gfns + 1);
                let mut fl = u64::from(b.u16());
                if fl & 0x4000 == 0 {
                    // Usually present.
                    fl |= 1;
                }
                let val = if kind & 0x80 != 0 {
                    b.u64()
                } else {
                    let nx = if fl & 0x8000 != 0 { 1 << 63 } else { 0 };
                    (target << PAGE_SHIFT) | (fl & 0x1ff) | nx
                };
                let val = if bytes == 8 { val } else { val >> (8 * sub) };
                Op::Access {
                    va: physmap + (gfn << PAGE_SHIFT) + idx * 8 + sub,
                    acc: Access::W,
                    bytes,
                    val,
                }
            }
            10 | 11 => {
                let k = b.u8();
                let gfn = match k % 4 {
                    0 => ROOT_A,
                    1 => ROOT_B,
                    2 => self
                        .cr3
                        .get(self.sim.current_vcpu())
                        .copied()
                        .unwrap_or(ROOT_A),
                    _ => u64::from(b.u8()) % gfns,
                };
                Op::LoadCr3 { gfn }
            }
            12 => Op::Invlpg { va: va_of(b) },
            13 => match b.u8() % 8 {
                0 => Op::LogDirtyEnable,
                1 => Op::LogDirtyClean,
                2 => Op::LogDirtyDisable,
                3 => Op::BlowTables,
                4 => Op::PagetableDying {
                    gpa: (u64::from(b.u8()) % gfns) << PAGE_SHIFT,
                },
                _ => Op::Switch {
                    vcpu: usize::from(b.u8()) % self.sim.vcpu_count(),
                },
            },
            _ => {
                // Read back through the direct map (a guest inspecting its
                // own tables).
                let gfn = u64::from(b.u8()) % gfns;
                Op::Access {
                    va: physmap + (gfn << PAGE_SHIFT) + (u64::from(b.u16() & 511) << 3),
                    acc: Access::R,
                    bytes: 8,
                    val: 0,
                }
            }
        }
    }

    /// Runs one operation and checks the invariants afterwards.
    pub fn step(&mut self, op: Op) -> Result<(), Violation> {
        self.ops += 1;
        if self.keep_log {
            self.log.push(std::format!("{op:?}"));
        }
        let v = self.sim.current_vcpu();
        match op {
            Op::Access {
                va,
                acc,
                bytes,
                val,
            } => {
                let expect = checker::expect(self, v, va, acc);
                let cached = self
                    .arch_tlb
                    .get(&(v, va >> PAGE_SHIFT))
                    .cloned()
                    .unwrap_or_default();
                self.remember(v, va, acc, &expect);
                let before = checker::target_snapshot(self, &expect, va, bytes);
                let mmio_before = self.sim.mmio_log().len();
                // The frame a fast emulation of this write would go to.
                let fast_emul = {
                    let st = self.sim.st.borrow();
                    let vs = &st.vcpus[v];
                    (vs.last_write_emul_ok && vs.last_emulated_frame == va >> PAGE_SHIFT)
                        .then_some(Mfn(vs.last_emulated_mfn))
                };
                // A page-crossing access also needs its second page: what
                // the oracle says there (for the livelocks it may hit).
                let width = match bytes {
                    1 | 2 | 4 | 8 => bytes,
                    _ => 8,
                };
                let last = va.wrapping_add(u64::from(width) - 1);
                let second = (last >> PAGE_SHIFT != va >> PAGE_SHIFT)
                    .then(|| checker::expect(self, v, last & PAGE_MASK, acc));
                // (Judged on what the vCPU had cached for the second page
                // before this access.)
                let second_no_ram = second.as_ref().is_some_and(|e| {
                    let cached = self.arch_tlb.get(&(v, last >> PAGE_SHIFT));
                    self.second_page_without_ram(acc, e, cached.map_or(&[], |c| c.as_slice()))
                });
                if let Some(e) = &second {
                    self.remember(v, last, acc, e);
                }
                let seen = match self.access(v, va, acc, bytes, val) {
                    Err(Violation::NoProgress { .. })
                        if self.expected_livelock(v, acc, &expect)
                            || second.as_ref().is_some_and(|e| {
                                self.expected_livelock(v, acc, e)
                                    || self.expected_livelock_crossing(
                                        v,
                                        acc,
                                        &expect,
                                        e,
                                        second_no_ram,
                                    )
                            }) =>
                    {
                        return checker::check_global(self);
                    }
                    r => r?,
                };
                // (A user write's crash may come from either page, as the
                // livelocks may.)
                if self.expected_crash(acc, &expect, second_no_ram, fast_emul)
                    || second
                        .as_ref()
                        .is_some_and(|e| self.expected_crash(acc, e, false, None))
                {
                    self.dead = true;
                    return Ok(());
                }
                if let Some(why) = self.sim.crashed() {
                    return Err(Violation::State(std::format!("domain crashed: {why}")));
                }
                checker::check_access(
                    self,
                    &cached,
                    v,
                    va,
                    acc,
                    bytes,
                    val,
                    &expect,
                    seen,
                    before,
                    mmio_before,
                )?;
            }
            Op::LoadCr3 { gfn } => {
                if self.load_cr3(v, gfn) {
                    self.arch_tlb.retain(|(cv, _), _| *cv != v);
                    return checker::check_global_flushed(self, Some(v));
                }
            }
            Op::Invlpg { va } => {
                self.arch_tlb.remove(&(v, va >> PAGE_SHIFT));
                if by_level!(
                    self.sim.levels(),
                    crate::tlb::sh_invlpg(&self.sim, v as u32, va)
                ) {
                    self.sim.st.borrow_mut().vcpus[v]
                        .tlb
                        .remove(&(va >> PAGE_SHIFT));
                }
            }
            Op::PagetableDying { gpa } => {
                by_level!(
                    self.sim.levels(),
                    crate::dying::sh_pagetable_dying(&self.sim, v as u32, gpa)
                )
            }
            Op::LogDirtyEnable => self.sim.log_dirty_enable(),
            Op::LogDirtyClean => {
                self.sim.log_dirty_clean();
            }
            Op::LogDirtyDisable => self.sim.log_dirty_disable(),
            Op::BlowTables => {
                self.sim.lock();
                self.sim.blow_tables();
                self.sim.unlock();
            }
            Op::Switch { vcpu } => self.sim.set_current(vcpu),
        }
        checker::check_global(self)
    }

    /// Interprets `data` as operations until it is exhausted or `max_ops`
    /// ran; the first violation is returned.
    pub fn run_bytes(&mut self, data: &[u8], max_ops: usize) -> Result<(), Finding> {
        let mut b = Bytes::new(data);
        let mut n = 0;
        while !b.done() && n < max_ops && !self.dead {
            let op = self.decode(&mut b);
            let index = self.ops;
            self.step(op).map_err(|violation| Finding {
                op,
                index,
                violation,
            })?;
            n += 1;
        }
        Ok(())
    }
}

/// A machine configuration chosen by a byte (fuzz targets vary the pool
/// size, vCPU count, CPU mode and the direct map's page size).
pub fn config_from_byte(k: u8, k2: u8) -> (Config, bool) {
    let cfg = Config {
        levels: [4, 4, 3, 2][usize::from(k2 >> 6)],
        vcpus: 1 + usize::from(k & 1),
        // Small pools for pressure, but never below the working set
        // of one fault (top levels: 4 pages per vCPU for 2-level guests).
        pool: [24, 32, 64, 256][usize::from((k >> 1) & 3)],
        mode: CpuMode {
            wp: k & 0x08 == 0,
            nx: k & 0x10 == 0,
            smep: k & 0x20 != 0,
            smap: k & 0x40 != 0,
            pse: true,
        },
        ram: 24 + u64::from(k2 % 48),
        ..Config::default()
    };
    (cfg, k & 0x80 != 0)
}

/// Compares the walk Xen does (the simulator's `guest_walk_tables` with the
/// port's reserved-bit and gfn helpers) with the oracle on guest tables
/// made of raw bytes: for a few addresses and every access, the same
/// translation or the same error code.  (The fuzz target `walk_compare`.)
pub fn walk_compare(data: &[u8]) -> Result<(), Violation> {
    let mut b = Bytes::new(data);
    let k = b.u8();
    let levels = [4u32, 4, 3, 2][usize::from((k >> 4) & 3)];
    let cfg = Config {
        levels,
        ram: 16,
        pool: 8,
        mode: CpuMode {
            wp: k & 1 != 0,
            nx: k & 2 != 0,
            smep: k & 4 != 0,
            smap: k & 8 != 0,
            pse: true,
        },
        ..Config::default()
    };
    let sim = Sim::new(&cfg);
    let gfns = sim.gfn_count();
    let wide = levels >= 3;
    // Root in gfn 0; entries of gfns 0..4 from the input: a frame number
    // (mostly small, so that walks continue) and raw flag/high bits.
    for t in 0..4u64 {
        let (m, _) = sim.p2m(t);
        for i in 0..4usize {
            let kind = b.u8();
            let tb = u64::from(b.u8());
            // Mostly another table, so that walks go deep.
            let target = if kind & 0x20 == 0 {
                tb % 4
            } else {
                tb % (gfns + 2)
            };
            let raw = b.u64();
            let e = if kind & 0x80 != 0 {
                raw
            } else {
                (raw & 0xfff0_0000_0000_0fff) | (target << PAGE_SHIFT)
            };
            // Entries 0..3, and the same at the end (high addresses).
            if wide {
                let idx = if kind & 0x40 != 0 { 511 - i } else { i };
                sim.write64(m, idx, e);
            } else {
                let idx = if kind & 0x40 != 0 { 1023 - i } else { i };
                sim.write_bytes(m, idx * 4, 4, e);
            }
        }
    }
    let (root, _) = sim.p2m(0);
    {
        let mut st = sim.st.borrow_mut();
        st.vcpus[0].guest_cr3 = 0;
        st.vcpus[0].guest_table = root;
        for i in 0..4 {
            st.vcpus[0].gl3e[i] = sim.read64(root, i);
        }
    }
    let pdptes = (levels == 3).then(|| *sim.st.borrow().vcpus[0].gl3e);
    let cpu = super::oracle::Cpu {
        levels,
        wp: cfg.mode.wp,
        nxe: cfg.mode.nx && levels >= 3,
        smep: cfg.mode.smep,
        smap: cfg.mode.smap,
        pse: true,
        maxphyaddr: sim.maxphysaddr(),
    };
    for _ in 0..4 {
        let sel = b.u16();
        let lo = u64::from(b.u16() & 0xfff);
        let bits = |x: u16, sh: u32| u64::from(x & 3) << sh;
        let va = match levels {
            4 => {
                let page =
                    bits(sel, 0) | bits(sel >> 2, 9) | bits(sel >> 4, 18) | bits(sel >> 6, 27);
                let va = (page << PAGE_SHIFT) | lo;
                if sel & 0x100 != 0 {
                    // The top of each table: the upper half.
                    !va & 0xffff_ffff_ffff_f000 | lo
                } else {
                    va
                }
            }
            3 => {
                let va =
                    ((bits(sel, 0) | bits(sel >> 2, 9) | bits(sel >> 4, 18)) << PAGE_SHIFT) | lo;
                if sel & 0x100 != 0 {
                    !va & 0xffff_f000 | lo
                } else {
                    va
                }
            }
            _ => {
                let va = ((bits(sel, 0) | bits(sel >> 2, 10)) << PAGE_SHIFT) | lo;
                if sel & 0x100 != 0 {
                    !va & 0xffff_f000 | lo
                } else {
                    va
                }
            }
        };
        for (write, user, fetch) in [
            (false, false, false),
            (true, false, false),
            (false, true, false),
            (true, true, false),
            (false, false, true),
            (false, true, true),
        ] {
            let acc = Access { write, user, fetch };
            let rd = |a: u64, n: u32| -> Option<u64> {
                let (m, t) = sim.p2m(a >> PAGE_SHIFT);
                (t.is_ram() && sim.owner(m) == Owner::Guest)
                    .then(|| sim.read_bytes(m, (a & 0xfff) as usize, n as usize))
            };
            let want = super::oracle::translate(
                &cpu,
                &rd,
                0,
                pdptes,
                va,
                super::oracle::Acc { write, user, fetch },
            );
            let (ok, gw, got) = match levels {
                4 => {
                    let (ok, gw) = sim.xen_guest_walk::<G4>(0, va, acc.pfec(), root);
                    (ok, gw, crate::walk::guest_walk_to_gpa::<G4>(&gw))
                }
                3 => {
                    let (ok, gw) = sim.xen_guest_walk::<G3>(0, va, acc.pfec(), INVALID_MFN);
                    (ok, gw, crate::walk::guest_walk_to_gpa::<G3>(&gw))
                }
                _ => {
                    let (ok, gw) = sim.xen_guest_walk::<G2>(0, va, acc.pfec(), root);
                    (ok, gw, crate::walk::guest_walk_to_gpa::<G2>(&gw))
                }
            };
            let same = match &want {
                super::oracle::Outcome::Ok { gpa, .. } => ok && got == *gpa,
                super::oracle::Outcome::Fault(ec) => !ok && gw.pfec & 0xffff == *ec,
            };
            if !same {
                return Err(Violation::Access {
                    va,
                    what: std::format!(
                        "{levels}-level {acc:?}: Xen's walk gives ok={ok} gpa={got:#x} pfec={:#x}, oracle {want:?}",
                        gw.pfec
                    ),
                });
            }
        }
    }
    if sim.live_mappings() != 0 {
        return Err(Violation::State("walk leaked a mapping".into()));
    }
    Ok(())
}

/// Decodes raw bytes as PTE writes through the direct map (12 bytes each:
/// frame, entry, width and offset, value), each followed by a user access
/// at the address the entry maps if it is a boot L1, and a CR3 reload
/// every 8 writes.  (The fuzz target `pte_writes`.)
pub fn pte_write_ops(data: &[u8]) -> Vec<Op> {
    pte_write_ops_for(data, 4)
}

/// [`pte_write_ops`] for a guest with `levels` paging levels.
pub fn pte_write_ops_for(data: &[u8], levels: u32) -> Vec<Op> {
    let physmap = physmap_of(levels);
    let mut ops = Vec::new();
    let mut b = Bytes::new(data.get(1..).unwrap_or(&[]));
    let mut n = 0u32;
    while !b.done() && ops.len() < 96 {
        let gfn = u64::from(b.u8()) % FIRST_DATA;
        let idx = u64::from(b.u16() & 511);
        let w = b.u8();
        let bytes = 1u32 << (w & 3);
        let sub = u64::from((w >> 2) & 7) & !(u64::from(bytes) - 1);
        let val = b.u64();
        ops.push(Op::Access {
            va: physmap + (gfn << PAGE_SHIFT) + idx * 8 + sub,
            acc: Access::W,
            bytes,
            val,
        });
        let user_va = match gfn {
            USER_L1A => Some(idx << PAGE_SHIFT),
            USER_L1B => Some((512 + idx) << PAGE_SHIFT),
            _ => None,
        };
        if let Some(va) = user_va {
            ops.push(Op::Access {
                va,
                acc: Access {
                    write: w & 0x20 != 0,
                    user: w & 0x40 != 0,
                    fetch: false,
                },
                bytes: 8,
                val,
            });
        }
        n += 1;
        if n % 8 == 0 {
            ops.push(Op::LoadCr3 {
                gfn: if w & 0x80 != 0 { ROOT_B } else { ROOT_A },
            });
        }
    }
    ops
}
