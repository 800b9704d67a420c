//! `impl WalkOps for Xen`.

use xen_shadow_rs::platform::WalkOps;

use super::Xen;

impl WalkOps for Xen {}
