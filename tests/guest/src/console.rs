//! Console output through `HYPERVISOR_console_io(CONSOLEIO_write)`.
//!
//! For the hardware domain Xen writes the bytes straight to its serial
//! console without a prefix, so our lines appear verbatim in the QEMU serial
//! log.  Output is buffered per line to keep the number of hypercalls (each a
//! VM exit, slow under TCG) low.

use crate::global::Global;
use core::fmt;

const LINE_MAX: usize = 256;

struct LineBuf {
    buf: [u8; LINE_MAX],
    len: usize,
}

static LINE: Global<LineBuf> = Global::new(LineBuf {
    buf: [0; LINE_MAX],
    len: 0,
});

fn with_line<R>(f: impl FnOnce(&mut LineBuf) -> R) -> R {
    // SAFETY: single CPU; the only re-entrancy is an unexpected exception
    // raised while printing, whose handler flushes and then never returns to
    // the interrupted writer, so no two live `&mut` are used concurrently.
    unsafe { f(&mut *LINE.as_ptr()) }
}

fn flush_buf(l: &mut LineBuf) {
    if l.len > 0 {
        crate::xen::console_write(&l.buf[..l.len]);
        l.len = 0;
    }
}

/// Write raw bytes, flushing at every newline.
pub fn write_bytes(bytes: &[u8]) {
    with_line(|l| {
        for &b in bytes {
            if l.len == LINE_MAX {
                flush_buf(l);
            }
            l.buf[l.len] = b;
            l.len += 1;
            if b == b'\n' {
                flush_buf(l);
            }
        }
    })
}

/// Push out a partial line (used before shutting down).
pub fn flush() {
    with_line(flush_buf)
}

/// Drop any partial line (used by the unexpected-exception path, which
/// starts its report on a fresh line).
pub fn newline_if_partial() {
    with_line(|l| {
        if l.len > 0 {
            flush_buf(l);
            crate::xen::console_write(b"\n");
        }
    })
}

pub struct Console;

impl fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_bytes(s.as_bytes());
        Ok(())
    }
}

pub fn _print(args: fmt::Arguments<'_>) {
    let _ = fmt::Write::write_fmt(&mut Console, args);
}

#[allow(unused_macros)]
macro_rules! print {
    ($($arg:tt)*) => { $crate::console::_print(format_args!($($arg)*)) };
}

macro_rules! println {
    () => { $crate::console::write_bytes(b"\n") };
    ($($arg:tt)*) => {{
        $crate::console::_print(format_args!($($arg)*));
        $crate::console::write_bytes(b"\n");
    }};
}
