//! Two vCPUs on the same page tables (boot with `dom0_max_vcpus=2` and
//! QEMU `-smp 2`; with one vCPU these tests skip).
//!
//! Each test prepares frames, tables and virtual addresses on the boot
//! vCPU, then runs one body on both vCPUs at once (`run_both`): the AP gets
//! it through the mailbox in `smp`, and `smp::barrier` separates the phases.
//! A body never returns early: it records its first bad observation and
//! keeps going through every barrier, so the two vCPUs never wait for each
//! other in vain.  Only the boot vCPU allocates frames or prints.

use super::*;
use crate::global::Global;
use crate::paging::{Mmu, Slot};
use crate::smp::{self, ApState};
use core::sync::atomic::{AtomicU32, Ordering};

/// The first thing a vCPU saw that it should not have.
#[derive(Clone, Copy)]
struct Bad {
    what: &'static str,
    cpu: usize,
    round: u32,
    va: u64,
    got: Result<u32, Fault>,
    want: u32,
}

/// Most virtual pages a test shares with the AP.
const MAX_VAS: usize = 64;

/// State shared by both vCPUs during one test.
struct Shared {
    mmu: *const Mmu,
    body: fn(&Shared, usize) -> Option<Bad>,
    broken: bool,
    n: usize,
    va: [u64; MAX_VAS],
    slot: [Slot; MAX_VAS],
    /// Two frames per page, identified by their pattern seeds.
    pa: [[u64; 2]; MAX_VAS],
    seed: [[u32; 2]; MAX_VAS],
    /// Extra per-test values (address-space roots for `smp_cr3_switch`).
    aux: [u64; MAX_VAS],
    /// Set by the writer once its flush is done (`smp_remap_flush`).
    flag: AtomicU32,
    result: [Global<Option<Bad>>; 2],
}

impl Shared {
    fn new(ctx: &Ctx, body: fn(&Shared, usize) -> Option<Bad>) -> Shared {
        Shared {
            mmu: &ctx.mmu,
            body,
            broken: broken(),
            n: 0,
            va: [0; MAX_VAS],
            slot: [Slot { table: 0, index: 0 }; MAX_VAS],
            pa: [[0; 2]; MAX_VAS],
            seed: [[0; 2]; MAX_VAS],
            aux: [0; MAX_VAS],
            flag: AtomicU32::new(0),
            result: [Global::new(None), Global::new(None)],
        }
    }

    fn mmu(&self) -> &Mmu {
        // SAFETY: points at the test's `ctx.mmu`, which outlives the job
        // (`run_both` waits for the AP) and is not changed meanwhile.
        unsafe { &*self.mmu }
    }

    /// `n` pages starting at `va`, page k mapped to frame 0 of its pair
    /// (seeds `seed0 + k` and `seed1 + k`).
    fn pages(
        &mut self,
        ctx: &mut Ctx,
        va: u64,
        n: usize,
        seed0: u32,
        seed1: u32,
    ) -> Result<(), Msg> {
        self.n = n;
        for k in 0..n {
            self.va[k] = va + 4096 * k as u64;
            self.seed[k] = [seed0 + k as u32, seed1 + k as u32];
            self.pa[k] = [
                pattern_frame(self.seed[k][0]),
                pattern_frame(self.seed[k][1]),
            ];
            ctx.map(self.va[k], self.pa[k][0], P | RW)?;
            self.slot[k] = ctx.mmu.slot(self.va[k], 1, false)?;
        }
        Ok(())
    }

    /// Point page k at frame `which` of its pair (no flush).
    fn point(&self, k: usize, which: usize) -> Option<Bad> {
        let m = self.mmu();
        m.write(self.slot[k], m.pte(self.pa[k][which], P | RW))
            .err()
            .map(|_| Bad {
                what: "page-table update refused",
                cpu: smp::cpu_id(),
                round: 0,
                va: self.va[k],
                got: Ok(0),
                want: 0,
            })
    }

