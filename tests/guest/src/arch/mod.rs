//! Architecture-specific code: entry points, descriptor tables, exception
//! entry/exit, hypercall trampolines and control-register access.
//!
//! Both submodules export the same names, used by the rest of the kernel:
//! `xen_hypercall`, `probe_read32`, `probe_write32`, `TrapFrame`,
//! `read_cr0/2/3/4`, `write_cr0/3/4`, `invlpg`, `rdmsr`, `wrmsr`, `cpuid`,
//! `halt_forever`, `image_range`, `extable`.

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use self::x86_64::*;

#[cfg(target_arch = "x86")]
mod x86;
#[cfg(target_arch = "x86")]
pub use self::x86::*;

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
mod common;
pub use self::common::*;

/// CR0 bits.
pub const CR0_WP: usize = 1 << 16;
pub const CR0_PG: usize = 1 << 31;
/// CR4 bits.
pub const CR4_PSE: usize = 1 << 4;
pub const CR4_PAE: usize = 1 << 5;
/// EFER and its bits.
pub const MSR_EFER: u32 = 0xc000_0080;
pub const EFER_NXE: u64 = 1 << 11;
