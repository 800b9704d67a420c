//! Guest paging levels: what multi.c decides with `#if GUEST_PAGING_LEVELS`
//! and `SHADOW_PAGING_LEVELS`, as trait constants.

use crate::types::sh_type;

/// One guest paging mode, i.e. one instantiation of multi.c.
pub trait GuestLevel {
    /// `GUEST_PAGING_LEVELS`: 2 (32-bit), 3 (PAE) or 4 (long mode).
    const LEVELS: u32;
    /// `SHADOW_PAGING_LEVELS`: 2-level guests get PAE shadows (types.h:27-31).
    const SHADOW_LEVELS: u32;
    /// Size of a guest page-table entry in bytes.
    const GUEST_PTE_BYTES: usize;
    /// Shadow pages backing one guest L1 (2 for 32-bit guests on PAE shadows).
    const L1_SHADOW_PAGES: usize;
    /// Shadow pages backing one guest L2 (4 for 32-bit guests on PAE shadows).
    const L2_SHADOW_PAGES: usize;
    /// The C symbol suffix, `__guest_N`.
    const SUFFIX: &'static str;

    /// Entries per guest table at each level (`GUEST_Ln_PAGETABLE_ENTRIES`;
    /// a PAE L3 has 4, and 2-level guests have no L3/L4: 0).
    const GUEST_L1_ENTRIES: usize;
    const GUEST_L2_ENTRIES: usize;
    const GUEST_L3_ENTRIES: usize;
    const GUEST_L4_ENTRIES: usize;
    /// `GUEST_L2_PAGETABLE_SHIFT` (22 for 2-level guests, else 21).
    const GUEST_L2_SHIFT: u32;

    /// Shadow types of this instantiation (`SH_type_l1_shadow`, ... in
    /// types.h); `SH_type_l2h/l3/l4_shadow` exist only for 4-level guests
    /// (`sh_type::NONE` otherwise).
    const SH_L1: u32;
    const SH_FL1: u32;
    const SH_L2: u32;
    const SH_L2H: u32;
    const SH_L3: u32;
    const SH_L4: u32;

    /// `guest_l1_table_offset(va)` .. `guest_l4_table_offset(va)`.
    fn guest_l1_table_offset(va: u64) -> usize {
        ((va >> 12) as usize) & (Self::GUEST_L1_ENTRIES - 1)
    }
    fn guest_l2_table_offset(va: u64) -> usize {
        ((va >> Self::GUEST_L2_SHIFT) as usize) & (Self::GUEST_L2_ENTRIES - 1)
    }
    fn guest_l3_table_offset(va: u64) -> usize {
        if Self::GUEST_L3_ENTRIES == 0 {
            0
        } else {
            ((va >> 30) as usize) & (Self::GUEST_L3_ENTRIES - 1)
        }
    }
    fn guest_l4_table_offset(va: u64) -> usize {
        if Self::GUEST_L4_ENTRIES == 0 {
            0
        } else {
            ((va >> 39) as usize) & (Self::GUEST_L4_ENTRIES - 1)
        }
    }

    /// `guest_lNe_get_gfn(e)`: the frame an entry points at (for 2-level
    /// guests the entry is 32 bits wide).
    fn guest_e_get_gfn(e: u64) -> crate::types::Gfn {
        if Self::GUEST_PTE_BYTES == 4 {
            crate::types::Gfn((e & 0xffff_ffff) >> 12)
        } else {
            crate::types::Gfn((e & crate::types::PADDR_MASK & crate::types::PAGE_MASK) >> 12)
        }
    }
    /// `guest_lNe_get_flags(e)`.
    fn guest_e_get_flags(e: u64) -> u32 {
        if Self::GUEST_PTE_BYTES == 4 {
            (e as u32) & 0xfff
        } else {
            crate::types::get_pte_flags(e)
        }
    }
}

/// 2-level (32-bit, non-PAE) guests, shadowed with 3-level PAE tables.
pub enum G2 {}
/// 3-level (PAE) guests, shadowed with 3-level tables.
pub enum G3 {}
/// 4-level (long mode) guests, shadowed with 4-level tables.
pub enum G4 {}

