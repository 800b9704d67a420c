//! A host-side model of the parts of Xen the shadow code runs on (issue 5).
//!
//! [`Sim`] implements every platform trait (`Core`, `WalkOps`, `ShadowOps`,
//! `Cr3Ops`, `FaultOps`) on simulated memory, so the port's algorithms run
//! unchanged under `cargo test` and `cargo fuzz`:
//!
//! * physical frames (`mem`), each with a frame-table record ([`Frame`]):
//!   guest RAM, shadow pool pages, Xen pages (monitor tables, OOS
//!   snapshots) and direct-MMIO frames owned by `dom_io`;
//! * a p2m with types (`ram_rw`, `ram_ro`, `mmio_dm`, `mmio_direct`, holes);
//! * common.c's shadow machinery re-implemented from its semantics
//!   (`common.rs`): the pool of a configurable number of pages with
//!   `shadow_alloc`/`shadow_free`/`shadow_prealloc` (unpin, then unhook the
//!   top levels), pinning, the shadow hash, `sh_get_ref`/`sh_put_ref` with
//!   up-pointers, promotion, `shadow_set_lNe` (set.c) with page and type
//!   reference counts, write-access and shadow removal, out-of-sync L1s
//!   with snapshots and fixups, `sh_set_toplevel_shadow`, log-dirty;
//! * the guest walk Xen does in guest_walk.c (`xwalk.rs`, written after
//!   Xen's walker; the independent oracle is `oracle.rs`);
//! * an MMU that walks the installed shadow tables as the hardware would,
//!   with a TLB (`mmu.rs`), and Xen's linear maps through the monitor table;
//! * the emulation hook of page-table writes (hvm.c `hvm_emulate_write`:
//!   no decoding, the write is "value V of width W at address A").
//!
//! `guest.rs` drives a simulated guest (accesses, PTE writes, CR3 loads,
//! INVLPG, log-dirty, pool pressure) and `checker.rs` checks the shadows
//! against the oracle after every step.  Supported: HVM (PVH) guests with
//! 2-, 3- and 4-level paging (PAE shadows for the first two); PV guests
//! (Xen's L4 slots) are not modelled.

// The access-rights rules read best as the manuals state them.
#![allow(clippy::nonminimal_bool)]

/// Calls the port's `f::<Sim, L>(args)` for the domain's guest level.
macro_rules! by_level {
    ($lv:expr, $($f:ident)::+ ($($a:expr),* $(,)?)) => {
        match $lv {
            2 => $($f)::+::<$crate::sim::Sim, $crate::level::G2>($($a),*),
            3 => $($f)::+::<$crate::sim::Sim, $crate::level::G3>($($a),*),
            _ => $($f)::+::<$crate::sim::Sim, $crate::level::G4>($($a),*),
        }
    };
}

pub mod checker;
mod common;
pub mod guest;
pub mod mmu;
pub mod oracle;
mod platform;
pub mod xwalk;

#[cfg(test)]
mod tests;

use core::cell::{RefCell, UnsafeCell};
use std::boxed::Box;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::vec::Vec;

use crate::types::*;

/// The first machine frame number of simulated memory.  Machine frames are
/// deliberately far from guest frame numbers, so that a gfn used as an mfn
/// (or the other way round) is an invalid frame, not a silent alias.
pub const MFN_BASE: u64 = 0x10_0000;

/// `SHADOW_OOS_PAGES`, `SHADOW_OOS_FIXUPS` (asm/domain.h).
pub const OOS_PAGES: usize = 3;
pub const OOS_FIXUPS: usize = 2;

/// `PAGE_SH_REFCOUNT_WIDTH` (asm/mm.h): shadow reference counts are 25-bit.
pub const SH_REFCOUNT_WIDTH: u32 = 25;

