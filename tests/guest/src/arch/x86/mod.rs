//! 32-bit image (`guest32.elf`): PVH entry for `hvm32`, `hvm32pse`,
//! `hvm32pae`; PV entry for `pv32pae`.

mod entry;

use crate::global::Global;
use crate::xen;
use crate::{BootInfo, Entry};

extern "C" {
    static hypercall_page: u8;
    static exc_stubs: u8;

    pub fn xen_hypercall(nr: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize)
        -> isize;
    pub fn probe_read32(addr: usize) -> u32;
    pub fn probe_write32(addr: usize, val: u32);
    /// Call `target`, which must hold a `ret`; see `exceptions::exec`.
    pub fn probe_exec(target: usize);
    /// Where an instruction-fetch fault in `probe_exec` resumes.
    pub static probe_exec_landing: u8;
    /// Second-vCPU entry points (entry.rs).
    static ap_start_hvm32: u8;
    static ap_start_pv32: u8;
}

/// Registers saved by `exc_common` (PUSHAL order, lowest address first),
/// then the stub's vector/error code and the hardware frame.
#[repr(C)]
#[derive(Debug)]
pub struct TrapFrame {
    pub edi: u32,
    pub esi: u32,
    pub ebp: u32,
    pub esp_at_pushal: u32,
    pub ebx: u32,
    pub edx: u32,
    pub ecx: u32,
    pub eax: u32,
    pub vector: u32,
    pub error_code: u32,
    pub eip: u32,
    pub cs: u32,
    pub eflags: u32,
}

impl TrapFrame {
    pub fn vector(&self) -> u8 {
        self.vector as u8
    }
    pub fn error_code(&self) -> u64 {
        self.error_code as u64
    }
    pub fn ip(&self) -> usize {
        self.eip as usize
    }
    pub fn set_ip(&mut self, ip: usize) {
        self.eip = ip as u32;
    }
    /// Stack pointer of the interrupted code (no privilege change, so the
    /// CPU did not push one: it is just above the hardware frame).
    pub fn sp(&self) -> usize {
        &self.eflags as *const u32 as usize + 4
    }
}

pub fn hypercall_page_addr() -> usize {
    &raw const hypercall_page as usize
}

/// 256 8-byte IDT gates (only vectors 0-31 are filled in).
#[repr(C, align(16))]
struct Idt([u64; 256]);

static IDT: Global<Idt> = Global::new(Idt([0; 256]));

fn install_idt() {
    // SAFETY: IDT is only written here, before LIDT.
    unsafe {
        let idt = &mut *IDT.as_ptr();
        for v in 0..32 {
            let a = (&raw const exc_stubs as u64) + 16 * v as u64;
            // 32-bit interrupt gate: present, DPL 0, type 0xE, selector 0x08.
            idt.0[v] = (a & 0xffff) | (0x08 << 16) | (0x8e00 << 32) | ((a >> 16) & 0xffff) << 48;
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
            base: u32,
        }
        let p = Pseudo {
            limit: (core::mem::size_of::<Idt>() - 1) as u16,
            base: IDT.as_ptr() as u32,
        };
        core::arch::asm!("lidt [{}]", in(reg) &p, options(nostack, readonly));
    }
}

/// Called from `pvh_start32` with paging still off.
#[no_mangle]
extern "C" fn rust_pvh32_entry(start_info_pa: u32) -> ! {
    if !super::init_hvm_hypercall_page() {
        // SAFETY: deliberate fault with no IDT loaded yet -> triple fault.
        unsafe { core::arch::asm!("ud2", options(noreturn)) };
    }
    install_idt();
    // SAFETY: Xen passes the physical address of a hvm_start_info; paging is off.
    let si = unsafe { &*(start_info_pa as *const xen::HvmStartInfo) };
    if si.magic != xen::HVM_START_MAGIC {
        crate::report::fatal_setup(format_args!("bad hvm_start_info magic {:#x}", si.magic));
    }
    if si.cmdline_paddr != 0 && si.cmdline_paddr < (1 << 32) {
        // SAFETY: Xen wrote a NUL-terminated string there; paging is off.
        unsafe { crate::cmdline::set_from_cstr(si.cmdline_paddr as usize as *const u8) };
    }
    crate::kmain(BootInfo {
        entry: Entry::Pvh,
        pv_start_info: None,
    })
}

// ---------------------------------------------------------------------------
// PV entry (pv32pae)
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
            flags: if v == 3 || v == 4 { 3 } else { 0 },
            cs: xen::FLAT_KERNEL_CS,
            address: &raw const exc_stubs as usize + 16 * v as usize,
        };
        n += 1;
    }
    xen::set_trap_table(&traps[..=n])
}

