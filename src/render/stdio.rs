//! Writing to the standard streams without panicking: `print!` panics when the reader has gone
//! (`dnssec-pilot plan | head -1`, `apply --wait | true`). A closed stream is a reader that
//! wants no more, not an error of the command: what is written to it is dropped, and the command
//! goes on to its end (an `apply` still records every step in the journal) with its exit code.

use std::io::Write as _;

/// Writes `s` to stdout and flushes; a closed or failing stdout drops it.
pub fn out(s: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(s.as_bytes());
    let _ = o.flush();
}

/// Writes `s` to stderr; a closed or failing stderr drops it.
pub fn err(s: &str) {
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(s.as_bytes());
    let _ = e.flush();
}
