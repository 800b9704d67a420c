//! The second vCPU ("AP"): bring-up and a mailbox.
//!
//! Xen gives dom0 a second vCPU with `dom0_max_vcpus=2` (and QEMU `-smp 2`
//! gives Xen a second physical CPU to run it on).  It starts "down"; the
//! kernel describes its initial state with `VCPUOP_initialise` (PVH: a
//! `vcpu_hvm_context` in 64-bit or 32-bit protected mode with this CPU's
//! CR0/CR3/CR4/EFER; PV: a `vcpu_guest_context` with the kernel's segments,
//! trap table and top-level page table) and starts it with `VCPUOP_up`.
//! The AP runs on its own stack (`AP_STACK`), loads the same GDT/IDT as the
//! boot vCPU (PVH) or gets the same trap table (PV), and then waits in
//! [`ap_main`] for jobs.
//!
//! Bring-up is lazy: the first test that needs the AP calls [`ensure_up`].
//! With one vCPU, `VCPUOP_initialise` fails with -ENOENT and the SMP tests
//! skip.
//!
//! Mailbox: the boot vCPU stores a job (`fn(usize)` and its argument) and
//! bumps `REQ`; the AP runs it and sets `DONE` to the same number.  The AP
//! never prints: a job reports through memory the test shares with it.  An
//! unexpected exception or panic on the AP is recorded in `AP_FATAL` and the
//! AP stops; the boot vCPU sees that while waiting and fails the test.

use crate::global::Global;
use crate::paging::Mmu;
use crate::{arch, xen, Mode};
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

const AP_STACK_SIZE: usize = 64 * 1024;

#[repr(C, align(16))]
struct Stack([u8; AP_STACK_SIZE]);

static AP_STACK: Global<Stack> = Global::new(Stack([0; AP_STACK_SIZE]));

/// Where the AP stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ApState {
    /// Not tried yet.
    Unknown,
    /// Running `ap_main`.
    Up,
    /// The domain has one vCPU.
    Absent,
    /// Bring-up failed, or the AP stopped answering (then it is not used
    /// again: it may still be inside an old job).
    Broken(&'static str, isize),
}

static STATE: Global<ApState> = Global::new(ApState::Unknown);
/// The AP is a PV vCPU (its exceptions come through the trap table).
static AP_PV: Global<bool> = Global::new(false);
static ALIVE: AtomicU32 = AtomicU32::new(0);
static REQ: AtomicU32 = AtomicU32::new(0);
static DONE: AtomicU32 = AtomicU32::new(0);
static JOB: AtomicUsize = AtomicUsize::new(0);
static ARG: AtomicUsize = AtomicUsize::new(0);
/// Per-vCPU step counters for [`barrier`].
static STEP: [AtomicU32; 2] = [AtomicU32::new(0), AtomicU32::new(0)];

/// What stopped the AP (an exception outside any probe, or a panic).
/// Shown through `Debug` in the failing test's message.
#[derive(Clone, Copy, Debug)]
#[allow(dead_code)]
pub enum Fatal {
    Exception(crate::exceptions::Fault),
    Panic { line: u32 },
}
static AP_FATAL: Global<Option<Fatal>> = Global::new(None);

/// Spin iterations before a wait gives up (each with a PAUSE).  Under TCG
/// on a loaded 2-core host one vCPU can lag the other by seconds, so this
/// is tens of seconds: it only turns a vCPU that will never come into a
/// named failure (the harness's 120 s limit stays the backstop).
const SPIN_LIMIT: u64 = 8_000_000_000;

/// 0 on the boot vCPU, 1 on the AP (decided by the stack in use; neither
/// vCPU ever switches stacks, exceptions included).
pub fn cpu_id() -> usize {
    let sp = arch::stack_pointer();
    let base = AP_STACK.as_ptr() as usize;
    if sp >= base && sp < base + AP_STACK_SIZE {
        1
    } else {
        0
    }
}

/// Top of the AP's stack (16-byte aligned), for the initial context.
pub fn ap_stack_top() -> usize {
    AP_STACK.as_ptr() as usize + AP_STACK_SIZE
}

