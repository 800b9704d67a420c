//! Xen hypercall ABI: numbers, structures and thin wrappers.
//!
//! Numbers and layouts come from Xen's public headers
//! (xen/include/public/xen.h, sched.h, version.h, arch-x86/xen-x86_64.h).
//! Every hypercall goes through the hypercall page (see `arch`), which hides
//! the difference between PV (`syscall`) and HVM (`vmcall`/`vmmcall`).

#![allow(dead_code)]

use crate::arch;
use core::fmt;

pub mod nr {
    pub const SET_TRAP_TABLE: usize = 0;
    pub const MMU_UPDATE: usize = 1;
    pub const UPDATE_VA_MAPPING: usize = 14;
    pub const XEN_VERSION: usize = 17;
    pub const CONSOLE_IO: usize = 18;
    pub const VCPU_OP: usize = 24;
    pub const VM_ASSIST: usize = 21;
    /// Special: never returns, only entered by `jmp` (see the PV exception exit).
    pub const IRET: usize = 23;
    pub const MMUEXT_OP: usize = 26;
    pub const SCHED_OP: usize = 29;
    pub const HVM_OP: usize = 34;
}

pub const DOMID_SELF: usize = 0x7ff0;

pub const CONSOLEIO_WRITE: usize = 0;
pub const XENVER_VERSION: usize = 0;
#[cfg(target_arch = "x86_64")]
pub const SCHEDOP_YIELD: usize = 0;
pub const SCHEDOP_SHUTDOWN: usize = 2;

/// `SHUTDOWN_*` reasons (sched.h).  For the hardware domain Xen maps
/// `Reboot` to `machine_restart()`, which makes QEMU with `-no-reboot` exit
/// at once; `Poweroff` only halts the CPUs (QEMU would keep running).
#[derive(Clone, Copy)]
#[repr(u32)]
pub enum ShutdownReason {
    Poweroff = 0,
    Reboot = 1,
    Crash = 3,
}

// mmu_update commands (low 2 bits of `ptr`).
pub const MMU_NORMAL_PT_UPDATE: u64 = 0;

// mmuext_op commands.
pub const MMUEXT_PIN_L1_TABLE: u32 = 0;
pub const MMUEXT_PIN_L3_TABLE: u32 = 2;
pub const MMUEXT_PIN_L4_TABLE: u32 = 3;
pub const MMUEXT_UNPIN_TABLE: u32 = 4;
pub const MMUEXT_NEW_BASEPTR: u32 = 5;
pub const MMUEXT_TLB_FLUSH_LOCAL: u32 = 6;
pub const MMUEXT_INVLPG_LOCAL: u32 = 7;
pub const MMUEXT_TLB_FLUSH_ALL: u32 = 10;
pub const MMUEXT_INVLPG_ALL: u32 = 11;

// vcpu_op commands (vcpu.h).
pub const VCPUOP_INITIALISE: usize = 0;
pub const VCPUOP_UP: usize = 1;

// hvm_op commands (hvm/hvm_op.h).
pub const HVMOP_FLUSH_TLBS: usize = 5;

/// `-ENOENT`: e.g. VCPUOP_initialise for a vCPU the domain does not have.
pub const ENOENT: isize = -2;

// update_va_mapping flags.
pub const UVMF_NONE: usize = 0;
pub const UVMF_TLB_FLUSH: usize = 1;
pub const UVMF_INVLPG: usize = 2;

// vm_assist.
pub const VMASST_CMD_ENABLE: usize = 0;
pub const VMASST_TYPE_WRITABLE_PAGETABLES: usize = 2;

/// Flat kernel code selector for PV guests.  64-bit PV kernels really run
/// in ring 3 (arch-x86/xen-x86_64.h), 32-bit ones in ring 1
/// (arch-x86/xen-x86_32.h).
#[cfg(target_arch = "x86_64")]
pub const FLAT_KERNEL_CS: u16 = 0xe033;
#[cfg(target_arch = "x86")]
pub const FLAT_KERNEL_CS: u16 = 0xe019;
/// 64-bit PV flat kernel stack selector (arch-x86/xen-x86_64.h).
#[cfg(target_arch = "x86_64")]
pub const FLAT_KERNEL_SS: u16 = 0xe02b;

/// Read-only machine-to-phys table (array of `unsigned long`) that Xen maps
/// into every PV guest: at the start of the hypervisor hole for 64-bit, and
/// at HYPERVISOR_VIRT_START for 32-bit PAE guests (the compat default, as
/// our ELF notes do not move it with XEN_ELFNOTE_HV_START_LOW).
#[cfg(target_arch = "x86_64")]
pub const MACH2PHYS_VIRT_START: usize = 0xffff_8000_0000_0000;
#[cfg(target_arch = "x86")]
pub const MACH2PHYS_VIRT_START: usize = 0xf580_0000;

