//! A real OpenSSH server for the SFTP tests: Debian's `/usr/sbin/sshd` on a free
//! port of 127.0.0.1, with host and user keys made by `ssh-keygen` in a temp
//! folder, no chroot, killed (with its sessions) on drop. Nothing global is read
//! or changed: no port 22, no /etc/ssh, no system user.
//!
//! As root (CI, this machine) sshd runs as root in a private mount namespace
//! where /etc/passwd and /etc/shadow are copies with one extra user, so password
//! login works without adding a user to the machine. Not as root, sshd runs as
//! the current user, who is then the only one it can log in, by key only: there
//! is no password to test, and `password()` panics saying so.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

const SSHD: &str = "/usr/sbin/sshd";
/// The namespace user's id: only inside sshd's private copy of /etc/passwd.
const NAMESPACE_UID: u32 = 64123;
const NAMESPACE_USER: &str = "flowsftp";
const PASSWORD: &str = "correct horse battery staple";
/// The passphrase of the RSA user key.
pub const RSA_PASSPHRASE: &str = "open sesame";

pub struct Sshd {
    dir: tempfile::TempDir,
    pub port: u16,
    /// The host key's fingerprint as `ssh-keygen -lf host.pub -E sha256` prints it.
    pub host_fingerprint: String,
    pub user: String,
    /// An ed25519 key in OpenSSH format, no passphrase, in authorized_keys.
    pub user_key: String,
    /// A 2048-bit RSA key in PEM format, encrypted with [`RSA_PASSPHRASE`], in authorized_keys.
    pub user_rsa_key: String,
    /// A key the server does not know.
    pub stranger_key: String,
    password: Option<String>,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Sshd {
    pub fn start() -> Sshd {
        assert!(Path::new(SSHD).exists(), "{SSHD} is missing: install openssh-server (`apt-get install -y openssh-server`; .ci/run does it)");
        let dir = tempfile::tempdir().expect("temp dir");
        let t = dir.path().to_path_buf();
        let as_root = unsafe { libc::geteuid() } == 0;
        keygen(&t.join("host_ed25519"), &["-t", "ed25519", "-N", ""]);
        keygen(&t.join("user_ed25519"), &["-t", "ed25519", "-N", ""]);
        keygen(&t.join("user_rsa"), &["-t", "rsa", "-b", "2048", "-m", "PEM", "-N", RSA_PASSPHRASE]);
        keygen(&t.join("stranger_ed25519"), &["-t", "ed25519", "-N", ""]);
        let authorized = format!("{}{}", read(&t.join("user_ed25519.pub")), read(&t.join("user_rsa.pub")));
        std::fs::write(t.join("authorized_keys"), authorized).unwrap();
        let data = t.join("data");
        std::fs::create_dir(&data).unwrap();
        let (user, password) = if as_root {
            namespace_user(&t, &data);
            (NAMESPACE_USER.to_string(), Some(PASSWORD.to_string()))
        } else {
            (current_user(), None)
        };

        for _ in 0..5 {
            let port = free_port();
            write_config(&t, port);
            let command = if as_root {
                // The package makes /run/sshd only under systemd; root sshd needs it for privilege separation.
                std::fs::create_dir_all("/run/sshd").unwrap();
                let script = format!(
                    "mount --bind {t}/passwd /etc/passwd && mount --bind {t}/shadow /etc/shadow && exec {SSHD} -D -e -f {t}/sshd_config",
                    t = t.display()
                );
                let mut c = Command::new("unshare");
                c.args(["-m", "sh", "-c", &script]);
                c
            } else {
                let mut c = Command::new(SSHD);
                c.args(["-D", "-e", "-f"]).arg(t.join("sshd_config"));
                c
            };
            let (child, log, ready) = spawn(command);
            match ready {
                Ok(()) => {
                    let host_fingerprint = fingerprint(&t.join("host_ed25519.pub"));
                    return Sshd {
                        port,
                        host_fingerprint,
                        user: user.clone(),
                        user_key: read(&t.join("user_ed25519")),
                        user_rsa_key: read(&t.join("user_rsa")),
                        stranger_key: read(&t.join("stranger_ed25519")),
                        password,
                        child,
                        log,
                        dir,
                    };
                }
                Err(why) if why.contains("Address already in use") => continue,
                Err(why) => panic!("sshd did not start: {why}"),
            }
        }
        panic!("sshd found no free port in 5 tries");
    }

    /// The folder the user owns and the tests work in (also the server's path to it).
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `data()` as a remote path.
    pub fn remote(&self, relative: &str) -> String {
        format!("{}/{}", self.data().display(), relative.trim_start_matches('/'))
    }

    /// Makes `relative` under `data()` (with parents), owned by the user as if uploaded.
    pub fn make_folder(&self, relative: &str) -> PathBuf {
        let path = self.data().join(relative);
        std::fs::create_dir_all(&path).unwrap();
        self.give_to_user(&path);
        path
    }

    /// Writes a file under `data()` owned by the user.
    pub fn make_file(&self, relative: &str, bytes: &[u8]) -> PathBuf {
        let path = self.data().join(relative);
        std::fs::write(&path, bytes).unwrap();
        self.give_to_user(&path);
        path
    }

    fn give_to_user(&self, path: &Path) {
        use std::os::unix::fs::MetadataExt;
        let owner = std::fs::metadata(self.data()).unwrap();
        std::os::unix::fs::chown(path, Some(owner.uid()), Some(owner.gid())).unwrap();
    }

    /// How many logins sshd accepted so far.
    pub fn logins(&self) -> usize {
        self.log().lines().filter(|l| l.contains("Accepted publickey for ") || l.contains("Accepted password for ")).count()
    }

    /// The user's password; only root can run an sshd that checks one (see the module's comment).
    pub fn password(&self) -> String {
        self.password.clone().expect(
            "password login needs sshd running as root (only root reads /etc/shadow): not root, this test fails rather than pass without checking; run the tests as root",
        )
    }

    /// What sshd logged so far (`Accepted publickey for …`, `Failed password for …`).
    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Drops every open connection (kills sshd's session processes) and keeps listening.
    pub fn drop_connections(&self) {
        for pid in descendants(self.child.id()) {
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.drop_connections();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_config(t: &Path, port: u16) {
    let t = t.display();
    let mut config = format!(
        "Port {port}
ListenAddress 127.0.0.1
HostKey {t}/host_ed25519
PidFile {t}/sshd.pid
AuthorizedKeysFile {t}/authorized_keys
StrictModes no
UsePAM no
UseDNS no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
MaxStartups 100
MaxSessions 20
MaxAuthTries 10
LoginGraceTime 20
Subsystem sftp internal-sftp
LogLevel VERBOSE
"
    );
    std::fs::write(format!("{t}/sshd_config"), &config).unwrap();
    // OpenSSH 9.8+ penalises an address whose sessions fail or are killed (the tests do both on
    // purpose); older versions do not know the option and refuse the whole file with it.
    config.push_str("PerSourcePenalties no\n");
    std::fs::write(format!("{t}/sshd_config.try"), &config).unwrap();
    let accepted = Command::new(SSHD).args(["-t", "-f", &format!("{t}/sshd_config.try")]).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
    if accepted {
        std::fs::rename(format!("{t}/sshd_config.try"), format!("{t}/sshd_config")).unwrap();
    }
}

/// Starts sshd and waits for "Server listening on"; Err(its log) when it exits first.
fn spawn(mut command: Command) -> (Child, Arc<Mutex<Vec<String>>>, Result<(), String>) {
    let mut child = command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("sshd runs");
    let log = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    let lines = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.starts_with("Server listening on") {
                let _ = tx.send(());
            }
            lines.lock().unwrap().push(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if rx.recv_timeout(Duration::from_millis(20)).is_ok() {
            return (child, log, Ok(()));
        }
        if let Ok(Some(_)) = child.try_wait() {
            std::thread::sleep(Duration::from_millis(50));
            let why = log.lock().unwrap().join("\n");
            return (child, log, Err(why));
        }
    }
    let _ = child.kill();
    let why = log.lock().unwrap().join("\n");
    (child, log, Err(format!("no 'Server listening' within 10 s: {why}")))
}

/// The user exists only in sshd's namespace: copies of passwd and shadow with one line more.
fn namespace_user(t: &Path, data: &Path) {
    let hash = Command::new("openssl").args(["passwd", "-6", PASSWORD]).output().expect("openssl passwd");
    let hash = String::from_utf8(hash.stdout).unwrap();
    let passwd = format!("{}{NAMESPACE_USER}:x:{NAMESPACE_UID}:{NAMESPACE_UID}::{}:/bin/sh\n", read(Path::new("/etc/passwd")), data.display());
    let shadow = format!("{}{NAMESPACE_USER}:{}:20000:0:99999:7:::\n", read(Path::new("/etc/shadow")), hash.trim());
    std::fs::write(t.join("passwd"), passwd).unwrap();
    std::fs::write(t.join("shadow"), shadow).unwrap();
    use std::os::unix::fs::PermissionsExt;
    // The user's session must reach its data folder and read authorized_keys.
    std::fs::set_permissions(t, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(t.join("authorized_keys"), std::fs::Permissions::from_mode(0o644)).unwrap();
    std::os::unix::fs::chown(data, Some(NAMESPACE_UID), Some(NAMESPACE_UID)).unwrap();
}

fn keygen(path: &Path, args: &[&str]) {
    let status = Command::new("ssh-keygen")
        .arg("-q")
        .args(args)
        .args(["-C", "flowmap-test", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen (openssh-client) runs");
    assert!(status.success(), "ssh-keygen failed for {}", path.display());
}

/// Field 2 of `ssh-keygen -lf KEY.pub -E sha256`: what an operator pastes into `host_key`.
fn fingerprint(public_key: &Path) -> String {
    let out = Command::new("ssh-keygen").arg("-lf").arg(public_key).args(["-E", "sha256"]).output().unwrap();
    String::from_utf8(out.stdout).unwrap().split_whitespace().nth(1).expect("a fingerprint").to_string()
}

fn current_user() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// sshd cannot bind port 0: take a free one from the kernel and hand it over (a race another
/// process may win; `start` then tries another).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Every process below `root`, children before grandchildren.
fn descendants(root: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // `pid (comm) state ppid …`: comm may hold spaces, so read after the last ')'.
        let Some(ppid) = stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().nth(1)) else { continue };
        if let Ok(ppid) = ppid.parse() {
            parents.push((pid, ppid));
        }
    }
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(parents.iter().filter(|(_, pp)| *pp == parent).map(|(p, _)| *p));
        i += 1;
    }
    found.remove(0);
    found
}
