//! Build script of the `ffi` crate.  It runs inside Xen's build (see
//! `ffi/xen-object.sh`), which passes the configured tree and its CFLAGS:
//!
//! * `XEN_SRCTREE`  – the Xen source tree (`xen/`),
//! * `XEN_OBJTREE`  – the build (output) tree holding `.config` and the
//!   generated headers,
//! * `XEN_SHADOW_CFLAGS` – `$(XEN_CFLAGS) $(CFLAGS-y)` as Xen's make has them.
//!
//! It produces three things, all from that tree, because struct layouts
//! depend on `.config` (CONFIG_HVM, CONFIG_PV, CONFIG_BIGMEM, NDEBUG, ...):
//!
//! 1. `bindings.rs`: bindgen over `c/bindings.h` (libclang);
//! 2. `layout.rs`: compile-time assertions that every struct size and field
//!    offset Rust relies on, as bindgen (clang) computed it, equals what GCC
//!    computes with Xen's exact flags (the asm-offsets technique);
//! 3. `consts.rs`: the values of Xen macros the Rust hot paths use
//!    (virtual-address layout, page flags, paging-mode bits, CPU feature
//!    numbers), evaluated by GCC with Xen's flags (the same technique);
//! 4. `libxen_shadow_helpers.a`: `c/*.c`, wrappers of Xen's static
//!    inlines and macros, compiled by GCC with Xen's exact flags.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every (C type, C member path, Rust member path) whose offset Rust code
/// relies on.  A member path of "" checks `sizeof` only.  Rust paths differ
/// from C paths where bindgen names anonymous unions (`__bindgen_anon_N`).
/// Add an entry here whenever Rust code starts touching a field.
const LAYOUT: &[(&str, &str, &str)] = &[
    // The dispatch table Rust fills: size and every field.
    ("paging_mode", "", ""),
    ("paging_mode", "page_fault", "page_fault"),
    ("paging_mode", "invlpg", "invlpg"),
    ("paging_mode", "gva_to_gfn", "gva_to_gfn"),
    ("paging_mode", "p2m_ga_to_gfn", "p2m_ga_to_gfn"),
    ("paging_mode", "update_cr3", "update_cr3"),
    ("paging_mode", "update_paging_modes", "update_paging_modes"),
    ("paging_mode", "flush_tlb", "flush_tlb"),
    ("paging_mode", "guest_levels", "guest_levels"),
    ("paging_mode", "shadow", "shadow"),
    (
        "paging_mode",
        "shadow.detach_old_tables",
        "shadow.detach_old_tables",
    ),
    (
        "paging_mode",
        "shadow.write_guest_entry",
        "shadow.write_guest_entry",
    ),
    (
        "paging_mode",
        "shadow.cmpxchg_guest_entry",
        "shadow.cmpxchg_guest_entry",
    ),
    ("paging_mode", "shadow.guess_wrmap", "shadow.guess_wrmap"),
    (
        "paging_mode",
        "shadow.pagetable_dying",
        "shadow.pagetable_dying",
    ),
    (
        "paging_mode",
        "shadow.trace_emul_write_val",
        "shadow.trace_emul_write_val",
    ),
    (
        "paging_mode",
        "shadow.shadow_levels",
        "shadow.shadow_levels",
    ),
    // Read by the entry points to name the faulting domain and vCPU.
    ("vcpu", "", ""),
    ("vcpu", "vcpu_id", "vcpu_id"),
    ("vcpu", "domain", "domain"),
    ("vcpu", "arch.paging.mode", "arch.paging.mode"),
    ("domain", "", ""),
    ("domain", "domain_id", "domain_id"),
    ("domain", "arch.paging.mode", "arch.paging.mode"),
    // Read inline on hot paths (src/xen/fast.rs).
    ("domain", "options", "options"),
    (
        "domain",
        "arch.pv.is_32bit",
        "arch.__bindgen_anon_1.pv.is_32bit",
    ),
    ("vcpu", "arch.flags", "arch.flags"),
    ("domain", "arch.p2m", "arch.p2m"),
    ("domain", "is_shutting_down", "is_shutting_down"),
    ("domain", "shutdown_code", "shutdown_code"),
    ("vcpu", "arch.paging.vtlb", "arch.paging.vtlb"),
    (
        "vcpu",
        "arch.paging.shadow.last_emulated_frame",
        "arch.paging.shadow.last_emulated_frame",
    ),
    (
        "vcpu",
        "arch.paging.shadow.last_emulated_mfn",
        "arch.paging.shadow.last_emulated_mfn",
    ),
    (
        "vcpu",
        "arch.paging.shadow.last_emulated_mfn_for_unshadow",
        "arch.paging.shadow.last_emulated_mfn_for_unshadow",
    ),
    ("page_info", "v.sh.back", "v.sh.back"),
    (
        "vcpu",
        "arch.paging.shadow.shadow_table",
        "arch.paging.shadow.shadow_table",
    ),
    ("domain", "arch.cpuid", "arch.__bindgen_anon_2.cpuid"),
    ("cpuinfo_x86", "x86_capability", "x86_capability"),
    (
        "cpu_policy",
        "extd.maxphysaddr",
        "extd.__bindgen_anon_1.maxphysaddr",
    ),
    ("vcpu", "arch.paging.vtlb_lock", "arch.paging.vtlb_lock"),
    ("shadow_vtlb", "", ""),
    ("shadow_vtlb", "page_number", "page_number"),
    ("shadow_vtlb", "frame_number", "frame_number"),
    ("shadow_vtlb", "pfec", "pfec"),
    (
        "domain",
        "arch.paging.shadow.gtable_dirty_version",
        "arch.paging.shadow.gtable_dirty_version",
    ),
    ("vcpu", "arch.guest_table", "arch.guest_table"),
    ("cpu_user_regs", "error_code", "error_code"),
    ("cpu_user_regs", "ss", "ss"),
    ("page_info", "u.inuse.type_info", "u.inuse.type_info"),
    ("page_info", "v.inuse._domain", "v.inuse._domain"),
    // Frame table entries, walked by every shadow operation.
    ("page_info", "", ""),
    ("page_info", "count_info", "count_info"),
    (
        "page_info",
        "shadow_flags",
        "__bindgen_anon_2.__bindgen_anon_2.shadow_flags",
    ),
    // `current` and per-cpu data live in the cpu_info block at the stack top.
    ("cpu_info", "", ""),
    ("cpu_info", "current_vcpu", "current_vcpu"),
    ("cpu_info", "per_cpu_offset", "per_cpu_offset"),
    // One-line shims replaced by inline reads (src/xen/fast.rs).
    (
        "vcpu",
        "arch.hvm.guest_cr",
        "arch.__bindgen_anon_1.hvm.guest_cr",
    ),
    (
        "vcpu",
        "arch.hvm.guest_efer",
        "arch.__bindgen_anon_1.hvm.guest_efer",
    ),
    ("vcpu", "arch.guest_table_user", "arch.guest_table_user"),
    ("vcpu", "arch.paging.shadow.gl3e", "arch.paging.shadow.gl3e"),
    (
        "domain",
        "arch.paging.shadow.pinned_shadows",
        "arch.paging.shadow.pinned_shadows",
    ),
    (
        "domain",
        "arch.paging.log_dirty.fault_count",
        "arch.paging.log_dirty.fault_count",
    ),
    ("page_info", "list.next", "__bindgen_anon_1.list.next"),
    ("page_list_head", "", ""),
    ("page_list_head", "next", "next"),
    ("page_list_head", "tail", "tail"),
    // The flattened guest walk c/guestwalkN.c fill (c/bindings.h).
    ("xsr_guest_walk", "", ""),
    ("xsr_guest_walk", "va", "va"),
    ("xsr_guest_walk", "l4e", "l4e"),
    ("xsr_guest_walk", "l3e", "l3e"),
    ("xsr_guest_walk", "l2e", "l2e"),
    ("xsr_guest_walk", "l1e", "l1e"),
    ("xsr_guest_walk", "l4mfn", "l4mfn"),
    ("xsr_guest_walk", "l3mfn", "l3mfn"),
    ("xsr_guest_walk", "l2mfn", "l2mfn"),
    ("xsr_guest_walk", "l1mfn", "l1mfn"),
    ("xsr_guest_walk", "pfec", "pfec"),
];