    /// Read word `w` of page k; it must come from one of the frames in
    /// `allowed` (indices into the page's pair).
    fn expect(
        &self,
        what: &'static str,
        round: u32,
        k: usize,
        w: usize,
        allowed: &[usize],
    ) -> Option<Bad> {
        let va = self.va[k] + 4 * w as u64;
        let got = exceptions::read32(va as usize);
        if allowed
            .iter()
            .any(|&i| got == Ok(pattern(self.seed[k][i], w)))
        {
            return None;
        }
        Some(Bad {
            what,
            cpu: smp::cpu_id(),
            round,
            va,
            got,
            want: pattern(self.seed[k][allowed[0]], w),
        })
    }
}

/// Remember the first problem.
fn note(first: &mut Option<Bad>, b: Option<Bad>) {
    if first.is_none() {
        *first = b;
    }
}

fn sync(first: &mut Option<Bad>) {
    if let Err(e) = smp::barrier() {
        note(
            first,
            Some(Bad {
                what: e.what,
                cpu: smp::cpu_id(),
                round: 0,
                va: 0,
                got: Ok(0),
                want: 0,
            }),
        );
    }
}

/// Bring the AP up, or say why the test cannot run.
fn need_ap(ctx: &Ctx) -> Result<(), Failure> {
    match smp::ensure_up(ctx.mode, &ctx.mmu) {
        ApState::Up => Ok(()),
        ApState::Absent => Err(Failure::Skip("one vCPU (needs dom0_max_vcpus=2)")),
        ApState::Broken(what, rc) => {
            Err(Msg::new(format_args!("second vCPU unusable: {} (rc {})", what, rc)).into())
        }
        ApState::Unknown => Err(Msg::new(format_args!("second vCPU not tried")).into()),
    }
}

fn ap_job(arg: usize) {
    // SAFETY: `run_both` passes the address of a live `Shared` and waits
    // for this job before the `Shared` goes away.
    let sh = unsafe { &*(arg as *const Shared) };
    let r = (sh.body)(sh, 1);
    sh.result[1].set(r);
}

/// Run `sh.body` on both vCPUs at once; fail with the first problem seen.
fn run_both(sh: &Shared) -> TestResult {
    smp::post(ap_job, sh as *const Shared as usize);
    let mine = (sh.body)(sh, 0);
    if let Err(e) = smp::wait() {
        check!(
            false,
            "second vCPU: {} ({:?}); boot vCPU saw {}",
            e.what,
            e.fatal,
            if mine.is_some() {
                "a problem too"
            } else {
                "nothing wrong"
            }
        );
    }
    for b in [mine, sh.result[1].get()].into_iter().flatten() {
        check!(
            false,
            "vCPU {} round {}: {} at {:#x}: got {:x?}, want {:#x}",
            b.cpu,
            b.round,
            b.what,
            b.va,
            b.got,
            b.want
        );
    }
    Ok(())
}

// ----- smp_pte_race ------------------------------------------------------------

const RACE_PAGES: usize = 8;
const RACE_ROUNDS: u32 = 400;

/// Both vCPUs rewrite PTEs of one leaf table while reading through all of
/// its mappings: entry 0 is written by both, entries 1-3 only by the boot
/// vCPU, 4-7 only by the AP.  Every read must come from one of the two
/// frames that page is ever pointed at (no torn or foreign translation),
/// and right after a vCPU rewrote its own entry and flushed locally it must
/// see its own write.  Then the boot vCPU points every page at its second
/// frame and flushes all vCPUs' TLBs: both must see the new frames.
pub(super) fn smp_pte_race(ctx: &mut Ctx) -> TestResult {
    need_ap(ctx)?;
    let mut sh = Shared::new(ctx, race_body);
    let va = ctx.fresh_va(RACE_PAGES as u64);
    sh.pages(ctx, va, RACE_PAGES, 2000, 2100)?;
    run_both(&sh)
}

