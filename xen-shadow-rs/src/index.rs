//! multi.c block E: from an index into a guest table to the shadow page and
//! index that shadow it.  Trivial when guest and shadow entries have the same
//! size; for 2-level guests a guest L1 is shadowed by 2 pages and a guest L2
//! by 4 (each 4 MiB guest L2 entry becomes 2 PAE L2 entries).

use crate::level::GuestLevel;
use crate::platform::Platform;
use crate::types::Mfn;

/// `fetch_type_t`: why a shadow entry is being computed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FetchType {
    /// `ft_prefetch`: speculatively, not for a fault.
    Prefetch,
    /// `ft_demand_read`.
    DemandRead,
    /// `ft_demand_write`.
    DemandWrite,
}

impl FetchType {
    /// `ft & FETCH_TYPE_DEMAND`.
    pub fn is_demand(self) -> bool {
        !matches!(self, FetchType::Prefetch)
    }
    /// `ft & FETCH_TYPE_WRITE`.
    pub fn is_write(self) -> bool {
        matches!(self, FetchType::DemandWrite)
    }
    /// The C value (`FETCH_TYPE_*` bits), for trace records.
    pub fn raw(self) -> u32 {
        match self {
            FetchType::Prefetch => 1,
            FetchType::DemandRead => 2,
            FetchType::DemandWrite => 6,
        }
    }
}

/// `guest_index(ptr)`: index of the guest entry at byte `offset` of its page.
pub fn guest_index<L: GuestLevel>(offset: usize) -> usize {
    (offset & 0xfff) / L::GUEST_PTE_BYTES
}

/// `shadow_l1_index(&smfn, guest_index)`: moves `smfn` to the page of a
/// multi-page L1 shadow that holds the entry and returns its index there.
pub fn shadow_l1_index<P: Platform, L: GuestLevel>(p: &P, smfn: &mut Mfn, gi: usize) -> usize {
    if L::L1_SHADOW_PAGES > 1 {
        if gi >= 512 {
            *smfn = p.sh_next_page(*smfn);
        }
        gi % 512
    } else {
        gi
    }
}

/// `shadow_l2_index(&smfn, guest_index)`: for 2-level guests each guest
/// entry is shadowed by two consecutive entries; returns the first.
pub fn shadow_l2_index<P: Platform, L: GuestLevel>(p: &P, smfn: &mut Mfn, gi: usize) -> usize {
    if L::L2_SHADOW_PAGES > 1 {
        for _ in 0..gi / 256 {
            *smfn = p.sh_next_page(*smfn);
        }
        (gi % 256) * 2
    } else {
        gi
    }
}

/// `shadow_l3_index`, `shadow_l4_index`: identity (4-level guests only).
pub fn shadow_l3_index(gi: usize) -> usize {
    gi
}
pub fn shadow_l4_index(gi: usize) -> usize {
    gi
}

/// Shadow index helpers of the shadow linear map (`shadow_lN_linear_offset`),
/// i.e. the index of `va` at shadow level N among all entries of that level.
pub fn shadow_l1_linear_offset(va: u64) -> u64 {
    (va & ((1 << 48) - 1)) >> 12
}
pub fn shadow_l2_linear_offset(va: u64) -> u64 {
    (va & ((1 << 48) - 1)) >> 21
}
pub fn shadow_l3_linear_offset(va: u64) -> u64 {
    (va & ((1 << 48) - 1)) >> 30
}
pub fn shadow_l4_linear_offset(va: u64) -> u64 {
    (va & ((1 << 48) - 1)) >> 39
}

/// `shadow_lN_table_offset(va)`: index of `va` in a shadow table of level N.
pub fn shadow_l1_table_offset(va: u64) -> usize {
    ((va >> 12) & 511) as usize
}
pub fn shadow_l2_table_offset(va: u64) -> usize {
    ((va >> 21) & 511) as usize
}
/// For 3-level (PAE) shadows the L3 has 4 entries.
pub fn shadow_l3_table_offset<L: GuestLevel>(va: u64) -> usize {
    if L::SHADOW_LEVELS == 3 {
        ((va >> 30) & 3) as usize
    } else {
        ((va >> 30) & 511) as usize
    }
}
pub fn shadow_l4_table_offset(va: u64) -> usize {
    ((va >> 39) & 511) as usize
}