/// Xen macros whose values Rust uses (`ffi::consts`), as (Rust name, C
/// expression).  GCC evaluates each with Xen's flags and `.config`, so a
/// value can never drift from the C headers.  Add an entry whenever Rust
/// code starts depending on a macro.
const CONSTS: &[(&str, &str)] = &[
    // Virtual-address layout (asm/config.h) and the frame table.
    ("DIRECTMAP_VIRT_START", "DIRECTMAP_VIRT_START"),
    ("FRAMETABLE_VIRT_START", "FRAMETABLE_VIRT_START"),
    ("PAGE_SHIFT", "PAGE_SHIFT"),
    // Paging-mode bits of d->arch.paging.mode (asm/paging.h).
    ("PG_SH_ENABLE", "PG_SH_enable"),
    ("PG_REFCOUNTS", "PG_refcounts"),
    ("PG_TRANSLATE", "PG_translate"),
    ("PG_EXTERNAL", "PG_external"),
    ("PG_LOG_DIRTY", "PG_log_dirty"),
    // Domain creation flags (public/domctl.h) and vCPU flags.
    ("XEN_DOMCTL_CDF_HVM", "XEN_DOMCTL_CDF_hvm"),
    ("TF_KERNEL_MODE", "TF_kernel_mode"),
    // HVM guest control-register bits (hvm.h's hvm_*_enabled() macros).
    ("X86_CR0_PG", "X86_CR0_PG"),
    ("X86_CR0_WP", "X86_CR0_WP"),
    ("X86_CR4_PSE", "X86_CR4_PSE"),
    ("EFER_NXE", "EFER_NXE"),
    ("SHUTDOWN_CRASH", "SHUTDOWN_crash"),
    // Frame-table flags (asm/mm.h, shadow/private.h).
    ("PGC_PAGE_TABLE", "PGC_page_table"),
    ("PGT_TYPE_MASK", "PGT_type_mask"),
    ("PGT_L4_PAGE_TABLE", "PGT_l4_page_table"),
    ("SHF_OUT_OF_SYNC", "SHF_out_of_sync"),
    // The vCPU's vTLB (shadow/private.h).
    ("VTLB_ENTRIES", "VTLB_ENTRIES"),
    ("INVALID_GFN", "INVALID_GFN_RAW"),
    ("INVALID_MFN", "INVALID_MFN_RAW"),
    (
        "SHOPT_EARLY_UNSHADOW_ON",
        "!!(SHADOW_OPTIMIZATIONS & SHOPT_EARLY_UNSHADOW)",
    ),
    // Shadow types whose back pointer is a gfn (private.h, __backpointer).
    ("SH_TYPE_FL1_32", "SH_type_fl1_32_shadow"),
    ("SH_TYPE_FL1_PAE", "SH_type_fl1_pae_shadow"),
    ("SH_TYPE_FL1_64", "SH_type_fl1_64_shadow"),
    // Bases of the shadow linear maps, `sh_linear_lN_table(v)` of
    // shadow/types.h with SHADOW_PAGING_LEVELS 4 (PAE shadows use the
    // same L1 and L2 addresses): PV vCPUs through the shadow's self-map
    // (`__sh_linear_lN_table`), HVM vCPUs through the monitor table's
    // linear map (`__linear_lN_table`).  The debug build checks every use
    // against C's macros (ffi/c/guestwalk4.c).
    ("SH_LINEAR_L1", "SH_LINEAR_PT_VIRT_START"),
    (
        "SH_LINEAR_L2_PV",
        "(l1_pgentry_t *)SH_LINEAR_PT_VIRT_START + l1_linear_offset(SH_LINEAR_PT_VIRT_START)",
    ),
    (
        "SH_LINEAR_L3_PV",
        "(l2_pgentry_t *)((l1_pgentry_t *)SH_LINEAR_PT_VIRT_START \
         + l1_linear_offset(SH_LINEAR_PT_VIRT_START)) + l2_linear_offset(SH_LINEAR_PT_VIRT_START)",
    ),
    (
        "SH_LINEAR_L4_PV",
        "(l3_pgentry_t *)((l2_pgentry_t *)((l1_pgentry_t *)SH_LINEAR_PT_VIRT_START \
         + l1_linear_offset(SH_LINEAR_PT_VIRT_START)) + l2_linear_offset(SH_LINEAR_PT_VIRT_START)) \
         + l3_linear_offset(SH_LINEAR_PT_VIRT_START)",
    ),
    (
        "SH_LINEAR_L2_HVM",
        "__linear_l1_table + l1_linear_offset(SH_LINEAR_PT_VIRT_START)",
    ),
    (
        "SH_LINEAR_L3_HVM",
        "__linear_l2_table + l2_linear_offset(SH_LINEAR_PT_VIRT_START)",
    ),
    (
        "SH_LINEAR_L4_HVM",
        "__linear_l3_table + l3_linear_offset(SH_LINEAR_PT_VIRT_START)",
    ),
    // The per-CPU block at the top of each stack (asm/current.h) and the
    // recursive spin lock's count/owner word (xen/spinlock.h: the 16-bit
    // bitfield unit right after the ticket pair; xen_shadow_rs_init checks
    // this layout at boot against C's own accessors).
    ("STACK_SIZE", "STACK_SIZE"),
    ("SPINLOCK_CPU_BITS", "SPINLOCK_CPU_BITS"),
    ("SPINLOCK_RECURSE_OFF", "sizeof(spinlock_tickets_t)"),
    // CPU feature numbers for alternatives (asm/cpufeatures.h).
    (
        "X86_FEATURE_SC_NO_BRANCH_HARDEN",
        "X86_FEATURE_SC_NO_BRANCH_HARDEN",
    ),
    (
        "X86_FEATURE_SC_NO_LOCK_HARDEN",
        "X86_FEATURE_SC_NO_LOCK_HARDEN",
    ),
    ("X86_FEATURE_NX", "X86_FEATURE_NX"),
    ("PAGE_NX_BIT", "_PAGE_NX_BIT"),
    // Configuration the inline code depends on (1 = on).
    ("CONFIG_HVM", "IS_ENABLED(CONFIG_HVM)"),
    ("CONFIG_PV", "IS_ENABLED(CONFIG_PV)"),
    ("CONFIG_TRACEBUFFER", "IS_ENABLED(CONFIG_TRACEBUFFER)"),
    ("CONFIG_PV32", "IS_ENABLED(CONFIG_PV32)"),
    (
        "CONFIG_SPECULATIVE_HARDEN_BRANCH",
        "IS_ENABLED(CONFIG_SPECULATIVE_HARDEN_BRANCH)",
    ),
    (
        "CONFIG_SPECULATIVE_HARDEN_LOCK",
        "IS_ENABLED(CONFIG_SPECULATIVE_HARDEN_LOCK)",
    ),
];