fn race_body(sh: &Shared, cpu: usize) -> Option<Bad> {
    let m = sh.mmu();
    let mut first = None;
    sync(&mut first);
    for r in 0..RACE_ROUNDS {
        let w = (r as usize * 7 + cpu * 3) % 1024;
        // An entry only this vCPU writes.
        let own = if cpu == 0 {
            1 + r as usize % 3
        } else {
            4 + r as usize % 4
        };
        let which = (r as usize / 4 + cpu) % 2;
        note(&mut first, sh.point(own, which));
        m.flush(sh.va[own]);
        note(
            &mut first,
            sh.expect("own entry after local flush", r, own, w, &[which]),
        );
        // The entry both write: boot vCPU -> frame 0, AP -> frame 1.
        if r % 4 == cpu as u32 {
            note(&mut first, sh.point(0, cpu));
            m.flush(sh.va[0]);
        }
        for k in 0..sh.n {
            note(
                &mut first,
                sh.expect("read during the race", r, k, w, &[0, 1]),
            );
        }
    }
    sync(&mut first);
    if cpu == 0 {
        for k in 0..sh.n {
            note(&mut first, sh.point(k, 1));
        }
        m.flush_all_vcpus();
    }
    sync(&mut first);
    // break=: the AP expects the frames from before the final remap.
    let want = if sh.broken && cpu == 1 { 0 } else { 1 };
    for k in 0..sh.n {
        for w in [0, 513, 1023] {
            note(
                &mut first,
                sh.expect(
                    "after remap + flush of all vCPUs",
                    RACE_ROUNDS,
                    k,
                    w,
                    &[want],
                ),
            );
        }
    }
    sync(&mut first);
    first
}

// ----- smp_remap_flush -----------------------------------------------------------

const REMAP_PAGES: usize = 64;
const REMAP_ROUNDS: u32 = 6;
/// Bound on the reader's polling while the writer works.
const REMAP_POLL_LIMIT: u32 = 2_000_000;

/// One vCPU re-points all 64 entries of a leaf table (on HVM the table
/// goes out of sync) while the other keeps reading through them (each read
/// from the old or the new frame); then the writer flushes every vCPU's
/// TLB (PV: MMUEXT_TLB_FLUSH_ALL or MMUEXT_INVLPG_ALL per page, HVM:
/// HVMOP_flush_tlbs) and both must see every new frame; or, every third
/// round, the writer does not flush and the reader flushes only its own
/// TLB (CR3 reload / MMUEXT_TLB_FLUSH_LOCAL) after the writer is done: the
/// reader must see every new frame (on HVM, Xen must resync the writer's
/// out-of-sync table on the reader's CR3 load).  The roles swap every round,
/// so each flush kind runs with either vCPU as the writer.
pub(super) fn smp_remap_flush(ctx: &mut Ctx) -> TestResult {
    need_ap(ctx)?;
    let mut sh = Shared::new(ctx, remap_body);
    let va = ctx.fresh_va_new_table_pages(REMAP_PAGES as u64);
    sh.pages(ctx, va, REMAP_PAGES, 2200, 2300)?;
    run_both(&sh)
}

