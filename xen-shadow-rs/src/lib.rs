//! Xen's shadow paging core (`xen/arch/x86/mm/shadow/multi.c`) in `no_std`
//! Rust.
//!
//! The code here is generic over the guest paging level ([`level`]) so that
//! one implementation serves the three C instantiations (`guest_2.c`,
//! `guest_3.c`, `guest_4.c`), and it knows Xen only through the platform
//! layer, so it also runs in a host-side simulator under `cargo test`.
//! The Xen-facing exports live in the root crate (`src/`), the bindings in
//! `ffi/`.
#![no_std]

#[cfg(any(test, feature = "sim"))]
extern crate std;

pub mod entry;
pub mod index;
pub mod level;
pub mod logdirty; // log-dirty: shadow's ops (common.c) and the dirty bitmap (paging.c)
pub mod platform;
pub mod types;

// The port, one module per area of multi.c (docs/architecture.md).
pub mod audit; // X, D's sh_audit_gw: the shadow audit
pub mod cr3; // T: linear entries, detach, update_cr3
pub mod create; // H, I: shadow creation, get-or-create chains
pub mod destroy; // J, K: destructors, unhooking
pub mod dying; // W: pagetable_dying
pub mod emulate; // Q: emulation of page-table writes
pub mod fault; // Q: the page-fault handler
pub mod fl1; // B: FL1 shadow hash helpers
pub mod iter; // G: iterating over shadow tables
pub mod oos; // M and the OOS part of U: out-of-sync L1s
pub mod prefetch; // O
pub mod propagate; // F: _sh_propagate and lNe_propagate_from_guest
pub mod remove; // V: removing references to shadows
pub mod revoke; // U: write-access and mapping removal
#[cfg(any(test, feature = "sim"))]
pub mod sim; // issue 5: host simulator, oracle, checker
pub mod tlb; // R, S: INVLPG, gva_to_gfn
pub mod trace;
pub mod validate; // L, N: per-entry validation, map-and-validate
pub mod walk; // C: guest walk, consistency re-check, write-protecting walked tables // P: trace records