fn main() {
    for var in ["XEN_SRCTREE", "XEN_OBJTREE", "XEN_SHADOW_CFLAGS"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=c/bindings.h");
    println!("cargo:rerun-if-changed=c");
    println!("cargo:rerun-if-changed=build.rs");

    let (Some(src), Some(obj), Some(cflags)) = (
        env::var_os("XEN_SRCTREE"),
        env::var_os("XEN_OBJTREE"),
        env::var("XEN_SHADOW_CFLAGS").ok(),
    ) else {
        panic!(
            "the ffi crate is built from Xen's make (ffi/xen-object.sh), which sets \
             XEN_SRCTREE, XEN_OBJTREE and XEN_SHADOW_CFLAGS; use `cargo xtask build`"
        );
    };
    let src = PathBuf::from(src);
    let obj = PathBuf::from(obj);
    println!("cargo:rerun-if-changed={}", obj.join(".config").display());
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    let here = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());

    let flags = xen_flags(&cflags, &obj, &src);
    let config = fs::read_to_string(obj.join(".config")).expect("read .config");
    let debug = config.lines().any(|l| l == "CONFIG_DEBUG=y");
    println!("cargo::rustc-check-cfg=cfg(xen_debug)");
    if debug {
        println!("cargo:rustc-cfg=xen_debug");
    }

    generate_bindings(&flags, &here, &out);
    generate_layout_checks(&flags, &here, &out);
    generate_consts(&flags, &here, &out);
    compile_helpers(&flags, &here);
}