/// Xen's virtual addresses of its linear page tables (asm/config.h): PML4
/// slot 258 maps the current root onto itself, slot 259 is the shadow
/// linear map.
pub const LINEAR_PT_VIRT_START: u64 = 0xffff_8100_0000_0000;
pub const SH_LINEAR_PT_VIRT_START: u64 = crate::cr3::SH_LINEAR_PT_VIRT_START;

/// The physical address width the simulated CPU reports (`paddr_bits`).
/// Below 52, so the fast-path "magic" entries with reserved bits are in use.
pub const PADDR_BITS_SIM: u32 = 46;

#[repr(C, align(4096))]
struct Page([u64; 512]);

/// Who owns a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// Not allocated to anyone.
    None,
    /// RAM of the (only) guest domain.
    Guest,
    /// A page of the shadow pool (free or in use).
    Shadow,
    /// Xen's own pages: monitor tables, OOS snapshots.
    Xen,
    /// Direct MMIO, owned by `dom_io`.
    Io,
}

/// The frame-table record of one frame (`struct page_info`, the fields the
/// shadow code uses).
#[derive(Clone, Debug)]
pub struct Frame {
    pub owner: Owner,
    // shadow pages (`u.sh`, `up`, `v.sh.back`, pool list links)
    pub sh_type: u32,
    pub head: bool,
    pub pinned: bool,
    pub count: u32,
    pub up: u64,
    pub back: u64,
    /// The next page of a multi-page shadow (2-level guests).
    pub next: Mfn,
    // guest pages (`count_info`, `u.inuse.type_info`, `shadow_flags`)
    pub page_table: bool,
    pub shadow_flags: u32,
    pub pagetable_dying: bool,
    /// General references (`count_info & PGC_count_mask`) beyond the
    /// allocation reference.
    pub refs: u64,
    /// Writable type references (`type_info & PGT_count_mask`).
    pub type_count: u64,
}

impl Frame {
    fn new(owner: Owner) -> Frame {
        Frame {
            owner,
            sh_type: 0,
            head: false,
            pinned: false,
            count: 0,
            up: 0,
            back: 0,
            next: INVALID_MFN,
            page_table: false,
            shadow_flags: 0,
            pagetable_dying: false,
            refs: 0,
            type_count: 0,
        }
    }
}

/// `struct oos_fixup`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OosFixup {
    pub next: usize,
    pub smfn: [Mfn; OOS_FIXUPS],
    pub off: [u64; OOS_FIXUPS],
}

impl OosFixup {
    const EMPTY: OosFixup = OosFixup {
        next: 0,
        smfn: [INVALID_MFN; OOS_FIXUPS],
        off: [0; OOS_FIXUPS],
    };
}

/// One TLB entry: a translation the simulated CPU cached from the shadow
/// tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlbEntry {
    pub mfn: Mfn,
    pub rw: bool,
    pub user: bool,
    pub nx: bool,
}

/// The guest-visible control state of a vCPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuMode {
    pub wp: bool,
    pub nx: bool,
    pub smep: bool,
    pub smap: bool,
    pub pse: bool,
}

/// Per-vCPU state (`struct vcpu` and `v->arch.paging`).
#[derive(Clone, Debug)]
pub struct VcpuState {
    pub mode: CpuMode,
    /// The guest's CR3 (`v->arch.hvm.guest_cr[3]`).
    pub guest_cr3: u64,
    /// `v->arch.guest_table`.
    pub guest_table: Mfn,
    pub shadow_table: [Mfn; 4],
    pub l3table: [u64; 4],
    pub gl3e: Box<[u64; 4]>,
    pub monitor: Mfn,
    /// 2- and 3-level guests: the monitor L2 behind the shadow linear slot,
    /// and the frame holding the PAE top level the hardware runs on
    /// (`v->arch.paging.shadow.l3table`).
    pub monitor_l2: Mfn,
    pub l3frame: Mfn,
    pub hw_cr3: u64,
    pub arch_cr3: Mfn,
    pub oos: [Mfn; OOS_PAGES],
    pub oos_snapshot: [Mfn; OOS_PAGES],
    pub oos_fixup: [OosFixup; OOS_PAGES],
    pub last_writeable_pte_smfn: Mfn,
    pub last_write_emul_ok: bool,
    pub last_write_was_pt: bool,
    pub last_emulated_frame: u64,
    pub last_emulated_mfn: u64,
    pub last_emulated_mfn_for_unshadow: u64,
    pub pagetable_dying: bool,
    /// The virtual TLB of gva_to_gfn: slot -> (page, gfn, pfec).
    pub vtlb: HashMap<u64, (u64, u64, u32)>,
    /// The simulated hardware TLB.
    pub tlb: HashMap<u64, TlbEntry>,
}

