//! Cost per dirtied page in log-dirty mode (64-bit PV dom0 only).
//!
//! A page gets dirtied by a vCPU running in the log-dirty domain, and a
//! domain cannot put itself in log-dirty mode, so the benchmark dom0 builds
//! a second domain and runs it:
//!
//! * a 64-bit PV domain (raw domctls, as in `logdirty`) with `FRAMES`
//!   frames; `populate_physmap` returns their machine frame numbers
//!   (guest frame i is machine frame `mfns[i]`, Xen's M2P says so);
//! * dom0 maps the domU's frames with `mmu_update` and `foreigndom`,
//!   writes a 4-level page table (frames 0-3) that maps guest frame i at
//!   virtual address `i * 4096`, copies the code below into frame 4 and
//!   zeroes the mailbox (frame 5), then drops its mappings of the table
//!   frames (a page-table frame must have no writable mapping when Xen
//!   validates it);
//! * `settscinfo` NEVER_EMULATE, so the domU's RDTSC is the native one
//!   (under `-icount` the instruction count, like dom0's);
//! * `setvcpucontext` (kernel mode, flat segments, CR3), a 4 MiB shadow
//!   pool (SET_ALLOCATION, as xl does), ENABLE_LOGDIRTY
//!   (the PV domain's memory is now shadowed), `unpausedomain`.
//!
//! One batch is one round of the domU: dom0 bumps the command word in the
//! mailbox and yields until the domU reports the round done.  The domU
//! first reads each of its `PAGES` data pages (untimed: after the last
//! CLEAN blew the shadows, this rebuilds the shadow tables and maps each
//! page read-only, as log-dirty mode does for a clean page), then times
//! one store to each: a write fault on a present, read-only shadow entry
//! whose guest entry is writable and dirty, which the shadow code answers
//! by marking the page dirty and making the shadow entry writable.  It also
//! times an empty window next to each store.  Dom0 then CLEANs, which
//! resets the bitmap and blows the shadows for the next round, and checks
//! that Xen reports exactly the data pages and the mailbox dirty.
//!
//! A sample is the store's window minus the domU's empty window next to it
//! (plus dom0's empty window, which the harness subtracts again).  Both
//! vCPUs share QEMU's one CPU, so a sample may include a switch to dom0
//! (the scheduler's tick); the batch median leaves those out.

use super::logdirty::{
    bitmap, clean_counted, create_domain, domctl, fail, populate_physmap, shadow_op,
    DOMCTL_SHADOW_OP, SHADOW_OP_ENABLE_LOGDIRTY,
};
use super::{ensure, Bench, Problem};
use crate::global::Global;
use crate::paging::{Slot, A, D, P, RW, US};
use crate::{frames, xen};

const DOMCTL_UNPAUSEDOMAIN: u32 = 4;
const DOMCTL_SETVCPUCONTEXT: u32 = 12;
const DOMCTL_SETTSCINFO: u32 = 60;
const TSC_MODE_NEVER_EMULATE: u32 = 2;
const SHADOW_OP_SET_ALLOCATION: u32 = 31;
/// Shadow pool of the domU, MiB (the log-dirty bitmap comes from it too).
const SHADOW_MB: u32 = 4;

/// Guest frames: the page table (0-3), code (4), mailbox (5), data.
const L4: usize = 0;
const L3: usize = 1;
const L2: usize = 2;
const L1: usize = 3;
const CODE: usize = 4;
const MAILBOX: usize = 5;
const DATA: usize = 6;
/// Data pages dirtied per round (one sample each).  The domU's code has
/// the same figure (64) and the frame numbers above spelled out.
pub const PAGES: usize = 64;
const FRAMES: usize = DATA + PAGES;

/// Mailbox words (u64): the command and done sequence numbers, the
/// domU's sign of life, then the store windows and the empty windows.
const MB_CMD: usize = 0;
const MB_DONE: usize = 1;
const MB_ALIVE: usize = 2;
const MB_WRITE: usize = 8;
const MB_EMPTY: usize = MB_WRITE + PAGES;

/// Yields before a wait gives up.
const YIELD_LIMIT: u64 = 2_000_000;

