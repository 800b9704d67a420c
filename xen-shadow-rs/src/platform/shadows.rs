//! What shadow creation, destruction, unhooking, revocation and removal (multi.c blocks B, G-K, U, V) needs from the platform beyond [`Core`].

use crate::platform::Core;

/// Platform needs of shadow creation, destruction, unhooking, revocation and removal (multi.c blocks B, G-K, U, V).
pub trait ShadowOps: Core {}