fn remap_body(sh: &Shared, cpu: usize) -> Option<Bad> {
    let m = sh.mmu();
    let mut first = None;
    for r in 0..REMAP_ROUNDS {
        let writer = r as usize % 2;
        let old = r as usize % 2;
        let new = 1 - old;
        let w = (r as usize * 131) % 1024;
        sync(&mut first);
        // Everything is settled: both see the old frames.
        for k in 0..sh.n {
            note(&mut first, sh.expect("before the remap", r, k, w, &[old]));
        }
        sync(&mut first);
        if cpu == writer {
            for k in 0..sh.n {
                note(&mut first, sh.point(k, new));
            }
            match r % 3 {
                0 => m.flush_all_vcpus(),
                1 => {
                    for k in 0..sh.n {
                        m.flush_va_all_vcpus(sh.va[k]);
                    }
                }
                // No flush here: the reader flushes its own TLB after the
                // barrier below and must see the writer's entries (Xen
                // resyncs the writer's out-of-sync tables when the reader
                // reloads CR3); the writer may see either until it
                // flushes its own.
                _ => {}
            }
            sh.flag.store(r + 1, Ordering::Release);
        } else {
            let mut polls = 0;
            while sh.flag.load(Ordering::Acquire) != r + 1 && polls < REMAP_POLL_LIMIT {
                let k = polls as usize % sh.n;
                note(
                    &mut first,
                    sh.expect("while the other vCPU remaps", r, k, w, &[old, new]),
                );
                polls += 1;
            }
        }
        sync(&mut first);
        let local_only = r % 3 == 2;
        if local_only && cpu != writer {
            m.flush_all();
        }
        // break=: the reader expects the old frames after the flush.
        let want = if sh.broken && cpu != writer { old } else { new };
        let what = if local_only {
            "after the reader's own flush (writer did not flush)"
        } else {
            "after the writer's flush"
        };
        for k in 0..sh.n {
            let allowed: &[usize] = if local_only && cpu == writer {
                &[old, new]
            } else {
                &[want]
            };
            note(&mut first, sh.expect(what, r, k, w, allowed));
        }
        if local_only && cpu == writer {
            m.flush_all();
        }
    }
    sync(&mut first);
    first
}

// ----- smp_fault_fresh -------------------------------------------------------------

const FRESH_PAGES: usize = 64;
const FRESH_TABLES: u32 = 4;

/// Concurrent shadow creation: for each of four new leaf tables, the two
/// vCPUs map half of its 64 pages each at the same time, then both touch
/// every page (the boot vCPU in ascending, the AP in descending order), so
/// both fault on pages with no shadow yet; each page must show its frame,
/// and each vCPU's marker write must land in the frame.
pub(super) fn smp_fault_fresh(ctx: &mut Ctx) -> TestResult {
    need_ap(ctx)?;
    for t in 0..FRESH_TABLES {
        let mut sh = Shared::new(ctx, fresh_body);
        let va = ctx.fresh_va_new_table_pages(FRESH_PAGES as u64);
        sh.n = FRESH_PAGES;
        for k in 0..FRESH_PAGES {
            sh.va[k] = va + 4096 * k as u64;
            let seed = 2400 + 100 * t + k as u32;
            sh.seed[k] = [seed, seed];
            sh.pa[k] = [pattern_frame(seed); 2];
        }
        // The leaf table exists (page 0 mapped); nothing in it was touched.
        ctx.mmu.map(sh.va[0], sh.pa[0][0], P | RW)?;
        for k in 0..FRESH_PAGES {
            sh.slot[k] = ctx.mmu.slot(sh.va[k], 1, false)?;
        }
        run_both(&sh)?;
        for k in 0..FRESH_PAGES {
            for cpu in 0..2u32 {
                let got = direct_read(sh.pa[k][0] + 0x100 + 4 * cpu as u64);
                check!(
                    got == marker(t, cpu, k),
                    "table {}, page {}: vCPU {}'s write through {:#x} not in the frame ({:#x})",
                    t,
                    k,
                    cpu,
                    sh.va[k],
                    got
                );
            }
        }
    }
    Ok(())
}

fn marker(t: u32, cpu: u32, k: usize) -> u32 {
    0x5a00_0000 | t << 16 | cpu << 12 | k as u32
}

