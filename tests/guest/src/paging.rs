//! Guest page tables: one walker for the three x86 formats, with two ways of
//! writing entries.
//!
//! - `Backend::Native` (HVM modes): the guest owns its tables and writes
//!   entries with plain stores; entries hold guest-physical addresses.  Xen
//!   shadows these tables, so every store here is something the shadow code
//!   must notice (write-protection + emulation, or out-of-sync + resync on
//!   INVLPG/CR3 reload).
//! - `Backend::Pv` (pv64): tables are read-only to the guest and entries
//!   hold machine frame numbers.  Entries are changed with
//!   `HYPERVISOR_mmu_update` (or, in one test, by a plain store that Xen's
//!   writable-pagetable emulation intercepts); TLB flushes go through
//!   `MMUEXT_INVLPG_LOCAL`.
//!
//! Tables are addressed by their (pseudo-)physical address, which is also
//! where the kernel can read them (see `frames`).

use crate::arch;
use crate::frames;
use crate::xen;
use crate::{BootInfo, Mode};
use core::fmt;

// Entry bits (same positions in all formats).
pub const P: u64 = 1 << 0;
pub const RW: u64 = 1 << 1;
pub const US: u64 = 1 << 2;
pub const A: u64 = 1 << 5;
pub const D: u64 = 1 << 6;
pub const PS: u64 = 1 << 7;
#[allow(dead_code)]
pub const G: u64 = 1 << 8;
/// No-execute (PAE and long mode, needs EFER.NXE).
pub const NX: u64 = 1 << 63;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Format {
    /// 32-bit non-PAE: 2 levels of 1024 4-byte entries (4 MiB pages with PSE).
    TwoLevel,
    /// PAE: a 4-entry PDPT, then 2 levels of 512 8-byte entries.
    Pae,
    /// Long mode: 4 levels of 512 8-byte entries.
    Long4,
}

impl Format {
    pub fn levels(self) -> u32 {
        match self {
            Format::TwoLevel => 2,
            Format::Pae => 3,
            Format::Long4 => 4,
        }
    }

    fn entry_size(self) -> usize {
        match self {
            Format::TwoLevel => 4,
            _ => 8,
        }
    }

    /// Lowest virtual-address bit translated at `level` (1 = leaf tables).
    pub fn shift(self, level: u32) -> u32 {
        match self {
            Format::TwoLevel => 12 + 10 * (level - 1),
            _ => 12 + 9 * (level - 1),
        }
    }

    fn index(self, va: u64, level: u32) -> usize {
        let bits = match (self, level) {
            (Format::TwoLevel, _) => 10,
            (Format::Pae, 3) => 2,
            _ => 9,
        };
        ((va >> self.shift(level)) & ((1 << bits) - 1)) as usize
    }

    /// Address bits of an entry.
    pub fn addr_mask(self) -> u64 {
        match self {
            Format::TwoLevel => 0xffff_f000,
            _ => 0x000f_ffff_ffff_f000,
        }
    }

    /// Size of a superpage mapped by a level-2 entry with PS set.
    pub fn large_page_size(self) -> u64 {
        1 << self.shift(2)
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Error {
    /// An entry on the way to `level` is not present.
    NotMapped { level: u32 },
    /// A superpage entry sits at `level`.
    Superpage { level: u32 },
    /// Xen refused a page-table update.
    Hypercall { what: &'static str, rc: isize },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::NotMapped { level } => write!(f, "no present entry at level {}", level),
            Error::Superpage { level } => write!(f, "superpage at level {}", level),
            Error::Hypercall { what, rc } => write!(f, "{} failed: rc={}", what, rc),
        }
    }
}

#[derive(Clone, Copy)]
pub struct PvInfo {
    /// pfn -> mfn array (start_info.mfn_list), `unsigned long` entries.
    p2m: *const usize,
    nr_pages: u64,
}

pub enum Backend {
    Native,
    Pv(PvInfo),
}

/// One address space: format, top-level table and how to write it.
pub struct Mmu {
    pub fmt: Format,
    /// Physical address of the top-level table (the value for CR3 in HVM).
    pub root: u64,
    pub backend: Backend,
    /// The NX bit is usable (EFER.NXE set, non-2-level format).
    pub nx: bool,
}

/// Location of one entry: the table's physical address and the index.
#[derive(Clone, Copy, Debug)]
pub struct Slot {
    pub table: u64,
    pub index: usize,
}

impl Mmu {
    pub fn is_pv(&self) -> bool {
        matches!(self.backend, Backend::Pv(_))
    }

