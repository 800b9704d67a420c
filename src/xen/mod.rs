//! The Xen platform: `xen_shadow_rs::platform::Platform` implemented on top
//! of `ffi/` (bindgen layouts, C shims in `ffi/c/*.c`, Xen functions).
//! All `unsafe` of the root crate outside the export glue lives here; every
//! block says why it is sound.
//!
//! Handles are raw pointers Xen gave us.  Xen guarantees that a domain and
//! its vCPUs outlive every call into the shadow code (the paging lock and
//! the domain's own reference), so a handle is valid for the duration of the
//! entry point that received it.

use ffi::{domain, vcpu};

pub mod core;
pub mod cr3;
pub mod fault;
pub mod shadows;
pub mod walk;

/// The platform value: zero-sized, all state lives in Xen.
#[derive(Clone, Copy, Default)]
pub struct Xen;

/// `struct domain *`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Dom(pub *mut domain);

/// `struct vcpu *`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Vcpu(pub *mut vcpu);
