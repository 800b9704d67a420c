//! Exception dispatch and expected-fault probes.
//!
//! A test that expects a fault uses [`read32`] / [`write32`]: these call
//! small assembly helpers whose single memory access is listed in the
//! `.extable` section together with a resume address.  When that access
//! faults, [`exception_dispatch`] records the vector, error code and CR2 and
//! resumes at the listed address; the wrapper then returns `Err(Fault)`.
//! Any exception anywhere else is unexpected: it is reported, counted as a
//! failure of the running test, and the kernel shuts down (it never tries to
//! continue from an unknown state, and never hangs).

use crate::arch::{self, TrapFrame};
use crate::global::Global;
use core::fmt;

pub const PF: u8 = 14;

/// #PF error code bits.
pub const PFEC_PRESENT: u64 = 1 << 0;
pub const PFEC_WRITE: u64 = 1 << 1;
pub const PFEC_USER: u64 = 1 << 2;
pub const PFEC_RSVD: u64 = 1 << 3;
pub const PFEC_INSN: u64 = 1 << 4;

/// One recorded exception.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    pub vector: u8,
    pub error_code: u64,
    /// CR2 for #PF, 0 otherwise.
    pub cr2: u64,
    pub ip: usize,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ec={:#x}", vector_name(self.vector), self.error_code)?;
        if self.vector == PF {
            write!(f, " cr2={:#x}", self.cr2)?;
        }
        write!(f, " ip={:#x}", self.ip)
    }
}

impl fmt::Debug for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

pub fn vector_name(v: u8) -> &'static str {
    const NAMES: [&str; 32] = [
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#MF-old", "#TS", "#NP",
        "#SS", "#GP", "#PF", "vec15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "vec22", "vec23",
        "vec24", "vec25", "vec26", "vec27", "vec28", "#VC", "#SX", "vec31",
    ];
    NAMES.get(v as usize).copied().unwrap_or("vec?")
}

/// Fault recorded by the last probe, if any, per vCPU (`smp::cpu_id`).
static LAST_FAULT: [Global<Option<Fault>>; 2] = [Global::new(None), Global::new(None)];
/// Target of the running `exec` probe (0 when none), per vCPU.
static EXEC_TARGET: [Global<usize>; 2] = [Global::new(0), Global::new(0)];

fn last_fault() -> &'static Global<Option<Fault>> {
    &LAST_FAULT[crate::smp::cpu_id()]
}

/// Called by the assembly exception entry with the saved register frame.
#[no_mangle]
extern "C" fn exception_dispatch(frame: &mut TrapFrame) {
    let vector = frame.vector();
    let ip = frame.ip();
    // For PV, reading CR2 traps to Xen, which emulates it from the value it
    // saved when injecting the #PF.
    let cr2 = if vector == PF {
        arch::read_cr2() as u64
    } else {
        0
    };
    let fault = Fault {
        vector,
        error_code: frame.error_code(),
        cr2,
        ip,
    };

    let cpu = crate::smp::cpu_id();
    if let Some(&[_, fixup]) = arch::extable().iter().find(|e| e[0] == ip) {
        LAST_FAULT[cpu].set(Some(fault));
        frame.set_ip(fixup);
        return;
    }
    if ip != 0 && ip == EXEC_TARGET[cpu].get() {
        // Instruction fetch at the target of `probe_exec` faulted.
        LAST_FAULT[cpu].set(Some(fault));
        frame.set_ip(&raw const arch::probe_exec_landing as usize);
        return;
    }
    if cpu == 1 {
        // The AP never prints; the boot vCPU reports it.
        crate::smp::ap_fatal(crate::smp::Fatal::Exception(fault));
    }
    crate::report::unexpected_exception(fault, frame)
}

/// Read 32 bits at `addr`, catching any exception.
pub fn read32(addr: usize) -> Result<u32, Fault> {
    last_fault().set(None);
    // SAFETY: the probe's access is covered by the exception table: if it
    // faults, the handler resumes after it and we report the fault.  The
    // caller chooses addresses that, if mapped, may be read.
    let v = unsafe { arch::probe_read32(addr) };
    match last_fault().get() {
        None => Ok(v),
        Some(f) => Err(f),
    }
}

/// Execute the code at `addr` (which must be a `ret` instruction if it is
/// reachable), catching an exception raised by fetching it.
pub fn exec(addr: usize) -> Result<(), Fault> {
    let cpu = crate::smp::cpu_id();
    LAST_FAULT[cpu].set(None);
    EXEC_TARGET[cpu].set(addr);
    // SAFETY: the caller maps `addr` to a frame starting with `ret` (0xc3),
    // or not at all / non-executable, in which case the fetch faults at
    // `addr` and the handler resumes in `probe_exec_landing`.
    unsafe { arch::probe_exec(addr) };
    EXEC_TARGET[cpu].set(0);
    match LAST_FAULT[cpu].get() {
        None => Ok(()),
        Some(f) => Err(f),
    }
}

/// Write 32 bits at `addr`, catching any exception.
pub fn write32(addr: usize, val: u32) -> Result<(), Fault> {
    last_fault().set(None);
    // SAFETY: as for `read32`; callers only target test frames they own.
    unsafe { arch::probe_write32(addr, val) };
    match last_fault().get() {
        None => Ok(()),
        Some(f) => Err(f),
    }
}
