//! `impl FaultOps for Xen`: thin calls into the C shims of `ffi/c/fault.c`.

use core::ffi::{c_uint, c_ulong, c_void};
use core::mem::MaybeUninit;

use ffi::bindings::cpu_user_regs;
use ffi::{domain, vcpu};
use xen_shadow_rs::platform::fault::EmulResult;
use xen_shadow_rs::platform::FaultOps;

use super::{fast, Dom, Vcpu, Xen};

/// `struct cpu_user_regs *` handed to the page-fault hook.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Regs(pub *mut cpu_user_regs);

/// Size and alignment of the opaque emulation context (`struct xsr_emul`
/// in ffi/c/fault.c, which checks both with BUILD_BUG_ON).  Measured on
/// Xen 4.17.5: `struct sh_emulate_ctxt` is 240 bytes, plus the ops pointer.
/// (It was 1024, which made `sh_emulate_pt_write`'s frame 1,272 bytes,
/// over issue 3's 1 KiB bound.)
const EMUL_BYTES: usize = 256;

/// One emulation attempt's `struct sh_emulate_ctxt` and ops table, filled
/// and used only by C; Rust never looks inside.
#[repr(C, align(64))]
pub struct EmulCtxt(MaybeUninit<[u8; EMUL_BYTES]>);

impl EmulCtxt {
    fn ptr(&mut self) -> *mut c_void {
        self.0.as_mut_ptr().cast()
    }
}

/// `struct xsr_emul_result` (ffi/c/fault.c).
#[repr(C)]
#[derive(Default)]
struct CEmulResult {
    rc: i32,
    event_vector: i32,
    event_error_code: i32,
    event_type: u8,
    retire_raw: u8,
    retire_singlestep: bool,
}

// Register frames and results travel as `void *`: cbindgen copies these
// declarations into xen_shadow_rs.h, which knows no `cpu_user_regs`.
#[allow(improper_ctypes)]
extern "C" {
    fn xsr_guest_mode(regs: *const c_void) -> bool;

    fn xsr_hvm_get_cpl(v: *mut vcpu) -> c_uint;
    fn xsr_hvm_event_pending(v: *const vcpu) -> bool;
    #[cfg(xen_debug)]
    fn xsr_hvm_wp_enabled(v: *const vcpu) -> bool;
    // Debug builds only: checks of fast.rs's bitfield accessors.
    #[cfg(xen_debug)]
    fn xsr_last_write_emul_ok(v: *const vcpu) -> bool;
    #[cfg(xen_debug)]
    fn xsr_last_write_was_pt(v: *const vcpu) -> bool;

    fn xsr_gtable_dirty_version_inc(d: *mut domain);
    fn xsr_printk_recursive_shadow_fault(d: *const domain);

    fn xsr_handle_mmio_with_translation(gla: c_ulong, gpfn: c_ulong, write_access: bool) -> bool;
    fn xsr_hvm_inject_hw_exception(vector: c_uint, errcode: i32);

    fn xsr_shadow_init_emulation(buf: *mut c_void, regs: *mut c_void, pte_size: c_uint);
    fn xsr_x86_emulate(buf: *mut c_void, res: *mut c_void);
    fn xsr_shadow_continue_emulation(buf: *mut c_void, regs: *mut c_void);
    fn xsr_hvm_inject_emul_event(buf: *const c_void);

    fn xsr_trace_var(event: u32, extra: c_uint, data: *const c_void);
    #[cfg(xen_debug)]
    fn xsr_trace_shadow_path_flags() -> u32;
    fn xsr_trace_emulate_write_val(levels: c_uint) -> u64;
    fn xsr_set_trace_emulate_write_val(levels: c_uint, val: u64);
    fn xsr_trace_emulate_initial_va() -> u32;
    fn xsr_set_trace_emulate_initial_va(va: u32);
    fn xsr_trace_extra_emulation_count() -> u32;
    fn xsr_set_trace_extra_emulation_count(n: u32);
}

// SAFETY (every block below unless it says more): the `Vcpu`/`Dom` handles
// are live Xen objects for the duration of the entry point (see `super`),
// and `Regs` is the register frame Xen passed to the page-fault hook, live
// for the whole hook; the shims only read or write fields of them, per-CPU
// variables, or call the Xen function they are named after.

impl FaultOps for Xen {
    type Regs = Regs;
    type EmulCtxt = EmulCtxt;

    #[inline(always)]
    fn regs_error_code(&self, regs: Regs) -> u32 {
        // SAFETY: see above.
        unsafe { fast::regs_error_code(regs.0.cast()) }
    }
    #[inline(always)]
    fn regs_set_error_code(&self, regs: Regs, ec: u32) {
        // SAFETY: see above.
        unsafe { fast::regs_set_error_code(regs.0.cast(), ec) }
    }
    #[inline(always)]
    fn regs_ss(&self, regs: Regs) -> u16 {
        // SAFETY: see above.
        unsafe { fast::regs_ss(regs.0.cast()) }
    }
    fn guest_mode(&self, regs: Regs) -> bool {
        // SAFETY: see above.
        unsafe { xsr_guest_mode(regs.0.cast()) }
    }

