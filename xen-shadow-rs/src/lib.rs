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

#[cfg(test)]
extern crate std;

pub mod entry;
pub mod index;
pub mod level;
pub mod platform;
pub mod types;
