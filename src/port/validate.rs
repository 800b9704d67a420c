//! multi.c blocks L and N: per-entry validation and map-and-validate.
//! Xen ABI glue: convert arguments, call the generic code in `xen_shadow_rs`.

#![allow(unused_imports)]

use core::ffi::{c_int, c_ulong, c_void};
use ffi::xen::Mfn;
use ffi::{domain, vcpu};
use xen_shadow_rs::level::GuestLevel;
use crate::unported::{unported_d, unported_v};

/// `sh_map_and_validate_gl1e`: not ported yet.
pub unsafe fn map_and_validate_gl1e<L: GuestLevel>(
    v: *mut vcpu,
    _gl1mfn: Mfn,
    _new_gl1p: *mut c_void,
    _size: u32,
) -> c_int {
    unported_v::<L>("sh_map_and_validate_gl1e", v)
}

/// `sh_map_and_validate_gl2e`: not ported yet.
pub unsafe fn map_and_validate_gl2e<L: GuestLevel>(
    v: *mut vcpu,
    _gl2mfn: Mfn,
    _new_gl2p: *mut c_void,
    _size: u32,
) -> c_int {
    unported_v::<L>("sh_map_and_validate_gl2e", v)
}

/// `sh_map_and_validate_gl2he`: not ported yet.
pub unsafe fn map_and_validate_gl2he<L: GuestLevel>(
    v: *mut vcpu,
    _gl2mfn: Mfn,
    _new_gl2p: *mut c_void,
    _size: u32,
) -> c_int {
    unported_v::<L>("sh_map_and_validate_gl2he", v)
}

/// `sh_map_and_validate_gl3e`: not ported yet.
pub unsafe fn map_and_validate_gl3e<L: GuestLevel>(
    v: *mut vcpu,
    _gl3mfn: Mfn,
    _new_gl3p: *mut c_void,
    _size: u32,
) -> c_int {
    unported_v::<L>("sh_map_and_validate_gl3e", v)
}

/// `sh_map_and_validate_gl4e`: not ported yet.
pub unsafe fn map_and_validate_gl4e<L: GuestLevel>(
    v: *mut vcpu,
    _gl4mfn: Mfn,
    _new_gl4p: *mut c_void,
    _size: u32,
) -> c_int {
    unported_v::<L>("sh_map_and_validate_gl4e", v)
}
