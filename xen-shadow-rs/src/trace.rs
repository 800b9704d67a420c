//! multi.c block P (lines 1997-2142): the shadow code's xentrace records.
//!
//! Each record is the byte image of a packed C struct whose field widths
//! depend on the guest level (`guest_va_t` and `guest_pa_t` are 32-bit for
//! 2-level and PAE guests except where noted, `guest_l1e_t` follows the
//! guest PTE size), so xentrace/xenalyze parse the Rust records exactly as
//! the C ones.  The builders are pure ([`Record`]); the `trace_*` functions
//! add the `tb_init_done` test and hand the bytes to `__trace_var`.

use crate::level::GuestLevel;
use crate::platform::Platform;
use crate::types::Gfn;

/// `TRC_SHADOW` and the shadow event numbers (public/trace.h).
pub mod trc {
    pub const SHADOW: u32 = 0x0040_f000;
    pub const NOT_SHADOW: u32 = SHADOW + 1;
    pub const FAST_PROPAGATE: u32 = SHADOW + 2;
    pub const FAST_MMIO: u32 = SHADOW + 3;
    pub const FALSE_FAST_PATH: u32 = SHADOW + 4;
    pub const MMIO: u32 = SHADOW + 5;
    pub const FIXUP: u32 = SHADOW + 6;
    pub const DOMF_DYING: u32 = SHADOW + 7;
    pub const EMULATE: u32 = SHADOW + 8;
    pub const EMULATE_UNSHADOW_USER: u32 = SHADOW + 9;
    pub const EMULATE_UNSHADOW_EVTINJ: u32 = SHADOW + 10;
    pub const EMULATE_UNSHADOW_UNHANDLED: u32 = SHADOW + 11;
}

/// Bit numbers of the per-CPU path flags (`TRCE_SFLAG_*`, private.h).
pub mod sflag {
    pub const SET_AD: u32 = 0;
    pub const SET_A: u32 = 1;
    pub const SHADOW_L1_GET_REF: u32 = 2;
    pub const SHADOW_L1_PUT_REF: u32 = 3;
    pub const L2_PROPAGATE: u32 = 4;
    pub const SET_CHANGED: u32 = 5;
    pub const SET_FLUSH: u32 = 6;
    pub const SET_ERROR: u32 = 7;
    pub const DEMOTE: u32 = 8;
    pub const PROMOTE: u32 = 9;
    pub const WRMAP: u32 = 10;
    pub const WRMAP_GUESS_FOUND: u32 = 11;
    pub const WRMAP_BRUTE_FORCE: u32 = 12;
    pub const EARLY_UNSHADOW: u32 = 13;
    pub const EMULATION_2ND_PT_WRITTEN: u32 = 14;
    pub const EMULATION_LAST_FAILED: u32 = 15;
    pub const EMULATE_FULL_PT: u32 = 16;
    pub const PREALLOC_UNHOOK: u32 = 17;
    pub const UNSYNC: u32 = 18;
    pub const OOS_FIXUP_ADD: u32 = 19;
    pub const OOS_FIXUP_EVICT: u32 = 20;
}

/// Width in bytes of `guest_va_t`: 64 bits only for 4-level guests.
pub const fn guest_va_bytes<L: GuestLevel>() -> usize {
    if L::LEVELS == 4 {
        8
    } else {
        4
    }
}

/// Width in bytes of `guest_pa_t` (and of the gfn field of the
/// emulate-other record): 32 bits only for 2-level guests.
pub const fn guest_pa_bytes<L: GuestLevel>() -> usize {
    if L::LEVELS == 2 {
        4
    } else {
        8
    }
}

/// The event number with the guest level folded in (`| (levels-2) << 8`).
pub const fn level_event<L: GuestLevel>(event: u32) -> u32 {
    event | ((L::LEVELS - 2) << 8)
}

/// A packed trace record under construction (little-endian, as x86 lays
/// out the C struct).  The largest record is 28 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    buf: [u8; 32],
    len: usize,
}

impl Record {
    pub const fn new() -> Record {
        Record {
            buf: [0; 32],
            len: 0,
        }
    }

    /// Appends the low `bytes` bytes of `x` (a C field of that width).
    pub fn push(mut self, x: u64, bytes: usize) -> Record {
        let b = x.to_le_bytes();
        let n = bytes.min(8).min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&b[..n]);
        self.len += n;
        self
    }

    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Default for Record {
    fn default() -> Record {
        Record::new()
    }
}

/// Record of `trace_shadow_gen`: just the `guest_va_t`.
pub fn gen_record<L: GuestLevel>(va: u64) -> Record {
    Record::new().push(va, guest_va_bytes::<L>())
}

/// Record of `trace_shadow_fixup` and `trace_not_shadow_fault`:
/// `{ guest_l1e_t gl1e; guest_va_t va; u32 flags; }`.
pub fn l1e_va_flags_record<L: GuestLevel>(gl1e: u64, va: u64, flags: u32) -> Record {
    Record::new()
        .push(gl1e, L::GUEST_PTE_BYTES)
        .push(va, guest_va_bytes::<L>())
        .push(u64::from(flags), 4)
}

