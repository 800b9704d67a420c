//! What the guest walk, `_sh_propagate`, validation and prefetch (multi.c blocks C, F, L, N, O) needs from the platform beyond [`Core`].

use crate::platform::Core;

/// Platform needs of the guest walk, `_sh_propagate`, validation and prefetch (multi.c blocks C, F, L, N, O).
pub trait WalkOps: Core {}
