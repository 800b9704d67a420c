//! x86_64 image (`guest64.elf`): PVH entry for `hvm64` and PV entry for `pv64`.

mod entry;

use crate::global::Global;
use crate::xen;
use crate::{BootInfo, Entry};

extern "C" {
    /// The hypercall page (4 KiB, in `.text`): 32-byte stubs, one per
    /// hypercall number.  PV: Xen fills it while building the domain
    /// (XEN_ELFNOTE_HYPERCALL_PAGE).  PVH: we ask Xen to fill it via the MSR
    /// advertised in CPUID leaf base+2.
    static hypercall_page: u8;
    /// 32 exception stubs, 16 bytes apart, for the native IDT (hvm64).
    static exc_stubs: u8;
    /// 32 exception stubs, 16 bytes apart, for the PV trap table (pv64).
    static pv_exc_stubs: u8;
    /// Non-zero when running PV: the common exception exit then uses the
    /// iret hypercall instead of IRETQ.
    static mut running_pv: u8;

    /// Hypercall trampoline (entry.rs): moves the SysV arguments into Xen's
    /// registers (rdi, rsi, rdx, r10, r8) and calls the hypercall page.
    pub fn xen_hypercall(nr: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize)
        -> isize;
    /// 32-bit load that may fault; see `exceptions`.
    pub fn probe_read32(addr: usize) -> u32;
    /// 32-bit store that may fault; see `exceptions`.
    pub fn probe_write32(addr: usize, val: u32);
    /// Call `target`, which must hold a `ret`; see `exceptions::exec`.
    pub fn probe_exec(target: usize);
    /// Where an instruction-fetch fault in `probe_exec` resumes.
    pub static probe_exec_landing: u8;
    /// Second-vCPU entry points (entry.rs).
    static ap_start_hvm64: u8;
    static ap_start_pv64: u8;
}

/// Registers saved by the common exception entry (`exc_common` in entry.rs),
/// lowest address first.
#[repr(C)]
#[derive(Debug)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    // Hardware (or, for PV, Xen-built) exception frame.
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

impl TrapFrame {
    pub fn vector(&self) -> u8 {
        self.vector as u8
    }
    pub fn error_code(&self) -> u64 {
        self.error_code
    }
    pub fn ip(&self) -> usize {
        self.rip as usize
    }
    pub fn set_ip(&mut self, ip: usize) {
        self.rip = ip as u64;
    }
    pub fn sp(&self) -> usize {
        self.rsp as usize
    }
}

pub fn hypercall_page_addr() -> usize {
    &raw const hypercall_page as usize
}

fn stub_addr(base: *const u8, vector: usize) -> u64 {
    base as u64 + 16 * vector as u64
}

// ---------------------------------------------------------------------------
// PVH entry (hvm64)
// ---------------------------------------------------------------------------

/// 256 16-byte IDT gates (only vectors 0-31 are filled in).
#[repr(C, align(16))]
struct Idt([[u64; 2]; 256]);

static IDT: Global<Idt> = Global::new(Idt([[0; 2]; 256]));

fn install_idt() {
    // SAFETY: IDT is only written here, before LIDT; the stub symbols come
    // from entry.rs.
    unsafe {
        let idt = &mut *IDT.as_ptr();
        for v in 0..32 {
            let a = stub_addr(&raw const exc_stubs, v);
            // 64-bit interrupt gate: present, DPL 0, type 0xE, selector 0x08
            // (our 64-bit code segment), no IST.
            idt.0[v][0] = (a & 0xffff) | (0x08 << 16) | (0x8e00 << 32) | ((a >> 16) & 0xffff) << 48;
            idt.0[v][1] = a >> 32;
        }
    }
    load_idt();
}