/// Splits Xen's CFLAGS and makes relative include paths absolute (cargo runs
/// build scripts in the package directory, make ran in the object tree).
/// The shadow directory is added for `private.h`.
fn xen_flags(cflags: &str, obj: &Path, src: &Path) -> Vec<String> {
    let mut flags = Vec::new();
    let mut it = cflags.split_whitespace().peekable();
    let abs = |p: &str| -> String {
        if Path::new(p).is_absolute() {
            p.to_string()
        } else {
            obj.join(p).display().to_string()
        }
    };
    while let Some(f) = it.next() {
        if f == "-include" {
            let file = it.next().expect("-include without a file");
            flags.push(f.to_string());
            flags.push(abs(file));
        } else if let Some(dir) = f.strip_prefix("-I") {
            flags.push(format!("-I{}", abs(dir)));
        } else if let Some(dir) = f.strip_prefix("-Wa,-I") {
            flags.push(format!("-Wa,-I{}", abs(dir)));
        } else {
            flags.push(f.to_string());
        }
    }
    flags.push(format!("-I{}", src.join("arch/x86/mm/shadow").display()));
    // Xen's config.h makes the assembler `.include` asm-macros.h by a path
    // relative to the object tree, where make runs.
    flags.push(format!("-Wa,-I{}", obj.display()));
    flags
}

