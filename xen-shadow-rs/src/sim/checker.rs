//! The invariant checker.
//!
//! Per access (`expect` before, `check_access` after): what the guest saw
//! must be what the oracle says, composed with the p2m: the translated
//! frame, the data written, the fault and its error code, MMIO reaching
//! the device model.  Only out-of-sync L1s may lag (the guest has not
//! flushed yet), and there the check is limited to safety.
//!
//! After every operation (`check_global`): the shadows, walked as the
//! hardware walks them, never grant more than the oracle composed with the
//! p2m for a sample of addresses (all of them every few operations); A and
//! D are set in the guest entries of every translation the shadows grant;
//! no shadow entry or TLB entry is a writable mapping of an in-sync guest
//! page table; in log-dirty mode every writable mapping is of a dirty
//! frame; page reference and type counts, shadow reference counts,
//! up-pointers, the hash and `shadow_flags`, and the pool all add up; no
//! paging lock or mapping is left behind; the domain was not crashed.

use std::string::String;
use std::vec::Vec;

use super::guest::{Guest, Seen, USER_PAGES};
use super::mmu::{Access, WalkCache};
use super::oracle::{self, Outcome};
use super::{Owner, Sim, MFN_BASE};
use crate::propagate::sh_l1e_is_magic;
use crate::types::*;

/// An invariant violation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// An access kept faulting and being "fixed".
    NoProgress { va: u64 },
    /// The guest saw something else than the oracle says.
    Access { va: u64, what: String },
    /// The shadows grant more than the guest's tables composed with the p2m.
    Shadow { vcpu: usize, va: u64, what: String },
    /// A global invariant of the shadow state.
    State(String),
}

/// What the oracle expects for an access, computed before it runs.
#[derive(Clone, Debug)]
pub struct Expect {
    pub outcome: Outcome,
    /// An out-of-sync L1 is on the walk: the shadows may lag.
    pub lenient: bool,
}

fn acc_of(a: Access) -> oracle::Acc {
    oracle::Acc {
        write: a.write,
        user: a.user,
        fetch: a.fetch,
    }
}

/// The oracle's view of guest memory: RAM frames only.
fn read_gpa(sim: &Sim, gpa: u64, bytes: u32) -> Option<u64> {
    let m = {
        let st = sim.st.borrow();
        let (m, t) = usize::try_from(gpa >> PAGE_SHIFT)
            .ok()
            .and_then(|i| st.dom.p2m.get(i).copied())
            .unwrap_or((INVALID_MFN, P2mType::Invalid));
        let guest = sim
            .frame_index(m)
            .is_some_and(|i| st.frames[i].owner == Owner::Guest);
        if !t.is_ram() || !guest {
            return None;
        }
        m
    };
    Some(sim.read_bytes(m, (gpa & 0xfff) as usize, bytes as usize))
}

/// The oracle for vCPU `v`'s current address space.
pub fn oracle_walk(g: &Guest, v: usize, va: u64, acc: Access) -> Outcome {
    oracle::rights(&g.oracle_cpu(v), oracle_va(g, v, va), acc_of(acc))
}

/// The oracle's walk of `va` in vCPU `v`'s address space, for any access
/// (see [`oracle::walk`]).
fn oracle_va(g: &Guest, v: usize, va: u64) -> oracle::Walk {
    let cpu = g.oracle_cpu(v);
    let cr3 = g.sim.cr3_and_mode(v).0;
    let sim = &g.sim;
    oracle::walk(&cpu, &|a, b| read_gpa(sim, a, b), cr3, pdptes(g, v), va)
}

/// The PDPTEs of a PAE guest as loaded at its last CR3 load.
fn pdptes(g: &Guest, v: usize) -> Option<[u64; 4]> {
    (g.sim.levels() == 3).then(|| *g.sim.st.borrow().vcpus[v].gl3e)
}

/// Is any guest table `w` read from out of sync?  (The tables read are
/// the same whatever the access, and a faulting walk lists those it read
/// too.)
fn touches_oos(g: &Guest, w: &oracle::Walk) -> bool {
    w.walked.as_slice().iter().any(|&a| {
        let (m, _) = g.sim.p2m(a >> PAGE_SHIFT);
        g.sim.page_is_oos(m)
    })
}

