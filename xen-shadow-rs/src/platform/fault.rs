//! What the page-fault handler, emulation, INVLPG, gva_to_gfn and tracing
//! (multi.c blocks P-S) need from the platform beyond [`Core`].
//!
//! The handler also uses accessors that other area traits already declare
//! (`WalkOps::sh_mfn_is_a_page_table`, `WalkOps::mfn_is_out_of_sync`,
//! `WalkOps::gtable_dirty_version`, `Cr3Ops::vtlb_flush`,
//! `Cr3Ops::vcpu_l3table`, `Cr3Ops::vcpu_shadow_table`,
//! `Cr3Ops::vcpu_guest_table`); they are not repeated here, so that a
//! generic caller never sees two methods of the same name.

use crate::platform::Core;

/// `X86EMUL_*` results of `x86_emulate()` (x86_emulate.h).
pub mod x86emul {
    pub const OKAY: i32 = 0;
    pub const UNHANDLEABLE: i32 = 1;
    pub const EXCEPTION: i32 = 2;
    pub const UNIMPLEMENTED: i32 = 5;
}

/// `X86_EVENTTYPE_HW_EXCEPTION`, `X86_EVENT_NO_EC` (x86_emulate.h).
pub const X86_EVENTTYPE_HW_EXCEPTION: u8 = 3;
pub const X86_EVENT_NO_EC: i32 = -1;

/// Exception vectors (`TRAP_*`, asm/processor.h).
pub mod trap {
    pub const DEBUG: u32 = 1;
    pub const STACK_ERROR: u32 = 12;
    pub const GP_FAULT: u32 = 13;
    pub const PAGE_FAULT: u32 = 14;
}

/// What one `x86_emulate()` call left in the emulation context: its return
/// code and the fields of `struct x86_emulate_ctxt` the fault handler
/// decides on (`event.{type,vector,error_code}`, `retire.{raw,singlestep}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct EmulResult {
    /// `X86EMUL_*`.
    pub rc: i32,
    /// `ctxt.event.type`.
    pub event_type: u8,
    /// `ctxt.event.vector`.
    pub event_vector: i32,
    /// `ctxt.event.error_code`.
    pub event_error_code: i32,
    /// `ctxt.retire.raw`.
    pub retire_raw: u8,
    /// `ctxt.retire.singlestep`.
    pub retire_singlestep: bool,
}

/// Platform needs of the page-fault handler, emulation, INVLPG, gva_to_gfn
/// and tracing (multi.c blocks P-S).
pub trait FaultOps: Core {
    /// `struct cpu_user_regs *` of the faulting context.
    type Regs: Copy;
    /// `struct sh_emulate_ctxt` (plus its `x86_emulate_ops`), owned by the
    /// platform for the duration of one [`FaultOps::shadow_emulate`] call.
    type EmulCtxt;

    // ---- the faulting context ------------------------------------------------
    /// `regs->error_code`.
    fn regs_error_code(&self, regs: Self::Regs) -> u32;
    /// `regs->error_code = ec` (the handler rewrites it for the guest).
    fn regs_set_error_code(&self, regs: Self::Regs, ec: u32);
    /// `regs->ss`.
    fn regs_ss(&self, regs: Self::Regs) -> u16;
    /// `guest_mode(regs)`: the frame is a guest frame.
    fn guest_mode(&self, regs: Self::Regs) -> bool;

    // ---- vCPU state --------------------------------------------------------------
    /// `hvm_get_cpl(v)` (C shim: `hvm_funcs` is never called from Rust).
    fn hvm_get_cpl(&self, v: Self::Vcpu) -> u32;
    /// `hvm_event_pending(v)` (C shim, as above).
    fn hvm_event_pending(&self, v: Self::Vcpu) -> bool;
    /// `hvm_wp_enabled(v)`: the guest's CR0.WP.
    fn hvm_wp_enabled(&self, v: Self::Vcpu) -> bool;
    /// `v->arch.paging.last_write_emul_ok`.
    fn last_write_emul_ok(&self, v: Self::Vcpu) -> bool;
    fn set_last_write_emul_ok(&self, v: Self::Vcpu, ok: bool);
    /// `v->arch.paging.last_write_was_pt`.
    fn last_write_was_pt(&self, v: Self::Vcpu) -> bool;
    fn set_last_write_was_pt(&self, v: Self::Vcpu, was_pt: bool);
    /// `v->arch.paging.shadow.last_emulated_frame`.
    fn last_emulated_frame(&self, v: Self::Vcpu) -> u64;
    fn set_last_emulated_frame(&self, v: Self::Vcpu, frame: u64);
    /// `v->arch.paging.shadow.last_emulated_mfn`.
    fn last_emulated_mfn(&self, v: Self::Vcpu) -> u64;
    fn set_last_emulated_mfn(&self, v: Self::Vcpu, mfn: u64);
    /// `sh_reset_early_unshadow(v)` (private.h).
    fn sh_reset_early_unshadow(&self, v: Self::Vcpu);
    /// `vtlb_lookup(v, va, pfec)` (private.h): a gfn or `INVALID_GFN`.
    fn vtlb_lookup(&self, v: Self::Vcpu, va: u64, pfec: u32) -> u64;
    /// `vtlb_insert(v, page, frame, pfec)` (private.h).
    fn vtlb_insert(&self, v: Self::Vcpu, page: u64, frame: u64, pfec: u32);

