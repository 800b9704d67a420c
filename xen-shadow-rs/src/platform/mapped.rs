//! Mappings that release themselves.

use core::ops::Deref;

use crate::platform::{Core, Slot, Table};
use crate::types::Mfn;

/// A `map_domain_page` mapping, unmapped when dropped.  Xen's mapcache has
/// only a few slots per PV vCPU (and debug builds never use the directmap),
/// so a forgotten `unmap_domain_page` exhausts it; returning mappings as
/// `Mapped` makes the release part of the type instead of a caller duty.
pub struct Mapped<'p, P: Core> {
    p: &'p P,
    table: Table,
}

impl<'p, P: Core> Mapped<'p, P> {
    /// Maps `mfn`.
    pub fn new(p: &'p P, mfn: Mfn) -> Self {
        Mapped {
            p,
            table: p.map_domain_page(mfn),
        }
    }
}

impl<P: Core> Deref for Mapped<'_, P> {
    type Target = Table;
    fn deref(&self) -> &Table {
        &self.table
    }
}

impl<P: Core> Drop for Mapped<'_, P> {
    fn drop(&mut self) {
        self.p.unmap_domain_page(self.table);
    }
}

/// One entry of a shadow page together with the mapping it lives in; the
/// mapping is released when this is dropped, so the `Slot` it hands out
/// (`Deref`) must not outlive it.
pub struct MappedSlot<'p, P: Core> {
    slot: Slot,
    _map: Mapped<'p, P>,
}

impl<'p, P: Core> MappedSlot<'p, P> {
    /// Maps shadow page `smfn` and addresses its 64-bit entry `index`.
    pub fn new(p: &'p P, smfn: Mfn, index: usize) -> Self {
        let map = Mapped::new(p, smfn);
        MappedSlot {
            slot: map.slot(smfn, index),
            _map: map,
        }
    }
}

impl<P: Core> Deref for MappedSlot<'_, P> {
    type Target = Slot;
    fn deref(&self) -> &Slot {
        &self.slot
    }
}