    pub fn describe(&self) -> Describe<'_> {
        Describe(self)
    }

    // ----- address translation between entries and physical addresses ----

    /// Value for an entry's address field that refers to physical address
    /// `pa` (for PV: the machine address of that pseudo-physical frame).
    pub fn addr_field(&self, pa: u64) -> u64 {
        match &self.backend {
            Backend::Native => pa & self.fmt.addr_mask(),
            Backend::Pv(pv) => {
                let pfn = pa >> 12;
                assert!(pfn < pv.nr_pages, "pfn {:#x} beyond p2m", pfn);
                // SAFETY: p2m has nr_pages entries, mapped by Xen.
                let mfn = unsafe { pv.p2m.add(pfn as usize).read_volatile() };
                (mfn as u64) << 12
            }
        }
    }

    /// Physical address an entry refers to (inverse of `addr_field`).
    pub fn entry_pa(&self, entry: u64) -> u64 {
        let field = entry & self.fmt.addr_mask();
        match &self.backend {
            Backend::Native => field,
            Backend::Pv(_) => {
                let mfn = field >> 12;
                // SAFETY: Xen maps the read-only machine-to-phys table at
                // this fixed address in every PV guest.
                let pfn = unsafe {
                    (xen::MACH2PHYS_VIRT_START as *const usize)
                        .add(mfn as usize)
                        .read_volatile()
                };
                (pfn as u64) << 12
            }
        }
    }

    /// A complete leaf entry mapping physical `pa` with `flags`.
    pub fn pte(&self, pa: u64, flags: u64) -> u64 {
        self.addr_field(pa) | flags
    }

    // ----- raw entry access --------------------------------------------------

    fn entry_ptr(&self, s: Slot) -> usize {
        s.table as usize + s.index * self.fmt.entry_size()
    }

    pub fn read(&self, s: Slot) -> u64 {
        let p = self.entry_ptr(s);
        // SAFETY: tables are readable at their physical address (identity
        // map / PV direct view; PV tables are mapped read-only).
        unsafe {
            match self.fmt.entry_size() {
                4 => (p as *const u32).read_volatile() as u64,
                _ => (p as *const u64).read_volatile(),
            }
        }
    }