/// The subset of GCC's flags that matter to libclang's view of the headers.
fn clang_flags(flags: &[String]) -> Vec<String> {
    let mut out = vec!["--target=x86_64-unknown-none-elf".to_string()];
    let mut it = flags.iter();
    while let Some(f) = it.next() {
        if f == "-include" {
            out.push(f.clone());
            out.push(it.next().unwrap().clone());
        } else if f.starts_with("-I")
            || f.starts_with("-D")
            || f.starts_with("-std=")
            || f == "-nostdinc"
            || f == "-m64"
            || f == "-fno-builtin"
        {
            out.push(f.clone());
        }
    }
    // Xen's headers use `__attribute__((cf_check))`, unknown to clang.
    out.push("-Wno-unknown-attributes".to_string());
    out
}

fn generate_bindings(flags: &[String], here: &Path, out: &Path) {
    let bindings = bindgen::Builder::default()
        .header(here.join("c/bindings.h").display().to_string())
        .clang_args(clang_flags(flags))
        .use_core()
        .ctypes_prefix("core::ffi")
        .layout_tests(false) // checked against GCC in layout.rs instead
        .derive_default(false)
        .derive_debug(false)
        .generate_comments(false)
        .prepend_enum_name(false)
        .allowlist_type("vcpu|domain|page_info|paging_mode|cpu_info|cpu_user_regs")
        .allowlist_type("p2m_domain|p2m_type_t|p2m_access_t|p2m_query_t|sh_emulate_ctxt")
        .allowlist_type("mfn_t|gfn_t|pagetable_t|paddr_t|intpte_t")
        // `boot_cpu_data`'s type, for `_PAGE_NX` (cpu_has_nx) read inline.
        .allowlist_type("cpuinfo_x86")
        // Level-independent views of per-level structs (c/bindings.h).
        .allowlist_type("xsr_guest_walk")
        // Functions are declared by hand in src/xen.rs: Xen's headers give
        // every declaration hidden visibility (`#pragma GCC visibility`),
        // and bindgen emits no function bindings for them.
        .allowlist_var("SH_type_.*|SHF_.*|PGC_.*|PGT_.*|_PAGE_.*|PAGING_.*")
        .opaque_type("spinlock_t|rspinlock_t")
        .generate()
        .expect("bindgen over c/bindings.h");
    bindings
        .write_to_file(out.join("bindings.rs"))
        .expect("write bindings.rs");
}

/// The asm-offsets technique: GCC evaluates `offsetof`/`sizeof` with Xen's
/// own flags and prints them into its assembly output, where we read them
/// back.  The Rust side asserts the same values at compile time, so a
/// difference between clang's layout (bindgen) and GCC's (Xen) is a build
/// error, not a memory corruption.
fn generate_layout_checks(flags: &[String], here: &Path, out: &Path) {
    let mut c = String::new();
    c.push_str("void xsr_layout(void);\nvoid xsr_layout(void)\n{\n");
    for (i, (ty, cpath, _)) in LAYOUT.iter().enumerate() {
        if cpath.is_empty() {
            writeln!(c, "    XSR_VAL({i}, sizeof(struct {ty}));").unwrap();
        } else {
            writeln!(c, "    XSR_VAL({i}, offsetof(struct {ty}, {cpath}));").unwrap();
        }
    }
    c.push_str("}\n");
    let values = gcc_probe(flags, here, out, "layout", &c, LAYOUT.len());
    let mut rs = String::from("// Generated by ffi/build.rs: GCC's layout of what Rust touches.\n");
    for ((ty, cpath, rpath), v) in LAYOUT.iter().zip(values) {
        let v = v.unwrap_or_else(|| panic!("no layout value for {ty}.{cpath}"));
        if cpath.is_empty() {
            writeln!(
                rs,
                "const _: () = assert!(core::mem::size_of::<crate::bindings::{ty}>() == {v}, \
                 \"sizeof(struct {ty}): bindgen and GCC differ\");"
            )
            .unwrap();
        } else {
            writeln!(
                rs,
                "const _: () = assert!(core::mem::offset_of!(crate::bindings::{ty}, {rpath}) == {v}, \
                 \"offsetof(struct {ty}, {cpath}): bindgen and GCC differ\");"
            )
            .unwrap();
        }
    }
    fs::write(out.join("layout.rs"), rs).unwrap();
}

