//! Mappings that release themselves.

use core::ops::Deref;

use crate::platform::{Core, Table};
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