/// `struct mmu_update`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct MmuUpdate {
    pub ptr: u64,
    pub val: u64,
}

/// `struct mmuext_op`: cmd, then two `unsigned long`-sized unions.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct MmuExtOp {
    pub cmd: u32,
    pub arg1: usize,
    pub arg2: usize,
}

/// `struct trap_info` for `HYPERVISOR_set_trap_table`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct TrapInfo {
    pub vector: u8,
    /// Bits 0-3: privilege level allowed to raise it with `int`; bit 4:
    /// mask event delivery on entry.
    pub flags: u8,
    pub cs: u16,
    pub address: usize,
}

/// `struct start_info` (PV).  `unsigned long` and `xen_pfn_t` are
/// pointer-sized, so `usize` gives the right layout for 32- and 64-bit.
#[repr(C)]
pub struct StartInfo {
    pub magic: [u8; 32],
    pub nr_pages: usize,
    pub shared_info: usize,
    pub flags: u32,
    pub store_mfn: usize,
    pub store_evtchn: u32,
    /// Union of {xen_pfn_t mfn; uint32_t evtchn} and {uint32_t, uint32_t}.
    pub console: [usize; 2],
    /// Virtual address of the top-level page table.
    pub pt_base: usize,
    pub nr_pt_frames: usize,
    /// Virtual address of the pfn -> mfn array (`unsigned long` entries).
    pub mfn_list: usize,
    pub mod_start: usize,
    pub mod_len: usize,
    pub cmd_line: [u8; 1024],
    pub first_p2m_pfn: usize,
    pub nr_p2m_frames: usize,
}

/// `struct hvm_start_info` (arch-x86/hvm/start_info.h), passed in %ebx at
/// the PVH entry point.
#[repr(C)]
pub struct HvmStartInfo {
    pub magic: u32,
    pub version: u32,
    pub flags: u32,
    pub nr_modules: u32,
    pub modlist_paddr: u64,
    pub cmdline_paddr: u64,
    pub rsdp_paddr: u64,
}

pub const HVM_START_MAGIC: u32 = 0x336e_c578;

#[inline]
fn hypercall(nr: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize) -> isize {
    // The hypercall page is set up before any Rust code that can reach here
    // runs (PV: by Xen at build time; PVH: first thing in the entry code).
    // Each wrapper below passes pointers to live, correctly laid out structs.
    // SAFETY: see above.
    unsafe { arch::xen_hypercall(nr, a1, a2, a3, a4, a5) }
}

pub fn console_write(bytes: &[u8]) {
    hypercall(
        nr::CONSOLE_IO,
        CONSOLEIO_WRITE,
        bytes.len(),
        bytes.as_ptr() as usize,
        0,
        0,
    );
}

/// Returns (major, minor).
pub fn version() -> (u32, u32) {
    let v = hypercall(nr::XEN_VERSION, XENVER_VERSION, 0, 0, 0, 0) as u32;
    (v >> 16, v & 0xffff)
}

pub struct VersionDisplay;

impl fmt::Display for VersionDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (maj, min) = version();
        write!(f, "{}.{}", maj, min)
    }
}

/// `SCHEDOP_shutdown`; does not return.
pub fn shutdown(reason: ShutdownReason) -> ! {
    #[repr(C)]
    struct SchedShutdown {
        reason: u32,
    }
    let arg = SchedShutdown {
        reason: reason as u32,
    };
    hypercall(
        nr::SCHED_OP,
        SCHEDOP_SHUTDOWN,
        &arg as *const _ as usize,
        0,
        0,
        0,
    );
    // Not reached for dom0 (Xen restarts or halts the machine).  Be safe.
    arch::halt_forever()
}

/// `HYPERVISOR_mmu_update` on our own domain.  Returns Xen's return code
/// (0 or -errno) and how many requests were done.
pub fn mmu_update(reqs: &[MmuUpdate]) -> (isize, u32) {
    mmu_update_as(reqs, DOMID_SELF)
}

#[cfg(target_arch = "x86_64")]
/// `HYPERVISOR_mmu_update` with `foreigndom`: the new entries may map
/// frames of domain `dom` (dom0 only).  Returns as [`mmu_update`].
pub fn mmu_update_foreign(reqs: &[MmuUpdate], dom: u16) -> (isize, u32) {
    mmu_update_as(reqs, usize::from(dom))
}

fn mmu_update_as(reqs: &[MmuUpdate], foreigndom: usize) -> (isize, u32) {
    let mut done: u32 = 0;
    let rc = hypercall(
        nr::MMU_UPDATE,
        reqs.as_ptr() as usize,
        reqs.len(),
        &mut done as *mut u32 as usize,
        foreigndom,
        0,
    );
    (rc, done)
}