/// Record of `trace_shadow_emulate_other`: `{ gfn; guest_va_t va; }` with
/// a 32-bit gfn for 2-level guests, 64-bit otherwise.
pub fn emulate_other_record<L: GuestLevel>(gfn: Gfn, va: u64) -> Record {
    Record::new()
        .push(gfn.0, guest_pa_bytes::<L>())
        .push(va, guest_va_bytes::<L>())
}

/// Record of `trace_shadow_emulate`: `{ guest_l1e_t gl1e, write_val;
/// guest_va_t va; u32 flags:29, emulation_count:3; }`.  Only PAE guests
/// fill `emulation_count` in C (the others leave stack garbage there); it
/// is 0 here for them.
pub fn emulate_record<L: GuestLevel>(
    gl1e: u64,
    write_val: u64,
    va: u64,
    flags: u32,
    emulation_count: u32,
) -> Record {
    let word = (flags & 0x1fff_ffff) | ((emulation_count & 7) << 29);
    Record::new()
        .push(gl1e, L::GUEST_PTE_BYTES)
        .push(write_val, L::GUEST_PTE_BYTES)
        .push(va, guest_va_bytes::<L>())
        .push(u64::from(word), 4)
}

/// `memcpy(&val, src, n)` into an integer of `width` bytes: the low bytes
/// of `old` are replaced by `src` (at most `width` of them; C would write
/// past the per-CPU variable for longer writes).
pub fn merge_low_bytes(old: u64, src: &[u8], width: usize) -> u64 {
    let mut b = old.to_le_bytes();
    let n = src.len().min(width).min(8);
    b[..n].copy_from_slice(&src[..n]);
    let v = u64::from_le_bytes(b);
    if width >= 8 {
        v
    } else {
        v & ((1u64 << (width * 8)) - 1)
    }
}

/// `TRACE_SHADOW_PATH_FLAG(bit)` (private.h): unconditional, like C.
pub fn trace_shadow_path_flag<P: Platform>(p: &P, bit: u32) {
    let f = p.this_cpu_trace_shadow_path_flags();
    p.set_this_cpu_trace_shadow_path_flags(f | (1u32 << (bit & 31)));
}

/// `TRACE_CLEAR_PATH_FLAGS` (private.h).
pub fn trace_clear_path_flags<P: Platform>(p: &P) {
    p.set_this_cpu_trace_shadow_path_flags(0);
}

/// `trace_shadow_gen` (multi.c 2008-2015).
pub fn trace_shadow_gen<P: Platform, L: GuestLevel>(p: &P, event: u32, va: u64) {
    if p.tb_init_done() {
        p.trace_var(level_event::<L>(event), gen_record::<L>(va).bytes());
    }
}

/// `trace_shadow_fixup` (multi.c 2017-2039).
pub fn trace_shadow_fixup<P: Platform, L: GuestLevel>(p: &P, gl1e: u64, va: u64) {
    if p.tb_init_done() {
        let flags = p.this_cpu_trace_shadow_path_flags();
        let rec = l1e_va_flags_record::<L>(gl1e, va, flags);
        p.trace_var(level_event::<L>(trc::FIXUP), rec.bytes());
    }
}

/// `trace_not_shadow_fault` (multi.c 2041-2063).
pub fn trace_not_shadow_fault<P: Platform, L: GuestLevel>(p: &P, gl1e: u64, va: u64) {
    if p.tb_init_done() {
        let flags = p.this_cpu_trace_shadow_path_flags();
        let rec = l1e_va_flags_record::<L>(gl1e, va, flags);
        p.trace_var(level_event::<L>(trc::NOT_SHADOW), rec.bytes());
    }
}

/// `trace_shadow_emulate_other` (multi.c 2065-2088).
pub fn trace_shadow_emulate_other<P: Platform, L: GuestLevel>(
    p: &P,
    event: u32,
    va: u64,
    gfn: Gfn,
) {
    if p.tb_init_done() {
        let rec = emulate_other_record::<L>(gfn, va);
        p.trace_var(level_event::<L>(event), rec.bytes());
    }
}

/// `trace_emulate_write_val` (multi.c 2096-2114), the `paging_mode` hook the
/// emulator calls (with the paging lock held) for each value it writes to a
/// guest page.  `src` holds the written bytes; `full_pte` reads the whole
/// guest entry containing the write (PAE guests record the full 64-bit
/// entry when the second half of the one being traced is written).
pub fn trace_emulate_write_val<P: Platform, L: GuestLevel>(
    p: &P,
    vaddr: u64,
    src: &[u8],
    full_pte: impl FnOnce() -> u64,
) {
    let width = guest_pa_bytes::<L>();
    if L::LEVELS == 3 {
        let initial = u64::from(p.this_cpu_trace_emulate_initial_va());
        if vaddr == initial {
            let old = p.this_cpu_trace_emulate_write_val(L::LEVELS);
            p.set_this_cpu_trace_emulate_write_val(L::LEVELS, merge_low_bytes(old, src, width));
        } else if vaddr & !(L::GUEST_PTE_BYTES as u64 - 1) == initial {
            trace_shadow_path_flag(p, sflag::EMULATE_FULL_PT);
            p.set_this_cpu_trace_emulate_write_val(L::LEVELS, full_pte());
        }
    } else {
        let old = p.this_cpu_trace_emulate_write_val(L::LEVELS);
        p.set_this_cpu_trace_emulate_write_val(L::LEVELS, merge_low_bytes(old, src, width));
    }
}

