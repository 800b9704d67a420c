//! The kernel command line.
//!
//! With QEMU's multiboot loader, `-initrd "guest.elf mode=hvm64"` gives the
//! dom0 module the string "guest.elf mode=hvm64"; Xen drops the first word
//! (the image name, see `cmdline_cook()` in xen/arch/x86/setup.c) and may
//! append options of its own (e.g. " acpi=off"), so we look for
//! whitespace-separated `key=value` words and ignore the rest.
//!
//! Recognised words:
//! - `mode=<hvm64|pv64|hvm32|hvm32pse|hvm32pae>`
//! - `only=<substring>`: run only tests whose name contains the substring.
//! - `skip=<test>[:<test>...]`: do not run these tests (exact names; `:`
//!   because QEMU's -initrd syntax reserves commas).
//! - `break=<test>`: make that test expect something wrong at one key check
//!   (shows that the check can fail; see `tests::broken`).
//! - `bench=<all|substring>`: run the benchmarks (`bench`) instead of the
//!   tests (docs/benchmarks.md).

use crate::global::Global;
use crate::Mode;

const MAX: usize = 1024;

static BUF: Global<[u8; MAX]> = Global::new([0; MAX]);
static LEN: Global<usize> = Global::new(0);

/// Copy a NUL-terminated command line into our own buffer.
///
/// # Safety
/// `p` must be null or point to readable memory holding a NUL-terminated
/// string (only the first `MAX - 1` bytes are read).
pub unsafe fn set_from_cstr(p: *const u8) {
    if p.is_null() {
        return;
    }
    let mut n = 0;
    // SAFETY: caller guarantees readability up to the NUL; we stop at MAX-1.
    unsafe {
        let buf = &mut *BUF.as_ptr();
        while n < MAX - 1 {
            let c = p.add(n).read_volatile();
            if c == 0 {
                break;
            }
            buf[n] = c;
            n += 1;
        }
    }
    LEN.set(n);
}

fn bytes() -> &'static [u8] {
    // SAFETY: BUF is only written during early boot, before any reader runs.
    unsafe { &(&*BUF.as_ptr())[..LEN.get()] }
}

/// The command line as text (non-UTF-8 shows as a placeholder).
pub fn get() -> &'static str {
    core::str::from_utf8(bytes()).unwrap_or("<non-utf8 command line>")
}

/// Value of the first `key=value` word with this key.
pub fn value(key: &str) -> Option<&'static [u8]> {
    bytes()
        .split(|&c| c == b' ' || c == b'\t' || c == b'\n')
        .find_map(|w| {
            let k = key.as_bytes();
            if w.len() > k.len() && w.starts_with(k) && w[k.len()] == b'=' {
                Some(&w[k.len() + 1..])
            } else {
                None
            }
        })
}

/// `Ok(None)` when no mode is given, `Err(text)` for an unknown one.
pub fn mode() -> Result<Option<Mode>, &'static str> {
    match value("mode") {
        None => Ok(None),
        Some(v) => Mode::from_name(v)
            .map(Some)
            .ok_or_else(|| core::str::from_utf8(v).unwrap_or("?")),
    }
}

/// Whether `skip=` names the test.
pub fn skipped(name: &str) -> bool {
    value("skip").is_some_and(|v| v.split(|&b| b == b':').any(|n| n == name.as_bytes()))
}

/// Test-name filter from `only=`.
pub fn only() -> Option<&'static str> {
    value("only").and_then(|v| core::str::from_utf8(v).ok())
}
