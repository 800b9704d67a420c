//! Physical frames for page tables and test data.
//!
//! Everything comes from statics inside the image, so the kernel needs no
//! memory map: the image is identity mapped (HVM modes) or mapped with
//! virtual page number == pseudo-physical frame number (PV, VIRT_BASE = 0).
//! In every mode a frame's physical address is therefore also a virtual
//! address through which the kernel can reach it ("the direct view").

use crate::global::Global;

pub const PAGE_SIZE: usize = 4096;

/// Number of 4 KiB frames in the pool (16 MiB).  Most of it is for the
/// shadow-pool pressure test (`tests::pressure`), which needs more live leaf
/// tables than Xen's shadow pool for a 256 MiB dom0 can hold (~3,000).
pub const POOL_FRAMES: usize = 4096;

#[repr(C, align(4096))]
struct Pool([[u8; PAGE_SIZE]; POOL_FRAMES]);

static POOL: Global<Pool> = Global::new(Pool([[0; PAGE_SIZE]; POOL_FRAMES]));
static NEXT: Global<usize> = Global::new(0);

/// Allocate one zeroed 4 KiB frame; returns its physical address.
/// Frames are never freed (tests are few and the pool is generous); a test
/// that recycles a frame does so itself (see `tests::reuse`).
pub fn alloc() -> u64 {
    let n = NEXT.get();
    if n >= POOL_FRAMES {
        panic!("frame pool exhausted ({} frames)", POOL_FRAMES);
    }
    NEXT.set(n + 1);
    // SAFETY: frame `n` is handed out exactly once; it is writable at its
    // own address in every mode until the caller decides otherwise.
    unsafe {
        let p = (*POOL.as_ptr()).0[n].as_mut_ptr();
        core::ptr::write_bytes(p, 0, PAGE_SIZE);
        p as u64
    }
}

/// Frames handed out so far.
pub fn used() -> usize {
    NEXT.get()
}

/// Frames still available.
pub fn left() -> usize {
    POOL_FRAMES - NEXT.get()
}

/// Size and alignment of the superpage test region: 4 MiB in the 32-bit
/// image (a PSE page; PAE uses its first 2 MiB), 2 MiB in the 64-bit image.
#[cfg(target_arch = "x86")]
pub const LARGE_SIZE: usize = 4 << 20;
#[cfg(target_arch = "x86_64")]
pub const LARGE_SIZE: usize = 2 << 20;

#[cfg_attr(target_arch = "x86", repr(C, align(4194304)))]
#[cfg_attr(target_arch = "x86_64", repr(C, align(2097152)))]
struct Large([u8; LARGE_SIZE]);

static LARGE: Global<Large> = Global::new(Large([0; LARGE_SIZE]));

/// Physical address of the superpage-aligned region.
pub fn large_region() -> u64 {
    LARGE.as_ptr() as u64
}