#[cfg(target_arch = "x86_64")]
/// `SCHEDOP_yield`: let another runnable vCPU have this CPU.
pub fn sched_yield() {
    hypercall(nr::SCHED_OP, SCHEDOP_YIELD, 0, 0, 0, 0);
}

pub fn mmuext_op(ops: &[MmuExtOp]) -> isize {
    let mut done: u32 = 0;
    hypercall(
        nr::MMUEXT_OP,
        ops.as_ptr() as usize,
        ops.len(),
        &mut done as *mut u32 as usize,
        DOMID_SELF,
        0,
    )
}

pub fn update_va_mapping(va: u64, pte: u64, flags: usize) -> isize {
    #[cfg(target_arch = "x86_64")]
    return hypercall(
        nr::UPDATE_VA_MAPPING,
        va as usize,
        pte as usize,
        flags,
        0,
        0,
    );
    // 32-bit PAE guests pass the 64-bit entry as two halves.
    #[cfg(target_arch = "x86")]
    return hypercall(
        nr::UPDATE_VA_MAPPING,
        va as usize,
        pte as u32 as usize,
        (pte >> 32) as usize,
        flags,
        0,
    );
}

pub fn vm_assist(cmd: usize, ty: usize) -> isize {
    hypercall(nr::VM_ASSIST, cmd, ty, 0, 0, 0)
}

/// `table` must end with an entry whose address is 0.
pub fn set_trap_table(table: &[TrapInfo]) -> isize {
    hypercall(nr::SET_TRAP_TABLE, table.as_ptr() as usize, 0, 0, 0, 0)
}

/// `HYPERVISOR_vcpu_op(cmd, vcpuid, arg)`.  `arg` points at the command's
/// structure (or is 0).
pub fn vcpu_op(cmd: usize, vcpu: usize, arg: usize) -> isize {
    hypercall(nr::VCPU_OP, cmd, vcpu, arg, 0, 0)
}

/// `HVMOP_flush_tlbs`: flush the TLBs of all of our vCPUs (HVM only; for a
/// shadow-paged guest Xen also brings every vCPU's shadows up to date).
pub fn hvm_flush_tlbs() -> isize {
    hypercall(nr::HVM_OP, HVMOP_FLUSH_TLBS, 0, 0, 0, 0)
}

/// `struct vcpu_hvm_x86_32` (hvm/hvm_vcpu.h).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct VcpuHvmX86_32 {
    pub eax: u32,
    pub ecx: u32,
    pub edx: u32,
    pub ebx: u32,
    pub esp: u32,
    pub ebp: u32,
    pub esi: u32,
    pub edi: u32,
    pub eip: u32,
    pub eflags: u32,
    pub cr0: u32,
    pub cr3: u32,
    pub cr4: u32,
    pub pad1: u32,
    pub efer: u64,
    pub cs_base: u32,
    pub ds_base: u32,
    pub ss_base: u32,
    pub es_base: u32,
    pub tr_base: u32,
    pub cs_limit: u32,
    pub ds_limit: u32,
    pub ss_limit: u32,
    pub es_limit: u32,
    pub tr_limit: u32,
    pub cs_ar: u16,
    pub ds_ar: u16,
    pub ss_ar: u16,
    pub es_ar: u16,
    pub tr_ar: u16,
    pub pad2: [u16; 3],
}

/// `struct vcpu_hvm_x86_64` (hvm/hvm_vcpu.h); segments are implied (flat,
/// 64-bit code).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct VcpuHvmX86_64 {
    pub rax: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rbx: u64,
    pub rsp: u64,
    pub rbp: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub rip: u64,
    pub rflags: u64,
    pub cr0: u64,
    pub cr3: u64,
    pub cr4: u64,
    pub efer: u64,
}

pub const VCPU_HVM_MODE_32B: u32 = 0;
pub const VCPU_HVM_MODE_64B: u32 = 1;

/// `struct vcpu_hvm_context`: mode, pad, then the union (the 32-bit
/// variant is the larger one, 104 bytes, 8-aligned).
#[repr(C)]
pub struct VcpuHvmContext {
    pub mode: u32,
    pub pad: u32,
    pub regs: VcpuHvmRegs,
}

#[repr(C)]
pub union VcpuHvmRegs {
    pub x86_32: VcpuHvmX86_32,
    pub x86_64: VcpuHvmX86_64,
}

const _: () = assert!(core::mem::size_of::<VcpuHvmX86_32>() == 120);
const _: () = assert!(core::mem::size_of::<VcpuHvmContext>() == 128);
