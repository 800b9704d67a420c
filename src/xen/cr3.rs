//! `impl Cr3Ops for Xen`.

use xen_shadow_rs::platform::Cr3Ops;

use super::Xen;

impl Cr3Ops for Xen {}