// The domU's code: position independent, no stack, uses the virtual
// layout above (guest frame i at i * 4096).  Hypercalls from a 64-bit PV
// kernel are a `syscall` with the number in eax (what Xen's hypercall page
// holds); it clobbers rcx and r11, which hold nothing here.
core::arch::global_asm!(
    r#"
    .pushsection .text.domu_blob, "ax"
    .global domu_blob_start
    .global domu_blob_end
domu_blob_start:
    mov ebx, 0x5000                 /* mailbox */
    mov qword ptr [rbx + 16], 1     /* alive */
    xor r12d, r12d                  /* last round done */
2:
    mov rax, qword ptr [rbx]
    cmp rax, r12
    jne 3f
    xor edi, edi                    /* SCHEDOP_yield */
    xor esi, esi
    mov eax, 29                     /* __HYPERVISOR_sched_op */
    syscall
    jmp 2b
3:
    mov r12, rax
    mov esi, 0x6000                 /* read every data page */
    mov ecx, 64
4:
    mov rax, qword ptr [rsi]
    add rsi, 4096
    dec ecx
    jnz 4b
    mov esi, 0x6000
    lea rdi, [rbx + 64]             /* store windows; empty ones +512 */
    mov ecx, 64
5:
    rdtsc
    mov r8d, eax
    rdtsc
    sub eax, r8d
    mov qword ptr [rdi + 512], rax
    rdtsc
    mov r8d, eax
    mov qword ptr [rsi], r12        /* the timed store */
    rdtsc
    sub eax, r8d
    mov qword ptr [rdi], rax
    add rsi, 4096
    add rdi, 8
    dec ecx
    jnz 5b
    mov qword ptr [rbx + 8], r12    /* done */
    jmp 2b
domu_blob_end:
    .popsection
"#
);

extern "C" {
    static domu_blob_start: u8;
    static domu_blob_end: u8;
}

const _: () = assert!(MAILBOX * 4096 == 0x5000 && DATA * 4096 == 0x6000 && PAGES == 64);
const _: () = assert!(MB_WRITE * 8 == 64 && (MB_EMPTY - MB_WRITE) * 8 == 512);
const _: () = assert!(MB_EMPTY + PAGES <= 512);

/// The running domU.
#[derive(Clone, Copy)]
struct DomU {
    id: u16,
    /// Dom0's writable mapping of the mailbox.
    mailbox: u64,
    /// Rounds started.
    seq: u64,
}

static DOMU: Global<Option<DomU>> = Global::new(None);

/// The context is 5 KB: kept out of the stack.
static CONTEXT: Global<core::mem::MaybeUninit<crate::arch::VcpuGuestContext>> =
    Global::new(core::mem::MaybeUninit::zeroed());

/// Dom0's view of one domU frame: map `mfn` at `va`.
fn map_foreign(b: &mut Bench, va: u64, mfn: u64, dom: u16) -> Result<Slot, Problem> {
    let s = b.mmu.slot(va, 1, true)?;
    b.mmu.write_foreign(s, (mfn << 12) | P | RW | A | D, dom)?;
    Ok(s)
}

/// Word `index` of the frame mapped at `va`.
fn put(va: u64, index: usize, val: u64) {
    // SAFETY: `va` is a writable mapping of a whole frame (one of dom0's,
    // or dom0's mapping of a domU frame) and index < 512 at every caller.
    unsafe { ((va as usize as *mut u64).add(index)).write_volatile(val) };
}

fn get(va: u64, index: usize) -> u64 {
    // SAFETY: as for `put`.
    unsafe { ((va as usize as *const u64).add(index)).read_volatile() }
}

fn zero(va: u64) {
    for i in 0..512 {
        put(va, i, 0);
    }
}