/// Compiles the probe body `c` (statements printing `==>IDX VALUE<==`
/// markers through `XSR_VAL(IDX, constant)`, which this prepends with
/// bindings.h) to assembly with Xen's flags and reads the `n` values back.
fn gcc_probe(
    flags: &[String],
    here: &Path,
    out: &Path,
    name: &str,
    c: &str,
    n: usize,
) -> Vec<Option<u64>> {
    let cfile = out.join(format!("{name}.c"));
    let mut src = String::from("#include \"bindings.h\"\n");
    src.push_str("#define XSR_VAL(n, v) asm volatile (\"\\n.ascii \\\"==>\" #n \" %0<==\\\"\" :: \"i\" (v))\n");
    src.push_str(c);
    fs::write(&cfile, src).unwrap();
    let sfile = out.join(format!("{name}.s"));
    let status = Command::new("gcc")
        .args(flags)
        .arg(format!("-I{}", here.join("c").display()))
        .args(["-S", "-o"])
        .arg(&sfile)
        .arg(&cfile)
        .status()
        .expect("run gcc");
    assert!(
        status.success(),
        "gcc failed on the {name} probe {}",
        cfile.display()
    );
    let asm = fs::read_to_string(&sfile).unwrap();
    let mut values = vec![None; n];
    for part in asm.split("==>").skip(1) {
        let body = part.split("<==").next().unwrap();
        let mut words = body.split_whitespace();
        let idx: usize = words.next().unwrap().parse().unwrap();
        let val = words.next().unwrap().trim_start_matches('$');
        // GCC prints immediates as signed 64-bit numbers.
        let v = val
            .parse::<u64>()
            .or_else(|_| val.parse::<i64>().map(|v| v as u64))
            .unwrap_or_else(|_| panic!("{name} value {val:?}"));
        values[idx] = Some(v);
    }
    values
}

/// `consts.rs`: `pub const NAME: u64 = value;` for every entry of CONSTS.
fn generate_consts(flags: &[String], here: &Path, out: &Path) {
    let mut c = String::new();
    c.push_str("void xsr_consts(void);\nvoid xsr_consts(void)\n{\n");
    for (i, (_, expr)) in CONSTS.iter().enumerate() {
        writeln!(c, "    XSR_VAL({i}, (unsigned long)({expr}));").unwrap();
    }
    c.push_str("}\n");
    let values = gcc_probe(flags, here, out, "consts", &c, CONSTS.len());
    let mut rs =
        String::from("// Generated by ffi/build.rs: Xen macro values as GCC computes them.\n");
    for ((name, expr), v) in CONSTS.iter().zip(values) {
        let v = v.unwrap_or_else(|| panic!("no value for {expr}"));
        writeln!(rs, "/// `{expr}`\npub const {name}: u64 = {v:#x};").unwrap();
    }
    fs::write(out.join("consts.rs"), rs).unwrap();
}

fn compile_helpers(flags: &[String], here: &Path) {
    let mut build = cc::Build::new();
    build
        .compiler("gcc")
        .no_default_flags(true)
        .cargo_warnings(true)
        .warnings(true) // -Wall, as Xen; -Werror comes with Xen's CFLAGS
        .extra_warnings(false)
        .include(here.join("c"));
    // Every c/*.c: one file of shims per area of the port.
    let mut files: Vec<PathBuf> = fs::read_dir(here.join("c"))
        .expect("read ffi/c")
        .map(|e| e.expect("read ffi/c").path())
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    files.sort();
    build.files(&files);
    for f in flags {
        build.flag(f);
    }
    build.compile("xen_shadow_helpers");
}