    /// Write an entry the normal way for this backend (either vCPU may).
    pub fn write(&self, s: Slot, val: u64) -> Result<(), Error> {
        match &self.backend {
            Backend::Native => {
                self.write_direct(s, val);
                Ok(())
            }
            Backend::Pv(_) => {
                let req = xen::MmuUpdate {
                    ptr: (self.addr_field(s.table) + (s.index * 8) as u64)
                        | xen::MMU_NORMAL_PT_UPDATE,
                    val,
                };
                match xen::mmu_update(&[req]) {
                    (0, 1) => Ok(()),
                    (rc, _) => Err(Error::Hypercall {
                        what: "mmu_update",
                        rc,
                    }),
                }
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    /// PV: write an entry that maps a frame of domain `dom` (`val` holds
    /// that frame's machine address and the flags).
    pub fn write_foreign(&self, s: Slot, val: u64, dom: u16) -> Result<(), Error> {
        let req = xen::MmuUpdate {
            ptr: (self.addr_field(s.table) + (s.index * 8) as u64) | xen::MMU_NORMAL_PT_UPDATE,
            val,
        };
        match xen::mmu_update_foreign(&[req], dom) {
            (0, 1) => Ok(()),
            (rc, _) => Err(Error::Hypercall {
                what: "mmu_update (foreign)",
                rc,
            }),
        }
    }

    /// Write an entry with a plain store.  For PV the table is mapped
    /// read-only, so this faults into Xen's writable-pagetable emulation
    /// (VMASST_TYPE_writable_pagetables must be on).
    pub fn write_direct(&self, s: Slot, val: u64) {
        let p = self.entry_ptr(s);
        // SAFETY: HVM: the table is ours and identity mapped writable.  PV:
        // Xen traps and validates the store (or injects #PF if it refuses).
        unsafe {
            match self.fmt.entry_size() {
                4 => (p as *mut u32).write_volatile(val as u32),
                _ => (p as *mut u64).write_volatile(val),
            }
        }
    }

    // ----- walking -------------------------------------------------------------

    /// Flags for a new non-leaf entry at `level`.
    fn table_flags(&self, level: u32) -> u64 {
        match (&self.backend, self.fmt, level) {
            // PAE PDPTEs only have P (RW/US are reserved there).
            (_, Format::Pae, 3) => P,
            (Backend::Native, _, _) => P | RW,
            // Xen adds US itself for 64-bit PV (the kernel runs in ring 3).
            (Backend::Pv(_), _, _) => P | RW | US | A,
        }
    }

    /// A new zeroed table, ready to be linked in.
    fn new_table(&mut self) -> Result<u64, Error> {
        let pa = frames::alloc();
        self.protect_table(pa)?;
        Ok(pa)
    }

    /// PV: a page-table page must have no writable mapping, so make our
    /// direct view of the frame at `pa` read-only (nothing to do for HVM).
    pub fn protect_table(&self, pa: u64) -> Result<(), Error> {
        self.set_direct_view(pa, P | A, "update_va_mapping(ro)")
    }

    /// PV: make the direct view of a former page-table page writable again
    /// (Xen refuses while the frame is still in use as a page table).
    pub fn unprotect_table(&self, pa: u64) -> Result<(), Error> {
        self.set_direct_view(pa, P | RW | A | D, "update_va_mapping(rw)")
    }

    fn set_direct_view(&self, pa: u64, flags: u64, what: &'static str) -> Result<(), Error> {
        if let Backend::Pv(_) = self.backend {
            let rc = xen::update_va_mapping(pa, self.pte(pa, flags), xen::UVMF_INVLPG);
            if rc != 0 {
                return Err(Error::Hypercall { what, rc });
            }
        }
        Ok(())
    }

    /// Address of an entry in the direct view (writable for HVM, read-only
    /// for PV, where a store there goes through Xen's emulation).
    pub fn entry_addr(&self, s: Slot) -> u64 {
        self.entry_ptr(s) as u64
    }

    /// Size of one entry in bytes (4 for 2-level, 8 otherwise).
    pub fn entry_size(&self) -> usize {
        self.fmt.entry_size()
    }

    /// Find the entry for `va` at `level`, creating missing tables above it
    /// when `create` is set.
    pub fn slot(&mut self, va: u64, level: u32, create: bool) -> Result<Slot, Error> {
        let mut table = self.root;
        let mut lvl = self.fmt.levels();
        while lvl > level {
            let s = Slot {
                table,
                index: self.fmt.index(va, lvl),
            };
            let e = self.read(s);
            if e & P == 0 {
                if !create {
                    return Err(Error::NotMapped { level: lvl });
                }
                let t = self.new_table()?;
                let v = self.addr_field(t) | self.table_flags(lvl);
                self.write(s, v)?;
                table = t;
            } else if lvl == 2 && e & PS != 0 {
                return Err(Error::Superpage { level: lvl });
            } else {
                table = self.entry_pa(e);
            }
            lvl -= 1;
        }
        Ok(Slot {
            table,
            index: self.fmt.index(va, level),
        })
    }

    /// Map the 4 KiB page at `va` to physical `pa` (no TLB flush).
    pub fn map(&mut self, va: u64, pa: u64, flags: u64) -> Result<Slot, Error> {
        let s = self.slot(va, 1, true)?;
        let v = self.pte(pa, flags);
        self.write(s, v)?;
        Ok(s)
    }

    /// Map a superpage (2 MiB or 4 MiB) with a level-2 entry (no TLB flush).
    pub fn map_large(&mut self, va: u64, pa: u64, flags: u64) -> Result<Slot, Error> {
        let s = self.slot(va, 2, true)?;
        let v = self.pte(pa, flags | PS);
        self.write(s, v)?;
        Ok(s)
    }

    /// Current leaf entry for `va`, if its tables exist.
    pub fn leaf(&mut self, va: u64) -> Result<u64, Error> {
        let s = self.slot(va, 1, false)?;
        Ok(self.read(s))
    }

    /// Drop the TLB entry for `va` (the guest's INVLPG).
    pub fn flush(&self, va: u64) {
        match self.backend {
            Backend::Native => arch::invlpg(va as usize),
            Backend::Pv(_) => {
                let op = xen::MmuExtOp {
                    cmd: xen::MMUEXT_INVLPG_LOCAL,
                    arg1: va as usize,
                    arg2: 0,
                };
                let rc = xen::mmuext_op(&[op]);
                assert!(rc == 0, "MMUEXT_INVLPG_LOCAL failed: {}", rc);
            }
        }
    }

    /// Drop all (non-global) TLB entries: reload CR3 (HVM) or
    /// `MMUEXT_TLB_FLUSH_LOCAL` (PV).
    pub fn flush_all(&self) {
        match self.backend {
            // SAFETY: reloading the current CR3 value changes no mapping.
            Backend::Native => unsafe { arch::write_cr3(arch::read_cr3()) },
            Backend::Pv(_) => {
                let op = xen::MmuExtOp {
                    cmd: xen::MMUEXT_TLB_FLUSH_LOCAL,
                    arg1: 0,
                    arg2: 0,
                };
                let rc = xen::mmuext_op(&[op]);
                assert!(rc == 0, "MMUEXT_TLB_FLUSH_LOCAL failed: {}", rc);
            }
        }
    }

    /// Flush every vCPU's TLB: `HVMOP_flush_tlbs` (HVM; for a shadowed
    /// guest Xen also brings all vCPUs' shadows up to date) or
    /// `MMUEXT_TLB_FLUSH_ALL` (PV).
    pub fn flush_all_vcpus(&self) {
        match self.backend {
            Backend::Native => {
                let rc = xen::hvm_flush_tlbs();
                assert!(rc == 0, "HVMOP_flush_tlbs failed: {}", rc);
            }
            Backend::Pv(_) => {
                let op = xen::MmuExtOp {
                    cmd: xen::MMUEXT_TLB_FLUSH_ALL,
                    arg1: 0,
                    arg2: 0,
                };
                let rc = xen::mmuext_op(&[op]);
                assert!(rc == 0, "MMUEXT_TLB_FLUSH_ALL failed: {}", rc);
            }
        }
    }

    /// Drop `va` from every vCPU's TLB: `MMUEXT_INVLPG_ALL` (PV); HVM has
    /// no per-page variant, so `HVMOP_flush_tlbs`.
    pub fn flush_va_all_vcpus(&self, va: u64) {
        match self.backend {
            Backend::Native => self.flush_all_vcpus(),
            Backend::Pv(_) => {
                let op = xen::MmuExtOp {
                    cmd: xen::MMUEXT_INVLPG_ALL,
                    arg1: va as usize,
                    arg2: 0,
                };
                let rc = xen::mmuext_op(&[op]);
                assert!(rc == 0, "MMUEXT_INVLPG_ALL failed: {}", rc);
            }
        }
    }

    /// Another address space with this one's format and backend, rooted at
    /// the (already built) top-level table `root`.
    pub fn sibling(&self, root: u64) -> Mmu {
        Mmu {
            fmt: self.fmt,
            root,
            backend: match &self.backend {
                Backend::Native => Backend::Native,
                Backend::Pv(pv) => Backend::Pv(*pv),
            },
            nx: self.nx,
        }
    }

    /// PV: make the top-level table (a filled data frame) a page table:
    /// map it read-only and pin it (L4, or L3 for PAE), so that Xen
    /// validates it and `activate` can load it.  Nothing to do for HVM.
    pub fn pin_root(&self) -> Result<(), Error> {
        if !self.is_pv() {
            return Ok(());
        }
        self.protect_table(self.root)?;
        let op = xen::MmuExtOp {
            cmd: if self.fmt == Format::Pae {
                xen::MMUEXT_PIN_L3_TABLE
            } else {
                xen::MMUEXT_PIN_L4_TABLE
            },
            arg1: (self.addr_field(self.root) >> 12) as usize,
            arg2: 0,
        };
        match xen::mmuext_op(&[op]) {
            0 => Ok(()),
            rc => Err(Error::Hypercall {
                what: "MMUEXT_PIN_L*_TABLE",
                rc,
            }),
        }
    }

    /// Load this address space on the calling vCPU: CR3 (HVM) or
    /// `MMUEXT_NEW_BASEPTR` (PV, kernel mode).
    ///
    /// # Safety
    /// The address space must map the running code, stack and data where
    /// the current one does.
    pub unsafe fn activate(&self) {
        match self.backend {
            // SAFETY: the caller guarantees the mappings.
            Backend::Native => unsafe { arch::write_cr3(self.root as usize) },
            Backend::Pv(_) => {
                let op = xen::MmuExtOp {
                    cmd: xen::MMUEXT_NEW_BASEPTR,
                    arg1: (self.addr_field(self.root) >> 12) as usize,
                    arg2: 0,
                };
                let rc = xen::mmuext_op(&[op]);
                assert!(rc == 0, "MMUEXT_NEW_BASEPTR failed: {}", rc);
            }
        }
    }

    /// A second address space for HVM: a new top-level table that starts as
    /// a copy of this one.
    pub fn clone_root(&mut self) -> Result<Mmu, Error> {
        assert!(!self.is_pv(), "clone_root is HVM only");
        let root = self.new_table()?;
        let n = match self.fmt {
            Format::TwoLevel => 1024,
            Format::Pae => 4,
            Format::Long4 => 512,
        };
        let m = Mmu {
            fmt: self.fmt,
            root,
            backend: Backend::Native,
            nx: self.nx,
        };
        for i in 0..n {
            let v = self.read(Slot {
                table: self.root,
                index: i,
            });
            m.write_direct(
                Slot {
                    table: root,
                    index: i,
                },
                v,
            );
        }
        Ok(m)
    }
}

pub struct Describe<'a>(&'a Mmu);

impl fmt::Display for Describe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:?} {} root={:#x} nx={} cr0={:#x} cr4={:#x}",
            m.fmt,
            if m.is_pv() { "pv" } else { "native" },
            m.root,
            m.nx,
            if m.is_pv() { 0 } else { arch::read_cr0() },
            if m.is_pv() { 0 } else { arch::read_cr4() },
        )
    }
}

