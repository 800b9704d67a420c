//! What the page-fault handler, emulation, INVLPG, gva_to_gfn and tracing (multi.c blocks P-S) needs from the platform beyond [`Core`].

use crate::platform::Core;

/// Platform needs of the page-fault handler, emulation, INVLPG, gva_to_gfn and tracing (multi.c blocks P-S).
pub trait FaultOps: Core {}