/// Per-domain state (`struct domain`, `d->arch.paging`, the p2m).
#[derive(Clone, Debug)]
pub struct DomState {
    /// Guest paging levels of the domain's vCPUs (2, 3 or 4).
    pub levels: u32,
    pub log_dirty: bool,
    /// The log-dirty bitmap, as the set of dirty guest frames (mfns).
    pub dirty: BTreeSet<u64>,
    pub dying: bool,
    pub shutting_down: bool,
    /// Why `domain_crash` was called, if it was.
    pub crashed: Option<&'static str>,
    pub opt_flags: u32,
    pub oos_active: bool,
    pub gtable_dirty_version: u32,
    pub pagetable_dying_op: bool,
    pub fault_count: u64,
    /// The p2m: gfn -> (mfn, type); gfns past the end are holes.
    pub p2m: Vec<(Mfn, P2mType)>,
    pub maxphysaddr: u32,
    pub has_fast_mmio_entries: bool,
    // the shadow pool (`d->arch.paging.shadow`)
    pub total_pages: u32,
    pub freelist: VecDeque<Mfn>,
    /// Pinned shadows, head first (every page of multi-page shadows).
    pub pinned: VecDeque<Mfn>,
    /// The shadow hash, keyed on (backpointer, type).
    pub hash: BTreeMap<(u64, u32), Mfn>,
}

/// Counters of interesting events, for tests and the fuzz statistics.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub faults: u64,
    pub fixed: u64,
    pub reflected: u64,
    pub emulated_writes: u64,
    pub mmio: u64,
    pub unshadows: u64,
    pub prealloc_unpins: u64,
    pub prealloc_unhooks: u64,
    pub resyncs: u64,
    pub unsyncs: u64,
    pub tlb_flushes: u64,
    pub domain_crashes: u64,
}

/// The pending emulation: what the faulting instruction writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingWrite {
    pub va: u64,
    pub bytes: u32,
    pub val: u64,
}

/// What the emulator did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmulOutcome {
    /// The write was performed (or discarded as a write to read-only RAM).
    Written,
    /// The emulator raised a #PF with this error code.
    PageFault(u32),
    /// The emulator could not handle the write.
    Unhandleable,
}

pub(crate) struct State {
    pub frames: Vec<Frame>,
    pub dom: DomState,
    pub vcpus: Vec<VcpuState>,
    pub current: usize,
    /// Depth of the (recursive) paging lock.
    pub lock_depth: u32,
    /// Live `map_domain_page` mappings.
    pub maps: i64,
    /// The faulting context's error code (`regs->error_code`).
    pub error_code: u32,
    pub regs_user: bool,
    pub regs_fetch: bool,
    pub pending: Option<PendingWrite>,
    pub emul: Option<EmulOutcome>,
    pub injected: Option<(u32, i32)>,
    pub mmio: Vec<(u64, bool)>,
    /// Shadow pages freed since the last full TLB flush.
    pub freed_since_flush: BTreeSet<u64>,
    pub stats: Stats,
    pub trace_flags: u32,
    pub trace_emulate_write_val: u64,
    pub trace_initial_va: u32,
    pub trace_extra: u32,
}

/// The simulated machine with one HVM domain.
pub struct Sim {
    mem: Box<[UnsafeCell<Page>]>,
    pub(crate) st: RefCell<State>,
}

