//! The benchmarked operations.  Each function runs one batch: it prepares
//! what the operation needs (outside the timed window), then times one
//! operation per element of `out` with [`rdtsc`] right around it.

use super::{ensure, rdtsc, Bench, Problem};
use crate::frames;
use crate::paging::{Format, Slot, A, D, P, RW};
use crate::{arch, xen};

/// Number of pages each forked address space touches.
const FORK_PAGES: usize = 8;
/// PTE writes in one burst.
const BURST: usize = 32;

/// Read the first word of the page at `va` (a mapping the operation made).
#[inline(always)]
fn touch(va: u64) -> u32 {
    // SAFETY: callers only pass addresses they mapped to one of their data
    // frames (or the local APIC); a fault here would be a bug and ends in
    // the unexpected-exception report.
    unsafe { (va as usize as *const u32).read_volatile() }
}

/// Word 0 of a frame, through the direct view.
fn frame_word(pa: u64) -> u32 {
    // SAFETY: `pa` is a frame from `frames`, readable at its own address.
    unsafe { (pa as usize as *const u32).read_volatile() }
}

/// The two data frames the mappings point at (word 0 tells them apart).
fn data(b: &mut Bench) -> [u64; 2] {
    if b.data[0] == 0 {
        for (k, d) in b.data.iter_mut().enumerate() {
            *d = frames::alloc();
            // SAFETY: a fresh frame from `frames`, writable at its address.
            unsafe { (*d as usize as *mut u32).write_volatile(0x5a00_0000 + k as u32) };
        }
    }
    b.data
}

/// Map `va` to `pa` (A and D set), flush it and touch it, so that both the
/// guest entry and its shadow exist.
fn map_touched(b: &mut Bench, va: u64, pa: u64) -> Result<(), Problem> {
    b.mmu.map(va, pa, P | RW | A | D)?;
    b.mmu.flush(va);
    let v = touch(va);
    ensure!(
        v == frame_word(pa),
        "{:#x} reads {:#x}, want {:#x}",
        va,
        v,
        frame_word(pa)
    );
    Ok(())
}

/// Demand fault that creates a shadow: a present PTE in a leaf table that
/// has never been shadowed (a fresh table linked into the tables for each
/// sample), read for the first time.
pub fn fault_new_l1(b: &mut Bench, out: &mut [u64]) -> Result<(), Problem> {
    let [d0, _] = data(b);
    let want = frame_word(d0);
    for s in out.iter_mut() {
        let va = b.region();
        b.mmu.map(va, d0, P | RW | A | D)?;
        b.mmu.flush(va);
        let t0 = rdtsc();
        let v = touch(va);
        let t1 = rdtsc();
        *s = t1.wrapping_sub(t0);
        ensure!(v == want, "fresh mapping {:#x} reads {:#x}", va, v);
    }
    Ok(())
}

/// Demand fault in an already-shadowed leaf table: the PTE is rewritten
/// with A clear (so its shadow entry is not present) and flushed; the read
/// faults, Xen's walk sets A and the shadow entry is filled in.
pub fn fault_shadowed(b: &mut Bench, out: &mut [u64]) -> Result<(), Problem> {
    let [d0, d1] = data(b);
    let va = b.region();
    map_touched(b, va, d0)?;
    map_touched(b, va + 4096, d1)?;
    let slot = b.mmu.slot(va, 1, false)?;
    let pte = b.mmu.pte(d0, P | RW);
    let want = frame_word(d0);
    for s in out.iter_mut() {
        b.mmu.write(slot, pte)?;
        b.mmu.flush(va);
        let t0 = rdtsc();
        let v = touch(va);
        let t1 = rdtsc();
        *s = t1.wrapping_sub(t0);
        ensure!(v == want, "{:#x} reads {:#x}, want {:#x}", va, v, want);
    }
    Ok(())
}

