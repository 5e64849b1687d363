//! End to end: the example server as a user runs it (`target/…/examples/server`), on an
//! ephemeral port, against a fresh SQLite file — and once more against PostgreSQL when
//! `KADRY_TEST_DATABASE_URL` is set — driven over HTTP by a real client through a Samara year.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

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
    // `cargo test` builds the example only as a test harness (it has `test = true`): build the
    // program itself — once per test run, so it is never stale — with the features this test
    // binary was built with, in the same profile and target directory.
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            // target/<profile>/deps/it-… → target/<profile>/examples/server
            let exe = std::env::current_exe().expect("test binary path");
            let profile_dir = exe.parent().and_then(|d| d.parent()).expect("target dir").to_path_buf();
            let mut cmd = Command::new(env!("CARGO"));
            cmd.args([
                "build",
                "--example",
                "server",
                "--manifest-path",
                concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
            ]);
            if let Some(target) = profile_dir.parent() {
                cmd.arg("--target-dir").arg(target);
            }
            if cfg!(all(feature = "postgres", feature = "smtp")) {
                cmd.arg("--all-features");
            } else if cfg!(feature = "postgres") {
                cmd.args(["--features", "postgres"]);
            }
            if !profile_dir.ends_with("debug") {
                cmd.arg("--release");
            }
            let status = cmd.status().expect("cargo build --example server");
            assert!(status.success(), "building the example server failed");
            profile_dir.join("examples").join("server")
        })
        .clone()
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

/// A JSON client with an optional session.
struct Api {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
}

impl Api {
    fn new(base: &str) -> Api {
        Api { base: base.to_string(), http: reqwest::Client::new(), token: None }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let mut req = match method {
            "get" => self.http.get(url),
            "post" => self.http.post(url),
            "patch" => self.http.patch(url),
            "delete" => self.http.delete(url),
            other => panic!("method {other}"),
        };
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let json =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        assert!(status < 500, "{method} {path}: {status} {json}");
        (status, json)
    }

    /// A call that must succeed with `status`.
    async fn ok(&self, method: &str, path: &str, body: Option<Value>, status: u16) -> Value {
        let (s, v) = self.call(method, path, body).await;
        assert_eq!(s, status, "{method} {path}: {v}");
        v
    }

    async fn login(base: &str, email: &str, password: &str) -> Api {
        let mut api = Api::new(base);
        let v = api.ok("post", "/api/v1/auth/login", Some(json!({"email": email, "password": password})), 200).await;
        api.token = Some(v["token"].as_str().expect("token").to_string());
        api
    }
}

const DEMO_PASSWORD: &str = "kadry-demo-2025";

/// The organisation of the directory whose name contains `part`.
fn org_named(directory: &Value, part: &str) -> String {
    directory["orgs"]
        .as_array()
        .expect("orgs")
        .iter()
        .find(|o| o["name"].as_str().is_some_and(|n| n.contains(part)))
        .and_then(|o| o["id"].as_str())
        .unwrap_or_else(|| panic!("no organisation like {part} in {directory}"))
        .to_string()
}