/// Computes what an access must do (before it runs).
pub fn expect(g: &Guest, v: usize, va: u64, acc: Access) -> Expect {
    let w = oracle_va(g, v, va);
    let lenient = touches_oos(g, &w);
    Expect {
        outcome: oracle::rights(&g.oracle_cpu(v), w, acc_of(acc)),
        lenient,
    }
}

/// The bytes at the access's target before it runs (for read-only RAM).
pub fn target_snapshot(g: &Guest, e: &Expect, va: u64, bytes: u32) -> Option<u64> {
    match &e.outcome {
        Outcome::Ok { gpa, .. } => {
            let _ = va;
            let n = (4096 - (gpa & 0xfff)).min(u64::from(bytes)) as u32;
            read_gpa(&g.sim, *gpa, n)
        }
        Outcome::Fault(_) => None,
    }
}

/// Checks what the guest saw for an access against the oracle.
#[allow(clippy::too_many_arguments)]
pub fn check_access(
    g: &Guest,
    cached: &[(u64, u8)],
    _v: usize,
    va: u64,
    acc: Access,
    bytes: u32,
    val: u64,
    e: &Expect,
    seen: Seen,
    before: Option<u64>,
    mmio_before: usize,
) -> Result<(), Violation> {
    let crossing = (va & 0xfff) + u64::from(bytes) > 4096;
    if e.lenient || crossing {
        // Out-of-sync tables may lag until the guest flushes; page-crossing
        // accesses are checked by the state invariants only.
        return Ok(());
    }
    // A translation the vCPU walked earlier and has not flushed may still
    // be used (by the CPU's TLB or Xen's vTLB): the access may complete
    // through it, on the frame it names.  An emulated access (emulated
    // MMIO, a discarded write) re-translates through Xen's vTLB, whose
    // rule admits more of the kinds cached (a superset of the TLB's).
    // The access is emulated if the cached page is such a page, or if the
    // current translation leads to one: Xen's emulator first copies through
    // its own translation (hvm/emulate.c `linear_read` →
    // `hvm_copy_from_guest_linear` → `sh_gva_to_gfn`, the vTLB) and goes to
    // the device model only if that lands on MMIO, so a stale vTLB entry to
    // RAM completes the access on RAM (finding 3195f060).
    let tlb_kinds = super::guest::kinds_allowing(acc);
    let vtlb_kinds = super::guest::vtlb_kinds_allowing(acc);
    let emulated_type = |t: P2mType| t == P2mType::MmioDm || t.is_discard_write();
    let emulated_now = match &e.outcome {
        Outcome::Ok { gpa, .. } => emulated_type(g.sim.p2m(gpa >> PAGE_SHIFT).1),
        Outcome::Fault(_) => false,
    };
    let stale_explains = || -> bool {
        seen == Seen::Done
            && cached.iter().any(|&(page, k)| {
                let (m, t) = g.sim.p2m(page);
                let emulated = emulated_now || emulated_type(t);
                k & if emulated { vtlb_kinds } else { tlb_kinds } != 0 && {
                    !acc.write
                        || !(t.is_ram() && !t.is_discard_write() && g.sim.owner(m) == Owner::Guest)
                        || {
                            let mask = if bytes >= 8 {
                                !0
                            } else {
                                (1u64 << (8 * bytes)) - 1
                            };
                            g.sim.read_bytes(m, (va & 0xfff) as usize, bytes as usize) == val & mask
                        }
                }
            })
    };
    let r = check_fresh(g, va, acc, bytes, val, e, seen, before, mmio_before);
    if r.is_err() && stale_explains() {
        return Ok(());
    }
    r
}

