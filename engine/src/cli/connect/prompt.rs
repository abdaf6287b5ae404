//! Reading what the operator types: a line from standard input, with the
//! terminal's echo off for secrets, so a client secret, token or password never
//! shows on the screen (nor in a terminal's scrollback or a screen recording).
//! Input that is not a terminal (a pipe, a file) is read as it is and never
//! echoed back anywhere.

use std::io::{BufRead, IsTerminal, Write};

/// Asks on stderr and reads one line (without its line end) from stdin.
/// `secret`: nothing typed is shown. `None` at the end of the input.
pub fn read_line(prompt: &str, secret: bool) -> std::io::Result<Option<String>> {
    let stdin = std::io::stdin();
    // The echo goes off before the prompt shows, so nothing typed after it is seen.
    let hidden = match secret && stdin.is_terminal() {
        true => Some(EchoOff::new().ok_or_else(|| std::io::Error::other("the terminal's echo cannot be switched off to read it unseen"))?),
        false => None,
    };
    // eprint! would panic on a closed stderr; the prompt is a courtesy, the answer is what counts.
    let _ = write!(std::io::stderr(), "{prompt}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if hidden.is_some() {
        // The Enter typed was not echoed either: end the prompt's line.
        let _ = writeln!(std::io::stderr());
    }
    drop(hidden);
    if read? == 0 {
        return Ok(None);
    }
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_string()))
}

/// The terminal's echo switched off until dropped (then restored as it was).
struct EchoOff {
    #[cfg(unix)]
    saved: libc::termios,
}

impl EchoOff {
    #[cfg(unix)]
    fn new() -> Option<EchoOff> {
        // SAFETY: tcgetattr/tcsetattr on fd 0 with a termios we own; failure is checked.
        unsafe {
            let mut saved: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(libc::STDIN_FILENO, &mut saved) != 0 {
                return None;
            }
            let mut quiet = saved;
            quiet.c_lflag &= !libc::ECHO;
            if libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &quiet) != 0 {
                return None;
            }
            Some(EchoOff { saved })
        }
    }

    /// Elsewhere the echo is not switched off here: a secret is not read from a terminal at all.
    #[cfg(not(unix))]
    fn new() -> Option<EchoOff> {
        None
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        #[cfg(unix)]
        // SAFETY: restores the attributes read in `new`.
        unsafe {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &self.saved);
        }
    }
}
