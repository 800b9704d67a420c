//! Result bookkeeping, the closing line and shutdown.
//!
//! Output contract (what a harness reads from the serial log):
//! - one line per test: `test <name>: PASS` or `test <name>: FAIL <why>`;
//! - then exactly `<N> passed, <M> failed` on a line of its own;
//! - then the kernel asks Xen to shut down (SHUTDOWN_reboot, which makes
//!   Xen print "Hardware Dom0 shutdown: rebooting machine" and reset the
//!   machine, so QEMU with `-no-reboot` exits with status 0).
//!
//! If something goes wrong outside the tests' control (bad command line,
//! setup failure, unexpected exception, panic) the same closing line is still
//! printed, with the failure counted and any tests that could not run counted
//! as failed, so `passed + failed` is always the number of selected tests
//! (or 1 if setup itself failed).

use crate::exceptions::Fault;
use crate::global::Global;
use crate::xen::{self, ShutdownReason};
use core::fmt;

static PASSED: Global<u32> = Global::new(0);
static FAILED: Global<u32> = Global::new(0);
/// Tests selected but not yet finished (including the running one).
static PENDING: Global<u32> = Global::new(0);
static CURRENT: Global<Option<&'static str>> = Global::new(None);
/// Set while reporting a fatal problem, to catch recursive failures.
static DYING: Global<bool> = Global::new(false);

pub fn set_planned(n: u32) {
    PENDING.set(n);
}

/// Name of the running test, if any.
pub fn current() -> Option<&'static str> {
    CURRENT.get()
}

pub fn start(name: &'static str) {
    CURRENT.set(Some(name));
}

pub fn pass() {
    if let Some(name) = CURRENT.get() {
        println!("test {}: PASS", name);
    }
    PASSED.set(PASSED.get() + 1);
    end();
}

pub fn fail(why: fmt::Arguments<'_>) {
    if let Some(name) = CURRENT.get() {
        println!("test {}: FAIL {}", name, why);
    }
    FAILED.set(FAILED.get() + 1);
    end();
}

/// The test does not apply here (e.g. a CPU feature is missing).  Skipped
/// tests count neither as passed nor as failed.
pub fn skip(why: fmt::Arguments<'_>) {
    if let Some(name) = CURRENT.get() {
        println!("test {}: SKIP {}", name, why);
    }
    end();
}

fn end() {
    CURRENT.set(None);
    PENDING.set(PENDING.get().saturating_sub(1));
}

/// Print the closing line and shut down.
pub fn finish() -> ! {
    let pending = PENDING.get();
    if pending > 0 {
        println!(
            "aborted: {} test(s) did not run, counted as failed",
            pending
        );
    }
    println!("{} passed, {} failed", PASSED.get(), FAILED.get() + pending);
    crate::console::flush();
    // `shutdown=poweroff` is only there to observe Xen's behaviour: for the
    // hardware domain it halts the machine and QEMU keeps running.
    let reason = match crate::cmdline::value("shutdown") {
        Some(b"poweroff") => ShutdownReason::Poweroff,
        _ => ShutdownReason::Reboot,
    };
    xen::shutdown(reason)
}

/// A problem before any test could run: one failure, then shut down.
pub fn fatal_setup(why: fmt::Arguments<'_>) -> ! {
    enter_dying();
    crate::console::newline_if_partial();
    println!("setup: FAIL {}", why);
    FAILED.set(FAILED.get() + 1);
    finish()
}

fn enter_dying() {
    if DYING.get() {
        // Failed again while reporting a failure: no more printing.
        xen::shutdown(ShutdownReason::Crash);
    }
    DYING.set(true);
}

/// An exception nobody expected.  Never returns.
pub fn unexpected_exception(f: Fault, frame: &crate::arch::TrapFrame) -> ! {
    enter_dying();
    crate::console::newline_if_partial();
    println!("unexpected exception: {} sp={:#x}", f, frame.sp());
    println!("  frame: {:x?}", frame);
    fail_current_or_setup(format_args!("unexpected exception {}", f))
}

pub fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    if crate::smp::cpu_id() == 1 {
        // The AP never prints; the boot vCPU reports it.
        crate::smp::ap_fatal(crate::smp::Fatal::Panic {
            line: info.location().map_or(0, |l| l.line()),
        });
    }
    enter_dying();
    crate::console::newline_if_partial();
    // One line: "panic at file:line: message".
    match info.location() {
        Some(l) => fail_current_or_setup(format_args!(
            "panic at {}:{}: {}",
            l.file(),
            l.line(),
            info.message()
        )),
        None => fail_current_or_setup(format_args!("panic: {}", info.message())),
    }
}

fn fail_current_or_setup(why: fmt::Arguments<'_>) -> ! {
    if CURRENT.get().is_some() {
        fail(why);
    } else {
        println!("setup: FAIL {}", why);
        FAILED.set(FAILED.get() + 1);
    }
    finish()
}