/// [`check_access`] against the current guest tables only.
#[allow(clippy::too_many_arguments)]
fn check_fresh(
    g: &Guest,
    va: u64,
    acc: Access,
    bytes: u32,
    val: u64,
    e: &Expect,
    seen: Seen,
    before: Option<u64>,
    mmio_before: usize,
) -> Result<(), Violation> {
    let bad = |what: String| Err(Violation::Access { va, what });
    match (&e.outcome, seen) {
        (Outcome::Fault(want), Seen::Fault(got)) => {
            if *want != got {
                return bad(std::format!(
                    "fault error code {got:#x}, oracle says {want:#x}"
                ));
            }
        }
        (Outcome::Fault(want), Seen::Done) => {
            return bad(std::format!("access completed, oracle says #PF {want:#x}"));
        }
        (Outcome::Ok { gpa, .. }, seen) => {
            let gfn = gpa >> PAGE_SHIFT;
            let (m, t) = g.sim.p2m(gfn);
            let is_ram = t.is_ram() && g.sim.owner(m) == Owner::Guest;
            match seen {
                Seen::Fault(ec) => {
                    // Only a frame the p2m cannot back may fault: Xen hands
                    // the guest the access's error code with P set.
                    let holeish = !t.is_valid() || (!t.is_mmio() && g.sim.frame_index(m).is_none());
                    let want_bits = acc.pfec()
                        & (crate::fault::pfec::WRITE_ACCESS | crate::fault::pfec::USER_MODE);
                    if !(holeish && ec & 1 != 0 && ec & 6 == want_bits) {
                        return bad(std::format!(
                            "#PF {ec:#x}, oracle says gpa {gpa:#x} ({t:?}) is accessible"
                        ));
                    }
                }
                Seen::Done => {
                    if t == P2mType::MmioDm {
                        let log = g.sim.mmio_log();
                        if !log[mmio_before.min(log.len())..]
                            .iter()
                            .any(|&(p, w)| p == gfn && w == acc.write)
                        {
                            return bad(std::format!(
                                "MMIO at gfn {gfn:#x} did not reach the device model"
                            ));
                        }
                    } else if is_ram && acc.write {
                        let off = (gpa & 0xfff) as usize;
                        let now = g.sim.read_bytes(m, off, bytes as usize);
                        let mask = if bytes >= 8 {
                            !0
                        } else {
                            (1u64 << (8 * bytes)) - 1
                        };
                        if t.is_discard_write() {
                            if Some(now) != before {
                                return bad(std::format!(
                                    "write to read-only RAM gfn {gfn:#x} was not discarded"
                                ));
                            }
                        } else if now != val & mask {
                            return bad(std::format!(
                                "wrote {:#x} to gpa {gpa:#x}, memory holds {now:#x}",
                                val & mask
                            ));
                        }
                    } else if !is_ram && t != P2mType::MmioDirect {
                        return bad(std::format!("access to gfn {gfn:#x} ({t:?}) completed"));
                    }
                }
            }
        }
    }
    Ok(())
}

const ACCESSES: [Access; 5] = [
    Access {
        write: false,
        user: false,
        fetch: false,
    },
    Access {
        write: true,
        user: false,
        fetch: false,
    },
    Access {
        write: false,
        user: true,
        fetch: false,
    },
    Access {
        write: true,
        user: true,
        fetch: false,
    },
    Access {
        write: false,
        user: false,
        fetch: true,
    },
];

