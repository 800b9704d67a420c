//! `cargo xtask`: the project's build, boot and test driver.
//!
//! ```text
//! cargo xtask run            main job: build both hypervisors, boot guests
//! cargo xtask test           everything CI runs (host tests, builds, boots)
//! cargo xtask setup          install Debian packages and rustup parts
//! cargo xtask fetch          get and patch the Xen source
//! cargo xtask build [VARIANT...] [--debug]   reference | rust (default: both)
//! cargo xtask boot VARIANT MODE [--debug]    boot one guest, print the log
//! cargo xtask status         print docs/status.md from the entry catalogue
//! cargo xtask fuzz [--execs N] [--jobs J] [TARGET...]   run the fuzz targets
//! ```
//! Everything lives under `build/` in the checkout and is rebuilt only when
//! its inputs change.

mod fuzz;
mod harness;
mod setup;
mod status;
mod xen;

use std::path::PathBuf;
use std::process::ExitCode;

/// The checkout this xtask was built from.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `build/` under the checkout (or `$XEN_SHADOW_BUILD`).
pub fn build_dir() -> PathBuf {
    std::env::var_os("XEN_SHADOW_BUILD")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("build"))
}

/// Progress line on stderr.
#[macro_export]
macro_rules! step {
    ($($arg:tt)*) => { eprintln!("==> {}", format!($($arg)*)) };
}

pub type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let debug = args.iter().any(|a| a == "--debug");
    let words: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let result = match words.as_slice() {
        ["setup"] => setup::setup(),
        ["fetch"] => setup::setup().and_then(|_| xen::fetch().map(|_| ())),
        ["build", variants @ ..] => build(variants, debug),
        ["boot", variant, mode] => boot(variant, mode, debug),
        ["status"] => {
            print!("{}", status::render());
            Ok(())
        }
        ["run"] => harness::main_job(),
        ["test"] => harness::test_all(),
        ["fuzz", ..] => fuzz::run(&args[1..]),
        _ => Err(format!(
            "usage: see the top of {}/ci/src/main.rs",
            repo().display()
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn build(variants: &[&str], debug: bool) -> Result {
    setup::setup()?;
    let src = xen::fetch()?;
    let variants: Vec<xen::Variant> = if variants.is_empty() {
        vec![xen::Variant::Reference, xen::Variant::Rust]
    } else {
        variants
            .iter()
            .map(|v| xen::Variant::parse(v))
            .collect::<Result<_>>()?
    };
    for v in variants {
        xen::build(&src, v, debug)?;
    }
    Ok(())
}

fn boot(variant: &str, mode: &str, debug: bool) -> Result {
    let v = xen::Variant::parse(variant)?;
    setup::setup()?;
    let src = xen::fetch()?;
    let xen = xen::build(&src, v, debug)?;
    let guests = harness::build_guests()?;
    let run = harness::Boot::new(&xen, v, debug, harness::Mode::parse(mode)?, &guests)?;
    let out = run.run()?;
    print!("{}", out.log);
    println!("outcome: {}", out.outcome);
    Ok(())
}
