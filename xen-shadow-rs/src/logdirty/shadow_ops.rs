//! Shadow's log-dirty ops (common.c 3150-3204): what paging.c calls through
//! `d->arch.paging.log_dirty.ops` when the toolstack turns log-dirty mode on
//! or off or cleans the bitmap.  Shadow tracks dirtiness by write-protecting:
//! with `PG_log_dirty` set, `_sh_propagate` (propagate.rs) maps a frame
//! writable only once its bit is set, so turning the mode on, and every
//! CLEAN, must throw away all existing shadows.

/// What the ops need from Xen (common.c's statics, exported by the patch).
pub trait ShadowLogDirtyEnv {
    type Dom: Copy;
    /// `paging_lock(d)`.
    fn paging_lock(&self, d: Self::Dom);
    /// `paging_unlock(d)`.
    fn paging_unlock(&self, d: Self::Dom);
    /// `shadow_mode_enabled(d)`.
    fn shadow_mode_enabled(&self, d: Self::Dom) -> bool;
    /// `shadow_blow_tables(d)`: unshadow everything but Xen's own mappings.
    fn shadow_blow_tables(&self, d: Self::Dom);
    /// `is_pv_32bit_domain(d)`.
    fn is_pv_32bit_domain(&self, d: Self::Dom) -> bool;
    /// `d->arch.paging.shadow.opt_flags = SHOPT_LINUX_L3_TOPLEVEL` (when that
    /// optimisation is compiled in).
    fn set_opt_linux_l3_toplevel(&self, d: Self::Dom);
    /// `shadow_one_bit_enable(d, PG_log_dirty)`: 0 or -errno.
    fn shadow_one_bit_enable_log_dirty(&self, d: Self::Dom) -> i32;
    /// `shadow_one_bit_disable(d, PG_log_dirty)`: 0 or -errno.
    fn shadow_one_bit_disable_log_dirty(&self, d: Self::Dom) -> i32;
}

/// `sh_enable_log_dirty(d, log_global)`: existing shadows are blown away so
/// that every writable mapping is rebuilt through `_sh_propagate`, which now
/// write-protects clean frames; then the mode bit goes on.
pub fn enable<E: ShadowLogDirtyEnv>(e: &E, d: E::Dom, _log_global: bool) -> i32 {
    e.paging_lock(d);
    if e.shadow_mode_enabled(d) {
        e.shadow_blow_tables(d);
    }
    // 32-bit PV guests switch tables by changing an l4e instead of CR3, as
    // old 64-bit Linux did: give them the same optimisation.
    if e.is_pv_32bit_domain(d) {
        e.set_opt_linux_l3_toplevel(d);
    }
    let ret = e.shadow_one_bit_enable_log_dirty(d);
    e.paging_unlock(d);
    ret
}

/// `sh_disable_log_dirty(d)`.
pub fn disable<E: ShadowLogDirtyEnv>(e: &E, d: E::Dom) -> i32 {
    e.paging_lock(d);
    let ret = e.shadow_one_bit_disable_log_dirty(d);
    e.paging_unlock(d);
    ret
}

/// `sh_clean_dirty_bitmap(d)`: after a CLEAN, revoke write access to the
/// domain's pages again by unshadowing everything (the domain is paused).
pub fn clean<E: ShadowLogDirtyEnv>(e: &E, d: E::Dom) {
    e.paging_lock(d);
    e.shadow_blow_tables(d);
    e.paging_unlock(d);
}