/// One store to a PTE of a shadowed, in-sync leaf table (HVM: the write
/// fault unsyncs the table; PV: the store is emulated).  The full flush
/// before each sample brings an out-of-sync table back in sync.
pub fn pte_write(b: &mut Bench, out: &mut [u64]) -> Result<(), Problem> {
    let [d0, d1] = data(b);
    let va = b.region();
    map_touched(b, va, d0)?;
    map_touched(b, va + 4096, d1)?;
    let slot = b.mmu.slot(va, 1, false)?;
    let ptes = [b.mmu.pte(d0, P | RW | A | D), b.mmu.pte(d1, P | RW | A | D)];
    for (k, s) in out.iter_mut().enumerate() {
        // HVM: a CR3 reload resyncs out-of-sync tables (INVLPG does not:
        // it only drops the one shadow entry).
        b.mmu.flush_all();
        let pte = ptes[(k + 1) % 2];
        let t0 = rdtsc();
        b.mmu.write_direct(slot, pte);
        let t1 = rdtsc();
        *s = t1.wrapping_sub(t0);
        // Compare frame and P only: 64-bit PV entries read back with bits
        // Xen adds (USER, _PAGE_GUEST_KERNEL).
        let got = b.mmu.read(slot);
        ensure!(
            got & P != 0 && b.mmu.entry_pa(got) == b.mmu.entry_pa(pte),
            "PTE reads {:#x} after storing {:#x}",
            got,
            pte
        );
    }
    b.mmu.flush(va);
    let last = [d0, d1][out.len() % 2];
    ensure!(
        touch(va) == frame_word(last),
        "after the writes {:#x} does not map the last frame",
        va
    );
    Ok(())
}

/// A burst of `BURST` stores to one leaf table followed by a full TLB
/// flush (HVM: the out-of-sync path: one unsync fault, direct stores, and
/// the resync at the CR3 reload; PV: one emulation per store and
/// `MMUEXT_TLB_FLUSH_LOCAL`).  One sample is the whole burst.
pub fn pte_burst(b: &mut Bench, out: &mut [u64]) -> Result<(), Problem> {
    let [d0, d1] = data(b);
    let va = b.region();
    for i in 0..BURST as u64 {
        map_touched(b, va + i * 4096, d0)?;
    }
    let first = b.mmu.slot(va, 1, false)?;
    let ptes = [b.mmu.pte(d0, P | RW | A | D), b.mmu.pte(d1, P | RW | A | D)];
    for (k, s) in out.iter_mut().enumerate() {
        let pte = ptes[(k + 1) % 2];
        let t0 = rdtsc();
        for i in 0..BURST {
            b.mmu.write_direct(
                Slot {
                    table: first.table,
                    index: first.index + i,
                },
                pte,
            );
        }
        b.mmu.flush_all();
        let t1 = rdtsc();
        *s = t1.wrapping_sub(t0);
        let want = frame_word([d0, d1][(k + 1) % 2]);
        ensure!(
            touch(va) == want,
            "after burst {} {:#x} maps the wrong frame",
            k,
            va
        );
    }
    Ok(())
}

/// One update of a level-2 entry: the entry is switched between two leaf
/// tables that stay shadowed (each is also linked from a region of its
/// own), so no shadow is created or destroyed.  HVM: a store, always
/// emulated (L2s never go out of sync).  PV: `mmu_update` (Xen emulates
/// stores only to L1 pages), validated into the shadow by
/// `sh_validate_guest_entry`.
pub fn pde_write(b: &mut Bench, out: &mut [u64]) -> Result<(), Problem> {
    let [d0, d1] = data(b);
    let ra = b.region();
    let rb = b.region();
    let rc = b.region();
    map_touched(b, ra, d0)?;
    map_touched(b, rb, d1)?;
    let sa = b.mmu.slot(ra, 2, false)?;
    let sb = b.mmu.slot(rb, 2, false)?;
    let vals = [b.mmu.read(sa), b.mmu.read(sb)];
    let sc = b.mmu.slot(rc, 2, true)?;
    b.mmu.write(sc, vals[0])?;
    b.mmu.flush(rc);
    for (k, s) in out.iter_mut().enumerate() {
        let v = vals[(k + 1) % 2];
        let t0 = rdtsc();
        let r = if b.mmu.is_pv() {
            b.mmu.write(sc, v)
        } else {
            b.mmu.write_direct(sc, v);
            Ok(())
        };
        let t1 = rdtsc();
        *s = t1.wrapping_sub(t0);
        r?;
    }
    b.mmu.flush(rc);
    let want = frame_word([d0, d1][out.len() % 2]);
    ensure!(
        touch(rc) == want,
        "after the PDE writes {:#x} maps the wrong leaf table",
        rc
    );
    Ok(())
}

