//! multi.c block Q, the emulation half of `sh_page_fault` (lines 2712-2874):
//! a guest write to one of its write-protected page tables is run through
//! Xen's `x86_emulate`, whose write callbacks (shadow/hvm.c) update the
//! guest entry and its shadows.  The emulation context itself stays in C
//! (`FaultOps::shadow_emulate`); every decision is taken here.

use crate::level::GuestLevel;
use crate::platform::fault::{
    trap, x86emul, EmulResult, X86_EVENTTYPE_HW_EXCEPTION, X86_EVENT_NO_EC,
};
use crate::platform::{FaultOps, Platform};
use crate::trace::{
    sflag, trace_shadow_emulate, trace_shadow_emulate_other, trace_shadow_path_flag, trc,
};
use crate::types::*;

/// How the fault handler arrived at the emulation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmulateFrom {
    /// Through the fast-emulation shortcut (no walk, no lock taken).
    pub fast_emul: bool,
    /// The guest frame written to.
    pub gmfn: Mfn,
    /// Its gfn (0 on the shortcut, as in C), for trace records.
    pub gfn: Gfn,
    /// The guest L1 entry of the walk (0 on the shortcut), for traces.
    pub gl1e: u64,
}

/// An exception raised by the emulation that is passed on to the guest
/// (multi.c 2744-2759): #PF (pages spanning, concurrent updates), and
/// #GP(0)/#SS(0) (segmentation).  Anything else means an emulator bug or a
/// guest rewriting the instruction under our feet, and is treated as an
/// unhandleable emulation.
pub const fn emulation_exception_tolerated(res: &EmulResult) -> bool {
    res.event_type == X86_EVENTTYPE_HW_EXCEPTION
        && (res.event_vector == trap::PAGE_FAULT as i32
            || ((res.event_vector == trap::GP_FAULT as i32
                || res.event_vector == trap::STACK_ERROR as i32)
                && res.event_error_code == 0))
}

/// The emulation failed in a way that makes the page a bad candidate for
/// shadowing (multi.c 2767).
pub const fn emulation_failed(rc: i32) -> bool {
    rc == x86emul::UNHANDLEABLE || rc == x86emul::UNIMPLEMENTED
}

/// PAE guests write 64-bit entries with two 32-bit moves: after a clean
/// emulation with nothing pending (no HLT, STI/MOV-SS shadow, NMI unblock
/// or single step to retire), keep emulating to catch the second half
/// (multi.c 2822-2823, 2840).
pub const fn continue_pae_second_half(rc: i32, retire_raw: u8) -> bool {
    rc == x86emul::OKAY && retire_raw == 0
}

/// Extra instructions emulated at most after the first, for PAE guests.
pub const PAE_EXTRA_EMULATIONS: u32 = 4;

