//! The document's shape, the request types, and a run over HTTP (axum on a free port, reqwest)
//! whose every JSON response is checked against the document, strictly: an undeclared field is
//! a failure too.

use std::sync::Arc;

use kadry::adapters::SqliteStore;
use kadry::core::model::{Audience, OrgKind, Position};
use kadry::{RandomIds, RegionPolicy, Service, SystemClock};
use serde_json::{Value, json};

use super::dto::{OrAll, audience};
use super::*;
use crate::auth::{Auth, AuthDb};

/// Every operation of this module: method and path.
const OPERATIONS: &[(&str, &str)] = &[
    ("get", "/api/v1/directory"),
    ("post", "/api/v1/territories"),
    ("post", "/api/v1/orgs"),
    ("post", "/api/v1/orgs/{id}/reorganize"),
    ("get", "/api/v1/orgs/{id}/staff"),
    ("post", "/api/v1/persons"),
    ("post", "/api/v1/officials"),
    ("get", "/api/v1/persons/{id}"),
    ("patch", "/api/v1/persons/{id}"),
    ("post", "/api/v1/persons/{id}/change/confirm"),
    ("post", "/api/v1/persons/{id}/workplace/confirm"),
    ("post", "/api/v1/persons/{id}/dismiss"),
    ("post", "/api/v1/persons/{id}/transfer"),
    ("post", "/api/v1/me/workplace"),
    ("post", "/api/v1/persons/{id}/roles"),
    ("post", "/api/v1/role-requests"),
    ("post", "/api/v1/persons/{id}/role-requests/{role}/approve"),
    ("post", "/api/v1/persons/{id}/roles/{role}/restore"),
    ("post", "/api/v1/persons/{id}/voucher"),
    ("get", "/api/v1/persons/{id}/voucher"),
    ("post", "/api/v1/persons/{id}/voucher/approve"),
    ("post", "/api/v1/persons/{id}/voucher/reject"),
    ("post", "/api/v1/persons/{id}/voucher/cancel"),
    ("post", "/api/v1/persons/{id}/paper-vouchers"),
    ("post", "/api/v1/persons/{id}/plans"),
    ("get", "/api/v1/persons/{id}/training"),
    ("get", "/api/v1/persons/{id}/notifications"),
    ("get", "/api/v1/programs"),
    ("post", "/api/v1/programs"),
    ("get", "/api/v1/programs/{id}"),
    ("post", "/api/v1/programs/{id}/approve"),
    ("post", "/api/v1/groups"),
    ("get", "/api/v1/groups/{id}"),
    ("post", "/api/v1/groups/{id}/enrollments"),
    ("post", "/api/v1/groups/{id}/enrollments/{worker}/confirm"),
    ("delete", "/api/v1/groups/{id}/enrollments/{worker}"),
    ("post", "/api/v1/groups/{id}/complete"),
    ("get", "/api/v1/certificates/{series}/{number}"),
    ("get", "/api/v1/reports/{metric}"),
    ("get", "/api/v1/planning/{year}"),
    ("post", "/api/v1/planning/{year}/advance"),
    ("put", "/api/v1/planning/{year}/priorities"),
    ("put", "/api/v1/planning/{year}/norm"),
    ("put", "/api/v1/planning/{year}/limits/{source}"),
    ("get", "/api/v1/planning/{year}/funding"),
    ("get", "/api/v1/planning/{year}/eligibility"),
    ("post", "/api/v1/planning/{year}/quotas"),
    ("post", "/api/v1/planning/{year}/registry/approve"),
    ("post", "/api/v1/planning/{year}/forming"),
    ("get", "/api/v1/planning/{year}/plan-schedule"),
    ("post", "/api/v1/planning/{year}/plan-schedule/approve"),
    ("get", "/api/v1/planning/{year}/execution/{quarter}"),
    ("get", "/api/v1/planning/{year}/preferences"),
    ("post", "/api/v1/planning/{year}/offers/expire"),
    ("post", "/api/v1/programs/{id}/reviews"),
    ("post", "/api/v1/programs/{id}/protocol"),
    ("get", "/api/v1/persons/{id}/quota/{year}"),
    ("post", "/api/v1/persons/{id}/quota/{year}/refuse"),
    ("post", "/api/v1/quotas/{number}/reassign"),
    ("get", "/api/v1/persons/{id}/applications/{year}"),
    ("put", "/api/v1/persons/{id}/questionnaire/{year}"),
    ("post", "/api/v1/persons/{id}/applications/{year}/{program}/accept"),
    ("post", "/api/v1/persons/{id}/applications/{year}/{program}/decline"),
    ("put", "/api/v1/persons/{id}/parental-leave"),
    ("get", "/api/v1/persons/{id}/trajectory/{year}"),
    ("get", "/api/v1/reports/slice"),
    ("get", "/api/v1/reports/ready/{report}"),
    ("get", "/api/v1/reports/overdue"),
    ("get", "/api/v1/groups/{id}/registry"),
    ("get", "/api/v1/registry"),
    ("get", "/api/v1/frdo"),
    ("put", "/api/v1/persons/{id}/profile"),
    ("put", "/api/v1/persons/{id}/category"),
    ("post", "/api/v1/persons/{id}/trainings"),
    ("put", "/api/v1/persons/{id}/reminders"),
    ("post", "/api/v1/reminders/send"),
    ("post", "/api/v1/surveys"),
    ("post", "/api/v1/surveys/{id}/close"),
    ("post", "/api/v1/surveys/{id}/responses"),
    ("get", "/api/v1/persons/{id}/surveys"),
    ("get", "/api/v1/surveys/{id}/results"),
];

fn doc() -> Value {
    let text = openapi().to_pretty_json().expect("the document serialises");
    serde_json::from_str(&text).expect("the document is JSON")
}

#[test]
fn document_has_info_security_and_servers() {
    let d = doc();
    assert!(d["openapi"].as_str().unwrap().starts_with("3.1"), "{}", d["openapi"]);
    assert_eq!(d["info"]["title"], "kadry");
    assert_eq!(d["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(d["info"]["description"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(d["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    assert!(d["servers"].as_array().is_some_and(|s| !s.is_empty()));
}

#[test]
fn every_operation_is_documented_with_its_errors() {
    let d = doc();
    for (method, path) in OPERATIONS {
        let op = &d["paths"][path][method];
        assert!(op.is_object(), "{method} {path} missing");
        assert!(op["tags"].as_array().is_some_and(|t| !t.is_empty()), "{method} {path}: no tag");
        // The directory is what an anonymous visitor registers from, and anybody checks a
        // certificate: a session is optional there.
        let public = ["/api/v1/directory", "/api/v1/certificates/{series}/{number}"].contains(path);
        let security = if public { json!([{}, {"bearer": []}]) } else { json!([{"bearer": []}]) };
        assert_eq!(op["security"], security, "{method} {path}: security");
        let responses = op["responses"].as_object().unwrap();
        let ok: Vec<&String> = responses.keys().filter(|s| s.starts_with('2')).collect();
        assert_eq!(ok.len(), 1, "{method} {path}: one success status");
        for status in ["400", "401", "403", "404", "409", "503"] {
            let schema = &responses.get(status).unwrap_or_else(|| panic!("{method} {path}: no {status}"))["content"]["application/json"]
                ["schema"]["$ref"];
            assert_eq!(schema, "#/components/schemas/ErrorJson", "{method} {path} {status}");
        }
        if *method != "get" {
            assert!(responses.contains_key("422"), "{method} {path}: no 422");
        }
        // Path parameters are declared.
        let declared: Vec<&str> = op["parameters"]
            .as_array()
            .map(|ps| ps.iter().filter(|p| p["in"] == "path").filter_map(|p| p["name"].as_str()).collect())
            .unwrap_or_default();
        for segment in path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))) {
            assert!(declared.contains(&segment), "{method} {path}: parameter {segment} undeclared");
        }
    }
    let count: usize = d["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(p, _)| !p.starts_with("/api/v1/auth") && !p.contains("import"))
        .map(|(_, item)| item.as_object().unwrap().keys().filter(|k| OPERATION_KEYS.contains(&k.as_str())).count())
        .sum();
    assert_eq!(count, OPERATIONS.len(), "operations in the document but not in this test's list");
}

const OPERATION_KEYS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

