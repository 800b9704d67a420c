//! Code shared by the 32- and 64-bit builds.

#[cfg(target_arch = "x86")]
use core::arch::x86 as cpu_arch;
#[cfg(target_arch = "x86_64")]
use core::arch::x86_64 as cpu_arch;

use core::arch::asm;

extern "C" {
    static __image_start: u8;
    static __image_end: u8;
    static __extable_start: [usize; 0];
    static __extable_end: [usize; 0];
}

/// [start, end) of the loaded image, page aligned (from the linker script).
pub fn image_range() -> (usize, usize) {
    (
        &raw const __image_start as usize,
        &raw const __image_end as usize,
    )
}

/// The exception fixup table: pairs of (faulting instruction, resume point)
/// emitted by the probe helpers in the arch assembly.
pub fn extable() -> &'static [[usize; 2]] {
    // SAFETY: the linker script brackets the `.extable` input sections with
    // these symbols; the section holds only pairs of pointer-sized words.
    unsafe {
        let start = &raw const __extable_start as *const [usize; 2];
        let end = &raw const __extable_end as *const [usize; 2];
        core::slice::from_raw_parts(start, end.offset_from(start) as usize)
    }
}

/// CPUID, returns (eax, ebx, ecx, edx).
pub fn cpuid(leaf: u32, subleaf: u32) -> (u32, u32, u32, u32) {
    // CPUID has no side effects (Xen intercepts it for HVM guests).
    let r = cpu_arch::__cpuid_count(leaf, subleaf);
    (r.eax, r.ebx, r.ecx, r.edx)
}

/// # Safety
/// `msr` must exist; HVM only (a PV kernel cannot run RDMSR).
pub unsafe fn rdmsr(msr: u32) -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: caller guarantees the MSR exists.
    unsafe { asm!("rdmsr", in("ecx") msr, out("eax") lo, out("edx") hi, options(nostack)) };
    ((hi as u64) << 32) | lo as u64
}

/// # Safety
/// The write must be valid for `msr` and not break the running kernel.
pub unsafe fn wrmsr(msr: u32, val: u64) {
    // SAFETY: caller guarantees the write is valid.
    unsafe {
        asm!("wrmsr", in("ecx") msr, in("eax") val as u32, in("edx") (val >> 32) as u32, options(nostack))
    };
}

macro_rules! cr_access {
    ($read:ident, $write:ident, $reg:literal) => {
        #[allow(dead_code)]
        pub fn $read() -> usize {
            let v: usize;
            // SAFETY: reading a control register has no side effects (for
            // PV, Xen emulates the read).
            unsafe { asm!(concat!("mov {}, ", $reg), out(reg) v, options(nomem, nostack, preserves_flags)) };
            v
        }
        /// # Safety
        /// The new value must keep the running kernel's mappings valid.
        #[allow(dead_code)]
        pub unsafe fn $write(v: usize) {
            // SAFETY: caller guarantees the new value is consistent.
            unsafe { asm!(concat!("mov ", $reg, ", {}"), in(reg) v, options(nostack, preserves_flags)) };
        }
    };
}

cr_access!(read_cr0, write_cr0, "cr0");
cr_access!(read_cr2, write_cr2, "cr2");
cr_access!(read_cr3, write_cr3, "cr3");
cr_access!(read_cr4, write_cr4, "cr4");

/// Invalidate the TLB entry for one linear address (HVM only; a PV guest
/// uses `MMUEXT_INVLPG_LOCAL`).
pub fn invlpg(va: usize) {
    // SAFETY: INVLPG only drops a cached translation.
    unsafe { asm!("invlpg [{}]", in(reg) va, options(nostack, preserves_flags)) };
}

/// Stop this vCPU for good (fallback after a shutdown hypercall returned).
pub fn halt_forever() -> ! {
    loop {
        // SAFETY: `cli; hlt` just stops the CPU.  A PV kernel faults on it
        // (#GP), which ends in the unexpected-exception path's own shutdown.
        unsafe { asm!("cli", "hlt", options(nomem, nostack)) };
    }
}

/// PVH entry: find Xen's CPUID leaves and have Xen write the hypercall page
/// (same for the 32- and 64-bit images).
pub fn init_hvm_hypercall_page() -> bool {
    let mut base = 0x4000_0000u32;
    while base < 0x4001_0000 {
        let (max, b, c, d) = cpuid(base, 0);
        // "XenVMMXenVMM"
        if b == 0x566e_6558 && c == 0x6558_4d4d && d == 0x4d4d_566e && max >= base + 2 {
            let (_pages, msr, _, _) = cpuid(base + 2, 0);
            // SAFETY: Xen's hypercall MSR takes the guest-physical address of
            // the page to fill; the image is identity mapped (or paging off).
            unsafe { wrmsr(msr, super::hypercall_page_addr() as u64) };
            return true;
        }
        base += 0x100;
    }
    false
}

/// The current stack pointer (tells the two vCPUs apart, see `smp`).
pub fn stack_pointer() -> usize {
    let sp: usize;
    #[cfg(target_arch = "x86_64")]
    // SAFETY: copies RSP into a register.
    unsafe {
        asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags))
    };
    #[cfg(target_arch = "x86")]
    // SAFETY: copies ESP into a register.
    unsafe {
        asm!("mov {}, esp", out(reg) sp, options(nomem, nostack, preserves_flags))
    };
    sp
}

/// `struct vcpu_guest_context` (arch-x86/xen.h) for a PV vCPU of this
/// image's width: `unsigned long` is `usize`, `CpuUserRegs` is the
/// arch-specific register block.
#[repr(C)]
pub struct VcpuGuestContext {
    pub fpu_ctxt: [u8; 512],
    pub flags: usize,
    pub user_regs: super::CpuUserRegs,
    pub trap_ctxt: [crate::xen::TrapInfo; 256],
    pub ldt_base: usize,
    pub ldt_ents: usize,
    pub gdt_frames: [usize; 16],
    pub gdt_ents: usize,
    pub kernel_ss: usize,
    pub kernel_sp: usize,
    pub ctrlreg: [usize; 8],
    pub debugreg: [usize; 8],
    pub callbacks: super::PvCallbacks,
    pub vm_assist: usize,
    #[cfg(target_arch = "x86_64")]
    pub fs_base: u64,
    #[cfg(target_arch = "x86_64")]
    pub gs_base_kernel: u64,
    #[cfg(target_arch = "x86_64")]
    pub gs_base_user: u64,
}

/// `VGCF_in_kernel`: the vCPU starts in kernel mode.
pub const VGCF_IN_KERNEL: usize = 1 << 2;
/// `VGCF_online`: the vCPU is up once its context is set (domctl).
#[cfg(target_arch = "x86_64")]
pub const VGCF_ONLINE: usize = 1 << 5;

/// One context, filled by `ap_initialise` on the boot vCPU only.
pub static AP_PV_CONTEXT: crate::global::Global<core::mem::MaybeUninit<VcpuGuestContext>> =
    crate::global::Global::new(core::mem::MaybeUninit::zeroed());
