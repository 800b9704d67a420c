//! What CR3 updates, linear entries, out-of-sync resync and pagetable_dying (multi.c blocks M, T, W) needs from the platform beyond [`Core`].

use crate::platform::Core;

/// Platform needs of CR3 updates, linear entries, out-of-sync resync and pagetable_dying (multi.c blocks M, T, W).
pub trait Cr3Ops: Core {}
