//! Benchmarks (issue 7): `bench=<filter>` on the guest command line runs
//! these instead of the tests (`bench=all` runs every operation).
//!
//! Method: the harness boots QEMU with `-icount shift=0,sleep=off`, which
//! makes the TSC the guest reads count executed instructions (Xen's and the
//! guest's).  Each operation is timed on its own, `RDTSC` right before and
//! right after it, with its setup outside the timed window.  An operation
//! runs `BATCHES` batches of `samples` each; a batch's figure is the median
//! of its samples (a timer interrupt that lands in a window only moves one
//! sample); the reported figure is the median of the batch figures, minus
//! the same statistic for an empty window (two back-to-back `RDTSC`s, which
//! for an HVM guest includes Xen's RDTSC intercept).  What remains is the
//! instructions Xen (plus the few guest instructions of the operation
//! itself) spent on the operation.
//!
//! Output, one line per operation (parsed by `cargo xtask bench`):
//!
//! ```text
//! bench <op> mode=<mode> n=<samples>x<batches> insns=<median> lo=<min batch> hi=<max batch> base=<empty window>
//! ```
//! and the usual `test bench_<op>: PASS|FAIL|SKIP` lines and closing
//! `N passed, M failed` line from `report`, so a boot ends the same way as
//! a test run.  An operation fails if one of its sanity checks does not
//! hold (e.g. the page read through a fresh mapping has the wrong content).

use crate::frames;
use crate::paging::{Error, Mmu};
use crate::report;
use crate::Mode;
use core::fmt;

#[cfg(target_arch = "x86_64")]
mod dirty;
#[cfg(target_arch = "x86_64")]
mod logdirty;
mod ops;

/// Batches per operation.
const BATCHES: usize = 5;
/// Upper bound on samples per batch.
const MAX_SAMPLES: usize = 64;
/// First virtual address used by the benchmarks (as for the tests: 1 GiB).
const VA_BASE: u64 = 0x4000_0000;

/// Why an operation could not be measured.
pub enum Problem {
    Fail(Msg),
    Skip(&'static str),
}

/// A short failure message in a fixed buffer (no allocator).
pub struct Msg {
    buf: [u8; 160],
    len: usize,
}

impl Msg {
    pub fn new(args: fmt::Arguments<'_>) -> Msg {
        let mut m = Msg {
            buf: [0; 160],
            len: 0,
        };
        let _ = fmt::Write::write_fmt(&mut m, args);
        m
    }

    fn as_str(&self) -> &str {
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("<bad utf8>")
    }
}

impl fmt::Write for Msg {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if self.len < self.buf.len() {
                self.buf[self.len] = b;
                self.len += 1;
            }
        }
        Ok(())
    }
}

impl From<Error> for Problem {
    fn from(e: Error) -> Problem {
        Problem::Fail(Msg::new(format_args!("page-table update: {}", e)))
    }
}

macro_rules! ensure {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err($crate::bench::Problem::Fail($crate::bench::Msg::new(format_args!($($arg)+))));
        }
    };
}
pub(crate) use ensure;

/// State shared by the operations.
pub struct Bench {
    pub mmu: Mmu,
    next_va: u64,
    /// Two data frames (0 until first used).
    data: [u64; 2],
    /// Address spaces for the CR3 benchmarks (top-level table addresses).
    roots: [u64; 64],
    nroots: usize,
    /// The empty window (what the harness subtracts from every figure).
    pub base: u64,
}

impl Bench {
    /// The start of an unused superpage-sized region: its leaf table does
    /// not exist yet.
    pub fn region(&mut self) -> u64 {
        let sz = self.mmu.fmt.large_page_size();
        self.next_va = (self.next_va + sz - 1) & !(sz - 1);
        let va = self.next_va;
        self.next_va += sz;
        va
    }
}

/// The guest-visible TSC: with `-icount shift=0` one count per executed
/// instruction.
#[inline(always)]
pub fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: RDTSC only reads the time-stamp counter (Xen may intercept
    // and emulate it).  No `nomem`: the compiler must not move memory
    // accesses across the read.
    unsafe { core::arch::asm!("rdtsc", out("eax") lo, out("edx") hi, options(nostack)) };
    ((hi as u64) << 32) | lo as u64
}

/// One benchmarked operation.
struct Op {
    name: &'static str,
    applies: fn(Mode) -> bool,
    samples: usize,
    /// Runs one batch: fills `out` with one timed window per sample.
    run: fn(&mut Bench, &mut [u64]) -> Result<(), Problem>,
}

fn any(_: Mode) -> bool {
    true
}
fn hvm(m: Mode) -> bool {
    !m.is_pv()
}
fn hvm_or_pv64(m: Mode) -> bool {
    !m.is_pv() || m == Mode::Pv64
}
#[cfg(target_arch = "x86_64")]
fn pv64(m: Mode) -> bool {
    m == Mode::Pv64
}

