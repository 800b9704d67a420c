//! Root build script: writes `xen_shadow_rs.h`, the C declarations of the
//! Rust exports, with cbindgen.  Xen's `rust-glue.c` includes it together with
//! `multi.h` (through private.h), so GCC rejects any signature that differs
//! from what common.c expects.
//!
//! Outside Xen's build (no `XEN_SHADOW_HEADER`) there is nothing to do.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-env-changed=XEN_SHADOW_HEADER");
    println!("cargo:rerun-if-env-changed=XEN_OBJTREE");
    println!("cargo::rustc-check-cfg=cfg(xen_debug)");
    println!("cargo::rustc-check-cfg=cfg(xen_logdirty_rust)");

    if let Some(obj) = env::var_os("XEN_OBJTREE") {
        let config = PathBuf::from(obj).join(".config");
        println!("cargo:rerun-if-changed={}", config.display());
        let text = std::fs::read_to_string(&config).expect("read Xen .config");
        if text.lines().any(|l| l == "CONFIG_DEBUG=y") {
            println!("cargo:rustc-cfg=xen_debug");
        }
        // paging.c's log-dirty bitmap is Rust too (src/port/logdirty.rs).
        if text.lines().any(|l| l == "CONFIG_PAGING_LOGDIRTY_RUST=y") {
            println!("cargo:rustc-cfg=xen_logdirty_rust");
        }
    }

    let Some(header) = env::var_os("XEN_SHADOW_HEADER") else {
        return;
    };
    let crate_dir = env::var("CARGO_MANIFEST_DIR").unwrap();
    let config = cbindgen::Config::from_file(PathBuf::from(&crate_dir).join("cbindgen.toml"))
        .expect("read cbindgen.toml");
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen: generate xen_shadow_rs.h")
        .write_to_file(PathBuf::from(header));
}