pub fn ap_is_pv() -> bool {
    AP_PV.get()
}

/// Bring the AP up if that has not been tried yet; returns the state.
pub fn ensure_up(mode: Mode, mmu: &Mmu) -> ApState {
    if STATE.get() != ApState::Unknown {
        return STATE.get();
    }
    AP_PV.set(mode.is_pv());
    let rc = arch::ap_initialise(mode, mmu, ap_stack_top());
    let st = if rc == xen::ENOENT {
        ApState::Absent
    } else if rc != 0 {
        ApState::Broken("VCPUOP_initialise", rc)
    } else {
        let rc = xen::vcpu_op(xen::VCPUOP_UP, 1, 0);
        if rc != 0 {
            ApState::Broken("VCPUOP_up", rc)
        } else if !spin_until(|| ALIVE.load(Ordering::Acquire) != 0) {
            ApState::Broken("AP did not start (no sign of life)", 0)
        } else {
            ApState::Up
        }
    };
    STATE.set(st);
    st
}

/// Called by the arch AP entry once the AP can take exceptions.
pub fn ap_main() -> ! {
    ALIVE.store(1, Ordering::Release);
    let mut seen = 0u32;
    loop {
        let r = REQ.load(Ordering::Acquire);
        if r == seen {
            core::hint::spin_loop();
            continue;
        }
        let job = JOB.load(Ordering::Relaxed);
        let arg = ARG.load(Ordering::Relaxed);
        if job != 0 {
            // SAFETY: JOB only ever holds a `fn(usize)` stored by `post`.
            let f: fn(usize) = unsafe { core::mem::transmute::<usize, fn(usize)>(job) };
            f(arg);
        }
        seen = r;
        DONE.store(r, Ordering::Release);
    }
}

/// Start `job(arg)` on the AP (which must be up and idle) and return at
/// once; [`wait`] collects it.  Resets the barrier counters.
pub fn post(job: fn(usize), arg: usize) {
    STEP[0].store(0, Ordering::Relaxed);
    STEP[1].store(0, Ordering::Relaxed);
    JOB.store(job as usize, Ordering::Relaxed);
    ARG.store(arg, Ordering::Relaxed);
    REQ.fetch_add(1, Ordering::Release);
}

/// Wait until the AP finished the job from [`post`].  On a timeout or a
/// fatal AP event the AP is marked broken and an error says why.
pub fn wait() -> Result<(), ApError> {
    let want = REQ.load(Ordering::Relaxed);
    if spin_until(|| DONE.load(Ordering::Acquire) == want) {
        return Ok(());
    }
    Err(give_up("AP job did not finish"))
}

/// Two-party rendezvous: returns once the other vCPU has reached the same
/// number of `barrier` calls in this job.
pub fn barrier() -> Result<(), ApError> {
    let me = cpu_id();
    let n = STEP[me].fetch_add(1, Ordering::AcqRel) + 1;
    if spin_until(|| STEP[1 - me].load(Ordering::Acquire) >= n) {
        return Ok(());
    }
    Err(give_up("barrier timed out"))
}

#[derive(Clone, Copy, Debug)]
pub struct ApError {
    pub what: &'static str,
    pub fatal: Option<Fatal>,
}

fn give_up(what: &'static str) -> ApError {
    let fatal = AP_FATAL.get();
    STATE.set(ApState::Broken(what, 0));
    ApError { what, fatal }
}

/// Spin until `cond` holds (true) or the AP died / time ran out (false).
fn spin_until(cond: impl Fn() -> bool) -> bool {
    let mut n: u64 = 0;
    while !cond() {
        if AP_FATAL.get().is_some() || n >= SPIN_LIMIT {
            return false;
        }
        n += 1;
        core::hint::spin_loop();
    }
    true
}

/// The AP hit something it cannot report itself: record it and stop.
pub fn ap_fatal(f: Fatal) -> ! {
    AP_FATAL.set(Some(f));
    loop {
        core::hint::spin_loop();
    }
}