/// Configuration of a simulated domain.
#[derive(Clone, Debug)]
pub struct Config {
    /// Guest paging levels (only 4 is supported so far).
    pub levels: u32,
    pub vcpus: usize,
    /// Guest RAM frames (gfns `0..ram`).
    pub ram: u64,
    /// Shadow pool pages.
    pub pool: u32,
    /// gfns after RAM: read-only RAM frames, then emulated MMIO, then direct
    /// MMIO frames; then holes.
    pub ram_ro: u64,
    pub mmio_dm: u64,
    pub mmio_direct: u64,
    pub mode: CpuMode,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            levels: 4,
            vcpus: 1,
            ram: 64,
            pool: 256,
            ram_ro: 2,
            mmio_dm: 2,
            mmio_direct: 1,
            mode: CpuMode {
                wp: true,
                nx: true,
                smep: false,
                smap: false,
                pse: true,
            },
        }
    }
}

impl Sim {
    /// Builds the machine: memory, p2m, pool, vCPUs with monitor tables.
    pub fn new(cfg: &Config) -> Sim {
        assert!(
            (2..=4).contains(&cfg.levels),
            "guest levels must be 2, 3 or 4"
        );
        let vcpus = cfg.vcpus.max(1);
        let guest = cfg.ram + cfg.ram_ro;
        // guest RAM, direct MMIO, the pool, per vCPU a monitor table (with
        // an L3, an L2 and the PAE top level for 2- and 3-level guests)
        // and OOS snapshots.
        let per_vcpu = if cfg.levels < 4 { 4 } else { 1 } + OOS_PAGES as u64;
        let n = guest + cfg.mmio_direct + u64::from(cfg.pool) + vcpus as u64 * per_vcpu;
        let mem: Box<[UnsafeCell<Page>]> =
            (0..n).map(|_| UnsafeCell::new(Page([0; 512]))).collect();
        let mut frames = Vec::with_capacity(n as usize);
        let mut next = MFN_BASE;
        let mut take = |frames: &mut Vec<Frame>, owner| {
            frames.push(Frame::new(owner));
            next += 1;
            Mfn(next - 1)
        };

        let mut p2m = Vec::new();
        // Guest RAM is laid out backwards, so that gfn order is not mfn
        // order either.
        let mut ram_mfns: Vec<Mfn> = (0..guest)
            .map(|_| take(&mut frames, Owner::Guest))
            .collect();
        ram_mfns.reverse();
        for (i, m) in ram_mfns.iter().enumerate() {
            let t = if (i as u64) < cfg.ram {
                P2mType::RamRw
            } else {
                P2mType::RamRo
            };
            p2m.push((*m, t));
        }
        for _ in 0..cfg.mmio_dm {
            p2m.push((INVALID_MFN, P2mType::MmioDm));
        }
        for _ in 0..cfg.mmio_direct {
            let m = take(&mut frames, Owner::Io);
            p2m.push((m, P2mType::MmioDirect));
        }
        let mut freelist = VecDeque::new();
        for _ in 0..cfg.pool {
            let m = take(&mut frames, Owner::Shadow);
            freelist.push_back(m);
        }
        let mut vs = Vec::new();
        for _ in 0..vcpus {
            let monitor = take(&mut frames, Owner::Xen);
            let (monitor_l3, monitor_l2, l3frame) = if cfg.levels < 4 {
                (
                    take(&mut frames, Owner::Xen),
                    take(&mut frames, Owner::Xen),
                    take(&mut frames, Owner::Xen),
                )
            } else {
                (INVALID_MFN, INVALID_MFN, INVALID_MFN)
            };
            let _ = monitor_l3;
            let mut snaps = [INVALID_MFN; OOS_PAGES];
            for s in snaps.iter_mut() {
                *s = take(&mut frames, Owner::Xen);
            }
            vs.push(VcpuState {
                mode: cfg.mode,
                guest_cr3: 0,
                guest_table: INVALID_MFN,
                shadow_table: [Mfn(0); 4],
                l3table: [0; 4],
                gl3e: Box::new([0; 4]),
                monitor,
                monitor_l2,
                l3frame,
                hw_cr3: 0,
                arch_cr3: monitor,
                oos: [INVALID_MFN; OOS_PAGES],
                oos_snapshot: snaps,
                oos_fixup: [OosFixup::EMPTY; OOS_PAGES],
                last_writeable_pte_smfn: Mfn(0),
                last_write_emul_ok: false,
                last_write_was_pt: false,
                last_emulated_frame: 0,
                last_emulated_mfn: 0,
                last_emulated_mfn_for_unshadow: 0,
                pagetable_dying: false,
                vtlb: HashMap::new(),
                tlb: HashMap::new(),
            });
        }
        let sim = Sim {
            mem,
            st: RefCell::new(State {
                frames,
                dom: DomState {
                    levels: cfg.levels,
                    log_dirty: false,
                    dirty: BTreeSet::new(),
                    dying: false,
                    shutting_down: false,
                    crashed: None,
                    opt_flags: 0x1ff & !shopt::LINUX_L3_TOPLEVEL,
                    oos_active: true,
                    gtable_dirty_version: 0,
                    pagetable_dying_op: false,
                    fault_count: 0,
                    p2m,
                    maxphysaddr: 40,
                    has_fast_mmio_entries: false,
                    total_pages: cfg.pool,
                    freelist,
                    pinned: VecDeque::new(),
                    hash: BTreeMap::new(),
                },
                vcpus: vs,
                current: 0,
                lock_depth: 0,
                maps: 0,
                error_code: 0,
                regs_user: false,
                regs_fetch: false,
                pending: None,
                emul: None,
                injected: None,
                mmio: Vec::new(),
                freed_since_flush: BTreeSet::new(),
                stats: Stats::default(),
                trace_flags: 0,
                trace_emulate_write_val: 0,
                trace_initial_va: 0,
                trace_extra: 0,
            }),
        };
        // Monitor tables: Xen's linear self-map in slot 258; slot 259 (the
        // shadow linear map) is filled by sh_update_linear_entries.
        for v in 0..vcpus {
            let (m, ml2) = {
                let st = sim.st.borrow();
                (st.vcpus[v].monitor, st.vcpus[v].monitor_l2)
            };
            let slot = crate::index::shadow_l4_table_offset(LINEAR_PT_VIRT_START);
            sim.write64(m, slot, shadow_e_from_mfn(m, 0x63));
            if cfg.levels < 4 {
                // PAE shadows: slot 259 -> monitor L3 -> (entry 0) the
                // monitor L2 whose first four entries sh_update_linear_entries
                // points at the four shadow L2s.
                let ml3 = Mfn(ml2.0 - 1);
                let sh = crate::index::shadow_l4_table_offset(SH_LINEAR_PT_VIRT_START);
                sim.write64(m, sh, shadow_e_from_mfn(ml3, 0x63));
                sim.write64(ml3, 0, shadow_e_from_mfn(ml2, 0x63));
            }
        }
        sim
    }