const OPS: &[Op] = &[
    Op {
        name: "fault_new_l1",
        applies: any,
        samples: 16,
        run: ops::fault_new_l1,
    },
    Op {
        name: "fault_shadowed",
        applies: any,
        samples: 32,
        run: ops::fault_shadowed,
    },
    Op {
        name: "pte_write",
        applies: any,
        samples: 32,
        run: ops::pte_write,
    },
    Op {
        name: "pte_burst32",
        applies: any,
        samples: 16,
        run: ops::pte_burst,
    },
    Op {
        name: "pde_write",
        applies: any,
        samples: 32,
        run: ops::pde_write,
    },
    Op {
        name: "cr3_switch2",
        applies: hvm_or_pv64,
        samples: 64,
        run: ops::cr3_switch2,
    },
    Op {
        name: "cr3_switch16",
        applies: hvm_or_pv64,
        samples: 64,
        run: ops::cr3_switch16,
    },
    Op {
        name: "cr3_switch64",
        applies: hvm_or_pv64,
        samples: 64,
        run: ops::cr3_switch64,
    },
    Op {
        name: "cr3_new_root",
        applies: hvm_or_pv64,
        samples: 8,
        run: ops::cr3_new_root,
    },
    Op {
        name: "as_fork",
        applies: hvm,
        samples: 8,
        run: ops::fork,
    },
    Op {
        name: "as_exit",
        applies: hvm,
        samples: 8,
        run: ops::exit,
    },
    Op {
        name: "invlpg",
        applies: any,
        samples: 32,
        run: ops::invlpg,
    },
    Op {
        name: "mmio_emul",
        applies: hvm,
        samples: 32,
        run: ops::mmio_emul,
    },
    #[cfg(target_arch = "x86_64")]
    Op {
        name: "logdirty_enable_128M",
        applies: any,
        samples: 8,
        run: logdirty::enable_128m,
    },
    #[cfg(target_arch = "x86_64")]
    Op {
        name: "logdirty_clean_128M",
        applies: any,
        samples: 8,
        run: logdirty::clean_128m,
    },
    #[cfg(target_arch = "x86_64")]
    Op {
        name: "logdirty_enable_1G",
        applies: any,
        samples: 8,
        run: logdirty::enable_1g,
    },
    #[cfg(target_arch = "x86_64")]
    Op {
        name: "logdirty_clean_1G",
        applies: any,
        samples: 8,
        run: logdirty::clean_1g,
    },
    #[cfg(target_arch = "x86_64")]
    Op {
        name: "logdirty_dirty_page",
        applies: pv64,
        samples: dirty::PAGES,
        run: dirty::dirty_page,
    },
];

/// Median of `v` (sorts it in place; upper median for even lengths).
fn median(v: &mut [u64]) -> u64 {
    // Insertion sort: at most MAX_SAMPLES values.
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && v[j - 1] > v[j] {
            v.swap(j - 1, j);
            j -= 1;
        }
    }
    v.get(v.len() / 2).copied().unwrap_or(0)
}

/// Batch medians of one operation: (median, min, max).
struct Figures {
    med: u64,
    lo: u64,
    hi: u64,
}

fn measure(b: &mut Bench, op: &Op) -> Result<Figures, Problem> {
    let n = op.samples.min(MAX_SAMPLES);
    let mut batch = [0u64; BATCHES];
    for m in batch.iter_mut() {
        let mut s = [0u64; MAX_SAMPLES];
        (op.run)(b, &mut s[..n])?;
        *m = median(&mut s[..n]);
    }
    let lo = batch.iter().copied().min().unwrap_or(0);
    let hi = batch.iter().copied().max().unwrap_or(0);
    Ok(Figures {
        med: median(&mut batch),
        lo,
        hi,
    })
}

/// The empty window: two RDTSCs with nothing between them.
fn empty_window(_: &mut Bench, out: &mut [u64]) -> Result<(), Problem> {
    for s in out.iter_mut() {
        let t0 = rdtsc();
        let t1 = rdtsc();
        *s = t1.wrapping_sub(t0);
    }
    Ok(())
}

fn selected(op: &Op, mode: Mode) -> bool {
    let filter = crate::cmdline::value("bench").unwrap_or(b"all");
    (op.applies)(mode)
        && (filter == b"all" || core::str::from_utf8(filter).is_ok_and(|f| op.name.contains(f)))
}

/// Runs the selected operations, prints their figures, shuts down.
pub fn run(mode: Mode, mmu: Mmu) -> ! {
    let mut b = Bench {
        mmu,
        next_va: VA_BASE,
        data: [0; 2],
        roots: [0; 64],
        nroots: 0,
        base: 0,
    };
    let n = OPS.iter().filter(|o| selected(o, mode)).count();
    println!("running {} benchmarks in mode {}", n, mode);
    report::set_planned(n as u32);
    let base_op = Op {
        name: "empty",
        applies: any,
        samples: MAX_SAMPLES,
        run: empty_window,
    };
    let base = match measure(&mut b, &base_op) {
        Ok(f) => f.med,
        Err(_) => 0,
    };
    b.base = base;
    println!("bench empty-window mode={} insns={}", mode, base);
    for op in OPS.iter().filter(|o| selected(o, mode)) {
        report::start(op.name);
        match measure(&mut b, op) {
            Ok(f) => {
                println!(
                    "bench {} mode={} n={}x{} insns={} lo={} hi={} base={}",
                    op.name,
                    mode,
                    op.samples.min(MAX_SAMPLES),
                    BATCHES,
                    f.med.saturating_sub(base),
                    f.lo.saturating_sub(base),
                    f.hi.saturating_sub(base),
                    base
                );
                report::pass();
            }
            Err(Problem::Fail(m)) => report::fail(format_args!("{}", m.as_str())),
            Err(Problem::Skip(why)) => report::skip(format_args!("{}", why)),
        }
    }
    println!("frames used: {}", frames::used());
    report::finish()
}
