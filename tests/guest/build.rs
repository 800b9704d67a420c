//! Picks the linker script matching the target architecture.
fn main() {
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").expect("CARGO_CFG_TARGET_ARCH");
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let script = match arch.as_str() {
        "x86_64" => "link64.ld",
        "x86" => "link32.ld",
        other => panic!("xen-guest-tests: unsupported target arch {other}; use ./build.sh"),
    };
    println!("cargo:rustc-link-arg-bins=-T{dir}/{script}");
    println!(
        "cargo:rustc-link-arg-bins=-Map={}/guest.map",
        std::env::var("OUT_DIR").unwrap()
    );
    println!("cargo:rerun-if-changed={script}");
    println!("cargo:rerun-if-changed=build.rs");
}
