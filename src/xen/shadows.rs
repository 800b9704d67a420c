//! `impl ShadowOps for Xen`.

use xen_shadow_rs::platform::ShadowOps;

use super::Xen;

impl ShadowOps for Xen {}