    // ---- raw memory ----------------------------------------------------------

    /// Index of `mfn` in memory, if it is a simulated frame.
    pub fn frame_index(&self, mfn: Mfn) -> Option<usize> {
        let i = mfn.0.checked_sub(MFN_BASE)?;
        let i = usize::try_from(i).ok()?;
        (i < self.mem.len()).then_some(i)
    }

    pub(crate) fn page_ptr(&self, mfn: Mfn) -> Option<*mut u64> {
        let i = self.frame_index(mfn)?;
        Some(self.mem[i].get().cast::<u64>())
    }

    /// Reads 64-bit entry `i` (< 512) of frame `mfn` (0 for invalid frames).
    pub fn read64(&self, mfn: Mfn, i: usize) -> u64 {
        match self.page_ptr(mfn) {
            // SAFETY: `ptr` is the start of a live 4 KiB frame of `mem`
            // (never freed or moved while `self` lives); `i & 511` keeps
            // the access inside it; u64 accesses are aligned.
            Some(ptr) => unsafe { ptr.add(i & 511).read_volatile() },
            None => 0,
        }
    }

    /// Writes 64-bit entry `i` of frame `mfn` (ignored for invalid frames).
    pub fn write64(&self, mfn: Mfn, i: usize, val: u64) {
        if let Some(ptr) = self.page_ptr(mfn) {
            // SAFETY: as in `read64`.
            unsafe { ptr.add(i & 511).write_volatile(val) }
        }
    }