    // ---- domain state ----------------------------------------------------------
    /// `d->is_shutting_down && d->shutdown_code == SHUTDOWN_crash`.
    fn domain_shutdown_crashed(&self, d: Self::Dom) -> bool;
    /// `atomic_inc(&d->arch.paging.shadow.gtable_dirty_version)`.
    fn gtable_dirty_version_inc(&self, d: Self::Dom);
    /// `d->arch.paging.log_dirty.fault_count++`.
    fn log_dirty_fault_count_inc(&self, d: Self::Dom);
    /// The "Recursive shadow fault" error message, naming the function that
    /// holds the paging lock (`d->arch.paging.lock.locker_function`).
    fn printk_recursive_shadow_fault(&self, d: Self::Dom);

    // ---- HVM services ------------------------------------------------------------
    /// `handle_mmio_with_translation(gla, gpfn, access)` with the access of
    /// a shadow fault: read, `write_access` as given, linear address valid,
    /// `npfec_kind_with_gla`.
    fn handle_mmio_with_translation(&self, gla: u64, gpfn: u64, write_access: bool) -> bool;
    /// `hvm_inject_hw_exception(vector, error_code)` on the current vCPU.
    fn hvm_inject_hw_exception(&self, vector: u32, error_code: i32);

    // ---- emulation of page-table writes (hvm.c) -----------------------------
    /// Runs `f` with a fresh emulation context prepared by
    /// `shadow_init_emulation(ctxt, regs, pte_size)`.
    fn shadow_emulate<R>(
        &self,
        regs: Self::Regs,
        pte_size: u32,
        f: impl FnOnce(&mut Self::EmulCtxt) -> R,
    ) -> R;
    /// `x86_emulate(&ctxt->ctxt, ops)` and what it left in the context.
    fn x86_emulate(&self, ctxt: &mut Self::EmulCtxt) -> EmulResult;
    /// `shadow_continue_emulation(ctxt, regs)`.
    fn shadow_continue_emulation(&self, ctxt: &mut Self::EmulCtxt, regs: Self::Regs);
    /// `hvm_inject_event(&ctxt->ctxt.event)`.
    fn hvm_inject_emul_event(&self, ctxt: &Self::EmulCtxt);

    // ---- tracing (xen/trace.h, per-CPU trace state) -----------------------------
    /// `tb_init_done`.
    fn tb_init_done(&self) -> bool;
    /// `__trace_var(event, 0 /* no TSC */, data.len(), data)`.
    fn trace_var(&self, event: u32, data: &[u8]);
    /// `this_cpu(trace_shadow_path_flags)` (common.c).
    fn this_cpu_trace_shadow_path_flags(&self) -> u32;
    fn set_this_cpu_trace_shadow_path_flags(&self, flags: u32);
    /// `this_cpu(trace_emulate_write_val)` of the instantiation with
    /// `levels` guest paging levels (2-level guests keep 32 bits).
    fn this_cpu_trace_emulate_write_val(&self, levels: u32) -> u64;
    fn set_this_cpu_trace_emulate_write_val(&self, levels: u32, val: u64);
    /// `this_cpu(trace_emulate_initial_va)` (PAE guests only, 32 bits).
    fn this_cpu_trace_emulate_initial_va(&self) -> u32;
    fn set_this_cpu_trace_emulate_initial_va(&self, va: u32);
    /// `this_cpu(trace_extra_emulation_count)` (PAE guests only).
    fn this_cpu_trace_extra_emulation_count(&self) -> u32;
    fn set_this_cpu_trace_extra_emulation_count(&self, n: u32);
}