/// PV: a copy of the top-level table (guest slots only; Xen fills its own),
/// made read-only and pinned as an L4.
fn pv_clone_root(b: &mut Bench) -> Result<u64, Problem> {
    let r = frames::alloc();
    for i in (0..512).filter(|i| !(256..=271).contains(i)) {
        let v = b.mmu.read(Slot {
            table: b.mmu.root,
            index: i,
        });
        if v != 0 {
            b.mmu.write_direct(Slot { table: r, index: i }, v);
        }
    }
    b.mmu.protect_table(r)?;
    let op = xen::MmuExtOp {
        cmd: xen::MMUEXT_PIN_L4_TABLE,
        arg1: (b.mmu.addr_field(r) >> 12) as usize,
        arg2: 0,
    };
    let rc = xen::mmuext_op(&[op]);
    ensure!(rc == 0, "MMUEXT_PIN_L4_TABLE rc={}", rc);
    Ok(r)
}

/// A new address space sharing everything with the main one.
fn new_root(b: &mut Bench) -> Result<u64, Problem> {
    if b.mmu.is_pv() {
        pv_clone_root(b)
    } else {
        Ok(b.mmu.clone_root()?.root)
    }
}

/// Switch to the address space whose top-level table is at `root`.
#[inline(always)]
fn load_root(b: &Bench, root: u64, mfn: usize) -> Result<(), Problem> {
    if b.mmu.is_pv() {
        let op = xen::MmuExtOp {
            cmd: xen::MMUEXT_NEW_BASEPTR,
            arg1: mfn,
            arg2: 0,
        };
        let rc = xen::mmuext_op(&[op]);
        ensure!(rc == 0, "MMUEXT_NEW_BASEPTR rc={}", rc);
    } else {
        // SAFETY: every root loaded here is a copy of the main top-level
        // table (plus private entries), so code, stack and data stay mapped.
        unsafe { arch::write_cr3(root as usize) };
    }
    Ok(())
}

/// The machine frame of `root` for PV (what NEW_BASEPTR takes).
fn root_mfn(b: &Bench, root: u64) -> usize {
    if b.mmu.is_pv() {
        (b.mmu.addr_field(root) >> 12) as usize
    } else {
        0
    }
}

fn cr3_switch(b: &mut Bench, out: &mut [u64], n: usize) -> Result<(), Problem> {
    while b.nroots < n {
        let r = new_root(b)?;
        let Some(slot) = b.roots.get_mut(b.nroots) else {
            return Err(Problem::Skip("too many roots"));
        };
        *slot = r;
        b.nroots += 1;
    }
    let main = b.mmu.root;
    let main_mfn = root_mfn(b, main);
    let mut mfns = [0usize; 64];
    for (m, &r) in mfns.iter_mut().zip(b.roots.iter()).take(n) {
        *m = root_mfn(b, r);
    }
    // Warm up: every top-level shadow exists before the timed switches.
    for k in 0..n {
        load_root(b, b.roots[k], mfns[k])?;
    }
    load_root(b, main, main_mfn)?;
    let mut res = Ok(());
    for (k, s) in out.iter_mut().enumerate() {
        let (r, m) = (b.roots[k % n], mfns[k % n]);
        let t0 = rdtsc();
        let rc = load_root(b, r, m);
        let t1 = rdtsc();
        *s = t1.wrapping_sub(t0);
        if rc.is_err() {
            res = rc;
            break;
        }
        if !b.mmu.is_pv() && arch::read_cr3() as u64 != r {
            res = Err(Problem::Fail(super::Msg::new(format_args!(
                "CR3 reads {:#x} after loading {:#x}",
                arch::read_cr3(),
                r
            ))));
            break;
        }
    }
    load_root(b, main, main_mfn)?;
    res
}