    /// A copy of the 512 entries of frame `mfn` (zeros for invalid frames).
    pub fn read_page(&self, mfn: Mfn) -> [u64; 512] {
        let mut out = [0u64; 512];
        if let Some(ptr) = self.page_ptr(mfn) {
            // SAFETY: `ptr` is the start of a live, aligned 4 KiB frame of
            // `mem` (as in `read64`); nothing writes it during the copy
            // (single-threaded, no reference into it is live).
            unsafe { core::ptr::copy_nonoverlapping(ptr.cast_const(), out.as_mut_ptr(), 512) }
        }
        out
    }

    /// Reads `bytes` (1..=8) at byte offset `off` of frame `mfn`,
    /// little-endian; the access must stay within the frame.
    pub fn read_bytes(&self, mfn: Mfn, off: usize, bytes: usize) -> u64 {
        if (1..=8).contains(&bytes) && off % 8 + bytes <= 8 && off < 4096 {
            // Within one 64-bit word: one read, the same bytes.
            let word = self.read64(mfn, off / 8) >> ((off % 8) * 8);
            return if bytes == 8 {
                word
            } else {
                word & ((1u64 << (8 * bytes)) - 1)
            };
        }
        let mut v = 0u64;
        for k in 0..bytes.min(8) {
            let o = off + k;
            if o >= 4096 {
                break;
            }
            let word = self.read64(mfn, o / 8);
            v |= ((word >> ((o % 8) * 8)) & 0xff) << (k * 8);
        }
        v
    }

    /// Writes the low `bytes` of `val` at byte offset `off` of `mfn`.
    pub fn write_bytes(&self, mfn: Mfn, off: usize, bytes: usize, val: u64) {
        if (1..=8).contains(&bytes) && off % 8 + bytes <= 8 && off < 4096 {
            // Within one 64-bit word: one read-modify-write, the same bytes.
            let sh = (off % 8) * 8;
            let mask = if bytes == 8 {
                !0
            } else {
                ((1u64 << (8 * bytes)) - 1) << sh
            };
            let word = self.read64(mfn, off / 8);
            self.write64(mfn, off / 8, (word & !mask) | ((val << sh) & mask));
            return;
        }
        for k in 0..bytes.min(8) {
            let o = off + k;
            if o >= 4096 {
                break;
            }
            let sh = (o % 8) * 8;
            let word = self.read64(mfn, o / 8);
            let b = (val >> (k * 8)) & 0xff;
            self.write64(mfn, o / 8, (word & !(0xff << sh)) | (b << sh));
        }
    }

    /// Copies a whole frame.
    pub(crate) fn copy_frame(&self, dst: Mfn, src: Mfn) {
        for i in 0..512 {
            self.write64(dst, i, self.read64(src, i));
        }
    }

    pub(crate) fn clear_frame(&self, mfn: Mfn) {
        for i in 0..512 {
            self.write64(mfn, i, 0);
        }
    }

    // ---- accessors used by the guest driver and the checker -------------------

    /// The frame record of `mfn` (a copy).
    pub fn frame(&self, mfn: Mfn) -> Option<Frame> {
        let i = self.frame_index(mfn)?;
        Some(self.st.borrow().frames[i].clone())
    }