#[test]
fn every_reference_resolves_and_bodies_are_closed() {
    let d = doc();
    let mut refs = Vec::new();
    collect_refs(&d, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        assert!(resolve(&d, &r).is_some(), "dangling {r}");
    }
    // Request bodies reject unknown fields, and say so.
    for (method, path) in OPERATIONS {
        let body = &d["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"];
        if body.is_null() {
            continue;
        }
        let schema = deref(&d, body);
        assert_eq!(schema["additionalProperties"], json!(false), "{method} {path}: body accepts unknown fields");
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

fn resolve<'a>(d: &'a Value, r: &str) -> Option<&'a Value> {
    let name = r.strip_prefix("#/components/schemas/")?;
    d["components"]["schemas"].get(name)
}

fn deref<'a>(d: &'a Value, mut s: &'a Value) -> &'a Value {
    while let Some(r) = s["$ref"].as_str() {
        s = resolve(d, r).unwrap_or_else(|| panic!("dangling {r}"));
    }
    s
}

/// Checks `v` against `schema` (the subset utoipa emits). `strict`: an object may hold only
/// the declared properties.
fn check(d: &Value, v: &Value, schema: &Value, strict: bool) -> Result<(), String> {
    let s = deref(d, schema);
    if let Some(all) = s["allOf"].as_array() {
        for sub in all {
            check(d, v, sub, false)?;
        }
        if strict && let Value::Object(m) = v {
            let known: Vec<String> = all.iter().flat_map(|sub| property_names(d, sub)).collect();
            if let Some(k) = m.keys().find(|k| !known.contains(k)) {
                return Err(format!("undeclared field {k}"));
            }
        }
        return Ok(());
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(alts) = s[key].as_array() {
            let matching = alts.iter().filter(|a| check(d, v, a, strict).is_ok()).count();
            return match (key, matching) {
                ("oneOf", 1) => Ok(()),
                ("anyOf", n) if n > 0 => Ok(()),
                _ => Err(format!("{v} matches {matching} of {key} {s}")),
            };
        }
    }
    if let Some(values) = s["enum"].as_array()
        && !values.contains(v)
    {
        return Err(format!("{v} not in {values:?}"));
    }
    let types: Vec<&str> = match &s["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !types.is_empty() {
        let fits = types.iter().any(|t| match *t {
            "null" => v.is_null(),
            "boolean" => v.is_boolean(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "string" => v.is_string(),
            "array" => v.is_array(),
            "object" => v.is_object(),
            _ => false,
        });
        if !fits {
            return Err(format!("{v} is not {types:?}"));
        }
    }
    if let (Some(min), Some(n)) = (s["minimum"].as_f64(), v.as_f64())
        && n < min
    {
        return Err(format!("{v} < {min}"));
    }
    if let (Some("date"), Some(text)) = (s["format"].as_str(), v.as_str()) {
        chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|e| format!("{text}: {e}"))?;
    }
    if let (Some("uuid"), Some(text)) = (s["format"].as_str(), v.as_str()) {
        uuid::Uuid::parse_str(text).map_err(|e| format!("{text}: {e}"))?;
    }
    if let Value::Array(items) = v
        && let Some(item) = s.get("items")
    {
        for i in items {
            check(d, i, item, strict)?;
        }
    }
    if let Value::Object(m) = v {
        let props = s["properties"].as_object();
        for r in s["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if !m.contains_key(r) {
                return Err(format!("missing required {r}"));
            }
        }
        for (k, val) in m {
            match props.and_then(|p| p.get(k)) {
                Some(ps) => check(d, val, ps, strict).map_err(|e| format!("{k}: {e}"))?,
                None if strict || s["additionalProperties"] == json!(false) => {
                    return Err(format!("undeclared field {k}"));
                }
                None => {}
            }
        }
    }
    Ok(())
}

fn property_names(d: &Value, schema: &Value) -> Vec<String> {
    let s = deref(d, schema);
    let mut names: Vec<String> = s["properties"].as_object().map(|p| p.keys().cloned().collect()).unwrap_or_default();
    for sub in s["allOf"].as_array().into_iter().flatten() {
        names.extend(property_names(d, sub));
    }
    names
}

#[test]
fn the_checker_catches_mismatches() {
    let d = doc();
    let report = json!({"$ref": "#/components/schemas/ReportView"});
    assert!(check(&d, &json!({"metric": "staff", "value": 3}), &report, true).is_ok());
    assert!(check(&d, &json!({"metric": "staff", "value": 3, "extra": 1}), &report, true).is_err());
    assert!(check(&d, &json!({"metric": "nope", "value": 3}), &report, true).is_err());
    assert!(check(&d, &json!({"metric": "staff", "value": "3"}), &report, true).is_err());
    assert!(check(&d, &json!({"metric": "staff"}), &report, true).is_err());
}

#[test]
fn request_types_reject_unknown_fields_and_wrong_types() {
    use super::orgs::NewTerritory;
    assert!(serde_json::from_value::<NewTerritory>(json!({"name": "Самара"})).is_ok());
    assert!(serde_json::from_value::<NewTerritory>(json!({"name": "Самара", "x": 1})).is_err());
    assert!(serde_json::from_value::<NewTerritory>(json!({"name": 5})).is_err());
}

#[test]
fn audiences_read_all_as_every_value() {
    let all: Vec<OrAll<Position>> = serde_json::from_value(json!(["all"])).unwrap();
    assert_eq!(audience(all), Audience::All);
    let some: Vec<OrAll<Position>> = serde_json::from_value(json!(["teacher", "educator"])).unwrap();
    assert_eq!(audience(some), Audience::Only(vec![Position::Teacher, Position::Educator]));
    let mixed: Vec<OrAll<OrgKind>> = serde_json::from_value(json!(["school", "all"])).unwrap();
    assert_eq!(audience(mixed), Audience::All);
    assert!(serde_json::from_value::<Vec<OrAll<Position>>>(json!(["astronaut"])).is_err());
    let none: Vec<OrAll<Position>> = serde_json::from_value(json!([])).unwrap();
    assert_eq!(audience(none), Audience::Only(vec![]));
}

// ---------------------------------------------------------------------------------------------
// Over HTTP
// ---------------------------------------------------------------------------------------------

const PASSWORD: &str = "correct horse battery";

struct Client {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
    doc: Value,
}

impl Client {
    /// Sends a request and checks the response against the documented operation `op_path`:
    /// the status must be declared, and a JSON body must match its schema strictly.
    async fn call(&self, method: &str, op_path: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let mut req = self.http.request(m, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        let value: Value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("JSON body") };
        let op = &self.doc["paths"][op_path][method];
        assert!(op.is_object(), "{method} {op_path} undocumented");
        let declared = &op["responses"][status.to_string()];
        assert!(declared.is_object(), "{method} {path}: status {status} undeclared: {value}");
        match declared["content"]["application/json"]["schema"].as_object() {
            Some(_) => {
                let schema = &declared["content"]["application/json"]["schema"];
                if let Err(e) = check(&self.doc, &value, schema, true) {
                    panic!("{method} {path} {status}: {e}\n{value:#}");
                }
            }
            None => assert!(value.is_null(), "{method} {path} {status}: undeclared body {value}"),
        }
        (status, value)
    }