/// CR3 loads cycling through 2 address spaces (top-level shadows cached).
pub fn cr3_switch2(b: &mut Bench, out: &mut [u64]) -> Result<(), Problem> {
    cr3_switch(b, out, 2)
}

/// The same through 16 address spaces.
pub fn cr3_switch16(b: &mut Bench, out: &mut [u64]) -> Result<(), Problem> {
    cr3_switch(b, out, 16)
}

/// The same through 64 address spaces.
pub fn cr3_switch64(b: &mut Bench, out: &mut [u64]) -> Result<(), Problem> {
    cr3_switch(b, out, 64)
}

/// A CR3 load of an address space never loaded before (the top-level
/// shadow must be made: a miss).
pub fn cr3_new_root(b: &mut Bench, out: &mut [u64]) -> Result<(), Problem> {
    let main = b.mmu.root;
    let main_mfn = root_mfn(b, main);
    for s in out.iter_mut() {
        let r = new_root(b)?;
        let m = root_mfn(b, r);
        let t0 = rdtsc();
        let rc = load_root(b, r, m);
        let t1 = rdtsc();
        *s = t1.wrapping_sub(t0);
        load_root(b, main, main_mfn)?;
        rc?;
    }
    Ok(())
}

/// The VA a forked address space maps privately, in a top-level slot (PAE:
/// a PDPT slot) the image does not use.
fn fork_va(fmt: Format) -> u64 {
    match fmt {
        Format::Long4 => 0x0000_5000_0000_0000,
        Format::TwoLevel | Format::Pae => 0xd000_0000,
    }
}

/// HVM fork/exit with recycled page-table pages.  The same frames serve as
/// the tables of every new address space: "fork" writes the leaf entries,
/// links the private tables, fills the top level (the image's entries of
/// the main table plus the private link), loads CR3, touches the pages and
/// loads the main CR3 again; "exit" writes zeros over all of it, as a guest
/// kernel does when it frees an address space (two zero writes in a row to
/// a shadowed table make Xen unshadow it early).  `part` selects the
/// timed half: 0 = fork, 1 = exit.
fn fork_exit(b: &mut Bench, out: &mut [u64], part: usize) -> Result<(), Problem> {
    let [d0, _] = data(b);
    let fmt = b.mmu.fmt;
    let va = fork_va(fmt);
    let (r, t_mid, t_low, l1) = (
        frames::alloc(),
        frames::alloc(),
        frames::alloc(),
        frames::alloc(),
    );
    let shift = |lvl: u32| fmt.shift(lvl);
    let idx = |v: u64, lvl: u32, n: u64| ((v >> shift(lvl)) & (n - 1)) as usize;
    // (table, index, value) in fork order: leaves first, then links upward.
    let mut ents = [(0u64, 0usize, 0u64); FORK_PAGES + 16];
    let mut n = 0;
    let mut push = |t: u64, i: usize, v: u64| {
        if let Some(e) = ents.get_mut(n) {
            *e = (t, i, v);
            n += 1;
        }
    };
    let l1_entries = if fmt == Format::TwoLevel { 1024 } else { 512 };
    for p in 0..FORK_PAGES {
        push(l1, idx(va, 1, l1_entries) + p, d0 | P | RW | A | D);
    }
    let main_entry = |i: usize| {
        b.mmu.read(Slot {
            table: b.mmu.root,
            index: i,
        })
    };
    match fmt {
        Format::Long4 => {
            push(t_low, idx(va, 2, 512), l1 | P | RW | A);
            push(t_mid, idx(va, 3, 512), t_low | P | RW | A);
            push(r, idx(va, 4, 512), t_mid | P | RW | A);
        }
        Format::TwoLevel => push(r, idx(va, 2, 1024), l1 | P | RW | A),
        Format::Pae => {
            push(t_low, idx(va, 2, 512), l1 | P | RW | A);
            push(r, idx(va, 3, 4), t_low | P);
        }
    }
    // The image's top-level entries (PAE: the other three PDPT entries).
    let (start, end) = arch::image_range();
    let top = fmt.levels();
    let top_n = match fmt {
        Format::Long4 => 512,
        Format::TwoLevel => 1024,
        Format::Pae => 4,
    };
    let (first, last) = match fmt {
        Format::Pae => (0, 2),
        _ => (
            idx(start as u64, top, top_n),
            idx(end as u64 - 1, top, top_n),
        ),
    };
    for i in first..=last {
        push(r, i, main_entry(i));
    }
    let ents = &ents[..n];
    let main = arch::read_cr3();
    let want = frame_word(d0);
    for s in out.iter_mut() {
        let t0 = rdtsc();
        for &(t, i, v) in ents {
            b.mmu.write_direct(Slot { table: t, index: i }, v);
        }
        // SAFETY: `r` maps the image like the main table does, plus the
        // private chain at `va`.
        unsafe { arch::write_cr3(r as usize) };
        let mut sum = 0u32;
        for p in 0..FORK_PAGES as u64 {
            sum = sum.wrapping_add(touch(va + p * 4096));
        }
        // SAFETY: back to the main tables.
        unsafe { arch::write_cr3(main) };
        let t1 = rdtsc();
        for &(t, i, _) in ents {
            b.mmu.write_direct(Slot { table: t, index: i }, 0);
        }
        let t2 = rdtsc();
        *s = if part == 0 {
            t1.wrapping_sub(t0)
        } else {
            t2.wrapping_sub(t1)
        };
        ensure!(
            sum == want.wrapping_mul(FORK_PAGES as u32),
            "forked space read wrong data ({:#x})",
            sum
        );
    }
    Ok(())
}

