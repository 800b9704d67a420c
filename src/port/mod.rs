//! The level-generic implementation behind every export, one file per area
//! of multi.c.  Each function adapts Xen's C arguments and calls the generic
//! algorithm in `xen_shadow_rs` with the [`crate::xen::Xen`] platform.
//!
//! While the port (issue 3) is open, an entry point that has no Rust
//! implementation yet BUG()s with a message naming it; none returns silently.
//! docs/status.md lists them (generated from `xen_shadow_rs::entry`).

#[cfg(xen_debug)]
pub mod audit;
pub mod cr3;
pub mod fault;
pub mod logdirty;
pub mod oos;
pub mod shadows;
pub mod validate;

#[cfg(xen_debug)]
pub use audit::*;
pub use oos::*;
pub use shadows::*;
pub use validate::*;