/// Called from `pv_start32` on our own stack; Xen passed the virtual
/// address of start_info in %esi.
#[no_mangle]
extern "C" fn rust_pv32_entry(si: *const xen::StartInfo) -> ! {
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

/// `struct cpu_user_regs` (arch-x86/xen-x86_32.h).
#[repr(C)]
pub struct CpuUserRegs {
    pub gprs: [u32; 7], // ebx ecx edx esi edi ebp eax
    pub error_code: u16,
    pub entry_vector: u16,
    pub eip: u32,
    pub cs: u16,
    pub saved_upcall_mask: u8,
    pub pad0: u8,
    pub eflags: u32,
    pub esp: u32,
    /// ss, es, ds, fs, gs, each a selector plus 16 bits of padding.
    pub segs: [u32; 5],
}

/// The callback fields of the 32-bit `vcpu_guest_context`.
#[repr(C)]
pub struct PvCallbacks {
    pub event_callback_cs: u32,
    pub event_callback_eip: u32,
    pub failsafe_callback_cs: u32,
    pub failsafe_callback_eip: u32,
}

const _: () = assert!(core::mem::size_of::<CpuUserRegs>() == 68);
const _: () = assert!(core::mem::size_of::<crate::arch::VcpuGuestContext>() == 2800);

/// 32-bit PV flat kernel data/stack selector (ring 1).
const FLAT_KERNEL_DS: u16 = 0xe021;

/// `VCPUOP_initialise` for vCPU 1 so that it enters `ap_start_*` on
/// `stack_top` in the boot vCPU's paging mode.  Returns Xen's code.
pub fn ap_initialise(mode: crate::Mode, mmu: &crate::paging::Mmu, stack_top: usize) -> isize {
    if mode.is_pv() {
        // SAFETY: only the boot vCPU calls this, once, before vCPU 1 runs;
        // all-zero is a valid start for the context (plain integers).
        let c = unsafe { (*super::AP_PV_CONTEXT.as_ptr()).assume_init_mut() };
        c.flags = super::VGCF_IN_KERNEL;
        c.user_regs.eip = &raw const ap_start_pv32 as u32;
        c.user_regs.esp = stack_top as u32;
        c.user_regs.cs = xen::FLAT_KERNEL_CS;
        c.user_regs.eflags = 0x2;
        // ss, es, ds: the flat ring-1 data segment; fs, gs: null.
        c.user_regs.segs = [
            FLAT_KERNEL_DS as u32,
            FLAT_KERNEL_DS as u32,
            FLAT_KERNEL_DS as u32,
            0,
            0,
        ];
        for v in 0..32u8 {
            if v == 2 || v == 15 {
                continue;
            }
            c.trap_ctxt[v as usize] = xen::TrapInfo {
                vector: v,
                flags: if v == 3 || v == 4 { 3 } else { 0 },
                cs: xen::FLAT_KERNEL_CS,
                address: &raw const exc_stubs as usize + 16 * v as usize,
            };
        }
        c.kernel_ss = FLAT_KERNEL_DS as usize;
        c.kernel_sp = stack_top;
        c.callbacks.event_callback_cs = xen::FLAT_KERNEL_CS as u32;
        c.callbacks.failsafe_callback_cs = xen::FLAT_KERNEL_CS as u32;
        // The PAE top-level (L3) table; compat_pfn_to_cr3(mfn) is
        // mfn << 12 | mfn >> 20.
        let mfn = mmu.addr_field(mmu.root) >> 12;
        c.ctrlreg[3] = ((mfn << 12) | (mfn >> 20)) as usize;
        xen::vcpu_op(xen::VCPUOP_INITIALISE, 1, c as *mut _ as usize)
    } else {
        // SAFETY: EFER exists on every CPU with PAE/NX; reading it is harmless.
        let efer = if mmu.nx {
            unsafe { super::rdmsr(super::MSR_EFER) }
        } else {
            0
        };
        let ctx = xen::VcpuHvmContext {
            mode: xen::VCPU_HVM_MODE_32B,
            pad: 0,
            regs: xen::VcpuHvmRegs {
                x86_32: xen::VcpuHvmX86_32 {
                    eip: &raw const ap_start_hvm32 as u32,
                    esp: stack_top as u32,
                    eflags: 0x2,
                    cr0: super::read_cr0() as u32,
                    cr3: super::read_cr3() as u32,
                    cr4: super::read_cr4() as u32,
                    efer,
                    cs_limit: !0,
                    ds_limit: !0,
                    ss_limit: !0,
                    es_limit: !0,
                    tr_limit: 0x67,
                    // Flat 32-bit code (G, D, P, S, type 0xb), data (type
                    // 3), busy 32-bit TSS.
                    cs_ar: 0xc9b,
                    ds_ar: 0xc93,
                    ss_ar: 0xc93,
                    es_ar: 0xc93,
                    tr_ar: 0x8b,
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
