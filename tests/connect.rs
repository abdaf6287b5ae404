//! `flowmap connect` without a browser on the machine (over SSH): the consent
//! address is opened elsewhere and the address it was sent to (or only its
//! code) is pasted on standard input; secrets typed there are never echoed.

mod common;

use std::io::{BufReader, Read, Write};
use std::process::{Command, Stdio};

use common::live::*;
use common::repo_root;
use pretty_assertions::assert_eq;

fn default_world() -> World {
    World::start(SandboxConfig { fixtures: Some(fixtures()), ..Default::default() }, "")
}

/// `flowmap connect NAME` with standard input piped, the client credentials
/// from `env` (none: asked on stdin).
fn connect_command(world: &World, name: &str, env: &[(&str, &str)]) -> std::process::Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_flowmap"));
    c.args(["--color", "never", "connect", name]).arg("--connections").arg(&world.connections).arg("--state").arg(&world.state);
    c.current_dir(repo_root()).env_remove("CLICOLOR_FORCE").env_remove("FLOWMAP_KEY");
    c.env_remove("FLOWMAP_CLIENT_ID").env_remove("FLOWMAP_CLIENT_SECRET").envs(env.iter().copied());
    c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("flowmap starts")
}

/// Starts `connect exact`, reads up to the consent address, and returns where
/// the sandbox's consent page sends the browser (not followed: no browser here).
fn consent_elsewhere(world: &World) -> (std::process::Child, BufReader<std::process::ChildStdout>, String, String) {
    let mut child = connect_command(world, "exact", &[("FLOWMAP_CLIENT_ID", "sandbox-client"), ("FLOWMAP_CLIENT_SECRET", "sandbox-secret")]);
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (printed, location) = consent_redirect(&mut out);
    (child, out, printed, location)
}

fn finish(mut child: std::process::Child, mut out: BufReader<std::process::ChildStdout>, mut printed: String) -> (i32, String, String) {
    out.read_to_string(&mut printed).unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (child.wait().unwrap().code().unwrap_or(-1), printed, err)
}

#[test]
fn the_redirect_address_pasted_on_stdin_connects_and_its_state_is_checked() {
    let world = default_world();
    let (mut child, out, printed, location) = consent_elsewhere(&world);
    let mut stdin = child.stdin.take().unwrap();
    // An answer to another consent first: refused, and the right one is waited for.
    let other = location.replace("state=", "state=0");
    writeln!(stdin, "{other}\n\n{location}").unwrap();
    let (code, printed, err) = finish(child, out, printed);
    assert_eq!(code, 0, "{printed}{err}");
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines[0], "Open this address in a browser, sign in and allow access:");
    assert_eq!(
        lines[4..],
        [
            format!("Waiting for the redirect to {} …", location.split('?').next().unwrap()),
            "Without a browser on this machine: open the address on another one, then paste here the address it was sent to \
             (or just its code) and press Enter."
                .to_string(),
            format!("connected `exact` (Exact Online); requests go to {}/api/v1/3012345", world.sandbox.exact_url()),
        ]
    );
    assert_eq!(err, "that address does not carry this consent's state (it answers another consent, or was changed); paste the address again\n");
    // The tokens work: a run goes through.
    world.flowmap(&["connect", "lnb"]);
    let run = world.flowmap(&["run", "mappings/lnb-exact/orders.flow.yaml"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn only_the_code_pasted_is_enough() {
    let world = default_world();
    let (mut child, out, printed, location) = consent_elsewhere(&world);
    let code = location.split("code=").nth(1).unwrap().split('&').next().unwrap().to_string();
    writeln!(child.stdin.take().unwrap(), "{code}").unwrap();
    let (status, printed, err) = finish(child, out, printed);
    assert_eq!(status, 0, "{printed}{err}");
    assert!(
        printed.ends_with(&format!("connected `exact` (Exact Online); requests go to {}/api/v1/3012345\n", world.sandbox.exact_url())),
        "{printed}"
    );
}

#[test]
fn secrets_read_from_stdin_are_not_echoed() {
    let world = default_world();
    let mut child = connect_command(&world, "lnb", &[]);
    writeln!(child.stdin.take().unwrap(), "sandbox-client\nsandbox-secret").unwrap();
    let mut printed = String::new();
    child.stdout.take().unwrap().read_to_string(&mut printed).unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(child.wait().unwrap().success(), "{printed}{err}");
    assert_eq!(
        (printed.as_str(), err.as_str()),
        (
            format!("connected `lnb` (Le New Black); the client credentials were accepted by {}/apis/wholesale/v2\n", world.sandbox.lnb_url())
                .as_str(),
            "client_id of `lnb` (or set FLOWMAP_CLIENT_ID): client_secret of `lnb` (or set FLOWMAP_CLIENT_SECRET): "
        )
    );
}

/// On a terminal (a pseudo-terminal here), what is typed for the client id is
/// echoed as usual, the client secret is not.
#[cfg(unix)]
#[test]
fn a_secret_typed_on_a_terminal_is_not_shown() {
    use std::os::fd::FromRawFd;
    let world = default_world();
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty fills two descriptors, owned by the files made from them below.
    let opened = unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), std::ptr::null()) };
    assert_eq!(opened, 0, "openpty");
    let (mut terminal, typed_at) = unsafe { (std::fs::File::from_raw_fd(master), std::fs::File::from_raw_fd(slave)) };
    let mut c = Command::new(env!("CARGO_BIN_EXE_flowmap"));
    c.args(["--color", "never", "connect", "lnb"]).arg("--connections").arg(&world.connections).arg("--state").arg(&world.state);
    c.current_dir(repo_root()).env_remove("FLOWMAP_KEY").env_remove("FLOWMAP_CLIENT_ID").env_remove("FLOWMAP_CLIENT_SECRET");
    let mut child = c.stdin(Stdio::from(typed_at)).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("flowmap starts");
    drop(c);
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut prompt = |until: &str| {
        let mut seen = Vec::new();
        while !String::from_utf8_lossy(&seen).ends_with(until) {
            let mut byte = [0u8; 1];
            assert_eq!(err.read(&mut byte).unwrap(), 1, "stderr ended: {}", String::from_utf8_lossy(&seen));
            seen.push(byte[0]);
        }
    };
    prompt("(or set FLOWMAP_CLIENT_ID): ");
    terminal.write_all(b"sandbox-client\n").unwrap();
    prompt("(or set FLOWMAP_CLIENT_SECRET): ");
    terminal.write_all(b"sandbox-secret\n").unwrap();
    let mut printed = String::new();
    child.stdout.take().unwrap().read_to_string(&mut printed).unwrap();
    assert!(child.wait().unwrap().success(), "{printed}");
    // What the terminal showed: the echo of what was typed (read until the terminal closes).
    let mut shown = Vec::new();
    let mut chunk = [0u8; 256];
    while let Ok(n) = terminal.read(&mut chunk) {
        if n == 0 {
            break;
        }
        shown.extend_from_slice(&chunk[..n]);
    }
    let shown = String::from_utf8_lossy(&shown);
    assert!(shown.contains("sandbox-client"), "the client id is echoed: {shown:?}");
    assert!(!shown.contains("sandbox-secret"), "the secret is not: {shown:?}");
}
