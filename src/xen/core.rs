//! `impl Core for Xen`.  (Being written: see issue 3.)