    async fn login(&mut self, email: &str) {
        let res = self
            .http
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let v: Value = res.json().await.unwrap();
        self.token = Some(v["token"].as_str().unwrap().to_string());
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

/// The server on a free port over a fresh SQLite file, with an operator `op@test.kadry.ru`
/// whose password is [`PASSWORD`]. Dropping it stops the server and removes the file.
struct TestServer {
    base: String,
    service: Service,
    auth: Arc<Auth>,
    operator: kadry::core::ids::PersonId,
    server: tokio::task::JoinHandle<()>,
    path: std::path::PathBuf,
}

impl TestServer {
    async fn start() -> Self {
        Self::start_with(RegionPolicy::preset("samara").unwrap(), Arc::new(SystemClock)).await
    }

    async fn start_with(policy: RegionPolicy, clock: Arc<dyn kadry::core::ports::Clock>) -> Self {
        let path = std::env::temp_dir().join(format!("kadry-api-test-{}.db", uuid::Uuid::new_v4()));
        let store = SqliteStore::open(path.to_str().unwrap()).await.unwrap();
        let pool = store.pool().clone();
        let service = Service::new(policy, Arc::new(store), clock, Arc::new(RandomIds));
        let auth = Arc::new(Auth::new(AuthDb::Sqlite(pool), service.clone()).await.unwrap());
        let operator =
            service.bootstrap_operator("Оператор Центра Тестов", "op@test.kadry.ru", "регламент").await.unwrap();
        auth.set_password(operator, PASSWORD).await.unwrap();
        let app = router(AppState { service: service.clone(), auth: auth.clone() });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
        });
        TestServer { base: format!("http://{addr}"), service, auth, operator, server, path }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.server.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

#[tokio::test]
async fn the_api_over_http() {
    let ts = TestServer::start().await;
    let (service, auth, operator) = (ts.service.clone(), ts.auth.clone(), ts.operator);
    let base = ts.base.clone();
    let http = reqwest::Client::new();

    // The document is served, and is the one generated.
    let served: Value = http.get(format!("{base}{OPENAPI_PATH}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(served, doc());
    let mut c = Client { base, http, token: None, doc: served };

    // No session: 401, before the path is even looked at.
    let (s, e) = c.call("get", "/api/v1/persons/{id}", &format!("/api/v1/persons/{}", operator), None).await;
    assert_eq!((s, e["code"].as_str()), (401, Some("auth.required")));
    let (s, _) = c.call("get", "/api/v1/persons/{id}", "/api/v1/persons/not-a-uuid", None).await;
    assert_eq!(s, 401);

    c.login("op@test.kadry.ru").await;
    let me = operator.to_string();

    // Malformed input: 400 `input.invalid`.
    for (method, op, path, body) in [
        ("get", "/api/v1/persons/{id}", "/api/v1/persons/not-a-uuid".to_string(), None),
        ("post", "/api/v1/territories", "/api/v1/territories".into(), Some(json!({"name": "Т", "extra": 1}))),
        ("post", "/api/v1/territories", "/api/v1/territories".into(), Some(json!({"name": 5}))),
        ("post", "/api/v1/territories", "/api/v1/territories".into(), Some(json!([]))),
        ("post", "/api/v1/territories", "/api/v1/territories".into(), None),
        ("get", "/api/v1/reports/{metric}", "/api/v1/reports/bogus".into(), None),
        ("get", "/api/v1/reports/{metric}", "/api/v1/reports/staff?scope_kind=territory".into(), None),
        ("get", "/api/v1/reports/{metric}", "/api/v1/reports/staff?scope=1".into(), None),
        ("get", "/api/v1/reports/{metric}", "/api/v1/reports/staff?unknown=1".into(), None),
        (
            "post",
            "/api/v1/persons/{id}/roles/{role}/restore",
            format!("/api/v1/persons/{me}/roles/astronaut/restore"),
            None,
        ),
        (
            "post",
            "/api/v1/programs",
            "/api/v1/programs".into(),
            Some(json!({"provider": me, "title": "T", "hours": -1, "positions": ["all"]})),
        ),
    ] {
        let (s, e) = c.call(method, op, &path, body).await;
        assert_eq!((s, e["code"].as_str()), (400, Some("input.invalid")), "{method} {path}: {e}");
    }

    // Unknown resources and methods: coded JSON too.
    let res = c.http.get(format!("{}/api/v1/nowhere", c.base)).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "not_found");
    let res = c.http.delete(format!("{}/api/v1/territories", c.base)).send().await.unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "input.invalid");

    // A small region.
    let (s, t) = c.call("post", "/api/v1/territories", "/api/v1/territories", Some(json!({"name": "Тольятти"}))).await;
    assert_eq!(s, 201);
    let territory = id(&t);
    let (s, o) = c
        .call(
            "post",
            "/api/v1/orgs",
            "/api/v1/orgs",
            Some(json!({"name": "Школа № 1", "kind": "school", "territory": territory})),
        )
        .await;
    assert_eq!(s, 201);
    let school = id(&o);
    let provider_body = json!({
        "name": "Центр ДПО", "kind": "dpo", "territory": territory,
        "license": {"number": "6345"}, "ownership": "regional"
    });
    let (s, p) = c.call("post", "/api/v1/orgs", "/api/v1/orgs", Some(provider_body)).await;
    assert_eq!(s, 201);
    let provider = id(&p);
    let (s, e) = c
        .call(
            "post",
            "/api/v1/orgs",
            "/api/v1/orgs",
            Some(json!({"name": " ", "kind": "school", "territory": territory})),
        )
        .await;
    assert_eq!((s, e["code"].as_str()), (422, Some("input.invalid")));
    let (s, e) = c
        .call("post", "/api/v1/orgs", "/api/v1/orgs", Some(json!({"name": "X", "kind": "school", "territory": school})))
        .await;
    assert_eq!((s, e["code"].as_str()), (404, Some("not_found")));

    let teacher_body = json!({
        "full_name": "Иванова Мария Петровна", "email": "teacher@test.kadry.ru", "org": school,
        "position": "teacher", "subject": "math", "snils": "112-233-445 95"
    });
    let (s, t) = c.call("post", "/api/v1/persons", "/api/v1/persons", Some(teacher_body.clone())).await;
    assert_eq!(s, 201);
    let teacher = id(&t);
    let (s, e) = c.call("post", "/api/v1/persons", "/api/v1/persons", Some(teacher_body)).await;
    assert_eq!((s, e["code"].as_str()), (409, Some("account.email_taken")));
    let (s, k) = c
        .call(
            "post",
            "/api/v1/persons",
            "/api/v1/persons",
            Some(json!({"full_name": "Сидоров Олег Иванович", "email": "kurator@test.kadry.ru", "org": provider, "position": "methodist"})),
        )
        .await;
    assert_eq!(s, 201);
    let kurator = id(&k);
    let (s, _) = c
        .call(
            "post",
            "/api/v1/persons/{id}/roles",
            &format!("/api/v1/persons/{kurator}/roles"),
            Some(json!({"role": "provider", "scope": {"organisation": provider}, "basis": "приказ № 1"})),
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = c
        .call(
            "post",
            "/api/v1/officials",
            "/api/v1/officials",
            Some(json!({"full_name": "Министерство Образования", "email": "min@test.kadry.ru", "role": "ministry", "basis": "положение"})),
        )
        .await;
    assert_eq!(s, 201);

    // Views, each checked against the document.
    let (s, v) = c.call("get", "/api/v1/persons/{id}", &format!("/api/v1/persons/{teacher}"), None).await;
    assert_eq!(s, 200);
    assert_eq!((v["employment"].as_str(), v["position"].as_str()), (Some("active"), Some("teacher")));
    let (s, v) = c.call("get", "/api/v1/persons/{id}", &format!("/api/v1/persons/{kurator}"), None).await;
    assert_eq!(s, 200);
    assert!(v["roles"].as_array().unwrap().iter().any(|r| r["role"] == "provider" && r["suspended"] == false), "{v}");
    let (s, v) = c.call("get", "/api/v1/persons/{id}", &format!("/api/v1/persons/{me}"), None).await;
    assert_eq!((s, v["employment"].as_str()), (200, Some("none")));
    let (s, _) =
        c.call("get", "/api/v1/persons/{id}", &format!("/api/v1/persons/{}", uuid::Uuid::new_v4()), None).await;
    assert_eq!(s, 404);
    let (s, v) = c.call("get", "/api/v1/orgs/{id}/staff", &format!("/api/v1/orgs/{school}/staff"), None).await;
    assert_eq!((s, v["count"].as_u64()), (200, Some(1)));
    let (s, v) =
        c.call("get", "/api/v1/persons/{id}/voucher", &format!("/api/v1/persons/{teacher}/voucher"), None).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("none")));
    let (s, v) =
        c.call("get", "/api/v1/persons/{id}/training", &format!("/api/v1/persons/{teacher}/training"), None).await;
    assert_eq!((s, v["completed"].as_u64()), (200, Some(0)));
    let (s, v) = c
        .call("get", "/api/v1/persons/{id}/notifications", &format!("/api/v1/persons/{teacher}/notifications"), None)
        .await;
    assert_eq!((s, v["count"].as_u64()), (200, Some(0)));
    for (q, expected) in [
        (String::new(), 2),
        (format!("?scope_kind=organisation&scope={school}"), 1),
        (format!("?scope_kind=territory&scope={territory}"), 2),
    ] {
        let (s, v) = c.call("get", "/api/v1/reports/{metric}", &format!("/api/v1/reports/staff{q}"), None).await;
        assert_eq!((s, v["value"].as_u64()), (200, Some(expected)), "{q}");
    }
    let (s, _) = c
        .call(
            "patch",
            "/api/v1/persons/{id}",
            &format!("/api/v1/persons/{teacher}"),
            Some(json!({"subject": "physics"})),
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = c
        .call("post", "/api/v1/persons/{id}/change/confirm", &format!("/api/v1/persons/{teacher}/change/confirm"), None)
        .await;
    assert_eq!(s, 204);

    // The provider's side: a program and a group.
    service
        .execute(
            kadry::Actor::Person(kadry::core::ids::PersonId(kurator.parse().unwrap())),
            kadry::Command::ConfirmEmail { person: kadry::core::ids::PersonId(kurator.parse().unwrap()) },
        )
        .await
        .unwrap();
    auth.set_password(kadry::core::ids::PersonId(kurator.parse().unwrap()), PASSWORD).await.unwrap();
    let mut k = Client { base: c.base.clone(), http: c.http.clone(), token: None, doc: c.doc.clone() };
    k.login("kurator@test.kadry.ru").await;
    let program_body = json!({
        "provider": provider, "title": "Обновлённые ФГОС", "hours": 72,
        "positions": ["all"], "profile_for": ["teacher"], "org_kinds": ["school", "kindergarten"]
    });
    let (s, p) = k.call("post", "/api/v1/programs", "/api/v1/programs", Some(program_body)).await;
    assert_eq!(s, 201, "{p}");
    let program = id(&p);
    let (s, e) = c
        .call(
            "post",
            "/api/v1/programs",
            "/api/v1/programs",
            Some(json!({"provider": provider, "title": "T", "hours": 1, "positions": ["all"]})),
        )
        .await;
    assert_eq!((s, e["code"].as_str()), (403, Some("access.denied")));
    let (s, v) = k.call("get", "/api/v1/programs/{id}", &format!("/api/v1/programs/{program}"), None).await;
    assert_eq!(
        (s, &v["positions"], &v["profile_for"], v["status"].as_str()),
        (200, &json!("all"), &json!({"only": ["teacher"]}), Some("submitted"))
    );
    let (s, _) =
        c.call("post", "/api/v1/programs/{id}/approve", &format!("/api/v1/programs/{program}/approve"), None).await;
    assert_eq!(s, 204);
    let group_body = json!({
        "program": program, "starts": "2099-02-01", "ends": "2099-02-12",
        "place": "Самара", "capacity": 10, "funding": "state"
    });
    let (s, g) = k.call("post", "/api/v1/groups", "/api/v1/groups", Some(group_body)).await;
    assert_eq!(s, 201, "{g}");
    let group = id(&g);
    let (s, v) = c.call("get", "/api/v1/groups/{id}", &format!("/api/v1/groups/{group}"), None).await;
    assert_eq!((s, v["status"].as_str(), v["seats_left"].as_u64()), (200, Some("recruiting"), Some(10)));
    let (s, _) = k
        .call(
            "delete",
            "/api/v1/groups/{id}/enrollments/{worker}",
            &format!("/api/v1/groups/{group}/enrollments/{teacher}"),
            None,
        )
        .await;
    assert!(s == 404 || s == 409, "{s}");

    // Extreme values are refused, never a fault.
    for year in [i32::MIN, -1, 0, 10_000, i32::MAX] {
        let body = json!({"provider": provider, "title": "T", "hours": 1, "positions": ["all"], "year": year});
        let (s, _) = k.call("post", "/api/v1/programs", "/api/v1/programs", Some(body)).await;
        assert!((400..500).contains(&s), "year {year}: {s}");
        let (s, _) = c
            .call(
                "post",
                "/api/v1/persons/{id}/plans",
                &format!("/api/v1/persons/{teacher}/plans"),
                Some(json!({"program": program, "year": year})),
            )
            .await;
        assert!((400..500).contains(&s), "year {year}: {s}");
    }
    for day in ["0001-01-01", "9999-12-31"] {
        let (s, _) = c
            .call(
                "post",
                "/api/v1/persons/{id}/paper-vouchers",
                &format!("/api/v1/persons/{teacher}/paper-vouchers"),
                Some(json!({"issued_on": day})),
            )
            .await;
        assert!(s < 500, "{day}: {s}");
        let body = json!({"program": program, "starts": day, "ends": day, "place": "С", "capacity": u32::MAX, "funding": "voucher"});
        let (s, _) = k.call("post", "/api/v1/groups", "/api/v1/groups", Some(body)).await;
        assert!(s < 500, "{day}: {s}");
    }
    let (s, _) = c
        .call(
            "post",
            "/api/v1/persons",
            "/api/v1/persons",
            Some(json!({"full_name": "Петров Пётр", "email": "p@test.kadry.ru", "org": school, "position": "teacher", "birth_year": i32::MIN})),
        )
        .await;
    assert!(s < 500, "{s}");

    // The caller's card, strictly as documented.
    let (s, v) = c.call("get", "/api/v1/auth/me", "/api/v1/auth/me", None).await;
    assert_eq!((s, v["id"].as_str()), (200, Some(me.as_str())));

    // A self-registered account that has not confirmed its email may log in but not act (R-A5):
    // 403 `account.email_unconfirmed`, declared by every operation it reaches.
    let newcomer = json!({
        "full_name": "Новикова Анна Сергеевна", "email": "newcomer@test.kadry.ru", "password": PASSWORD,
        "org": school, "position": "teacher", "consent": true
    });
    let (s, r) = c.call("post", "/api/v1/auth/register", "/api/v1/auth/register", Some(newcomer)).await;
    assert_eq!(s, 201, "{r}");
    let mut n = Client { base: c.base.clone(), http: c.http.clone(), token: None, doc: c.doc.clone() };
    n.login("newcomer@test.kadry.ru").await;
    let newcomer_id = r["person"].as_str().unwrap();
    for (op, path) in [
        ("/api/v1/auth/me", "/api/v1/auth/me".to_string()),
        ("/api/v1/persons/{id}", format!("/api/v1/persons/{newcomer_id}")),
        ("/api/v1/programs", "/api/v1/programs".into()),
    ] {
        let (s, e) = n.call("get", op, &path, None).await;
        assert_eq!((s, e["code"].as_str()), (403, Some("account.email_unconfirmed")), "{path}");
    }
}

/// Each path answers exactly the methods the document lists for it; any other method is 405
/// with an `Allow` header naming the documented ones (never a handler of a neighbouring path).
#[tokio::test]
async fn only_documented_methods_are_served() {
    let ts = TestServer::start().await;
    let http = reqwest::Client::new();
    let d = doc();
    for (template, item) in d["paths"].as_object().unwrap() {
        let path = template
            .replace("{role}", "operator")
            .replace("{metric}", "staff")
            .split('/')
            .map(|seg| if seg.starts_with('{') { uuid::Uuid::nil().to_string() } else { seg.to_string() })
            .collect::<Vec<_>>()
            .join("/");
        let documented: Vec<String> = item
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| OPERATION_KEYS.contains(&k.as_str()))
            .map(|k| k.to_uppercase())
            .collect();
        for method in OPERATION_KEYS {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let res = http.request(m, format!("{}{path}", ts.base)).send().await.unwrap();
            let status = res.status().as_u16();
            if documented.contains(&method.to_uppercase()) {
                assert_ne!(status, 405, "{method} {template}: documented but not served");
                continue;
            }
            assert_eq!(status, 405, "{method} {template}: served but not documented");
            let allow = res.headers().get("allow").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
            let mut allowed: Vec<String> =
                allow.split(',').map(|m| m.trim().to_uppercase()).filter(|m| !m.is_empty() && m != "HEAD").collect();
            allowed.sort();
            let mut expected = documented.clone();
            expected.sort();
            assert_eq!(allowed, expected, "{method} {template}: Allow {allow:?}");
            assert_eq!(res.json::<Value>().await.unwrap()["code"], "input.invalid", "{method} {template}");
        }
    }
}

#[test]
fn auth_operations_declare_their_errors() {
    let d = doc();
    let declared = |method: &str, path: &str, status: &str| {
        let r = &d["paths"][path][method]["responses"][status];
        assert_eq!(
            r["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorJson",
            "{method} {path}: {status} undeclared"
        );
    };
    for (method, path) in [
        ("post", "/api/v1/auth/register"),
        ("post", "/api/v1/auth/confirm"),
        ("post", "/api/v1/auth/login"),
        ("post", "/api/v1/auth/reset"),
        ("get", "/api/v1/auth/me"),
    ] {
        declared(method, path, "503");
    }
    declared("post", "/api/v1/auth/login", "429");
    declared("get", "/api/v1/auth/me", "403");
    let password = &d["components"]["schemas"]["RegisterRequest"]["properties"]["password"];
    let policy = (crate::auth::MIN_PASSWORD_CHARS as u64, crate::auth::MAX_PASSWORD_CHARS as u64);
    assert_eq!((password["minLength"].as_u64(), password["maxLength"].as_u64()), (Some(policy.0), Some(policy.1)));
}

/// The planning cycle over HTTP, Yugra: norms and limits, forming, the plan-schedule, its
/// monitoring and financing; every response checked against the document.
#[tokio::test]
async fn a_planning_cycle_over_http() {
    use kadry::Actor;
    use kadry::core::ids::{OrgId, PersonId, ProgramId, TerritoryId};
    use kadry::core::model::License;
    use kadry::core::ports::ManualClock;
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&chrono::Utc);
    let clock = Arc::new(ManualClock::new(at("2025-06-02T09:00:00+05:00")));
    let ts = TestServer::start_with(RegionPolicy::yugra(), clock.clone()).await;
    let (service, auth, op) = (ts.service.clone(), ts.auth.clone(), ts.operator);
    let exec = |actor: PersonId, c: Command| {
        let service = service.clone();
        async move { service.execute(Actor::Person(actor), c).await.unwrap().created() }
    };
    // The region, set up through the core.
    let t = TerritoryId(exec(op, Command::RegisterTerritory { name: "Сургут".into() }).await.unwrap());
    let org = |name: &str, kind, license| Command::RegisterOrg {
        name: name.into(),
        kind,
        territory: t,
        parent: None,
        license,
        ownership: None,
    };
    let school = OrgId(exec(op, org("СОШ № 1", OrgKind::School, None)).await.unwrap());
    let lic = License { number: "2711".into(), valid_until: None, issued_on: None };
    let iro = OrgId(exec(op, org("Институт развития", OrgKind::Dpo, Some(lic))).await.unwrap());
    let person = |email: &str, org| Command::RegisterPerson {
        full_name: "Иванова Мария Петровна".into(),
        email: email.into(),
        org,
        position: Position::Teacher,
        pedagogical: true,
        consent: true,
        snils: None,
        subject: None,
        birth_year: None,
    };
    let mut teachers = Vec::new();
    for i in 0..2 {
        let p = PersonId(exec(op, person(&format!("t{i}@school.ru"), school)).await.unwrap());
        exec(p, Command::ConfirmEmail { person: p }).await;
        teachers.push(p);
    }
    let kurator = PersonId(exec(op, person("kurator@iro.ru", iro)).await.unwrap());
    exec(kurator, Command::ConfirmEmail { person: kurator }).await;
    let grant = Command::GrantRole {
        person: kurator,
        role: kadry::core::model::Role::Provider,
        scope: Some(kadry::ScopeRef::Organisation(iro)),
        basis: "приказ № 1".into(),
    };
    exec(op, grant).await;
    let program = ProgramId(
        exec(
            kurator,
            Command::SubmitProgram {
                form: Default::default(),
                provider: iro,
                title: "Обновлённые ФГОС".into(),
                hours: 36,
                annotation: None,
                positions: Audience::All,
                profile_for: Audience::All,
                org_kinds: Audience::All,
                subjects: Audience::All,
                year: Some(2026),
                direction: None,
                min_group: Some(1),
                max_group: Some(3),
                places: None,
            },
        )
        .await
        .unwrap(),
    );
    exec(op, Command::ApproveProgram { program }).await;
    let ministry = PersonId(
        exec(
            op,
            Command::RegisterOfficial {
                full_name: "Министерство Образования".into(),
                email: "ministry@test.kadry.ru".into(),
                role: kadry::core::model::Role::Ministry,
                basis: "положение".into(),
            },
        )
        .await
        .unwrap(),
    );
    exec(ministry, Command::ConfirmEmail { person: ministry }).await;
    auth.set_password(ministry, PASSWORD).await.unwrap();
    clock.set(at("2025-09-01T10:00:00+05:00"));
    for w in &teachers {
        let c = Command::PlanTraining { worker: *w, program, year: 2026, place: None, period: Some(1), quota: None };
        exec(*w, c).await;
    }

    let base = ts.base.clone();
    let http = reqwest::Client::new();
    let doc: Value = http.get(format!("{base}{OPENAPI_PATH}")).send().await.unwrap().json().await.unwrap();
    let mut c = Client { base, http, token: None, doc };
    let (w0, p) = (teachers[0].to_string(), program.to_string());

    // The ministry: norms and limits.
    c.login("ministry@test.kadry.ru").await;
    let (s, v) = c.call("get", "/api/v1/planning/{year}", "/api/v1/planning/2026", None).await;
    assert_eq!((s, v["stage"].as_u64()), (200, Some(0)));
    let put = |path: &str| path.to_string();
    let (s, _) = c
        .call(
            "put",
            "/api/v1/planning/{year}/norm",
            &put("/api/v1/planning/2026/norm"),
            Some(json!({"amount": "10000"})),
        )
        .await;
    assert_eq!(s, 204);
    let (s, e) = c
        .call("put", "/api/v1/planning/{year}/norm", "/api/v1/planning/2026/norm", Some(json!({"amount": "ten"})))
        .await;
    assert_eq!((s, e["code"].as_str()), (400, Some("input.invalid")));
    let limits = "/api/v1/planning/{year}/limits/{source}";
    let (s, _) = c.call("put", limits, "/api/v1/planning/2026/limits/state", Some(json!({"amount": "15000"}))).await;
    assert_eq!(s, 204);
    let (s, e) = c.call("put", limits, "/api/v1/planning/2026/limits/paid", Some(json!({"amount": "1"}))).await;
    assert_eq!((s, e["code"].as_str()), (422, Some("input.invalid")));
    let (s, e) = c.call("put", limits, "/api/v1/planning/2026/limits/barter", Some(json!({"amount": "1"}))).await;
    assert_eq!((s, e["code"].as_str()), (400, Some("input.invalid")));
    let (s, _) = c
        .call(
            "put",
            "/api/v1/planning/{year}/priorities",
            "/api/v1/planning/2026/priorities",
            Some(json!({"priorities": ["ФГОС"]})),
        )
        .await;
    assert_eq!(s, 204);

    // The operator forms groups: refused past the limit, then formed.
    c.login("op@test.kadry.ru").await;
    let forming = "/api/v1/planning/{year}/forming";
    let (s, e) = c.call("post", forming, "/api/v1/planning/2026/forming", None).await;
    assert_eq!((s, e["code"].as_str()), (409, Some("planning.window_closed")), "the plan is formed from 16 October");
    clock.set(at("2025-10-20T10:00:00+05:00"));
    let (s, e) = c.call("post", forming, "/api/v1/planning/2026/forming", None).await;
    assert_eq!((s, e["code"].as_str()), (409, Some("funding.limit_exceeded")));
    c.login("ministry@test.kadry.ru").await;
    let (s, _) = c.call("put", limits, "/api/v1/planning/2026/limits/state", Some(json!({"amount": "20000"}))).await;
    assert_eq!(s, 204);
    c.login("op@test.kadry.ru").await;
    let (s, _) = c.call("post", forming, "/api/v1/planning/2026/forming", None).await;
    assert_eq!(s, 204);
    let (s, v) =
        c.call("get", "/api/v1/planning/{year}/plan-schedule", "/api/v1/planning/2026/plan-schedule", None).await;
    assert_eq!((s, v["groups"].as_u64(), v["placed"].as_u64()), (200, Some(1), Some(2)), "{v}");
    let apps = format!("/api/v1/persons/{w0}/applications/2026");
    let (s, v) = c.call("get", "/api/v1/persons/{id}/applications/{year}", &apps, None).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("placed")));
    let (s, v) = c.call("get", "/api/v1/planning/{year}/funding", "/api/v1/planning/2026/funding", None).await;
    assert_eq!(
        (s, v["accounts"][0]["used"].as_str(), v["accounts"][0]["left"].as_str()),
        (200, Some("20000.00"), Some("0.00"))
    );
    let (s, v) = c.call("get", "/api/v1/planning/{year}/eligibility", "/api/v1/planning/2026/eligibility", None).await;
    assert_eq!((s, v["count"].as_u64()), (200, Some(3)), "two teachers and the curator, never trained");
    let execution = "/api/v1/planning/{year}/execution/{quarter}";
    let (s, v) = c.call("get", execution, "/api/v1/planning/2026/execution/1", None).await;
    assert_eq!((s, v["planned"].as_u64(), v["due"].as_str()), (200, Some(1), Some("2026-04-10")));
    let (s, e) = c.call("get", execution, "/api/v1/planning/2026/execution/5", None).await;
    assert_eq!((s, e["code"].as_str()), (422, Some("input.invalid")));
    let (s, v) = c.call("get", "/api/v1/planning/{year}/preferences", "/api/v1/planning/2026/preferences", None).await;
    assert_eq!((s, v["answers"].as_u64()), (200, Some(0)));
    let trajectory = format!("/api/v1/persons/{w0}/trajectory/2026");
    let (s, v) = c.call("get", "/api/v1/persons/{id}/trajectory/{year}", &trajectory, None).await;
    assert_eq!((s, v["due"].as_bool()), (200, Some(true)), "{v}");
    let (s, v) =
        c.call("get", "/api/v1/persons/{id}/quota/{year}", &format!("/api/v1/persons/{w0}/quota/2026"), None).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("none")));
    // What Yugra does not have: stages, quota numbers, the council's registry.
    for (method, op_path, path, body, status, code) in [
        (
            "post",
            "/api/v1/planning/{year}/advance",
            "/api/v1/planning/2026/advance".to_string(),
            None,
            409,
            "state.invalid",
        ),
        ("post", "/api/v1/planning/{year}/quotas", "/api/v1/planning/2026/quotas".into(), None, 409, "state.invalid"),
        (
            "post",
            "/api/v1/quotas/{number}/reassign",
            "/api/v1/quotas/2026-000001/reassign".into(),
            Some(json!({"to": w0})),
            409,
            "quota.invalid",
        ),
        (
            "post",
            "/api/v1/persons/{id}/quota/{year}/refuse",
            format!("/api/v1/persons/{w0}/quota/2026/refuse"),
            None,
            409,
            "quota.invalid",
        ),
        (
            "post",
            "/api/v1/programs/{id}/reviews",
            format!("/api/v1/programs/{p}/reviews"),
            Some(json!({"stage": "technical", "passed": true, "conclusion": "ok"})),
            403,
            "access.denied",
        ),
        (
            "post",
            "/api/v1/programs/{id}/protocol",
            format!("/api/v1/programs/{p}/protocol"),
            Some(json!({"number": "1", "votes": [{"member": w0, "vote": "for"}]})),
            403,
            "access.denied",
        ),
        (
            "put",
            "/api/v1/persons/{id}/questionnaire/{year}",
            format!("/api/v1/persons/{w0}/questionnaire/2026"),
            Some(json!({"directions": ["ФГОС"]})),
            403,
            "access.denied",
        ),
        (
            "post",
            "/api/v1/persons/{id}/applications/{year}/{program}/accept",
            format!("/api/v1/persons/{w0}/applications/2026/{p}/accept"),
            None,
            403,
            "access.denied",
        ),
        (
            "post",
            "/api/v1/persons/{id}/applications/{year}/{program}/decline",
            format!("/api/v1/persons/{w0}/applications/2026/{p}/decline"),
            None,
            403,
            "access.denied",
        ),
    ] {
        let (s, e) = c.call(method, op_path, &path, body).await;
        assert_eq!((s, e["code"].as_str()), (status, Some(code)), "{method} {path}: {e}");
    }
    let (s, _) = c
        .call(
            "put",
            "/api/v1/persons/{id}/parental-leave",
            &format!("/api/v1/persons/{w0}/parental-leave"),
            Some(json!({"on_leave": true})),
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) =
        c.call("post", "/api/v1/planning/{year}/offers/expire", "/api/v1/planning/2026/offers/expire", None).await;
    assert_eq!(s, 204);
    c.login("ministry@test.kadry.ru").await;
    let (s, e) = c
        .call("post", "/api/v1/planning/{year}/registry/approve", "/api/v1/planning/2026/registry/approve", None)
        .await;
    assert_eq!((s, e["code"].as_str()), (409, Some("state.invalid")));
    let (s, _) = c
        .call(
            "post",
            "/api/v1/planning/{year}/plan-schedule/approve",
            "/api/v1/planning/2026/plan-schedule/approve",
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, v) = c.call("get", "/api/v1/planning/{year}", "/api/v1/planning/2026", None).await;
    assert_eq!(
        (s, v["plan_approved_on"].as_str(), v["priorities"][0].as_str()),
        (200, Some("2025-10-20"), Some("ФГОС"))
    );
    // R-G6: the public check of a certificate needs no session; unknown is 404, no code is 400.
    c.token = None;
    let verify = "/api/v1/certificates/{series}/{number}";
    let (s, e) = c.call("get", verify, "/api/v1/certificates/2711/2026-000001?code=ABCDEF0123", None).await;
    assert_eq!((s, e["code"].as_str()), (404, Some("not_found")));
    let (s, e) = c.call("get", verify, "/api/v1/certificates/2711/2026-000001", None).await;
    assert_eq!((s, e["code"].as_str()), (400, Some("input.invalid")));
}