/// CPUID.80000001H:EDX.NX[bit 20].
fn cpu_has_nx() -> bool {
    arch::cpuid(0x8000_0000, 0).0 >= 0x8000_0001 && arch::cpuid(0x8000_0001, 0).3 & (1 << 20) != 0
}

/// Build the test environment's address space for `mode` and switch to it.
pub fn setup(mode: Mode, boot: &BootInfo) -> Result<Mmu, Error> {
    match mode {
        Mode::Pv64 => setup_pv(boot, Format::Long4),
        Mode::Pv32Pae => setup_pv(boot, Format::Pae),
        Mode::Hvm64 => setup_native(Format::Long4, false),
        Mode::Hvm32 => setup_native(Format::TwoLevel, false),
        Mode::Hvm32Pse => setup_native(Format::TwoLevel, true),
        Mode::Hvm32Pae => setup_native(Format::Pae, false),
    }
}

/// HVM: identity-map the image with 4 KiB pages in a fresh set of tables,
/// then load them (and for the 32-bit modes turn paging on).  Page 0 and
/// everything outside the image stay unmapped.
fn setup_native(fmt: Format, pse: bool) -> Result<Mmu, Error> {
    let root = frames::alloc();
    let mut mmu = Mmu {
        fmt,
        root,
        backend: Backend::Native,
        nx: false,
    };
    if fmt == Format::Pae {
        // PDPTEs are loaded into the CPU (and by Xen's shadow code) when CR3
        // is written, so fill all four now and never change them later.
        for i in 0..4 {
            let t = frames::alloc();
            mmu.write_direct(
                Slot {
                    table: root,
                    index: i,
                },
                t | P,
            );
        }
    }
    let (start, end) = arch::image_range();
    for page in (start..end).step_by(frames::PAGE_SIZE) {
        mmu.map(page as u64, page as u64, P | RW)?;
    }
    if fmt != Format::TwoLevel && cpu_has_nx() {
        // SAFETY: setting EFER.NXE only makes bit 63 of entries meaningful;
        // none of our entries has it set yet.
        unsafe { arch::wrmsr(arch::MSR_EFER, arch::rdmsr(arch::MSR_EFER) | arch::EFER_NXE) };
        mmu.nx = true;
    }

    // SAFETY: the new tables map the whole image (code, data, stack, IDT,
    // GDT, hypercall page, frame pool) at the same addresses as before, so
    // execution continues seamlessly after the switch.
    unsafe {
        match fmt {
            Format::Long4 => {
                // Already in long mode on the boot tables: just switch.
                arch::write_cr3(root as usize);
            }
            Format::TwoLevel | Format::Pae => {
                let mut cr4 = arch::read_cr4() & !(arch::CR4_PAE | arch::CR4_PSE);
                if fmt == Format::Pae {
                    cr4 |= arch::CR4_PAE;
                }
                if pse {
                    cr4 |= arch::CR4_PSE;
                }
                arch::write_cr4(cr4);
                arch::write_cr3(root as usize);
                arch::write_cr0(arch::read_cr0() | arch::CR0_PG | arch::CR0_WP);
            }
        }
    }
    Ok(mmu)
}