fn start(b: &mut Bench) -> Result<DomU, Problem> {
    let dom = create_domain(false, (FRAMES as u64 * 4) + 1024)?;
    // Guest frame numbers in, machine frame numbers out.
    let list = frames::alloc();
    for i in 0..FRAMES {
        put(list, i, i as u64);
    }
    let rc = populate_physmap(dom, list, FRAMES, 0);
    ensure!(
        rc == FRAMES as isize,
        "populate_physmap: {} of {} frames",
        rc,
        FRAMES
    );
    // Xen wrote back one machine frame per extent.
    let mfn = |i: usize| get(list, i);

    // Dom0's window onto frames 0-5.
    let win = b.region();
    let va = |i: usize| win + 4096 * i as u64;
    let mut slots = [Slot { table: 0, index: 0 }; MAILBOX + 1];
    for (i, s) in slots.iter_mut().enumerate() {
        *s = map_foreign(b, va(i), mfn(i), dom)?;
    }
    let table = P | RW | US | A;
    for t in [L4, L3, L2, L1] {
        zero(va(t));
    }
    put(va(L4), 0, (mfn(L3) << 12) | table);
    put(va(L3), 0, (mfn(L2) << 12) | table);
    put(va(L2), 0, (mfn(L1) << 12) | table);
    put(va(L1), CODE, (mfn(CODE) << 12) | P | US | A);
    for i in MAILBOX..FRAMES {
        put(va(L1), i, (mfn(i) << 12) | P | RW | US | A | D);
    }
    let from = &raw const domu_blob_start as usize;
    let len = (&raw const domu_blob_end as usize).wrapping_sub(from);
    ensure!(len <= 4096, "domU code is {} bytes", len);
    zero(va(CODE));
    // SAFETY: `from..from+len` is readable code; the target is dom0's
    // writable mapping of a domU frame, 4096 >= len bytes.
    unsafe { core::ptr::copy_nonoverlapping(from as *const u8, va(CODE) as usize as *mut u8, len) };
    zero(va(MAILBOX));
    // Drop the mappings of everything but the mailbox.
    for (i, &s) in slots.iter().enumerate().take(MAILBOX) {
        b.mmu.write(s, 0)?;
        b.mmu.flush(va(i));
    }

    domctl(DOMCTL_SETTSCINFO, dom, "settscinfo", |d| {
        d.put32(0, TSC_MODE_NEVER_EMULATE)
    })?;
    // SAFETY: only this function touches CONTEXT, once; all-zero is a
    // valid start for the context (plain integers).
    let c = unsafe { (*CONTEXT.as_ptr()).assume_init_mut() };
    c.flags = crate::arch::VGCF_IN_KERNEL | crate::arch::VGCF_ONLINE;
    c.user_regs.rip = (CODE * 4096) as u64;
    c.user_regs.rsp = ((MAILBOX + 1) * 4096) as u64;
    c.user_regs.cs = xen::FLAT_KERNEL_CS;
    c.user_regs.rflags = 0x2;
    c.user_regs.segs[0] = xen::FLAT_KERNEL_SS as u64;
    c.kernel_ss = xen::FLAT_KERNEL_SS as usize;
    c.kernel_sp = (MAILBOX + 1) * 4096;
    c.ctrlreg[3] = (mfn(L4) << 12) as usize;
    let ctx = c as *mut _ as u64;
    // struct xen_domctl_vcpucontext: vcpu (0), ctxt handle (8).
    domctl(DOMCTL_SETVCPUCONTEXT, dom, "setvcpucontext", |d| {
        d.put64(8, ctx)
    })?;
    // As the toolstack does at domain creation (xl's shadow_memory): with
    // no pool, ENABLE would make a minimal one and CLEAN would find no
    // room for the bitmap's pages (-ENOMEM).
    domctl(DOMCTL_SHADOW_OP, dom, "shadow_op SET_ALLOCATION", |d| {
        d.put32(0, SHADOW_OP_SET_ALLOCATION);
        d.put32(8, SHADOW_MB);
    })?;
    let rc = shadow_op(dom, SHADOW_OP_ENABLE_LOGDIRTY, 0, 0);
    if rc != 0 {
        return Err(fail("shadow_op ENABLE_LOGDIRTY", rc));
    }
    domctl(DOMCTL_UNPAUSEDOMAIN, dom, "unpausedomain", |_| ())?;
    let u = DomU {
        id: dom,
        mailbox: va(MAILBOX),
        seq: 0,
    };
    wait(|| get(u.mailbox, MB_ALIVE) != 0, "the domU did not start")?;
    // Start from a clean bitmap and no shadows.
    clean(u.id, false)?;
    Ok(u)
}

fn wait(cond: impl Fn() -> bool, what: &str) -> Result<(), Problem> {
    let mut n = 0u64;
    while !cond() {
        ensure!(n < YIELD_LIMIT, "{} (after {} yields)", what, n);
        n += 1;
        xen::sched_yield();
    }
    Ok(())
}

/// CLEAN; with `check`, the bitmap must name exactly the data pages and
/// the mailbox (what one round dirties).
fn clean(dom: u16, check: bool) -> Result<(), Problem> {
    let bm = bitmap()?;
    let (rc, n) = clean_counted(dom, bm, FRAMES as u64);
    if rc != 0 {
        return Err(fail("shadow_op CLEAN", rc));
    }
    if !check {
        return Ok(());
    }
    for i in 0..FRAMES {
        // SAFETY: the bitmap buffer is 8 frames, FRAMES bits fit in one.
        let byte = unsafe { ((bm as usize as *const u8).add(i / 8)).read_volatile() };
        let dirty = byte & (1 << (i % 8)) != 0;
        ensure!(
            dirty == (i >= MAILBOX),
            "CLEAN: guest frame {} dirty={} (dirty_count {})",
            i,
            dirty,
            n
        );
    }
    ensure!(n as usize == FRAMES - MAILBOX, "CLEAN: dirty_count {}", n);
    Ok(())
}

pub fn dirty_page(b: &mut Bench, out: &mut [u64]) -> Result<(), Problem> {
    ensure!(
        out.len() <= PAGES,
        "{} samples > {} pages",
        out.len(),
        PAGES
    );
    let mut u = match DOMU.get() {
        Some(u) => u,
        None => start(b)?,
    };
    u.seq += 1;
    DOMU.set(Some(u));
    let seq = u.seq;
    put(u.mailbox, MB_CMD, seq);
    wait(
        || get(u.mailbox, MB_DONE) == seq,
        "the domU did not finish its round",
    )?;
    clean(u.id, true)?;
    for (i, s) in out.iter_mut().enumerate() {
        let w = get(u.mailbox, MB_WRITE + i);
        let e = get(u.mailbox, MB_EMPTY + i);
        ensure!(
            w >= e,
            "page {}: store window {} < empty window {}",
            i,
            w,
            e
        );
        *s = w - e + b.base;
    }
    Ok(())
}
