//! The platform layer: everything the paging algorithms need from Xen.
//!
//! The algorithms (the other modules of this crate) are generic over
//! [`Platform`], so the same code runs inside Xen (the root crate implements
//! it on top of `ffi/`) and in a host-side simulator under `cargo test`.
//! `Platform` is the sum of one trait per area; each area's trait lives next
//! to this file and grows as the port needs more of Xen:
//!
//! | trait | file | what |
//! | --- | --- | --- |
//! | [`Core`] | `core.rs` | domains, vCPUs, frames and mappings, the frame table, refcounts, the shadow hash and pool, `shadow_set_lNe`, locks, p2m, guest walk, linear maps, flushes |
//! | [`WalkOps`] | `walk.rs` | what the walk, propagation, validation and prefetch need beyond `Core` (blocks C, F, L, N, O) |
//! | [`ShadowOps`] | `shadows.rs` | creation, destruction, unhooking, revocation, removal (blocks B, G-K, U, V) |
//! | [`Cr3Ops`] | `cr3.rs` | CR3 updates, linear entries, out-of-sync resync, pagetable_dying (blocks M, T, W) |
//! | [`FaultOps`] | `fault.rs` | the fault handler, emulation, INVLPG, gva_to_gfn, tracing (blocks P-S) |
//!
//! Conventions:
//! * handles (`Dom`, `Vcpu`) are `Copy` and say nothing about lifetime: Xen
//!   guarantees the objects outlive every call into the shadow code;
//! * methods are named after the Xen function or macro they stand for, so
//!   a reader can hold the C source next to the Rust;
//! * page-table memory is only ever touched through [`Table`], whose accesses
//!   are single aligned volatile loads and stores (guest tables change under
//!   our feet; shadow tables are read by the MMU).

pub mod core;
pub mod cr3;
pub mod fault;
pub mod mapped;
pub mod shadows;
pub mod table;
pub mod walk;

pub use self::core::{Core, GuestWalk};
pub use self::cr3::Cr3Ops;
pub use self::fault::FaultOps;
pub use self::mapped::Mapped;
pub use self::shadows::ShadowOps;
pub use self::table::{Slot, Table};
pub use self::walk::WalkOps;

/// Everything the algorithms use.  Implemented automatically for any type
/// that implements every area trait.
pub trait Platform: Core + WalkOps + ShadowOps + Cr3Ops + FaultOps {}

impl<T: Core + WalkOps + ShadowOps + Cr3Ops + FaultOps> Platform for T {}