/// `early_emulation:` up to `emulate_done:` of `sh_page_fault` (multi.c
/// 2712-2874): emulates the faulting write.  Called without the paging
/// lock.  Always returns `EXCRET_fault_fixed`.
pub fn sh_emulate_pt_write<P: Platform, L: GuestLevel>(
    p: &P,
    v: P::Vcpu,
    va: u64,
    regs: <P as FaultOps>::Regs,
    from: EmulateFrom,
) -> i32 {
    let d = p.vcpu_domain(v);
    let fixed = crate::fault::EXCRET_FAULT_FIXED;

    // A fault raised while delivering an event (IDT/GDT reads, pushing the
    // exception frame) must not be emulated; the page is most likely the
    // handler's stack, which happens to be considered a page table.
    if p.hvm_event_pending(v) {
        if from.fast_emul {
            p.set_last_write_emul_ok(v, false);
        }
        p.sh_remove_shadows(d, from.gmfn, false, true);
        trace_shadow_emulate_other::<P, L>(p, trc::EMULATE_UNSHADOW_EVTINJ, va, from.gfn);
        return fixed;
    }

    p.shadow_emulate(regs, L::GUEST_PTE_BYTES as u32, |ctxt| {
        let res = p.x86_emulate(ctxt);
        let mut rc = res.rc;
        if rc == x86emul::EXCEPTION {
            if emulation_exception_tolerated(&res) {
                p.hvm_inject_emul_event(ctxt);
            } else {
                rc = x86emul::UNHANDLEABLE;
            }
        }

        // No unshadowing on a (tolerated) exception: it is no reliable hint.
        if emulation_failed(rc) {
            if from.fast_emul {
                p.set_last_write_emul_ok(v, false);
            }
            // More likely than a missing emulator feature: this page
            // should not be shadowed.
            p.sh_remove_shadows(d, from.gmfn, false, true);
            trace_shadow_emulate_other::<P, L>(p, trc::EMULATE_UNSHADOW_UNHANDLED, va, from.gfn);
            return fixed;
        }

        // Remember a successful page-table write so that the next fault on
        // the frame goes straight to the emulator.  Only while the frame is
        // still a page table: an unshadow during the write needs a resync
        // through the slow path.
        if rc == x86emul::OKAY && p.sh_mfn_is_a_page_table(from.gmfn) {
            if !from.fast_emul {
                p.set_last_emulated_frame(v, va >> PAGE_SHIFT);
                p.set_last_emulated_mfn(v, from.gmfn.0);
                p.set_last_write_emul_ok(v, true);
            }
        } else if from.fast_emul {
            p.set_last_write_emul_ok(v, false);
        }

        if res.retire_singlestep {
            p.hvm_inject_hw_exception(trap::DEBUG, X86_EVENT_NO_EC);
        }

        if L::LEVELS == 3 && continue_pae_second_half(rc, res.retire_raw) {
            // guest_va_t is 32 bits for PAE guests.
            p.set_this_cpu_trace_emulate_initial_va(va as u32);
            let mut emulation_count = 0;
            for _ in 0..PAE_EXTRA_EMULATIONS {
                p.shadow_continue_emulation(ctxt, regs);
                p.set_last_write_was_pt(v, false);
                let next = p.x86_emulate(ctxt);
                if continue_pae_second_half(next.rc, next.retire_raw) {
                    emulation_count += 1;
                    if p.last_write_was_pt(v) {
                        // The other half is written: stop there.
                        trace_shadow_path_flag(p, sflag::EMULATION_2ND_PT_WRITTEN);
                        break;
                    }
                } else {
                    // Give up (and re-enter the guest) after any failure,
                    // exception or pending action.
                    trace_shadow_path_flag(p, sflag::EMULATION_LAST_FAILED);
                    if next.retire_singlestep {
                        p.hvm_inject_hw_exception(trap::DEBUG, X86_EVENT_NO_EC);
                    }
                    break;
                }
            }
            p.set_this_cpu_trace_extra_emulation_count(emulation_count);
        }

        trace_shadow_emulate::<P, L>(p, from.gl1e, va);
        fixed
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event_type: u8, vector: i32, ec: i32) -> EmulResult {
        EmulResult {
            rc: x86emul::EXCEPTION,
            event_type,
            event_vector: vector,
            event_error_code: ec,
            retire_raw: 0,
            retire_singlestep: false,
        }
    }

    #[test]
    fn tolerated_exceptions() {
        let hw = X86_EVENTTYPE_HW_EXCEPTION;
        assert!(emulation_exception_tolerated(&ev(hw, 14, 0x2)));
        assert!(emulation_exception_tolerated(&ev(hw, 13, 0)));
        assert!(emulation_exception_tolerated(&ev(hw, 12, 0)));
        // Selector error codes and other vectors are not.
        assert!(!emulation_exception_tolerated(&ev(hw, 13, 0x18)));
        assert!(!emulation_exception_tolerated(&ev(hw, 12, 4)));
        assert!(!emulation_exception_tolerated(&ev(hw, 6, X86_EVENT_NO_EC)));
        // Software interrupts never.
        assert!(!emulation_exception_tolerated(&ev(4, 14, 0)));
    }

    #[test]
    fn failures_that_unshadow() {
        assert!(emulation_failed(x86emul::UNHANDLEABLE));
        assert!(emulation_failed(x86emul::UNIMPLEMENTED));
        assert!(!emulation_failed(x86emul::OKAY));
        assert!(!emulation_failed(x86emul::EXCEPTION));
        // X86EMUL_RETRY (3) and friends: neither success nor unshadow.
        assert!(!emulation_failed(3));
    }

    #[test]
    fn pae_second_half_only_after_clean_retirement() {
        assert!(continue_pae_second_half(x86emul::OKAY, 0));
        assert!(!continue_pae_second_half(x86emul::OKAY, 0x10)); // singlestep
        assert!(!continue_pae_second_half(x86emul::OKAY, 0x1)); // hlt
        assert!(!continue_pae_second_half(x86emul::EXCEPTION, 0));
        assert!(!continue_pae_second_half(x86emul::UNHANDLEABLE, 0));
    }
}