fn fresh_body(sh: &Shared, cpu: usize) -> Option<Bad> {
    let mut first = None;
    let half = sh.n / 2;
    let t = ((sh.seed[0][0] - 2400) / 100) as u32;
    sync(&mut first);
    let mine = if cpu == 0 { 1..half } else { half..sh.n };
    for k in mine {
        note(&mut first, sh.point(k, 0));
    }
    sync(&mut first);
    for i in 0..sh.n {
        let k = if cpu == 0 { i } else { sh.n - 1 - i };
        // break=: the AP expects the next page's frame.
        let kk = if sh.broken && cpu == 1 {
            (k + 1) % sh.n
        } else {
            k
        };
        let w = 512 + k;
        let va = sh.va[k] + 4 * w as u64;
        let got = exceptions::read32(va as usize);
        if got != Ok(pattern(sh.seed[kk][0], w)) {
            note(
                &mut first,
                Some(Bad {
                    what: "first touch of a fresh mapping",
                    cpu,
                    round: t,
                    va,
                    got,
                    want: pattern(sh.seed[kk][0], w),
                }),
            );
        }
        let mva = sh.va[k] + 0x100 + 4 * cpu as u64;
        if let Err(f) = exceptions::write32(mva as usize, marker(t, cpu as u32, k)) {
            note(
                &mut first,
                Some(Bad {
                    what: "marker write",
                    cpu,
                    round: t,
                    va: mva,
                    got: Err(f),
                    want: marker(t, cpu as u32, k),
                }),
            );
        }
    }
    sync(&mut first);
    first
}

// ----- smp_cr3_switch ---------------------------------------------------------------

const SWITCH_SPACES: usize = 6;
const SWITCH_ROUNDS: u32 = 150;

/// The AP loads six address spaces in turn (CR3; PV: MMUEXT_NEW_BASEPTR
/// of pinned copies of the top-level table), each mapping one VA through
/// its own tables, and reads the VA, while the boot vCPU keeps
/// re-pointing those spaces' leaf entries between two frames each.  Every
/// read must come from one of that space's two frames.  Finally the boot
/// vCPU points each at its second frame and flushes all TLBs: the AP must
/// see them in every space.
pub(super) fn smp_cr3_switch(ctx: &mut Ctx) -> TestResult {
    need_ap(ctx)?;
    let va = match ctx.mmu.fmt {
        Format::Long4 => 0x0000_5800_0000_0000,
        Format::TwoLevel | Format::Pae => 0xd800_0000,
    };
    let mut sh = Shared::new(ctx, switch_body);
    sh.n = SWITCH_SPACES;
    for k in 0..SWITCH_SPACES {
        let mut m = super::spaces::private_space(ctx, va)?;
        sh.va[k] = va;
        sh.seed[k] = [2800 + k as u32, 2900 + k as u32];
        sh.pa[k] = [pattern_frame(sh.seed[k][0]), pattern_frame(sh.seed[k][1])];
        sh.slot[k] = m.map(va, sh.pa[k][0], P | RW)?;
        sh.aux[k] = m.root;
    }
    run_both(&sh)
}

fn switch_body(sh: &Shared, cpu: usize) -> Option<Bad> {
    let m = sh.mmu();
    let mut first = None;
    sync(&mut first);
    if cpu == 0 {
        for r in 0..SWITCH_ROUNDS {
            for k in 0..sh.n {
                note(&mut first, sh.point(k, (r as usize + k) % 2));
            }
        }
    } else {
        for r in 0..SWITCH_ROUNDS {
            for k in 0..sh.n {
                // SAFETY: each space is a copy of the main one except at the
                // test VA, so code, stack and data stay mapped.
                unsafe { m.sibling(sh.aux[k]).activate() };
                note(
                    &mut first,
                    sh.expect(
                        "read in a space being rewritten",
                        r,
                        k,
                        (r as usize) % 1024,
                        &[0, 1],
                    ),
                );
            }
        }
        // SAFETY: back to the main tables.
        unsafe { m.activate() };
    }
    sync(&mut first);
    if cpu == 0 {
        for k in 0..sh.n {
            note(&mut first, sh.point(k, 1));
        }
        m.flush_all_vcpus();
    }
    sync(&mut first);
    if cpu == 1 {
        // break=: expect the first frame.
        let want = if sh.broken { 0 } else { 1 };
        for k in 0..sh.n {
            // SAFETY: as above.
            unsafe { m.sibling(sh.aux[k]).activate() };
            note(
                &mut first,
                sh.expect(
                    "after remap + flush of all vCPUs",
                    SWITCH_ROUNDS,
                    k,
                    5,
                    &[want],
                ),
            );
        }
        // SAFETY: back to the main tables.
        unsafe { m.activate() };
    }
    sync(&mut first);
    first
}