/// `trace_shadow_emulate` (multi.c 2116-2141).
pub fn trace_shadow_emulate<P: Platform, L: GuestLevel>(p: &P, gl1e: u64, va: u64) {
    if p.tb_init_done() {
        let write_val = p.this_cpu_trace_emulate_write_val(L::LEVELS);
        let count = if L::LEVELS == 3 {
            p.this_cpu_trace_extra_emulation_count()
        } else {
            0
        };
        let flags = p.this_cpu_trace_shadow_path_flags();
        let rec = emulate_record::<L>(gl1e, write_val, va, flags, count);
        p.trace_var(level_event::<L>(trc::EMULATE), rec.bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::{G2, G3, G4};

    #[test]
    fn record_sizes_match_the_packed_c_structs() {
        // trace_shadow_gen: sizeof(guest_va_t).
        assert_eq!(gen_record::<G2>(0).bytes().len(), 4);
        assert_eq!(gen_record::<G3>(0).bytes().len(), 4);
        assert_eq!(gen_record::<G4>(0).bytes().len(), 8);
        // fixup / not-shadow: gl1e + va + u32.
        assert_eq!(l1e_va_flags_record::<G2>(0, 0, 0).bytes().len(), 12);
        assert_eq!(l1e_va_flags_record::<G3>(0, 0, 0).bytes().len(), 16);
        assert_eq!(l1e_va_flags_record::<G4>(0, 0, 0).bytes().len(), 20);
        // emulate-other: gfn + va.
        assert_eq!(emulate_other_record::<G2>(Gfn(0), 0).bytes().len(), 8);
        assert_eq!(emulate_other_record::<G3>(Gfn(0), 0).bytes().len(), 12);
        assert_eq!(emulate_other_record::<G4>(Gfn(0), 0).bytes().len(), 16);
        // emulate: 2 x gl1e + va + u32.
        assert_eq!(emulate_record::<G2>(0, 0, 0, 0, 0).bytes().len(), 16);
        assert_eq!(emulate_record::<G3>(0, 0, 0, 0, 0).bytes().len(), 24);
        assert_eq!(emulate_record::<G4>(0, 0, 0, 0, 0).bytes().len(), 28);
    }

    #[test]
    fn records_are_little_endian_and_truncate_like_c() {
        let r = l1e_va_flags_record::<G3>(0x8000_0000_1234_5067, 0x1_dead_b000, 0x21);
        assert_eq!(
            r.bytes(),
            &[0x67, 0x50, 0x34, 0x12, 0, 0, 0, 0x80, 0x00, 0xb0, 0xad, 0xde, 0x21, 0, 0, 0]
        );
        // 2-level: the gl1e is 32 bits wide.
        let r = l1e_va_flags_record::<G2>(0x1_0000_0067, 0x1000, 1);
        assert_eq!(r.bytes(), &[0x67, 0, 0, 0, 0, 0x10, 0, 0, 1, 0, 0, 0]);
        assert_eq!(level_event::<G2>(trc::FIXUP), 0x0040_f006);
        assert_eq!(level_event::<G3>(trc::FIXUP), 0x0040_f106);
        assert_eq!(level_event::<G4>(trc::FIXUP), 0x0040_f206);
    }

    #[test]
    fn emulate_record_packs_the_bitfield() {
        let r = emulate_record::<G4>(1, 2, 3, 0xffff_ffff, 5);
        let w = u32::from_le_bytes(r.bytes()[24..28].try_into().unwrap());
        assert_eq!(w, 0x1fff_ffff | (5 << 29));
        assert_eq!(&r.bytes()[..8], &1u64.to_le_bytes());
        assert_eq!(&r.bytes()[8..16], &2u64.to_le_bytes());
        assert_eq!(&r.bytes()[16..24], &3u64.to_le_bytes());
    }

    #[test]
    fn write_val_is_a_partial_memcpy() {
        assert_eq!(
            merge_low_bytes(0x1122_3344_5566_7788, &[0xaa, 0xbb], 8),
            0x1122_3344_5566_bbaa
        );
        assert_eq!(
            merge_low_bytes(0, &[1, 2, 3, 4, 5, 6, 7, 8, 9], 8),
            0x0807_0605_0403_0201
        );
        // 32-bit guest_pa_t: never more than 4 bytes.
        assert_eq!(merge_low_bytes(0, &[1, 2, 3, 4, 5, 6], 4), 0x0403_0201);
        assert_eq!(merge_low_bytes(0xffff_ffff, &[], 4), 0xffff_ffff);
    }
}
