//! Installs what the build needs on a Debian 12 machine, idempotently:
//! Debian packages that are missing, the rustup target and components.

use std::process::{Command, Stdio};

use crate::{step, Result};

/// Debian packages the build, the bindings and the boots need.
pub const PACKAGES: &[&str] = &[
    "build-essential", // gcc, make, binutils (ld, objdump, readelf)
    "bison",
    "flex",
    "python3",
    "bc",
    "xz-utils",
    "dpkg-dev",    // dpkg-source, to unpack Debian's source package
    "lsb-release", // Debian's hypervisor-banner patch runs lsb_release
    "clang",       // libclang for bindgen
    "libclang-dev",
    "qemu-system-x86",
];

fn installed(pkg: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", pkg])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

pub fn run(cmd: &mut Command) -> Result {
    let status = cmd.status().map_err(|e| format!("{cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed: {status}"))
    }
}

pub fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("{cmd:?} failed: {}", out.status))
    }
}

pub fn setup() -> Result {
    let missing: Vec<&str> = PACKAGES.iter().copied().filter(|p| !installed(p)).collect();
    if !missing.is_empty() {
        step!("installing Debian packages: {}", missing.join(" "));
        run(Command::new("apt-get").arg("update").arg("-q"))?;
        run(Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
    }
    let targets = output(Command::new("rustup").args(["target", "list", "--installed"]))?;
    if !targets.lines().any(|l| l.trim() == "x86_64-unknown-none") {
        step!("rustup target add x86_64-unknown-none");
        run(Command::new("rustup").args(["target", "add", "x86_64-unknown-none"]))?;
    }
    let comps = output(Command::new("rustup").args(["component", "list", "--installed"]))?;
    if !comps.lines().any(|l| l.starts_with("rust-src")) {
        step!("rustup component add rust-src");
        run(Command::new("rustup").args(["component", "add", "rust-src"]))?;
    }
    Ok(())
}
