//! Guest paging levels: what multi.c decides with `#if GUEST_PAGING_LEVELS`
//! and `SHADOW_PAGING_LEVELS`, as trait constants.

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
}

impl GuestLevel for G3 {
    const LEVELS: u32 = 3;
    const SHADOW_LEVELS: u32 = 3;
    const GUEST_PTE_BYTES: usize = 8;
    const L1_SHADOW_PAGES: usize = 1;
    const L2_SHADOW_PAGES: usize = 1;
    const SUFFIX: &'static str = "__guest_3";
}

impl GuestLevel for G4 {
    const LEVELS: u32 = 4;
    const SHADOW_LEVELS: u32 = 4;
    const GUEST_PTE_BYTES: usize = 8;
    const L1_SHADOW_PAGES: usize = 1;
    const L2_SHADOW_PAGES: usize = 1;
    const SUFFIX: &'static str = "__guest_4";
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