impl GuestLevel for G2 {
    const LEVELS: u32 = 2;
    const SHADOW_LEVELS: u32 = 3;
    const GUEST_PTE_BYTES: usize = 4;
    const L1_SHADOW_PAGES: usize = 2;
    const L2_SHADOW_PAGES: usize = 4;
    const SUFFIX: &'static str = "__guest_2";
    const GUEST_L1_ENTRIES: usize = 1024;
    const GUEST_L2_ENTRIES: usize = 1024;
    const GUEST_L3_ENTRIES: usize = 0;
    const GUEST_L4_ENTRIES: usize = 0;
    const GUEST_L2_SHIFT: u32 = 22;
    const SH_L1: u32 = sh_type::L1_32;
    const SH_FL1: u32 = sh_type::FL1_32;
    const SH_L2: u32 = sh_type::L2_32;
    const SH_L2H: u32 = sh_type::NONE;
    const SH_L3: u32 = sh_type::NONE;
    const SH_L4: u32 = sh_type::NONE;
}

impl GuestLevel for G3 {
    const LEVELS: u32 = 3;
    const SHADOW_LEVELS: u32 = 3;
    const GUEST_PTE_BYTES: usize = 8;
    const L1_SHADOW_PAGES: usize = 1;
    const L2_SHADOW_PAGES: usize = 1;
    const SUFFIX: &'static str = "__guest_3";
    const GUEST_L1_ENTRIES: usize = 512;
    const GUEST_L2_ENTRIES: usize = 512;
    const GUEST_L3_ENTRIES: usize = 4;
    const GUEST_L4_ENTRIES: usize = 0;
    const GUEST_L2_SHIFT: u32 = 21;
    const SH_L1: u32 = sh_type::L1_PAE;
    const SH_FL1: u32 = sh_type::FL1_PAE;
    const SH_L2: u32 = sh_type::L2_PAE;
    const SH_L2H: u32 = sh_type::NONE;
    const SH_L3: u32 = sh_type::NONE;
    const SH_L4: u32 = sh_type::NONE;
}

impl GuestLevel for G4 {
    const LEVELS: u32 = 4;
    const SHADOW_LEVELS: u32 = 4;
    const GUEST_PTE_BYTES: usize = 8;
    const L1_SHADOW_PAGES: usize = 1;
    const L2_SHADOW_PAGES: usize = 1;
    const SUFFIX: &'static str = "__guest_4";
    const GUEST_L1_ENTRIES: usize = 512;
    const GUEST_L2_ENTRIES: usize = 512;
    const GUEST_L3_ENTRIES: usize = 512;
    const GUEST_L4_ENTRIES: usize = 512;
    const GUEST_L2_SHIFT: u32 = 21;
    const SH_L1: u32 = sh_type::L1_64;
    const SH_FL1: u32 = sh_type::FL1_64;
    const SH_L2: u32 = sh_type::L2_64;
    const SH_L2H: u32 = sh_type::L2H_64;
    const SH_L3: u32 = sh_type::L3_64;
    const SH_L4: u32 = sh_type::L4_64;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A guest table is one 4 KiB page; its shadow covers the same span of
    /// virtual addresses with 8-byte entries, hence the multi-page shadows of
    /// 32-bit guests.
    fn shadow_pages_cover_guest_table<L: GuestLevel>() {
        let guest_entries = 4096 / L::GUEST_PTE_BYTES;
        assert_eq!(L::L1_SHADOW_PAGES * 512, guest_entries);
        if L::LEVELS == 2 {
            // A 32-bit L2 entry maps 4 MiB, a PAE one 2 MiB: 2 shadow
            // entries per guest entry, 1024 guest entries.
            assert_eq!(L::L2_SHADOW_PAGES * 512, 2 * guest_entries);
        } else {
            assert_eq!(L::L2_SHADOW_PAGES * 512, guest_entries);
        }
        assert!(L::SHADOW_LEVELS >= L::LEVELS && L::SHADOW_LEVELS >= 3);
        assert!(L::SUFFIX.ends_with(char::from_digit(L::LEVELS, 10).unwrap()));
    }

    #[test]
    fn levels_are_consistent() {
        shadow_pages_cover_guest_table::<G2>();
        shadow_pages_cover_guest_table::<G3>();
        shadow_pages_cover_guest_table::<G4>();
    }
}
