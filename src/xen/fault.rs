//! `impl FaultOps for Xen`.

use xen_shadow_rs::platform::FaultOps;

use super::Xen;

impl FaultOps for Xen {}