/// Address-space rebuild (fork half of [`fork_exit`]).
pub fn fork(b: &mut Bench, out: &mut [u64]) -> Result<(), Problem> {
    fork_exit(b, out, 0)
}

/// Address-space teardown (exit half of [`fork_exit`]).
pub fn exit(b: &mut Bench, out: &mut [u64]) -> Result<(), Problem> {
    fork_exit(b, out, 1)
}

/// INVLPG of a mapped address whose leaf table is in sync (HVM: the
/// intercepted instruction; PV: MMUEXT_INVLPG_LOCAL).
pub fn invlpg(b: &mut Bench, out: &mut [u64]) -> Result<(), Problem> {
    let [d0, _] = data(b);
    let va = b.region();
    map_touched(b, va, d0)?;
    for s in out.iter_mut() {
        let t0 = rdtsc();
        b.mmu.flush(va);
        let t1 = rdtsc();
        *s = t1.wrapping_sub(t0);
    }
    ensure!(touch(va) == frame_word(d0), "{:#x} lost its mapping", va);
    Ok(())
}

const MSR_APIC_BASE: u32 = 0x1b;
const PCD: u64 = 1 << 4;
const PWT: u64 = 1 << 3;
const APIC_VERSION: u64 = 0x30;

/// HVM: a read of the local APIC's version register through a guest
/// mapping: a shadow MMIO fault and an emulated instruction, whose fetch
/// translates the guest's RIP with the shadow code's `gva_to_gfn`.
pub fn mmio_emul(b: &mut Bench, out: &mut [u64]) -> Result<(), Problem> {
    // SAFETY: IA32_APIC_BASE exists on every CPU Xen runs HVM guests on.
    let base = unsafe { arch::rdmsr(MSR_APIC_BASE) };
    if base & (1 << 11) == 0 || base & (1 << 10) != 0 {
        return Err(Problem::Skip("local APIC disabled or in x2APIC mode"));
    }
    let va = b.region();
    b.mmu.map(va, base & 0xffff_f000, P | RW | PCD | PWT)?;
    b.mmu.flush(va);
    let want = touch(va + APIC_VERSION);
    ensure!(want & 0xf0 == 0x10, "APIC version {:#x}", want);
    for s in out.iter_mut() {
        let t0 = rdtsc();
        let v = touch(va + APIC_VERSION);
        let t1 = rdtsc();
        *s = t1.wrapping_sub(t0);
        ensure!(v == want, "APIC version read {:#x}, first {:#x}", v, want);
    }
    Ok(())
}