    fn hvm_get_cpl(&self, v: Vcpu) -> u32 {
        // SAFETY: see above; only called for HVM vCPUs, as in C.
        unsafe { xsr_hvm_get_cpl(v.0) }
    }
    fn hvm_event_pending(&self, v: Vcpu) -> bool {
        // SAFETY: see above; only called for HVM vCPUs, as in C.
        unsafe { xsr_hvm_event_pending(v.0) }
    }
    #[inline(always)]
    fn hvm_wp_enabled(&self, v: Vcpu) -> bool {
        // SAFETY: see above; HVM vCPUs only, as in C.
        let on = unsafe { fast::hvm_guest_cr(v.0, 0) } & ffi::consts::X86_CR0_WP != 0;
        #[cfg(xen_debug)]
        // SAFETY: as above.
        assert_eq!(on, unsafe { xsr_hvm_wp_enabled(v.0) });
        on
    }
    // The per-vCPU emulation state is read and written inline (fast.rs);
    // the debug build checks the two bitfields against the C shims.
    fn last_write_emul_ok(&self, v: Vcpu) -> bool {
        // SAFETY: see above; only HVM vCPUs reach the emulation paths.
        let ok = unsafe { fast::last_write_emul_ok(v.0) };
        #[cfg(xen_debug)]
        // SAFETY: as above.
        assert_eq!(ok, unsafe { xsr_last_write_emul_ok(v.0) });
        ok
    }
    fn set_last_write_emul_ok(&self, v: Vcpu, ok: bool) {
        // SAFETY: see above; the field exists in every vCPU (CONFIG_HVM).
        unsafe { fast::set_last_write_emul_ok(v.0, ok) };
        #[cfg(xen_debug)]
        // SAFETY: as above.
        assert_eq!(ok, unsafe { xsr_last_write_emul_ok(v.0) });
    }
    fn last_write_was_pt(&self, v: Vcpu) -> bool {
        // SAFETY: as for last_write_emul_ok.
        let pt = unsafe { fast::last_write_was_pt(v.0) };
        #[cfg(xen_debug)]
        // SAFETY: as above.
        assert_eq!(pt, unsafe { xsr_last_write_was_pt(v.0) });
        pt
    }
    fn set_last_write_was_pt(&self, v: Vcpu, was_pt: bool) {
        // SAFETY: as for set_last_write_emul_ok.
        unsafe { fast::set_last_write_was_pt(v.0, was_pt) };
        #[cfg(xen_debug)]
        // SAFETY: as above.
        assert_eq!(was_pt, unsafe { xsr_last_write_was_pt(v.0) });
    }
    fn last_emulated_frame(&self, v: Vcpu) -> u64 {
        // SAFETY: see above.
        unsafe { fast::last_emulated_frame(v.0) }
    }
    fn set_last_emulated_frame(&self, v: Vcpu, frame: u64) {
        // SAFETY: see above.
        unsafe { fast::set_last_emulated_frame(v.0, frame) }
    }
    fn last_emulated_mfn(&self, v: Vcpu) -> u64 {
        // SAFETY: see above.
        unsafe { fast::last_emulated_mfn(v.0) }
    }
    fn set_last_emulated_mfn(&self, v: Vcpu, mfn: u64) {
        // SAFETY: see above.
        unsafe { fast::set_last_emulated_mfn(v.0, mfn) }
    }
    fn sh_reset_early_unshadow(&self, v: Vcpu) {
        // SAFETY: see above.
        unsafe { fast::sh_reset_early_unshadow(v.0) }
    }
    fn vtlb_lookup(&self, v: Vcpu, va: u64, pfec: u32) -> u64 {
        // SAFETY: see above; takes the vTLB lock.
        unsafe { fast::vtlb_lookup(v.0, va, pfec) }
    }
    fn vtlb_insert(&self, v: Vcpu, page: u64, frame: u64, pfec: u32) {
        // SAFETY: see above; takes the vTLB lock.
        unsafe { fast::vtlb_insert(v.0, page, frame, pfec) }
    }

    fn domain_shutdown_crashed(&self, d: Dom) -> bool {
        // SAFETY: see above.
        unsafe { fast::domain_shutdown_crashed(d.0) }
    }
    fn gtable_dirty_version_inc(&self, d: Dom) {
        // SAFETY: see above (an atomic increment).
        unsafe { xsr_gtable_dirty_version_inc(d.0) }
    }
    #[inline(always)]
    fn log_dirty_fault_count_inc(&self, d: Dom) {
        // SAFETY: see above; called with the paging lock held, which
        // serialises the counter's writers, as in C (a plain increment).
        unsafe { fast::log_dirty_fault_count_inc(d.0) }
    }
    fn printk_recursive_shadow_fault(&self, d: Dom) {
        // SAFETY: see above; `locker_function` is a string literal or NULL
        // (printk prints "(null)").
        unsafe { xsr_printk_recursive_shadow_fault(d.0) }
    }