/// PV: keep Xen's initial tables (they map the image with virtual page ==
/// pseudo-physical frame) and change them through hypercalls.  For 32-bit
/// PAE, Xen has already populated all four L3 entries (the last one maps
/// Xen's own area), so the walker never has to create an L2.
fn setup_pv(boot: &BootInfo, fmt: Format) -> Result<Mmu, Error> {
    let si = boot.pv_start_info.expect("PV start_info");
    let mut mmu = Mmu {
        fmt,
        root: si.pt_base as u64,
        backend: Backend::Pv(PvInfo {
            p2m: si.mfn_list as *const usize,
            nr_pages: si.nr_pages as u64,
        }),
        // Xen runs PV guests with EFER.NXE set whenever the CPU has NX.
        nx: cpu_has_nx(),
    };
    // Writable page tables: let plain stores to page-table pages be
    // emulated (one test uses this).
    let rc = xen::vm_assist(xen::VMASST_CMD_ENABLE, xen::VMASST_TYPE_WRITABLE_PAGETABLES);
    if rc != 0 {
        return Err(Error::Hypercall {
            what: "vm_assist(writable_pagetables)",
            rc,
        });
    }
    // Unmap page 0 so that null pointers fault, as in the HVM modes.
    let s = mmu.slot(0, 1, false)?;
    mmu.write(s, 0)?;
    mmu.flush(0);
    Ok(mmu)
}
