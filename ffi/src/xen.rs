//! Xen primitives: `printk`, `BUG()` frames, `current`, `domain_crash`.

use core::ffi::{c_char, CStr};
use core::fmt::{self, Write};

use crate::bindings::{domain, intpte_t, mfn_t, vcpu};

// Xen functions Rust calls or stores.  Where one lands in a typed field
// (the paging_mode table), rustc checks this declaration against bindgen's
// field type, which comes from the C prototype.
// (improper_ctypes: Xen's structs end in zero-sized members such as
// `_rcu_read_lock`; only pointers to them cross the boundary.)
#[allow(improper_ctypes)]
extern "C" {
    fn printk(fmt: *const c_char, ...);
    /// common.c: the `update_paging_modes` hook of every shadow mode.
    pub fn shadow_update_paging_modes(v: *mut vcpu);
    /// common.c: the `flush_tlb` hook.
    pub fn shadow_flush_tlb(vcpu_bitmap: *const core::ffi::c_ulong) -> bool;
    /// pv.c: PV page-table writes through the shadow code.
    pub fn sh_write_guest_entry(v: *mut vcpu, p: *mut intpte_t, new: intpte_t, gmfn: mfn_t);
    /// pv.c: PV page-table cmpxchg through the shadow code.
    pub fn sh_cmpxchg_guest_entry(
        v: *mut vcpu,
        p: *mut intpte_t,
        old: intpte_t,
        new: intpte_t,
        gmfn: mfn_t,
    ) -> intpte_t;
    fn xsr_current() -> *mut vcpu;
    fn xsr_domain_crash(d: *mut domain, who: *const c_char);
}

/// A machine frame number.  `mfn_t` is `unsigned long` in release builds and
/// `struct { unsigned long }` in debug builds; both travel in one integer
/// register, so this transparent wrapper is the ABI of either.
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct Mfn(pub u64);

/// `INVALID_MFN`.
pub const INVALID_MFN: Mfn = Mfn(!0);

/// Formats into a fixed stack buffer (no allocation in Xen) and prints it
/// with `printk("%s")`.  Text past the buffer is cut, never overrun.
pub fn print(args: fmt::Arguments<'_>) {
    let mut buf = LineBuf {
        bytes: [0; 256],
        len: 0,
    };
    let _ = buf.write_fmt(args);
    let end = buf.len.min(buf.bytes.len() - 1);
    buf.bytes[end] = 0;
    // SAFETY: `buf.bytes` is NUL-terminated at `end` and outlives the call;
    // the format string is a literal taking exactly one `%s`.
    unsafe { printk(c"%s".as_ptr(), buf.bytes.as_ptr()) };
}

struct LineBuf {
    bytes: [u8; 256],
    len: usize,
}

impl Write for LineBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.bytes.len() - 1 - self.len.min(self.bytes.len() - 1);
        let n = s.len().min(room);
        self.bytes[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// `printk` with Rust formatting: `xen_printk!("d{} ...\n", id)`.
#[macro_export]
macro_rules! xen_printk {
    ($($arg:tt)*) => { $crate::xen::print(format_args!($($arg)*)) };
}

/// Xen's `BUG()`: `ud2` plus a `struct bug_frame` in `.bug_frames.2`, which
/// Xen's #UD handler decodes into "Xen BUG at <file>:<line>" and a panic.
/// The frame layout follows asm/bug.h: two 32-bit words holding 24-bit
/// displacements to the `ud2` and to the file name, and the line number split
/// into 7-bit halves in their top bits.
#[macro_export]
macro_rules! xen_bug {
    () => {{
        // SAFETY: emits a trapping instruction and a read-only data record;
        // it never returns, touches no Rust-visible state.
        unsafe {
            core::arch::asm!(
                "2: ud2",
                ".pushsection .bug_frames.2, \"a\", @progbits",
                ".p2align 2",
                "3:",
                ".long (2b - 3b) + {hi}",
                ".long (4f - 3b) + {lo}",
                ".popsection",
                ".pushsection .rodata.str1.1, \"aMS\", @progbits, 1",
                concat!("4: .asciz \"", file!(), "\""),
                ".popsection",
                hi = const (((line!() >> 7) & 0x7f) << 24),
                lo = const ((line!() & 0x7f) << 24),
                options(noreturn, nostack)
            )
        }
    }};
}

/// The vCPU running on this pCPU.
pub fn current() -> *mut vcpu {
    // SAFETY: reads the per-pCPU cpu_info block; always valid in Xen context.
    unsafe { xsr_current() }
}

/// `domain_crash(d)`, naming the Rust caller.
///
/// # Safety
/// `d` must point to a live `struct domain`.
pub unsafe fn domain_crash(d: *mut domain, who: &CStr) {
    // SAFETY: the caller guarantees `d`; `who` is NUL-terminated.
    unsafe { xsr_domain_crash(d, who.as_ptr()) }
}

/// `(domain_id, vcpu_id)` of a vCPU, for messages.
///
/// # Safety
/// `v` must be null or point to a live `struct vcpu`.
pub unsafe fn vcpu_ids(v: *const vcpu) -> (i32, i32) {
    if v.is_null() {
        return (-1, -1);
    }
    // SAFETY: the caller guarantees `v` is live; `v->domain` is set at vCPU
    // creation and never null for an allocated vCPU.
    unsafe {
        let d = (*v).domain;
        let dom = if d.is_null() {
            -1
        } else {
            i32::from((*d).domain_id)
        };
        (dom, (*v).vcpu_id)
    }
}
