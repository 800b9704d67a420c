//! xen-shadow-rs guest test kernel.
//!
//! A tiny kernel that Xen boots as dom0 and that exercises guest paging, so
//! that the hypervisor's shadow paging code (or its Rust replacement) gets
//! driven by real page-table activity.  It prints one line per test through
//! `HYPERVISOR_console_io`, then the closing line `N passed, N failed`, then
//! asks Xen to shut down.
//!
//! Two images are built from this one crate:
//! - `guest64.elf` (x86_64-unknown-none): modes `hvm64` (PVH entry; the guest
//!   builds its own 4-level page tables) and `pv64` (PV entry; page tables are
//!   changed through hypercalls and the writable-pagetable emulation).
//! - `guest32.elf` (custom i686 target): modes `hvm32` (2-level, 4 KiB pages),
//!   `hvm32pse` (2-level plus 4 MiB pages) and `hvm32pae` (3-level PAE), all
//!   PVH, and `pv32pae` (32-bit PAE PV kernel in ring 1).
//!
//! The mode is taken from the kernel command line (`mode=...`); without one
//! the entry point decides (PVH entry -> hvm64 / hvm32, PV entry -> pv64 /
//! pv32pae).

#![no_std]
#![no_main]

#[macro_use]
mod console;

mod arch;
mod bench;
mod cmdline;
mod exceptions;
mod frames;
mod global;
mod paging;
mod report;
mod smp;
mod tests;
mod xen;

use core::fmt;

/// How Xen started us.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Entry {
    /// XEN_ELFNOTE_PHYS32_ENTRY: HVM container, 32-bit protected mode, paging off.
    Pvh,
    /// XEN_ELFNOTE_ENTRY: paravirtualised, 64-bit, Xen-built page tables.
    Pv,
}

/// Which paging environment the tests run in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// PVH, long mode, guest-built 4-level page tables (shadowed by Xen).
    Hvm64,
    /// 64-bit PV, page tables validated by Xen (shadowed with `dom0=shadow`).
    Pv64,
    /// PVH, 32-bit protected mode, 2-level page tables, 4 KiB pages only.
    Hvm32,
    /// Like `Hvm32` but with CR4.PSE set and a 4 MiB superpage test.
    Hvm32Pse,
    /// PVH, 32-bit protected mode, 3-level PAE page tables.
    Hvm32Pae,
    /// 32-bit PAE PV (a compat guest of 64-bit Xen), kernel in ring 1.
    Pv32Pae,
}

impl Mode {
    pub const ALL: [Mode; 6] = [
        Mode::Hvm64,
        Mode::Pv64,
        Mode::Hvm32,
        Mode::Hvm32Pse,
        Mode::Hvm32Pae,
        Mode::Pv32Pae,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Hvm64 => "hvm64",
            Mode::Pv64 => "pv64",
            Mode::Hvm32 => "hvm32",
            Mode::Hvm32Pse => "hvm32pse",
            Mode::Hvm32Pae => "hvm32pae",
            Mode::Pv32Pae => "pv32pae",
        }
    }

    pub fn from_name(s: &[u8]) -> Option<Mode> {
        Mode::ALL.iter().copied().find(|m| m.name().as_bytes() == s)
    }

    pub fn is_pv(self) -> bool {
        matches!(self, Mode::Pv64 | Mode::Pv32Pae)
    }

    pub fn is_64bit(self) -> bool {
        matches!(self, Mode::Hvm64 | Mode::Pv64)
    }

    /// The entry point this mode needs.
    pub fn entry(self) -> Entry {
        if self.is_pv() {
            Entry::Pv
        } else {
            Entry::Pvh
        }
    }

    /// Whether this image (guest64 or guest32) contains the code for `self`.
    pub fn built_in(self) -> bool {
        self.is_64bit() == cfg!(target_arch = "x86_64")
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the architecture entry code hands to [`kmain`].
pub struct BootInfo {
    pub entry: Entry,
    /// PV only: the start_info page Xen built for us.
    pub pv_start_info: Option<&'static xen::StartInfo>,
}

/// Common entry, called by the arch code once hypercalls, the console and
/// exception handling work.
pub fn kmain(boot: BootInfo) -> ! {
    let cmd = cmdline::get();
    println!(
        "xen-shadow-rs guest ({}): entry={:?} xen={} cmdline=\"{}\"",
        if cfg!(target_arch = "x86_64") {
            "guest64"
        } else {
            "guest32"
        },
        boot.entry,
        xen::VersionDisplay,
        cmd
    );

    let mode = match cmdline::mode() {
        Ok(Some(m)) => m,
        Ok(None) => match boot.entry {
            Entry::Pv if cfg!(target_arch = "x86_64") => Mode::Pv64,
            Entry::Pv => Mode::Pv32Pae,
            Entry::Pvh if cfg!(target_arch = "x86_64") => Mode::Hvm64,
            Entry::Pvh => Mode::Hvm32,
        },
        Err(bad) => report::fatal_setup(format_args!("unknown mode on command line: \"{}\"", bad)),
    };
    if !mode.built_in() {
        report::fatal_setup(format_args!(
            "mode {} is not in this image (use {})",
            mode,
            if mode.is_64bit() {
                "guest64.elf"
            } else {
                "guest32.elf"
            }
        ));
    }
    if mode.entry() != boot.entry {
        report::fatal_setup(format_args!(
            "mode {} needs the {:?} entry but Xen used the {:?} entry (check dom0= options)",
            mode,
            mode.entry(),
            boot.entry
        ));
    }

    let mmu = match paging::setup(mode, &boot) {
        Ok(m) => m,
        Err(e) => report::fatal_setup(format_args!("paging setup for {} failed: {}", mode, e)),
    };
    println!("mode {}: paging ready ({})", mode, mmu.describe());

    if cmdline::value("bench").is_some() {
        bench::run(mode, mmu)
    }
    tests::run_all(mode, mmu)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    report::panic(info)
}
