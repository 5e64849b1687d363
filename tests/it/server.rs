//! End to end: the example server as a user runs it (`target/…/examples/server`), on an
//! ephemeral port, against a fresh SQLite file — and once more against PostgreSQL when
//! `KADRY_TEST_DATABASE_URL` is set — driven over HTTP by a real client through a Samara year.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running example server; killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    logs: Arc<Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary() -> PathBuf {
    // target/<profile>/deps/it-… → target/<profile>/examples/server
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe.parent().and_then(|d| d.parent()).expect("target dir").to_path_buf();
    let bin = profile_dir.join("examples").join("server");
    if !bin.exists() {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "--example", "server"]);
        if cfg!(feature = "postgres") {
            cmd.args(["--features", "postgres"]);
        }
        if !profile_dir.ends_with("debug") {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("cargo build --example server");
        assert!(status.success(), "building the example server failed");
    }
    bin
}

impl Server {
    /// Starts the server with `storage` (e.g. `sqlite:/tmp/x.db`) and waits for its address.
    pub fn start(storage: &str, extra: &[&str]) -> Server {
        let mut child = Command::new(binary())
            .args(["--bind", "127.0.0.1:0", "--storage", storage])
            .args(extra)
            .env("KADRY_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the example server");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr");
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("kadry listening on ") {
                    let _ = tx.send(addr.to_string());
                }
            }
        });
        let base = rx.recv_timeout(Duration::from_secs(120)).unwrap_or_else(|_| {
            panic!("the server did not start: {}", logs.lock().unwrap().join("\n"));
        });
        Server { child, base, logs }
    }

    /// The last one-time code logged for `email` and `purpose`, waiting up to 10 s for it.
    pub fn code(&self, email: &str, purpose: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self.logs.lock().unwrap().iter().rev().find_map(|l| {
                if !(l.contains("one-time code") && l.contains(email) && l.contains(purpose)) {
                    return None;
                }
                let at = l.find("code=")? + "code=".len();
                let digits: String = l[at..].chars().filter(char::is_ascii_digit).take(6).collect();
                (digits.len() == 6).then_some(digits)
            });
            if let Some(c) = found {
                return c;
            }
            assert!(Instant::now() < deadline, "no {purpose} code for {email} in the logs");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the server with SIGTERM and waits for a clean exit.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "the server exited with {status}");
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the server did not stop on SIGTERM");
    }
}