/// LIDT of the (filled) IDT; the AP calls it too.
fn load_idt() {
    // SAFETY: the pseudo-descriptor points at the static IDT.
    unsafe {
        #[repr(C, packed)]
        struct Pseudo {
            limit: u16,
            base: u64,
        }
        let p = Pseudo {
            limit: (core::mem::size_of::<Idt>() - 1) as u16,
            base: IDT.as_ptr() as u64,
        };
        core::arch::asm!("lidt [{}]", in(reg) &p, options(nostack, readonly));
    }
}

/// Called from `pvh_start` (entry.rs) in long mode with the boot page tables
/// (identity map of the first 4 GiB, 2 MiB pages) and the boot stack.
#[no_mangle]
extern "C" fn rust_pvh_entry(start_info_pa: u64) -> ! {
    if !super::init_hvm_hypercall_page() {
        // No way to print anything.  Crash the domain (Xen then reboots).
        // SAFETY: deliberate fault with no IDT loaded yet -> triple fault.
        unsafe { core::arch::asm!("ud2", options(noreturn)) };
    }
    install_idt();
    // SAFETY: Xen passes the physical address of a hvm_start_info; the first
    // 4 GiB are identity mapped.
    let si = unsafe { &*(start_info_pa as *const xen::HvmStartInfo) };
    if si.magic != xen::HVM_START_MAGIC {
        crate::report::fatal_setup(format_args!("bad hvm_start_info magic {:#x}", si.magic));
    }
    if si.cmdline_paddr != 0 {
        // SAFETY: Xen wrote a NUL-terminated string there (identity mapped).
        unsafe { crate::cmdline::set_from_cstr(si.cmdline_paddr as *const u8) };
    }
    crate::kmain(BootInfo {
        entry: Entry::Pvh,
        pv_start_info: None,
    })
}

// ---------------------------------------------------------------------------
// PV entry (pv64)
// ---------------------------------------------------------------------------

static TRAPS: Global<[xen::TrapInfo; 33]> = Global::new(
    [xen::TrapInfo {
        vector: 0,
        flags: 0,
        cs: 0,
        address: 0,
    }; 33],
);

fn install_pv_traps() -> isize {
    // SAFETY: TRAPS is only written here, before the hypercall reads it.
    let traps = unsafe { &mut *TRAPS.as_ptr() };
    let mut n = 0;
    for v in 0..32u8 {
        // NMI (2) has its own callback mechanism and 15 is reserved.
        if v == 2 || v == 15 {
            continue;
        }
        traps[n] = xen::TrapInfo {
            vector: v,
            // Allow `int3`/`into` from the (ring 3) kernel, as for a native
            // DPL3 gate; other vectors only come from real exceptions.
            flags: if v == 3 || v == 4 { 3 } else { 0 },
            cs: xen::FLAT_KERNEL_CS,
            address: stub_addr(&raw const pv_exc_stubs, v as usize) as usize,
        };
        n += 1;
    }
    // traps[n] stays all-zero: the terminator.
    xen::set_trap_table(&traps[..=n])
}

/// Called from `pv_start` (entry.rs) on our own stack; Xen passed the
/// virtual address of start_info in %rsi.
#[no_mangle]
extern "C" fn rust_pv_entry(si: *const xen::StartInfo) -> ! {
    // SAFETY: single store before anything can take an exception.
    unsafe { (&raw mut running_pv).write_volatile(1) };
    let rc = install_pv_traps();
    // SAFETY: Xen maps start_info in the initial mapping and passes its address.
    let si: &'static xen::StartInfo = unsafe { &*si };
    // SAFETY: cmd_line is inside start_info, NUL-terminated by Xen.
    unsafe { crate::cmdline::set_from_cstr(si.cmd_line.as_ptr()) };
    if rc != 0 {
        crate::report::fatal_setup(format_args!("set_trap_table failed: {}", rc));
    }
    crate::kmain(BootInfo {
        entry: Entry::Pv,
        pv_start_info: Some(si),
    })
}

// ---------------------------------------------------------------------------
// Second vCPU (see smp.rs)
// ---------------------------------------------------------------------------

