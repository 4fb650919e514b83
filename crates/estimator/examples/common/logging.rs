//! The examples' log set-up: colours only on a terminal, and never when
//! `NO_COLOR` is set (<https://no-color.org>), so that logs written to a
//! file or a pipe carry no ANSI codes.

use std::io::IsTerminal;

/// Installs the examples' subscriber (info and above, no targets).
pub fn init() {
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    tracing_subscriber::fmt().with_target(false).with_ansi(colour).init();
}