    pub(crate) fn with_frame<R>(&self, mfn: Mfn, f: impl FnOnce(&mut Frame) -> R) -> Option<R> {
        let i = self.frame_index(mfn)?;
        let mut st = self.st.borrow_mut();
        Some(f(&mut st.frames[i]))
    }

    /// Guest paging levels of the domain.
    pub fn levels(&self) -> u32 {
        self.st.borrow().dom.levels
    }

    pub fn vcpu_count(&self) -> usize {
        self.st.borrow().vcpus.len()
    }

    pub fn vcpu(&self, v: usize) -> VcpuState {
        self.st.borrow().vcpus[v].clone()
    }

    /// vCPU `v`'s guest CR3, hardware CR3 and mode (cheap: no clone).
    pub fn cr3_and_mode(&self, v: usize) -> (u64, u64, CpuMode) {
        let st = self.st.borrow();
        let vs = &st.vcpus[v];
        (vs.guest_cr3, vs.hw_cr3, vs.mode)
    }

    pub fn guest_table_of(&self, v: usize) -> Mfn {
        self.st.borrow().vcpus[v].guest_table
    }

    pub fn maxphysaddr(&self) -> u32 {
        self.st.borrow().dom.maxphysaddr
    }

    /// In log-dirty mode and `m` not dirty.
    pub fn clean_in_log_dirty(&self, m: Mfn) -> bool {
        let st = self.st.borrow();
        st.dom.log_dirty && !st.dom.dirty.contains(&m.0)
    }

    pub fn dom(&self) -> DomState {
        self.st.borrow().dom.clone()
    }

    pub fn stats(&self) -> Stats {
        self.st.borrow().stats
    }

    /// The p2m entry of `gfn` (a hole is `(INVALID_MFN, Invalid)`).
    pub fn p2m(&self, gfn: u64) -> (Mfn, P2mType) {
        let st = self.st.borrow();
        usize::try_from(gfn)
            .ok()
            .and_then(|i| st.dom.p2m.get(i).copied())
            .unwrap_or((INVALID_MFN, P2mType::Invalid))
    }

    /// The guest frame number of RAM frame `mfn` (reverse p2m).
    pub fn mfn_to_gfn(&self, mfn: Mfn) -> Option<u64> {
        let st = self.st.borrow();
        st.dom
            .p2m
            .iter()
            .position(|&(m, t)| m == mfn && t != P2mType::MmioDm)
            .map(|g| g as u64)
    }

    pub fn gfn_count(&self) -> u64 {
        self.st.borrow().dom.p2m.len() as u64
    }

    /// Live mappings (`map_domain_page` without `unmap_domain_page`).
    pub fn live_mappings(&self) -> i64 {
        self.st.borrow().maps
    }

    pub fn lock_depth(&self) -> u32 {
        self.st.borrow().lock_depth
    }

    pub fn crashed(&self) -> Option<&'static str> {
        self.st.borrow().dom.crashed
    }

    pub fn current_vcpu(&self) -> usize {
        self.st.borrow().current
    }

    pub fn set_current(&self, v: usize) {
        let mut st = self.st.borrow_mut();
        if v < st.vcpus.len() {
            st.current = v;
        }
    }

    pub fn free_pages(&self) -> usize {
        self.st.borrow().dom.freelist.len()
    }

    /// Marks the domain as dying / shutting down (for the teardown paths).
    pub fn set_dying(&self, dying: bool, shutting_down: bool) {
        let mut st = self.st.borrow_mut();
        st.dom.dying = dying;
        st.dom.shutting_down = shutting_down;
    }

    pub fn set_mode(&self, v: usize, mode: CpuMode) {
        if let Some(vs) = self.st.borrow_mut().vcpus.get_mut(v) {
            vs.mode = mode;
        }
    }

    pub fn set_oos_active(&self, on: bool) {
        self.st.borrow_mut().dom.oos_active = on;
    }

    pub fn mmio_log(&self) -> Vec<(u64, bool)> {
        self.st.borrow().mmio.clone()
    }
}