/// Results, records, reports and the files over HTTP (R-G6, R-R1): a group completed with
/// attendance and a non-completion, the registries as JSON, CSV and XLSX, the ФИС ФРДО upload
/// (opened as a spreadsheet: the template's columns in order), slices and reminders; every JSON
/// response checked against the document.
#[tokio::test]
async fn results_registries_and_exports_over_http() {
    use calamine::{Data, Reader, Xlsx};
    use kadry::Actor;
    use kadry::core::frdo::TEMPLATE_2024;
    use kadry::core::ids::{GroupId, OrgId, PersonId, ProgramId, TerritoryId};
    use kadry::core::model::{Funding, License};
    use kadry::core::ports::ManualClock;
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&chrono::Utc);
    let clock = Arc::new(ManualClock::new(at("2025-02-03T09:00:00+04:00")));
    let ts = TestServer::start_with(RegionPolicy::preset("samara").unwrap(), clock.clone()).await;
    let (service, auth, op) = (ts.service.clone(), ts.auth.clone(), ts.operator);
    let exec = |actor: PersonId, c: Command| {
        let service = service.clone();
        async move { service.execute(Actor::Person(actor), c).await.unwrap().created() }
    };
    let t = TerritoryId(exec(op, Command::RegisterTerritory { name: "Тольятти".into() }).await.unwrap());
    let org = |name: &str, kind, license| Command::RegisterOrg {
        name: name.into(),
        kind,
        territory: t,
        parent: None,
        license,
        ownership: None,
    };
    let school = OrgId(exec(op, org("СОШ № 1", OrgKind::School, None)).await.unwrap());
    let lic = License { number: "6345".into(), valid_until: None, issued_on: None };
    let ctr = OrgId(exec(op, org("Центр ДПО", OrgKind::Dpo, Some(lic))).await.unwrap());
    let person = |name: &str, email: &str, org| Command::RegisterPerson {
        full_name: name.into(),
        email: email.into(),
        org,
        position: Position::Teacher,
        pedagogical: true,
        consent: true,
        snils: Some("112-233-445 95".into()).filter(|_| email.starts_with("iv")),
        subject: None,
        birth_year: None,
    };
    let ivanova = PersonId(exec(op, person("Иванова Мария Петровна", "iv@school.ru", school)).await.unwrap());
    let petrov = PersonId(exec(op, person("Петров Илья Сергеевич", "pe@school.ru", school)).await.unwrap());
    let kurator = PersonId(exec(op, person("Сидоров Олег Иванович", "ku@ctr.ru", ctr)).await.unwrap());
    for p in [ivanova, petrov, kurator] {
        exec(p, Command::ConfirmEmail { person: p }).await;
    }
    let grant = Command::GrantRole {
        person: kurator,
        role: kadry::core::model::Role::Provider,
        scope: Some(kadry::ScopeRef::Organisation(ctr)),
        basis: "приказ № 1".into(),
    };
    exec(op, grant).await;
    auth.set_password(kurator, PASSWORD).await.unwrap();
    let program = ProgramId(
        exec(
            kurator,
            Command::SubmitProgram {
                form: Some(kadry::core::planning::StudyForm::Distance),
                provider: ctr,
                title: "Цифровая школа".into(),
                hours: 72,
                annotation: None,
                positions: Audience::All,
                profile_for: Audience::All,
                org_kinds: Audience::All,
                subjects: Audience::All,
                year: None,
                direction: None,
                min_group: None,
                max_group: None,
                places: None,
            },
        )
        .await
        .unwrap(),
    );
    exec(op, Command::ApproveProgram { program }).await;
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let open = Command::OpenGroup {
        program,
        starts: day("2025-03-03"),
        ends: day("2025-03-28"),
        place: "дистанционно".into(),
        capacity: 10,
        funding: Funding::State,
    };
    let group = GroupId(exec(kurator, open).await.unwrap());
    for w in [ivanova, petrov] {
        exec(w, Command::Enroll { worker: w, group }).await;
    }
    clock.set(at("2025-03-28T15:00:00+04:00"));

    let base = ts.base.clone();
    let http = reqwest::Client::new();
    let doc: Value = http.get(format!("{base}{OPENAPI_PATH}")).send().await.unwrap().json().await.unwrap();
    let mut c = Client { base, http, token: None, doc };
    c.login("op@test.kadry.ru").await;
    let mut k = Client { base: c.base.clone(), http: c.http.clone(), token: None, doc: c.doc.clone() };
    k.login("ku@ctr.ru").await;
    let (iv, pe, g) = (ivanova.to_string(), petrov.to_string(), group.to_string());

    // The federal registry's data, checked on entry.
    let profile = |citizenship: &str| {
        json!({
            "birth_date": "1985-04-12", "sex": "female", "citizenship": citizenship,
            "education": {"level": "higher", "surname": "Смирнова", "number": "0123456"}
        })
    };
    let put_profile = format!("/api/v1/persons/{iv}/profile");
    let (s, e) = c.call("put", "/api/v1/persons/{id}/profile", &put_profile, Some(profile("RUS"))).await;
    assert_eq!((s, e["code"].as_str()), (422, Some("input.invalid")), "{e}");
    let (s, _) = c.call("put", "/api/v1/persons/{id}/profile", &put_profile, Some(profile("643"))).await;
    assert_eq!(s, 204);
    let (s, e) = k.call("put", "/api/v1/persons/{id}/profile", &put_profile, Some(profile("643"))).await;
    assert_eq!((s, e["code"].as_str()), (403, Some("access.denied")));

    // Results: a pass with attendance, a non-completion with its reason.
    let complete = format!("/api/v1/groups/{g}/complete");
    let results = |hours: u32| {
        json!({
            "passed": [iv], "attendance": [{"person": iv, "hours": hours}],
            "not_completed": [{"person": pe, "reason": "болезнь"}]
        })
    };
    let (s, e) = k.call("post", "/api/v1/groups/{id}/complete", &complete, Some(results(73))).await;
    assert_eq!((s, e["code"].as_str()), (422, Some("input.invalid")), "{e}");
    let (s, _) = k.call("post", "/api/v1/groups/{id}/complete", &complete, Some(results(72))).await;
    assert_eq!(s, 204);

    // The group's registry, as JSON and as files.
    let reg = format!("/api/v1/groups/{g}/registry");
    let (s, v) = k.call("get", "/api/v1/groups/{id}/registry", &reg, None).await;
    assert_eq!(
        (s, v["count"].as_u64(), v["passed"].as_u64(), v["not_completed"].as_u64()),
        (200, Some(2), Some(1), Some(1))
    );
    let (s, e) = c.call("get", "/api/v1/groups/{id}/registry", &format!("{reg}?format=pdf"), None).await;
    assert_eq!((s, e["code"].as_str()), (400, Some("input.invalid")));
    let raw = |path: String, token: Option<String>| {
        let (http, base) = (c.http.clone(), c.base.clone());
        async move {
            let mut r = http.get(format!("{base}{path}"));
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            let res = r.send().await.unwrap();
            let status = res.status().as_u16();
            let kind = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
            (status, kind, res.bytes().await.unwrap().to_vec())
        }
    };
    let (s, kind, body) = raw(format!("{reg}?format=csv"), k.token.clone()).await;
    assert_eq!((s, kind.as_str()), (200, "text/csv; charset=utf-8"));
    let csv = String::from_utf8(body).unwrap();
    assert!(csv.starts_with("\u{feff}№,ФИО,"), "{csv}");
    assert!(
        csv.contains("Иванова Мария Петровна") && csv.contains("болезнь") && csv.contains("С-2025-000001"),
        "{csv}"
    );
    assert!(csv.contains("\r\nСформировано,28.03.2025 15:00,Сидоров Олег Иванович"), "stamped when and by whom: {csv}");

    // The ФИС ФРДО upload: JSON with what is left out, and the XLSX as the loader reads it.
    let frdo = format!("/api/v1/frdo?from=2025-01-01&to=2025-12-31&provider={ctr}");
    let (s, v) = k.call("get", "/api/v1/frdo", &frdo, None).await;
    assert_eq!(
        (s, v["records"].as_array().map(Vec::len), v["missing"].as_array().map(Vec::len)),
        (200, Some(1), Some(0))
    );
    let (s, e) = k.call("get", "/api/v1/frdo", "/api/v1/frdo?from=2025-01-01&to=2025-12-31", None).await;
    assert_eq!((s, e["code"].as_str()), (403, Some("access.denied")));
    let (s, e) = c.call("get", "/api/v1/frdo", "/api/v1/frdo?from=2025-12-31&to=2025-01-01", None).await;
    assert_eq!((s, e["code"].as_str()), (422, Some("input.invalid")));
    let (s, kind, body) = raw(format!("{frdo}&format=xlsx"), k.token.clone()).await;
    assert_eq!((s, kind.as_str()), (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"));
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(body)).unwrap();
    let sheet = book.worksheet_range(TEMPLATE_2024.sheet).unwrap();
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|d| if let Data::String(s) = d { s.clone() } else { d.to_string() }).collect())
        .collect();
    let header: Vec<&str> = rows[0].iter().map(String::as_str).collect();
    assert_eq!(header, TEMPLATE_2024.columns, "the template's columns, in order");
    assert_eq!(rows.len(), 2, "one certificate");
    let cell = |title: &str| rows[1][TEMPLATE_2024.columns.iter().position(|c| *c == title).unwrap()].clone();
    assert_eq!(cell("Фамилия получателя"), "Иванова");
    assert_eq!(cell("Дата рождения получателя"), "12.04.1985");
    assert_eq!(cell("СНИЛС"), "112-233-445 95");
    assert_eq!(cell("Форма обучения"), "Заочная");
    let info = book.worksheet_range("Сведения").unwrap();
    assert!(info.rows().flatten().any(|d| d.to_string().contains("Сидоров Олег Иванович")), "stamped by whom");

    // The period's registry and slices for the operator; other trainings entered from documents.
    let (s, _) = c
        .call(
            "post",
            "/api/v1/persons/{id}/trainings",
            &format!("/api/v1/persons/{pe}/trainings"),
            Some(json!({"source": "external", "program_title": "Инклюзия", "provider_name": "Университет",
                        "hours": 36, "completed_on": "2025-03-21", "document": "7724 123"})),
        )
        .await;
    assert_eq!(s, 204);
    let (s, e) = c
        .call(
            "post",
            "/api/v1/persons/{id}/trainings",
            &format!("/api/v1/persons/{pe}/trainings"),
            Some(json!({"source": "group", "program_title": "X", "provider_name": "Y",
                        "hours": 36, "completed_on": "2025-03-21", "document": "1"})),
        )
        .await;
    assert_eq!((s, e["code"].as_str()), (422, Some("input.invalid")), "{e}");
    let (s, v) = c.call("get", "/api/v1/registry", "/api/v1/registry?from=2025-01-01&to=2025-12-31", None).await;
    assert_eq!((s, v["count"].as_u64(), v["passed"].as_u64()), (200, Some(3), Some(2)));
    let (s, v) = c
        .call(
            "get",
            "/api/v1/reports/slice",
            "/api/v1/reports/slice?group_by=position,training_status&filter=position:teacher",
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let trained: u64 = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["key"][1] == "trained")
        .map(|r| r["workers"].as_u64().unwrap())
        .sum();
    assert_eq!(trained, 2, "{v}");
    let (s, e) = c.call("get", "/api/v1/reports/slice", "/api/v1/reports/slice?group_by=shoe_size", None).await;
    assert_eq!((s, e["code"].as_str()), (400, Some("input.invalid")));
    let (s, e) = k.call("get", "/api/v1/reports/slice", "/api/v1/reports/slice", None).await;
    assert_eq!((s, e["code"].as_str()), (403, Some("access.denied")));
    let (s, kind, body) = raw("/api/v1/reports/ready/floor?format=csv".into(), c.token.clone()).await;
    assert_eq!((s, kind.as_str()), (200, "text/csv; charset=utf-8"));
    assert!(String::from_utf8(body).unwrap().starts_with("\u{feff}Территория,Повышение квалификации,Работников"));
    let (s, v) = c
        .call(
            "get",
            "/api/v1/reports/overdue",
            &format!("/api/v1/reports/overdue?scope_kind=organisation&scope={school}"),
            None,
        )
        .await;
    assert_eq!((s, v["approvals"].as_array().map(Vec::len)), (200, Some(0)));

    // Category and reminders.
    let (s, _) = c
        .call(
            "put",
            "/api/v1/persons/{id}/category",
            &format!("/api/v1/persons/{iv}/category"),
            Some(json!({"category": "first"})),
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = c
        .call(
            "put",
            "/api/v1/persons/{id}/reminders",
            &format!("/api/v1/persons/{iv}/reminders"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = c.call("post", "/api/v1/reminders/send", "/api/v1/reminders/send", None).await;
    assert_eq!(s, 204);
    let (s, e) = k.call("post", "/api/v1/reminders/send", "/api/v1/reminders/send", None).await;
    assert_eq!((s, e["code"].as_str()), (403, Some("access.denied")));
}

/// R-R2 over HTTP: the operator creates a survey for teachers; a teacher answers once; a
/// psychologist outside the slice is refused; results by slice; closing. Every response is
/// checked against the document.
#[tokio::test]
async fn surveys_over_http() {
    use kadry::Actor;
    use kadry::core::ids::{OrgId, PersonId, TerritoryId};
    let ts = TestServer::start().await;
    let (service, auth, op) = (ts.service.clone(), ts.auth.clone(), ts.operator);
    let exec = |actor: PersonId, c: Command| {
        let service = service.clone();
        async move { service.execute(Actor::Person(actor), c).await.unwrap().created() }
    };
    let t = TerritoryId(exec(op, Command::RegisterTerritory { name: "Тольятти".into() }).await.unwrap());
    let school = OrgId(
        exec(
            op,
            Command::RegisterOrg {
                name: "Школа № 1".into(),
                kind: OrgKind::School,
                territory: t,
                parent: None,
                license: None,
                ownership: None,
            },
        )
        .await
        .unwrap(),
    );
    let mut people = Vec::new();
    for (email, position) in [("t@school.ru", Position::Teacher), ("psy@school.ru", Position::Psychologist)] {
        let c = Command::RegisterPerson {
            full_name: "Иванова Мария Петровна".into(),
            email: email.into(),
            org: school,
            position,
            pedagogical: true,
            consent: true,
            snils: None,
            subject: None,
            birth_year: None,
        };
        let p = PersonId(exec(op, c).await.unwrap());
        exec(p, Command::ConfirmEmail { person: p }).await;
        auth.set_password(p, PASSWORD).await.unwrap();
        people.push(p);
    }
    let (teacher, psy) = (people[0], people[1]);
    let base = ts.base.clone();
    let http = reqwest::Client::new();
    let mut c = Client { base, http, token: None, doc: doc() };
    c.login("op@test.kadry.ru").await;
    let survey = json!({
        "title": "Мониторинг методической поддержки",
        "kind": "monitoring",
        "target": [{"dimension": "position", "values": ["teacher"]}],
        "questions": [
            {"key": "support", "text": "Оцените поддержку", "kind": {"scale": {"min": 1, "max": 5}}},
            {"key": "formats", "text": "Удобные форматы", "kind": {"choice": {"options": ["очно", "дистанционно"], "multiple": true}}}
        ]
    });
    let (s, v) = c.call("post", "/api/v1/surveys", "/api/v1/surveys", Some(survey.clone())).await;
    assert_eq!(s, 201, "{v}");
    let sid = id(&v);
    let mut bad = survey.clone();
    bad["questions"] = json!([]);
    let (s, e) = c.call("post", "/api/v1/surveys", "/api/v1/surveys", Some(bad)).await;
    assert_eq!((s, e["code"].as_str()), (422, Some("input.invalid")), "{e}");
    let mut no_group = survey.clone();
    no_group["kind"] = json!("satisfaction");
    let (s, e) = c.call("post", "/api/v1/surveys", "/api/v1/surveys", Some(no_group)).await;
    assert_eq!((s, e["code"].as_str()), (400, Some("input.invalid")), "{e}");
    // The teacher sees it, answers once.
    c.login("t@school.ru").await;
    let mine = format!("/api/v1/persons/{teacher}/surveys");
    let (s, v) = c.call("get", "/api/v1/persons/{id}/surveys", &mine, None).await;
    assert_eq!((s, v["count"].as_u64(), v["answered"].as_u64()), (200, Some(1), Some(0)), "{v}");
    let responses = format!("/api/v1/surveys/{sid}/responses");
    let op_path = "/api/v1/surveys/{id}/responses";
    let (s, e) =
        c.call("post", op_path, &responses, Some(json!({"answers": {"support": 9, "formats": ["очно"]}}))).await;
    assert_eq!((s, e["code"].as_str()), (422, Some("input.invalid")), "{e}");
    let answers = json!({"answers": {"support": 4, "formats": ["очно", "дистанционно"]}});
    let (s, _) = c.call("post", op_path, &responses, Some(answers.clone())).await;
    assert_eq!(s, 204);
    let (s, e) = c.call("post", op_path, &responses, Some(answers.clone())).await;
    assert_eq!((s, e["code"].as_str()), (409, Some("state.invalid")), "once each: {e}");
    let (s, v) = c.call("get", "/api/v1/persons/{id}/surveys", &mine, None).await;
    assert_eq!((s, v["answered"].as_u64(), v["surveys"][0]["answered"].as_bool()), (200, Some(1), Some(true)), "{v}");
    let results = format!("/api/v1/surveys/{sid}/results");
    let (s, e) = c.call("get", "/api/v1/surveys/{id}/results", &results, None).await;
    assert_eq!((s, e["code"].as_str()), (403, Some("access.denied")), "a worker reads no results");
    // Outside the slice.
    c.login("psy@school.ru").await;
    let answers_psy = json!({"person": psy, "answers": {"support": 5, "formats": ["очно"]}});
    let (s, e) = c.call("post", op_path, &responses, Some(answers_psy)).await;
    assert_eq!((s, e["code"].as_str()), (403, Some("access.denied")), "{e}");
    // Results by slice.
    c.login("op@test.kadry.ru").await;
    let by_position = format!("/api/v1/surveys/{sid}/results?group_by=position");
    let (s, v) = c.call("get", "/api/v1/surveys/{id}/results", &by_position, None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!((v["respondents"].as_u64(), v["rows"][0]["labels"][0].as_str()), (Some(1), Some("учитель")), "{v}");
    assert_eq!(v["rows"][0]["questions"][0]["mean"].as_str(), Some("4.00"), "{v}");
    let by_territory = format!("/api/v1/surveys/{sid}/results?group_by=territory&scope_kind=territory&scope={t}");
    let (s, v) = c.call("get", "/api/v1/surveys/{id}/results", &by_territory, None).await;
    assert_eq!((s, v["rows"][0]["labels"][0].as_str()), (200, Some("Тольятти")), "{v}");
    let bogus = format!("/api/v1/surveys/{sid}/results?group_by=astronaut");
    let (s, e) = c.call("get", "/api/v1/surveys/{id}/results", &bogus, None).await;
    assert_eq!(e["code"].as_str(), Some("input.invalid"), "{s}");
    let unknown = format!("/api/v1/surveys/{}/results", uuid::Uuid::new_v4());
    let (s, e) = c.call("get", "/api/v1/surveys/{id}/results", &unknown, None).await;
    assert_eq!((s, e["code"].as_str()), (404, Some("not_found")));
    let close = format!("/api/v1/surveys/{sid}/close");
    let (s, _) = c.call("post", "/api/v1/surveys/{id}/close", &close, None).await;
    assert_eq!(s, 204);
    let (s, e) = c.call("post", "/api/v1/surveys/{id}/close", &close, None).await;
    assert_eq!((s, e["code"].as_str()), (409, Some("state.invalid")));
}