/// A Samara year over HTTP: a teacher registers and confirms the email, the school confirms
/// the workplace, the teacher asks for a voucher (ИОЧ) and the operator approves it, the teacher
/// enrols into a voucher group and the provider confirms; the server restarts (all committed
/// work is there) two months later, the provider completes the group, the certificate is in the
/// teacher's history and the ministry's report counts the teacher as trained.
async fn samara_year(storage: &str, extra: &[&str]) {
    let before_group = ["--now", "2025-02-03"];
    let server = Server::start(storage, &[extra, &before_group[..]].concat());
    let base = server.base.clone();
    let anon = Api::new(&base);

    let doc = anon.ok("get", "/api/v1/openapi.json", None, 200).await;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", doc["openapi"]);

    // Registration (R-A1, R-A3) at a school of the directory, readable without a session.
    let directory = anon.ok("get", "/api/v1/directory", None, 200).await;
    let school = org_named(&directory, "Школа № 1");
    let email = "smirnova@school1.example.ru";
    let password = "Весна-2025-пароль";
    let registration = json!({
        "full_name": "Смирнова Ольга Николаевна",
        "email": email,
        "password": password,
        "org": school,
        "position": "teacher",
        "consent": true,
        "snils": "112-233-445 95",
        "subject": "math"
    });
    let teacher_id = anon.ok("post", "/api/v1/auth/register", Some(registration.clone()), 201).await["person"]
        .as_str()
        .expect("person")
        .to_string();
    // The same email in other letters is taken (R-A2): a 409 with both messages.
    let mut again = registration.clone();
    again["email"] = json!("SMIRNOVA@School1.example.ru");
    let (s, e) = anon.call("post", "/api/v1/auth/register", Some(again)).await;
    assert_eq!((s, e["code"].as_str()), (409, Some("account.email_taken")), "{e}");
    assert!(e["message_ru"].as_str().is_some_and(|m| !m.is_empty()), "{e}");

    // R-A5: nothing but confirming before the email is confirmed.
    let teacher = Api::login(&base, email, password).await;
    let (s, e) = teacher.call("post", &format!("/api/v1/persons/{teacher_id}/voucher"), None).await;
    assert_eq!((s, e["code"].as_str()), (403, Some("account.email_unconfirmed")), "{e}");
    let code = server.code(email, "confirm_email");
    anon.ok("post", "/api/v1/auth/confirm", Some(json!({"email": email, "code": code})), 204).await;

    // The school's responsible confirms the workplace.
    let responsible = Api::login(&base, "responsible@demo.kadry.ru", DEMO_PASSWORD).await;
    responsible.ok("post", &format!("/api/v1/persons/{teacher_id}/workplace/confirm"), None, 204).await;
    let overdue_path = format!("/api/v1/reports/pk_overdue?scope_kind=organisation&scope={school}");
    let overdue_before = responsible.ok("get", &overdue_path, None, 200).await["value"].as_u64().expect("value");

    // The voucher (R-V1..R-V4): requested by the teacher, approved by the operator.
    teacher.ok("post", &format!("/api/v1/persons/{teacher_id}/voucher"), None, 204).await;
    let (s, e) = teacher.call("post", &format!("/api/v1/persons/{teacher_id}/voucher"), None).await;
    assert_eq!((s, e["code"].as_str()), (409, Some("voucher.pending_exists")), "{e}");
    let operator = Api::login(&base, "operator@demo.kadry.ru", DEMO_PASSWORD).await;
    operator.ok("post", &format!("/api/v1/persons/{teacher_id}/voucher/approve"), None, 204).await;
    let voucher = teacher.ok("get", &format!("/api/v1/persons/{teacher_id}/voucher"), None, 200).await;
    assert_eq!(voucher["status"], "active", "{voucher}");

    // The catalogue: the voucher group of the teachers' program, still recruiting.
    let catalogue = teacher.ok("get", "/api/v1/programs", None, 200).await;
    let group = catalogue["programs"]
        .as_array()
        .expect("programs")
        .iter()
        .flat_map(|p| p["groups"].as_array().cloned().unwrap_or_default())
        .find(|g| g["funding"] == "voucher")
        .unwrap_or_else(|| panic!("no voucher group in {catalogue}"));
    let group_id = group["id"].as_str().expect("group id").to_string();
    assert_eq!(group["status"], "recruiting", "{group}");

    // Enrolment (R-G1, R-G2) and the provider's confirmation.
    let enroll = json!({"worker": teacher_id});
    teacher.ok("post", &format!("/api/v1/groups/{group_id}/enrollments"), Some(enroll.clone()), 201).await;
    let (s, e) = teacher.call("post", &format!("/api/v1/groups/{group_id}/enrollments"), Some(enroll)).await;
    assert_eq!(s, 409, "a second enrolment is refused: {e}");
    let provider = Api::login(&base, "provider@demo.kadry.ru", DEMO_PASSWORD).await;
    provider.ok("post", &format!("/api/v1/groups/{group_id}/enrollments/{teacher_id}/confirm"), None, 204).await;
    let shown = provider.ok("get", &format!("/api/v1/groups/{group_id}"), None, 200).await;
    assert_eq!((shown["enrolled"].as_u64(), shown["confirmed"].as_u64()), (Some(1), Some(1)), "{shown}");
    // Completing before the last day is refused.
    let results = json!({"passed": [teacher_id], "failed": []});
    let (s, _) = provider.call("post", &format!("/api/v1/groups/{group_id}/complete"), Some(results.clone())).await;
    assert_eq!(s, 409, "the group has not ended");
    server.stop();

    // Two months later, on the same database: everything committed is there.
    let after_group = ["--now", "2025-04-07"];
    let server = Server::start(storage, &[extra, &after_group[..]].concat());
    let base = server.base.clone();
    let provider = Api::login(&base, "provider@demo.kadry.ru", DEMO_PASSWORD).await;
    let shown = provider.ok("get", &format!("/api/v1/groups/{group_id}"), None, 200).await;
    assert_eq!((shown["enrolled"].as_u64(), shown["status"].as_str()), (Some(1), Some("in_progress")), "{shown}");
    provider.ok("post", &format!("/api/v1/groups/{group_id}/complete"), Some(results), 204).await;

    // The certificate is in the teacher's history.
    let teacher = Api::login(&base, email, password).await;
    let training = teacher.ok("get", &format!("/api/v1/persons/{teacher_id}/training"), None, 200).await;
    assert_eq!((training["completed"].as_u64(), training["certificates"].as_u64()), (Some(1), Some(1)), "{training}");
    let certificate = &training["records"][0]["certificate"];
    assert!(certificate["number"].as_str().is_some_and(|n| !n.is_empty()), "{training}");
    // R-G6: anybody checks it with its series, number and code, without a session.
    let (series, number, code) = (&certificate["series"], &certificate["number"], &certificate["code"]);
    let (series, number, code) = (series.as_str().unwrap(), number.as_str().unwrap(), code.as_str().unwrap());
    let anyone = Api::new(&base);
    let check = anyone.ok("get", &format!("/api/v1/certificates/{series}/{number}?code={code}"), None, 200).await;
    assert_eq!(
        (check["number"].as_str(), check["hours"].as_u64()),
        (Some(number), training["records"][0]["hours"].as_u64())
    );
    assert!(check["holder"].as_str().is_some_and(|h| h.ends_with('.')), "surname and initials: {check}");
    let (s, _) = anyone.call("get", &format!("/api/v1/certificates/{series}/{number}?code=0000000000"), None).await;
    assert_eq!(s, 404, "a wrong code");
    let notes = teacher.ok("get", &format!("/api/v1/persons/{teacher_id}/notifications"), None, 200).await;
    assert!(notes["count"].as_u64().is_some_and(|n| n >= 2), "voucher and enrolment notices: {notes}");

    // The report: one overdue teacher fewer at the school; the ministry sees the region.
    let responsible = Api::login(&base, "responsible@demo.kadry.ru", DEMO_PASSWORD).await;
    let overdue_after = responsible.ok("get", &overdue_path, None, 200).await["value"].as_u64().expect("value");
    assert_eq!(overdue_after + 1, overdue_before, "the trained teacher is no longer overdue");
    let ministry = Api::login(&base, "ministry@demo.kadry.ru", DEMO_PASSWORD).await;
    let staff = ministry.ok("get", "/api/v1/reports/staff", None, 200).await;
    assert_eq!(staff["value"], 7, "the demo's six workers and the new teacher: {staff}");
    let (s, e) = responsible.call("get", "/api/v1/reports/staff", None).await;
    assert_eq!((s, e["code"].as_str()), (403, Some("access.denied")), "a school sees only itself: {e}");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_samara_year_over_http_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("kadry-e2e-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let storage = format!("sqlite:{}", dir.join("kadry.db").display());
    samara_year(&storage, &[]).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_samara_year_over_http_on_postgres() {
    let Ok(url) = std::env::var("KADRY_TEST_DATABASE_URL") else {
        eprintln!("skipped: KADRY_TEST_DATABASE_URL is not set");
        return;
    };
    // A fresh, empty schema: the server loads the demo region into it.
    kadry::adapters::PgStore::recreate_schema(&url, "kadry_e2e").await.expect("fresh schema");
    samara_year(&url, &["--schema", "kadry_e2e"]).await;
}

/// The curl walkthrough of `docs/server.md` runs as written: its `sh` blocks, in order, in one
/// bash session (`set -euo pipefail`), with `cargo run --example server --` standing for the
/// example binary this run built.
#[test]
fn the_walkthrough_in_docs_works() {
    let tools = ["bash", "curl", "jq"];
    if let Some(missing) =
        tools.iter().find(|t| Command::new("which").arg(t).output().map_or(true, |o| !o.status.success()))
    {
        eprintln!("skipped: `{missing}` is not installed");
        return;
    }
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/server.md")).expect("docs/server.md");
    let walkthrough = doc.split("## Walkthrough").nth(1).expect("a Walkthrough section");
    let walkthrough = walkthrough.split("\n## ").next().unwrap_or(walkthrough);
    let mut script = String::from(
        "set -euo pipefail\n\
         cargo() { [ \"$1 $2 $3 $4\" = 'run --example server --' ] || { echo \"unexpected cargo $*\" >&2; return 1; }; \
         shift 4; exec \"$KADRY_SERVER_BIN\" \"$@\"; }\n",
    );
    let mut blocks = 0;
    for block in walkthrough.split("```sh\n").skip(1) {
        script.push_str(block.split("```").next().expect("a closed block"));
        blocks += 1;
    }
    assert!(blocks >= 6, "the walkthrough has its steps: {blocks}");
    let dir = std::env::temp_dir().join(format!("kadry-walkthrough-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new("timeout")
        .args(["300", "bash", "-c", &script])
        .current_dir(&dir)
        .env("KADRY_SERVER_BIN", binary())
        .env("NO_COLOR", "1")
        .env("KADRY_LOG", "info")
        .output()
        .expect("run the walkthrough");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
    assert!(out.status.success(), "the walkthrough failed:\n{stdout}\n{stderr}\nserver log:\n{log}");
    assert!(stdout.contains("voucher.pending_exists"), "{stdout}");
    assert!(stdout.contains("\"certificates\": 1"), "{stdout}");
    // The overdue report: once before the course, once after, one fewer.
    let overdue: Vec<u64> = stdout
        .match_indices("{\"metric\":\"pk_overdue\",\"value\":")
        .filter_map(|(i, m)| stdout[i + m.len()..].split('}').next()?.parse().ok())
        .collect();
    assert_eq!(overdue.len(), 2, "{stdout}");
    assert_eq!(overdue[0], overdue[1] + 1, "{stdout}");
    let _ = std::fs::remove_dir_all(dir);
}