// ----- smp_notpresent_flip -------------------------------------------------------

const FLIP_PAGES: usize = 16;
const FLIP_ROUNDS: u32 = 300;

/// The not-present fast path with two vCPUs: each vCPU keeps flipping its
/// half of a leaf table's 16 entries between not present and present (with
/// a local flush) while both read all 16 pages.  Every read gives the
/// page's data or a not-present #PF (error code 0, never RSVD, CR2 = the
/// address), and right after its own flip a vCPU sees exactly its new
/// state.  Finally vCPU 0 makes all present and flushes all vCPUs: both
/// read every page's data.
pub(super) fn smp_notpresent_flip(ctx: &mut Ctx) -> TestResult {
    need_ap(ctx)?;
    let mut sh = Shared::new(ctx, flip_body);
    let va = ctx.fresh_va(FLIP_PAGES as u64);
    sh.pages(ctx, va, FLIP_PAGES, 3100, 3100)?;
    run_both(&sh)
}

/// Read word `w` of page k: data when `present` is Some(true), a
/// not-present fault when Some(false), either when None.
fn flip_read(
    sh: &Shared,
    what: &'static str,
    r: u32,
    k: usize,
    w: usize,
    present: Option<bool>,
) -> Option<Bad> {
    let va = sh.va[k] + 4 * w as u64;
    let got = exceptions::read32(va as usize);
    let data_ok = got == Ok(pattern(sh.seed[k][0], w));
    let mask = PFEC_PRESENT | PFEC_WRITE | PFEC_USER | PFEC_RSVD | PFEC_INSN;
    let fault_ok =
        matches!(got, Err(f) if f.vector == PF && f.error_code & mask == 0 && f.cr2 == va);
    let ok = match present {
        Some(true) => data_ok,
        Some(false) => fault_ok,
        None => data_ok || fault_ok,
    };
    if ok {
        return None;
    }
    Some(Bad {
        what,
        cpu: smp::cpu_id(),
        round: r,
        va,
        got,
        want: pattern(sh.seed[k][0], w),
    })
}

fn flip_body(sh: &Shared, cpu: usize) -> Option<Bad> {
    let m = sh.mmu();
    let mut first = None;
    let half = sh.n / 2;
    let mut present = [true; FLIP_PAGES];
    sync(&mut first);
    for r in 0..FLIP_ROUNDS {
        let k = cpu * half + r as usize % half;
        let w = (r as usize * 5 + 1) % 1024;
        present[k] = !present[k];
        let val = if present[k] {
            m.pte(sh.pa[k][0], P | RW)
        } else {
            0
        };
        if m.write(sh.slot[k], val).is_err() {
            note(&mut first, sh.point(k, 0));
        }
        m.flush(sh.va[k]);
        note(
            &mut first,
            flip_read(
                sh,
                "own entry after flip + local flush",
                r,
                k,
                w,
                Some(present[k]),
            ),
        );
        for j in 0..sh.n {
            note(
                &mut first,
                flip_read(sh, "read while entries flip", r, j, w, None),
            );
        }
    }
    sync(&mut first);
    if cpu == 0 {
        for k in 0..sh.n {
            note(&mut first, sh.point(k, 0));
        }
        m.flush_all_vcpus();
    }
    sync(&mut first);
    // break=: the AP expects the pages to be not present.
    let want = !(sh.broken && cpu == 1);
    for k in 0..sh.n {
        note(
            &mut first,
            flip_read(
                sh,
                "after making all present + flush of all vCPUs",
                FLIP_ROUNDS,
                k,
                7,
                Some(want),
            ),
        );
    }
    sync(&mut first);
    first
}