    fn handle_mmio_with_translation(&self, gla: u64, gpfn: u64, write_access: bool) -> bool {
        // SAFETY: called in the context of the faulting HVM vCPU (current),
        // as C does.
        unsafe { xsr_handle_mmio_with_translation(gla, gpfn, write_access) }
    }
    fn hvm_inject_hw_exception(&self, vector: u32, error_code: i32) {
        // SAFETY: acts on `current`, an HVM vCPU on the emulation path.
        unsafe { xsr_hvm_inject_hw_exception(vector, error_code) }
    }

    fn shadow_emulate<R>(
        &self,
        regs: Regs,
        pte_size: u32,
        f: impl FnOnce(&mut EmulCtxt) -> R,
    ) -> R {
        let mut e = EmulCtxt(MaybeUninit::uninit());
        // SAFETY: `e` is a writable, 64-byte aligned buffer of EMUL_BYTES,
        // which the shim checks to hold `struct xsr_emul` (BUILD_BUG_ON);
        // shadow_init_emulation() initialises the context (memset first).
        unsafe { xsr_shadow_init_emulation(e.ptr(), regs.0.cast(), pte_size) };
        f(&mut e)
    }
    fn x86_emulate(&self, ctxt: &mut EmulCtxt) -> EmulResult {
        let mut r = CEmulResult::default();
        // SAFETY: `ctxt` was initialised by `shadow_emulate` (the only way
        // to obtain one) and lives on this call chain's stack; `r` is a
        // local out-parameter of the layout the shim writes.
        unsafe { xsr_x86_emulate(ctxt.ptr(), (&mut r as *mut CEmulResult).cast()) };
        EmulResult {
            rc: r.rc,
            event_type: r.event_type,
            event_vector: r.event_vector,
            event_error_code: r.event_error_code,
            retire_raw: r.retire_raw,
            retire_singlestep: r.retire_singlestep,
        }
    }
    fn shadow_continue_emulation(&self, ctxt: &mut EmulCtxt, regs: Regs) {
        // SAFETY: as in `x86_emulate`; `regs` is the frame it was made for.
        unsafe { xsr_shadow_continue_emulation(ctxt.ptr(), regs.0.cast()) }
    }
    fn hvm_inject_emul_event(&self, ctxt: &EmulCtxt) {
        // SAFETY: as in `x86_emulate`; read-only use of the context.
        unsafe { xsr_hvm_inject_emul_event(ctxt.0.as_ptr().cast()) }
    }

    fn tb_init_done(&self) -> bool {
        fast::tb_init_done()
    }
    fn trace_var(&self, event: u32, data: &[u8]) {
        // SAFETY: `data` is a live slice; __trace_var copies `extra` bytes.
        unsafe { xsr_trace_var(event, data.len() as c_uint, data.as_ptr().cast()) }
    }
    #[inline(always)]
    fn this_cpu_trace_shadow_path_flags(&self) -> u32 {
        // SAFETY: this CPU's copy of a per-CPU variable, mapped and only
        // used by this CPU.
        let f = unsafe { fast::trace_shadow_path_flags().read() };
        #[cfg(xen_debug)]
        // SAFETY: as above.
        assert_eq!(f, unsafe { xsr_trace_shadow_path_flags() });
        f
    }
    #[inline(always)]
    fn set_this_cpu_trace_shadow_path_flags(&self, flags: u32) {
        // SAFETY: as above.
        unsafe { fast::trace_shadow_path_flags().write(flags) }
        #[cfg(xen_debug)]
        // SAFETY: as above.
        assert_eq!(flags, unsafe { xsr_trace_shadow_path_flags() });
    }
    fn this_cpu_trace_emulate_write_val(&self, levels: u32) -> u64 {
        // SAFETY: per-CPU variable of this CPU.
        unsafe { xsr_trace_emulate_write_val(levels) }
    }
    fn set_this_cpu_trace_emulate_write_val(&self, levels: u32, val: u64) {
        // SAFETY: per-CPU variable of this CPU.
        unsafe { xsr_set_trace_emulate_write_val(levels, val) }
    }
    fn this_cpu_trace_emulate_initial_va(&self) -> u32 {
        // SAFETY: per-CPU variable of this CPU.
        unsafe { xsr_trace_emulate_initial_va() }
    }
    fn set_this_cpu_trace_emulate_initial_va(&self, va: u32) {
        // SAFETY: per-CPU variable of this CPU.
        unsafe { xsr_set_trace_emulate_initial_va(va) }
    }
    fn this_cpu_trace_extra_emulation_count(&self) -> u32 {
        // SAFETY: per-CPU variable of this CPU.
        unsafe { xsr_trace_extra_emulation_count() }
    }
    fn set_this_cpu_trace_extra_emulation_count(&self, n: u32) {
        // SAFETY: per-CPU variable of this CPU.
        unsafe { xsr_set_trace_extra_emulation_count(n) }
    }
}