/// Checks vCPU `v`'s shadows against the oracle at `va` for every access.
///
/// With `strict`, out-of-sync L1s get no leeway: right after the vCPU's
/// own flush (CR3 load) its view must be exact.
///
/// The hardware walk and the oracle's walk are each done once for all the
/// accesses: neither depends on the access, only the rights checks applied
/// to their result do (`Sim::hw_access`, `oracle::check`), and nothing
/// changes the state while the checker runs.  Likewise the guest entries
/// on the walk are read once: which of them lacks A does not depend on the
/// access, only whether the leaf's D is required does.
fn check_shadow_va(
    g: &Guest,
    v: usize,
    va: u64,
    strict: bool,
    cache: &mut WalkCache,
) -> Result<(), Violation> {
    let (_, hw_cr3, mode) = g.sim.cr3_and_mode(v);
    let root = Mfn(hw_cr3 >> PAGE_SHIFT);
    if root.0 == 0 {
        return Ok(());
    }
    let Ok(ent) = g.sim.hw_guest_translate_cached(hw_cr3, va, cache) else {
        // Nothing granted for any access.
        return Ok(());
    };
    let cpu = g.oracle_cpu(v);
    let width = if cpu.levels == 2 { 4 } else { 8 };
    let mut lenient = if strict { Some(false) } else { None };
    let mut walk: Option<oracle::Walk> = None;
    // The first entry on the walk without A; whether the leaf has D.
    let mut ad: Option<(Option<u64>, bool)> = None;
    for acc in ACCESSES {
        if !Sim::hw_permits(&ent, acc, mode.smep, mode.smap) {
            continue;
        }
        let bad = |what: String| Err(Violation::Shadow { vcpu: v, va, what });
        // Never a mapping of the shadows' or Xen's own memory.
        match g.sim.owner(ent.mfn) {
            Owner::Guest | Owner::Io => {}
            o => {
                return bad(std::format!(
                    "shadow maps frame {:#x} owned by {o:?}",
                    ent.mfn.0
                ))
            }
        }
        if ent.rw && g.sim.owner(ent.mfn) == Owner::Guest && g.sim.clean_in_log_dirty(ent.mfn) {
            return bad(std::format!(
                "writable shadow mapping of clean frame {:#x} in log-dirty mode",
                ent.mfn.0
            ));
        }
        let w = walk.get_or_insert_with(|| oracle_va(g, v, va));
        let len = *lenient.get_or_insert_with(|| touches_oos(g, w));
        if len {
            continue;
        }
        match oracle::check(&cpu, &w.end, acc_of(acc)) {
            Err(ec) => {
                return bad(std::format!(
                    "shadow grants {acc:?}, oracle says #PF {ec:#x}"
                ));
            }
            Ok(gpa) => {
                let (m, t) = g.sim.p2m(gpa >> PAGE_SHIFT);
                if m != ent.mfn {
                    return bad(std::format!(
                        "shadow maps frame {:#x}, guest∘p2m says {:#x} (gpa {gpa:#x}, {t:?})",
                        ent.mfn.0,
                        m.0
                    ));
                }
                if acc.write && (t.is_readonly() || t == P2mType::MmioDm) {
                    return bad(std::format!(
                        "shadow grants a write to {t:?} gfn {:#x}",
                        gpa >> 12
                    ));
                }
                if t == P2mType::MmioDm {
                    return bad(std::format!(
                        "shadow maps emulated-MMIO gfn {:#x}",
                        gpa >> 12
                    ));
                }
                let walked = w.walked.as_slice();
                let (no_a, leaf_d) = *ad.get_or_insert_with(|| {
                    let ge = |a: u64| read_gpa(&g.sim, a, width).unwrap_or(0);
                    let no_a = walked
                        .iter()
                        .copied()
                        .find(|&a| ge(a) & u64::from(flags::ACCESSED) == 0);
                    let leaf_d = walked
                        .last()
                        .is_some_and(|&a| ge(a) & u64::from(flags::DIRTY) != 0);
                    (no_a, leaf_d)
                });
                if let Some(a) = no_a {
                    return bad(std::format!("guest entry at gpa {a:#x} has no A bit"));
                }
                if acc.write && !leaf_d {
                    if let Some(&a) = walked.last() {
                        return bad(std::format!(
                            "writable, but guest leaf at gpa {a:#x} has no D bit"
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// The addresses the checker covers: every user page, then the whole
/// direct map (every gfn).
fn va_count(g: &Guest) -> u64 {
    USER_PAGES + g.sim.gfn_count()
}

/// The `i`th of the addresses the checker covers ([`va_count`]).
fn va_at(g: &Guest, i: u64) -> u64 {
    if i < USER_PAGES {
        i << PAGE_SHIFT
    } else {
        g.physmap() + ((i - USER_PAGES) << PAGE_SHIFT)
    }
}

/// The addresses checked after an operation: a rotating sample of 24, or
/// all of them (every user page and the whole direct map) when `all`.
fn sample_vas(g: &Guest, all_vas: bool) -> Vec<u64> {
    let n = va_count(g);
    if all_vas {
        return (0..n).map(|i| va_at(g, i)).collect();
    }
    (0..24u64)
        .map(|k| va_at(g, (g.ops.wrapping_mul(7919) + k * 104_729) % n))
        .collect()
}

/// [`check_global`] over every address.
pub fn check_full(g: &Guest) -> Result<(), Violation> {
    check_state(g)?;
    check_every_address(g)
}

/// The shadows of every vCPU against the oracle at every address (the
/// address half of [`check_full`]).
pub fn check_every_address(g: &Guest) -> Result<(), Violation> {
    let vas = sample_vas(g, true);
    for v in 0..g.sim.vcpu_count() {
        let mut cache = WalkCache::default();
        for &va in &vas {
            check_shadow_va(g, v, va, false, &mut cache)?;
        }
    }
    Ok(())
}

/// The global invariants (module documentation): every address every
/// `g.sweep_every` operations, else a sample.
pub fn check_global(g: &Guest) -> Result<(), Violation> {
    check_global_flushed(g, None)
}

/// [`check_global`] right after vCPU `flushed` reloaded CR3: its shadows
/// must match its tables exactly, out of sync or not.
pub fn check_global_flushed(g: &Guest, flushed: Option<usize>) -> Result<(), Violation> {
    let all = g.sweep_every != 0 && g.ops % g.sweep_every == 0;
    check_state(g)?;
    let vas = sample_vas(g, all);
    for v in 0..g.sim.vcpu_count() {
        let mut cache = WalkCache::default();
        for &va in &vas {
            check_shadow_va(g, v, va, flushed == Some(v), &mut cache)?;
        }
    }
    Ok(())
}

/// No TLB entry is a writable mapping of an in-sync guest page table
/// unless the guest itself may still use it: it walked that translation
/// and has not flushed it since (`Guest::arch_tlb`; Xen never flushes for
/// a changed L1 entry).  In log-dirty mode no TLB entry at all is a
/// writable mapping of a clean frame (Xen flushes when it cleans).
fn check_tlbs(g: &Guest) -> Result<(), Violation> {
    let s = &g.sim;
    let st = s.st.borrow();
    let writable_pt = |m: Mfn| -> bool {
        s.frame_index(m)
            .map(|i| {
                let f = &st.frames[i];
                f.owner == Owner::Guest && f.page_table && f.shadow_flags & shf::OOS_MAY_WRITE == 0
            })
            .unwrap_or(false)
    };
    for (v, vs) in st.vcpus.iter().enumerate() {
        for (page, e) in vs.tlb.iter() {
            if !e.rw {
                continue;
            }
            let guest_may_use = || {
                g.arch_tlb.get(&(v, *page)).is_some_and(|c| {
                    c.iter().any(|&(gpage, _)| {
                        st.dom
                            .p2m
                            .get(gpage as usize)
                            .is_some_and(|&(m, _)| m == e.mfn)
                    })
                })
            };
            if writable_pt(e.mfn) && !guest_may_use() {
                return Err(Violation::State(std::format!(
                    "vCPU {v}: TLB entry for va page {page:#x} is a writable mapping of in-sync page table {:#x}",
                    e.mfn.0
                )));
            }
            if st.dom.log_dirty
                && s.frame_index(e.mfn).map(|j| st.frames[j].owner) == Some(Owner::Guest)
                && !st.dom.dirty.contains(&e.mfn.0)
            {
                return Err(Violation::State(std::format!(
                    "vCPU {v}: TLB entry writable to clean frame {:#x} (log-dirty)",
                    e.mfn.0
                )));
            }
        }
    }
    Ok(())
}

fn check_state(g: &Guest) -> Result<(), Violation> {
    let s = &g.sim;
    let st_err = |m: String| Err(Violation::State(m));
    if s.lock_depth() != 0 {
        return st_err(std::format!(
            "paging lock held after the operation (depth {})",
            s.lock_depth()
        ));
    }
    if s.live_mappings() != 0 {
        return st_err(std::format!(
            "{} map_domain_page mappings leaked",
            s.live_mappings()
        ));
    }
    if let Some(why) = s.crashed() {
        if !g.dead {
            return st_err(std::format!("domain crashed: {why}"));
        }
    }
    check_shadow_state(s)?;
    check_tlbs(g)?;
    // The port's own audit (crate::audit, C's block X) over every shadow.
    // Once, not once per vCPU: `audit_tables(v)` uses `v` only for
    // `vcpu_domain(v)`, and every simulated vCPU is in domain 0 (and runs
    // at the domain's paging level), so the result is the same for all.
    s.lock_recursive();
    let r = by_level!(s.levels(), crate::audit::audit_tables(s, 0));
    s.unlock();
    if let Err(f) = r {
        return Err(Violation::State(std::format!("audit: {f}")));
    }
    Ok(())
}

/// The indices of the present entries of a table, in order.  (Most
/// entries of a shadow are not present: the bits are gathered without a
/// branch per entry, which is what the fuzz targets' comparison tracing
/// makes expensive.)
fn present_entries(page: &[u64; 512]) -> impl Iterator<Item = usize> {
    let mut words = [0u64; 8];
    for (w, chunk) in words.iter_mut().zip(page.chunks_exact(64)) {
        *w = chunk.iter().enumerate().fold(0u64, |m, (k, &e)| {
            m | ((e & u64::from(flags::PRESENT)) << k)
        });
    }
    words.into_iter().enumerate().flat_map(|(w, mut bits)| {
        core::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let k = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            Some(w * 64 + k)
        })
    })
}

/// Reference counts, hash, flags, pool, writable mappings, TLBs.
///
/// One pass over the shadow pages counts the references their entries
/// hold (indexed by frame, not hashed: only simulated frames have counts
/// to compare with), then every frame is compared with the counts.
pub fn check_shadow_state(s: &Sim) -> Result<(), Violation> {
    let st = s.st.borrow();
    let err = |m: String| Err(Violation::State(m));
    let opt = st.dom.opt_flags;
    let nframes = st.frames.len();
    // Per frame index: general and writable-type references held by shadow
    // L1 entries, references to it as a shadow (upper-level entries and
    // top-level slots), on the free list, the shadow types hashed for it.
    let mut refs = std::vec![0u64; nframes];
    let mut types = std::vec![0u64; nframes];
    let mut shrefs = std::vec![0u64; nframes];
    let mut free = std::vec![false; nframes];
    let mut hashed = std::vec![0u32; nframes];
    let idx_of = |m: u64| s.frame_index(Mfn(m));
    for m in st.dom.freelist.iter() {
        if let Some(i) = idx_of(m.0) {
            free[i] = true;
        }
    }
    // The shadow types whose shadow_flags bit must match the hash.
    let mut type_mask = 0u32;
    for ty in sh_type::MIN_SHADOW..=sh_type::MAX_SHADOW {
        if !super::common::is_fl1(ty) {
            type_mask |= 1 << ty;
        }
    }
    for &(m, ty) in st.dom.hash.keys() {
        if (sh_type::MIN_SHADOW..=sh_type::MAX_SHADOW).contains(&ty) {
            if let Some(i) = idx_of(m) {
                hashed[i] |= 1 << ty;
            }
        }
    }
    let mut used = 0usize;
    let writable_pt = |m: Mfn| -> bool {
        s.frame_index(m)
            .map(|i| {
                let f = &st.frames[i];
                f.owner == Owner::Guest && f.page_table && f.shadow_flags & shf::OOS_MAY_WRITE == 0
            })
            .unwrap_or(false)
    };
    for (i, f) in st.frames.iter().enumerate() {
        if f.owner != Owner::Shadow {
            continue;
        }
        let m = Mfn(MFN_BASE + i as u64);
        if f.sh_type == 0 {
            if !free[i] {
                return err(std::format!(
                    "shadow page {:#x} is neither free nor typed",
                    m.0
                ));
            }
            continue;
        }
        used += 1;
        if free[i] {
            return err(std::format!(
                "shadow page {:#x} is typed and on the free list",
                m.0
            ));
        }
        let t = f.sh_type;
        let is_l1 = matches!(
            t,
            sh_type::L1_64
                | sh_type::FL1_64
                | sh_type::L1_PAE
                | sh_type::FL1_PAE
                | sh_type::L1_32
                | sh_type::FL1_32
        );
        let page = s.read_page(m);
        for idx in present_entries(&page) {
            let e = page[idx];
            let fl = get_pte_flags(e);
            if is_l1 {
                if sh_l1e_is_magic(e) {
                    continue;
                }
                let tm = shadow_e_get_mfn(e);
                let ti = idx_of(tm.0);
                if let Some(j) = ti {
                    refs[j] += 1;
                }
                if fl & flags::RW != 0 {
                    if let Some(j) = ti {
                        types[j] += 1;
                    }
                    if writable_pt(tm) {
                        return err(std::format!(
                            "shadow L1 {:#x}[{idx}] is a writable mapping of in-sync page table {:#x}",
                            m.0,
                            tm.0
                        ));
                    }
                    if st.dom.log_dirty
                        && ti.map(|j| st.frames[j].owner) == Some(Owner::Guest)
                        && !st.dom.dirty.contains(&tm.0)
                    {
                        return err(std::format!(
                            "writable shadow mapping of clean frame {:#x} (log-dirty)",
                            tm.0
                        ));
                    }
                }
            } else if let Some(j) = idx_of(shadow_e_get_mfn(e).0) {
                shrefs[j] += 1;
            }
        }
        if f.head && t <= sh_type::MAX_SHADOW && !super::common::is_fl1(t) {
            if let Some(j) = idx_of(f.back) {
                refs[j] += 1;
            }
        }
    }
    if used + st.dom.freelist.len() != st.dom.total_pages as usize {
        return err(std::format!(
            "pool: {used} used + {} free != {} total",
            st.dom.freelist.len(),
            st.dom.total_pages
        ));
    }
    for v in st.vcpus.iter() {
        for sm in v.shadow_table.iter() {
            if sm.0 != 0 {
                if let Some(j) = idx_of(sm.0) {
                    shrefs[j] += 1;
                }
            }
        }
    }
    for (i, f) in st.frames.iter().enumerate() {
        let m = MFN_BASE + i as u64;
        match f.owner {
            Owner::Guest => {
                let r = refs[i];
                let t = types[i];
                if f.refs != r || f.type_count != t {
                    return err(std::format!(
                        "frame {m:#x}: count {} type count {}, shadows hold {r} and {t}",
                        f.refs,
                        f.type_count
                    ));
                }
                // shadow_flags <-> hash
                if f.page_table {
                    let diff = (f.shadow_flags ^ hashed[i]) & type_mask;
                    if diff != 0 {
                        let ty = diff.trailing_zeros();
                        let flagged = f.shadow_flags & (1 << ty) != 0;
                        let hashed = hashed[i] & (1 << ty) != 0;
                        return err(std::format!(
                            "frame {m:#x}: shadow_flags bit {ty} is {flagged}, hash says {hashed}"
                        ));
                    }
                } else if f.shadow_flags & shf::OUT_OF_SYNC != 0 && f.page_table {
                    return err(std::format!(
                        "frame {m:#x} out of sync but not a page table"
                    ));
                }
            }
            Owner::Shadow if f.head && f.sh_type != 0 => {
                let want = shrefs[i] + u64::from(f.pinned);
                if u64::from(f.count) != want {
                    return err(std::format!(
                        "shadow {m:#x} (type {}): count {}, {want} references exist",
                        f.sh_type,
                        f.count
                    ));
                }
                if f.up != 0 && super::common::type_has_up_pointer(f.sh_type, opt) {
                    let pm = Mfn(f.up >> PAGE_SHIFT);
                    let e = s.read64(pm, ((f.up & 0xfff) / 8) as usize);
                    if shadow_e_get_mfn(e).0 != m || get_pte_flags(e) & flags::PRESENT == 0 {
                        return err(std::format!(
                            "shadow {m:#x}: up-pointer {:#x} does not point at it",
                            f.up
                        ));
                    }
                }
                let key_ok = st.dom.hash.get(&(f.back, f.sh_type)) == Some(&Mfn(m));
                if !key_ok && f.sh_type <= sh_type::MAX_SHADOW {
                    return err(std::format!(
                        "shadow {m:#x} (type {}) is not in the hash",
                        f.sh_type
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}