/// `struct cpu_user_regs` (arch-x86/xen-x86_64.h).
#[repr(C)]
pub struct CpuUserRegs {
    pub gprs: [u64; 15], // r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi
    pub error_code: u32,
    pub entry_vector: u32,
    pub rip: u64,
    pub cs: u16,
    pub pad0: u16,
    pub saved_upcall_mask: u8,
    pub pad1: [u8; 3],
    pub rflags: u64,
    pub rsp: u64,
    /// ss, es, ds, fs, gs, each padded to 8 bytes.
    pub segs: [u64; 5],
}

/// The callback fields of `vcpu_guest_context` (64-bit layout).
#[repr(C)]
pub struct PvCallbacks {
    pub event_callback_eip: u64,
    pub failsafe_callback_eip: u64,
    pub syscall_callback_eip: u64,
}

const _: () = assert!(core::mem::size_of::<CpuUserRegs>() == 200);
const _: () = assert!(core::mem::size_of::<crate::arch::VcpuGuestContext>() == 5168);

/// `VCPUOP_initialise` for vCPU 1 so that it enters `ap_start_*` on
/// `stack_top` in the boot vCPU's paging mode.  Returns Xen's code.
pub fn ap_initialise(mode: crate::Mode, mmu: &crate::paging::Mmu, stack_top: usize) -> isize {
    if mode.is_pv() {
        // SAFETY: only the boot vCPU calls this, once, before vCPU 1 runs;
        // all-zero is a valid start for the context (plain integers).
        let c = unsafe { (*super::AP_PV_CONTEXT.as_ptr()).assume_init_mut() };
        c.flags = super::VGCF_IN_KERNEL;
        c.user_regs.rip = &raw const ap_start_pv64 as u64;
        c.user_regs.rsp = stack_top as u64;
        c.user_regs.cs = xen::FLAT_KERNEL_CS;
        c.user_regs.rflags = 0x2;
        c.user_regs.segs[0] = xen::FLAT_KERNEL_SS as u64;
        for v in 0..32u8 {
            if v == 2 || v == 15 {
                continue;
            }
            c.trap_ctxt[v as usize] = xen::TrapInfo {
                vector: v,
                flags: if v == 3 || v == 4 { 3 } else { 0 },
                cs: xen::FLAT_KERNEL_CS,
                address: stub_addr(&raw const pv_exc_stubs, v as usize) as usize,
            };
        }
        c.kernel_ss = xen::FLAT_KERNEL_SS as usize;
        c.kernel_sp = stack_top;
        // Machine address of the top-level table (xen_pfn_to_cr3).
        c.ctrlreg[3] = mmu.addr_field(mmu.root) as usize;
        xen::vcpu_op(xen::VCPUOP_INITIALISE, 1, c as *mut _ as usize)
    } else {
        let ctx = xen::VcpuHvmContext {
            mode: xen::VCPU_HVM_MODE_64B,
            pad: 0,
            regs: xen::VcpuHvmRegs {
                x86_64: xen::VcpuHvmX86_64 {
                    rip: &raw const ap_start_hvm64 as u64,
                    rsp: stack_top as u64,
                    rflags: 0x2,
                    cr0: super::read_cr0() as u64,
                    cr3: super::read_cr3() as u64,
                    cr4: super::read_cr4() as u64,
                    // SAFETY: EFER exists (we are in long mode).
                    efer: unsafe { super::rdmsr(super::MSR_EFER) },
                    ..Default::default()
                },
            },
        };
        xen::vcpu_op(xen::VCPUOP_INITIALISE, 1, &ctx as *const _ as usize)
    }
}

/// Called from `ap_start_*` on the AP's stack.
#[no_mangle]
extern "C" fn rust_ap_entry() -> ! {
    if !crate::smp::ap_is_pv() {
        load_idt();
    }
    crate::smp::ap_main()
}
