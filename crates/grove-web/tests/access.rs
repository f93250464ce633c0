//! Who can see and do what: reads behind a token or a session, opt-in
//! public reads, redacted secrets for viewers, tokens over the API,
//! throttled failures, security headers, the Origin check, the audit trail.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};

use crate::common::{ADMIN, OPERATOR, TestApp, VIEWER};

/// A notification-digest job whose webhook URL is a secret.
fn digest_job() -> Value {
    json!({
        "meta": {"id": "digest", "title": "Digest"},
        "payload": {
            "jobType": "notification-digest",
            "schedule": {"cronExpression": "0 8 * * *", "timezone": "UTC", "isEnabled": false},
            "retry": {"maxAttempts": 1, "backoffStrategy": "fixed", "initialDelaySeconds": 1, "maxDelaySeconds": 1},
            "limits": {"batchSize": 10, "timeoutSeconds": 30, "maxConcurrent": 1},
            "parameters": {"eventTypes": ["job.failed"], "recipientIds": ["operators"], "channels": ["webhook"],
                "webhookUrl": "https://hooks.example/T000/B000/secret-part"}
        }
    })
}

async fn as_admin(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> crate::common::Reply {
    app.call_as(method, path, body, Some(ADMIN), &[]).await
}

async fn audit(app: &TestApp, query: &str) -> crate::common::Reply {
    as_admin(app, Method::GET, &format!("/api/v1/audit{query}"), None).await
}

#[tokio::test]
async fn every_api_read_needs_a_token_and_the_probes_stay_public() {
    let app = TestApp::seeded().await;
    for path in [
        "/api/v1/objects/job-config",
        "/api/v1/objects/job-config/advancement-batch",
        "/api/v1/objects/job-config/advancement-batch/revisions",
        "/api/v1/types",
        "/api/v1/jobs/advancement-batch/executions",
        "/api/v1/executions/nope",
        "/api/v1/executions/nope/logs",
        "/api/v1/notifications",
        "/api/v1/advancement-events",
        "/api/v1/schedule/preview?cron=*+*+*+*+*",
        "/api/v1/engine",
        "/api/v1/tokens",
        "/api/v1/audit",
    ] {
        let r = app.get_anonymous(path).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}: {}", r.text);
        assert_eq!(
            r.headers["content-type"], "application/problem+json",
            "{path}"
        );
        assert_eq!(r.headers["www-authenticate"], "Bearer", "{path}");
    }
    for path in ["/healthz", "/readyz", "/metrics", "/api/openapi.json"] {
        assert_eq!(
            app.get_anonymous(path).await.status,
            StatusCode::OK,
            "{path}"
        );
    }
    // A viewer reads; a viewer does not write.
    let r = app
        .get("/api/v1/objects/job-config/advancement-batch")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .call_as(
            Method::POST,
            "/api/v1/jobs/advancement-batch/run",
            None,
            Some(VIEWER),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A console session reads the API too (the console's own pages do).
    let session = app.sign_in(VIEWER).await.expect("signed in");
    let req = Request::builder()
        .uri("/api/v1/objects/job-config")
        .header("cookie", format!("grove_session={session}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::OK);
    // …but writes need the header a browser never sends by itself.
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/jobs/advancement-batch/run")
        .header(
            "cookie",
            format!("grove_session={}", app.sign_in(OPERATOR).await.unwrap()),
        )
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn public_read_opens_reads_but_not_writes() {
    let app = TestApp::with_settings(grove_web::WebSettings {
        public_read: true,
        ..Default::default()
    })
    .await;
    let r = app.get_anonymous("/api/v1/objects/job-config").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .call_as(
            Method::POST,
            "/api/v1/jobs/advancement-batch/run",
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // A wrong token is still wrong.
    let r = app
        .call_as(Method::GET, "/api/v1/types", None, Some("gj_wrong"), &[])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn viewers_see_secrets_redacted_operators_see_them_whole() {
    let app = TestApp::seeded().await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/objects/job-config",
            Some(digest_job()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let whole = "https://hooks.example/T000/B000/secret-part";
    let cut = "https://hooks.example/…";
    let pointer = "/payload/parameters/webhookUrl";
    let as_viewer = app.get("/api/v1/objects/job-config/digest").await;
    assert_eq!(as_viewer.body.pointer(pointer).unwrap(), cut);
    assert!(!as_viewer.text.contains("secret-part"));
    let list = app.get("/api/v1/objects/job-config").await;
    assert!(!list.text.contains("secret-part") && list.text.contains(cut));
    let revisions = app.get("/api/v1/objects/job-config/digest/revisions").await;
    assert!(!revisions.text.contains("secret-part") && revisions.text.contains(cut));
    let as_operator = app
        .call_as(
            Method::GET,
            "/api/v1/objects/job-config/digest",
            None,
            Some(OPERATOR),
            &[],
        )
        .await;
    assert_eq!(as_operator.body.pointer(pointer).unwrap(), whole);
    // The console's editor and revisions, likewise.
    let viewer = app.sign_in(VIEWER).await.unwrap();
    for path in ["/console/jobs/digest", "/console/jobs/digest/revisions"] {
        let req = Request::builder()
            .uri(path)
            .header("cookie", format!("grove_session={viewer}"))
            .body(Body::empty())
            .unwrap();
        let page = app.send(req).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(!page.text.contains("secret-part"), "{path}");
    }
}

#[tokio::test]
async fn admins_create_list_and_revoke_tokens_over_the_api() {
    let app = TestApp::seeded().await;
    let r = as_admin(
        &app,
        Method::POST,
        "/api/v1/tokens",
        Some(json!({"name": "ci-deploy", "role": "operator"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("gj_"));
    assert_eq!(r.body["role"], "operator");

    // The new token works, and its use is recorded.
    let r = app
        .call_as(Method::GET, "/api/v1/types", None, Some(&secret), &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let list = as_admin(&app, Method::GET, "/api/v1/tokens", None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(!list.text.contains(&secret), "never a secret in a list");
    assert!(
        !list.text.contains("secret"),
        "no secret field: {}",
        list.text
    );
    let ours = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id.as_str())
        .expect("listed");
    assert_eq!(ours["name"], "ci-deploy");
    assert!(ours["lastUsedAt"].is_string(), "{ours}");

    // Operators do not manage tokens.
    let r = app
        .call_as(Method::GET, "/api/v1/tokens", None, Some(OPERATOR), &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = as_admin(
        &app,
        Method::POST,
        "/api/v1/tokens",
        Some(json!({"role": "boss"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let pointers: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/name", "/role"]);

    // Revoked: the token and its console sessions stop working at once.
    let session = app.sign_in(&secret).await.expect("signed in");
    let r = as_admin(&app, Method::DELETE, &format!("/api/v1/tokens/{id}"), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app
        .call_as(Method::GET, "/api/v1/types", None, Some(&secret), &[])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let req = Request::builder()
        .uri("/console")
        .header("cookie", format!("grove_session={session}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::SEE_OTHER);
    let r = as_admin(&app, Method::DELETE, &format!("/api/v1/tokens/{id}"), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn failed_authentications_are_throttled_then_refused_with_retry_after() {
    let app = TestApp::seeded().await;
    for i in 0..10 {
        let r = app
            .call_as(
                Method::GET,
                "/api/v1/types",
                None,
                Some(&format!("gj_wrong_{i}")),
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let r = app
        .call_as(
            Method::GET,
            "/api/v1/types",
            None,
            Some("gj_wrong_again"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // While refused, even a right token gets no answer from this client.
    let r = app
        .call_as(Method::GET, "/api/v1/types", None, Some(VIEWER), &[])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // The console's sign-in shares the limit.
    let req = Request::builder()
        .method(Method::POST)
        .uri("/console/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!("token={VIEWER}")))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn console_pages_carry_security_headers_and_api_answers_nosniff() {
    let app = TestApp::seeded().await;
    let session = app.sign_in(OPERATOR).await.unwrap();
    let req = Request::builder()
        .uri("/console")
        .header("cookie", format!("grove_session={session}"))
        .body(Body::empty())
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.headers["content-security-policy"],
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    );
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    assert_eq!(r.headers["referrer-policy"], "same-origin");
    assert_eq!(r.headers["cache-control"], "no-store");
    // The CSP allows no inline styles or scripts: the pages use none.
    assert!(!r.text.contains("style=\""), "an inline style attribute");
    assert!(!r.text.contains("<script>"), "an inline script");
    let login = app.get_anonymous("/console/login").await;
    assert!(login.headers.contains_key("content-security-policy"));
    let api = app.get("/api/v1/types").await;
    assert_eq!(api.headers["x-content-type-options"], "nosniff");
}

fn login_request(origin: Option<(&str, &str)>, next: &str) -> Request<Body> {
    let mut b = Request::builder()
        .method(Method::POST)
        .uri("/console/login")
        .header("host", "127.0.0.1:8080")
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some((name, value)) = origin {
        b = b.header(name, value);
    }
    b.body(Body::from(format!("token={OPERATOR}&next={next}")))
        .unwrap()
}

#[tokio::test]
async fn console_posts_from_another_site_are_refused() {
    let app = TestApp::seeded().await;
    // Login CSRF: a foreign page posting a login form.
    let r = app
        .send(login_request(
            Some(("origin", "https://evil.example")),
            "/console",
        ))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!r.headers.contains_key("set-cookie"));
    let r = app
        .send(login_request(
            Some(("referer", "https://evil.example/x")),
            "/console",
        ))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // This server's own form.
    let r = app
        .send(login_request(
            Some(("origin", "http://127.0.0.1:8080")),
            "/console",
        ))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.headers.contains_key("set-cookie"));
    // A mutating form post with the session and its CSRF token, from elsewhere.
    let session = app.sign_in(OPERATOR).await.unwrap();
    let csrf = grove_web::console::session::csrf_token(&session);
    let req = Request::builder()
        .method(Method::POST)
        .uri("/console/jobs/advancement-batch/enabled")
        .header("host", "127.0.0.1:8080")
        .header("origin", "http://127.0.0.1:9999")
        .header("cookie", format!("grove_session={session}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!("_csrf={csrf}&enabled=false")))
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_next_with_control_characters_or_leaving_the_site_goes_to_the_console() {
    let app = TestApp::seeded().await;
    for next in [
        "/console%0d%0aSet-Cookie:%20x=1",
        "/console%07",
        "/console/%C3%A9",
        "//evil.example",
        "/console\\evil",
        "https://evil.example/console",
    ] {
        let r = app.send(login_request(None, next)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{next}: {}", r.text);
        assert_eq!(r.headers["location"], "/console", "{next}");
        let page = app
            .get_anonymous(&format!("/console/login?next={next}"))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{next}");
    }
}

#[tokio::test]
async fn the_audit_trail_records_who_did_what_and_is_for_admins() {
    let app = TestApp::seeded().await;
    // A failed and a successful sign-in, an edit, a run, a token.
    let req = Request::builder()
        .method(Method::POST)
        .uri("/console/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("token=gj_wrong"))
        .unwrap();
    app.send(req).await;
    app.sign_in(OPERATOR).await.unwrap();
    let r = app
        .call(
            Method::PATCH,
            "/api/v1/objects/job-config/advancement-batch",
            Some(json!({"payload": {"limits": {"batchSize": 50}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .call_as(
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "t", "role": "viewer"})),
            Some(ADMIN),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);

    let all = audit(&app, "").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    let actions: Vec<&str> = all.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["token.create", "update", "login", "login.failed"]);
    let update = &all.body["items"][1];
    assert_eq!(update["actor"], "ops");
    assert_eq!(update["objectType"], "job-config");
    assert_eq!(update["objectId"], "advancement-batch");
    assert_eq!(update["versionBefore"], 1);
    assert_eq!(update["versionAfter"], 2);
    assert!(update["tokenId"].is_string());
    assert!(all.body["items"][3]["actor"].is_null());

    let only = audit(&app, "?action=update&objectId=advancement-batch").await;
    assert_eq!(only.body["items"].as_array().unwrap().len(), 1);
    let page = audit(&app, "?limit=2").await;
    let cursor = page.body["nextCursor"].as_str().expect("more").to_owned();
    let rest = audit(&app, &format!("?limit=2&cursor={cursor}")).await;
    let older: Vec<&str> = rest.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(older, ["login", "login.failed"]);
    assert_eq!(
        audit(&app, "?action=dance").await.status,
        StatusCode::BAD_REQUEST
    );
    let r = app
        .call_as(Method::GET, "/api/v1/audit", None, Some(OPERATOR), &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The console's page, with a filter; admins only.
    let admin = app.sign_in(ADMIN).await.unwrap();
    let req = Request::builder()
        .uri("/console/audit?action=update")
        .header("cookie", format!("grove_session={admin}"))
        .body(Body::empty())
        .unwrap();
    let page = app.send(req).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("advancement-batch") && page.text.contains("v1 → v2"));
    assert!(!page.text.contains("login.failed</code>"));
    let viewer = app.sign_in(VIEWER).await.unwrap();
    let req = Request::builder()
        .uri("/console/audit")
        .header("cookie", format!("grove_session={viewer}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_console_tokens_page_creates_shows_the_secret_once_and_revokes() {
    let app = TestApp::seeded().await;
    let admin = app.sign_in(ADMIN).await.unwrap();
    let csrf = grove_web::console::session::csrf_token(&admin);
    let post = |path: &str, body: String| {
        Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("cookie", format!("grove_session={admin}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    let r = app
        .send(post(
            "/console/tokens",
            format!("_csrf={csrf}&name=nightly-ci&role=operator"),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("shown this once"));
    let start = r.text.find("gj_").expect("the secret");
    let secret: String = r.text[start..]
        .chars()
        .take_while(char::is_ascii_alphanumeric_or_underscore)
        .collect();
    assert!(
        app.sign_in(&secret).await.is_some(),
        "the shown secret works"
    );
    let tokens = app.store.token_list().await.unwrap();
    let id = tokens
        .iter()
        .find(|t| t.name == "nightly-ci")
        .unwrap()
        .id
        .clone();
    // The list shows it, never its secret again.
    let req = Request::builder()
        .uri("/console/tokens")
        .header("cookie", format!("grove_session={admin}"))
        .body(Body::empty())
        .unwrap();
    let page = app.send(req).await;
    assert!(page.text.contains("nightly-ci") && !page.text.contains(&secret));
    let r = app
        .send(post(
            &format!("/console/tokens/{id}/revoke"),
            format!("_csrf={csrf}"),
        ))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(app.sign_in(&secret).await.is_none());
}

trait TokenChar {
    fn is_ascii_alphanumeric_or_underscore(&self) -> bool;
}

impl TokenChar for char {
    fn is_ascii_alphanumeric_or_underscore(&self) -> bool {
        self.is_ascii_alphanumeric() || *self == '_'
    }
}

#[tokio::test]
async fn secure_cookies_and_session_lifetimes_follow_the_settings() {
    let app = TestApp::with_settings(grove_web::WebSettings {
        secure_cookies: true,
        sessions: grove_app::tokens::SessionPolicy {
            idle: jiff::SignedDuration::from_hours(1),
            lifetime: jiff::SignedDuration::from_hours(2),
        },
        ..Default::default()
    })
    .await;
    let r = app.send(login_request(None, "/console")).await;
    let cookie = r.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("; Secure") && cookie.contains("Max-Age=7200"),
        "{cookie}"
    );
    let id = cookie
        .strip_prefix("grove_session=")
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned();
    async fn page(app: &TestApp, id: String) -> StatusCode {
        let req = Request::builder()
            .uri("/console")
            .header("cookie", format!("grove_session={id}"))
            .body(Body::empty())
            .unwrap();
        app.send(req).await.status
    }
    assert_eq!(page(&app, id.clone()).await, StatusCode::OK);
    app.clock.advance(jiff::SignedDuration::from_mins(90));
    assert_eq!(
        page(&app, id).await,
        StatusCode::SEE_OTHER,
        "idle for longer than an hour"
    );
}

#[tokio::test]
async fn the_openapi_document_names_the_roles_and_the_public_routes() {
    let app = TestApp::seeded().await;
    let doc = app.get_anonymous("/api/openapi.json").await.body;
    assert_eq!(doc["security"], json!([{"bearer": []}]));
    for path in ["/healthz", "/readyz", "/metrics"] {
        assert_eq!(doc["paths"][path]["get"]["security"], json!([{}]), "{path}");
    }
    for (path, method) in [
        ("/api/v1/tokens", "get"),
        ("/api/v1/tokens", "post"),
        ("/api/v1/tokens/{id}", "delete"),
        ("/api/v1/audit", "get"),
    ] {
        let op = &doc["paths"][path][method];
        let description = op["description"].as_str().unwrap_or_default();
        assert!(description.contains("Role: admin"), "{method} {path}: {op}");
    }
}
