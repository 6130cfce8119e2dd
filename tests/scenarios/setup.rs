//! `ws-fix setup` against the fake GitHub: the manifest page, the fake's "new App" form, the
//! code's exchange, the credentials written and `ws-fix serve` running on them. One test drives
//! a real headless Chromium through the DevTools protocol; the others speak plain HTTP.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::fake_github::{self, FakeGitHub, form_encode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use ws_fix::setup::{Running, SetupSettings, credentials};

/// How long any one flow may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(60);

/// Starts the setup server on a free loopback port, its public URL that port's.
async fn start(fake: &FakeGitHub, dir: &Path, org: Option<&str>) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    ws_fix::setup::start_on(listener, &settings(fake, dir, org, addr))
        .await
        .unwrap()
}

fn settings(fake: &FakeGitHub, dir: &Path, org: Option<&str>, addr: SocketAddr) -> SetupSettings {
    SetupSettings {
        public_url: format!("http://{addr}/"),
        org: org.map(str::to_owned),
        github_api_url: fake.url(),
        github_url: fake.url(),
        listen: addr,
        data_dir: dir.to_path_buf(),
    }
}

struct Answer {
    status: u16,
    headers: BTreeMap<String, String>,
    body: String,
}

/// One HTTP/1.1 request to `url` (`http://HOST:PORT/PATH?QUERY`); `form` is sent as
/// `application/x-www-form-urlencoded`.
async fn http(method: &str, url: &str, form: Option<&str>) -> Answer {
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let body = form.unwrap_or("");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {authority}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    if form.is_some() {
        head.push_str("content-type: application/x-www-form-urlencoded\r\n");
    }
    head.push_str("\r\n");
    let mut stream = tokio::net::TcpStream::connect(authority).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP answer");
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// The value of the HTML attribute `name="..."` that follows `after` in `html`, unescaped.
fn attribute(html: &str, after: &str, name: &str) -> String {
    let from = html
        .find(after)
        .unwrap_or_else(|| panic!("no {after} in {html}"));
    let rest = &html[from..];
    let start = rest.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
    let end = start + rest[start..].find('"').unwrap();
    rest[start..end]
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The setup page's form: where it posts and the manifest.
async fn form(running: &Running) -> (String, Value) {
    let page = http("GET", &running.setup_url, None).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.headers["content-type"].starts_with("text/html"));
    let action = attribute(&page.body, "<form", "action");
    let manifest = attribute(&page.body, "name=\"manifest\"", "value");
    (
        action,
        serde_json::from_str(&manifest).expect("the manifest is JSON"),
    )
}

/// What a browser does: posts the form to the fake GitHub and follows its redirect back.
async fn submit(action: &str, manifest: &Value) -> Answer {
    let created = http(
        "POST",
        action,
        Some(&format!("manifest={}", form_encode(&manifest.to_string()))),
    )
    .await;
    assert_eq!(created.status, 302, "{}", created.body);
    http("GET", &created.headers["location"], None).await
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Checks what the callback wrote against what the fake handed out.
fn assert_written(fake: &FakeGitHub, dir: &Path) -> credentials::AppCredentials {
    let app_file = dir.join(credentials::APP_FILE);
    let key_file = dir.join(credentials::KEY_FILE);
    assert_eq!(mode(&app_file), 0o600);
    assert_eq!(mode(&key_file), 0o600);
    assert_eq!(
        std::fs::read_to_string(&key_file).unwrap(),
        fake_github::test_private_key_pem()
    );
    let app = credentials::read(dir).unwrap().app.unwrap();
    let created = fake.created_apps();
    assert_eq!(created.len(), 1);
    assert_eq!(app.id, fake.app_id());
    assert_eq!(app.slug, fake_github::APP_SLUG);
    assert_eq!(
        app.webhook_secret.as_ref().map(|s| s.expose()),
        Some(created[0].webhook_secret.as_str())
    );
    assert_eq!(app.client_secret.expose(), "fake-client-secret");
    assert_eq!(app.github_api_url, fake.url());
    assert_eq!(
        app.html_url,
        format!("{}/apps/{}", fake.url(), fake_github::APP_SLUG)
    );
    assert_eq!(fake.exchanged_codes(), [created[0].code.clone()]);
    app
}

fn assert_nothing_written(dir: &Path) {
    assert_eq!(credentials::existing(dir), None);
    let names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_through_the_form_and_refuses_afterwards() {
    let fake = FakeGitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&fake, dir.path(), None).await;
    let (action, manifest) = form(&running).await;
    assert!(
        action.starts_with(&format!("{}/settings/apps/new?state=", fake.url())),
        "{action}"
    );
    assert_eq!(manifest["url"], running.public_url);
    assert_eq!(
        manifest["hook_attributes"]["url"],
        format!("{}/webhook", running.public_url)
    );
    let done = submit(&action, &manifest).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let app = assert_written(&fake, dir.path());
    assert!(
        done.body
            .contains(&format!("{}/installations/new", app.html_url)),
        "{}",
        done.body
    );
    assert!(done.body.contains("ws-fix serve --data-dir"));
    assert!(!done.body.contains("fake-webhook-secret") && !done.body.contains("PRIVATE KEY"));
    assert_eq!(
        running.registered.borrow().as_ref().map(|r| r.app.id),
        Some(app.id)
    );
    // Registered: the page and the callback (with a good state and a fresh code) refuse.
    let again = http("GET", &running.setup_url, None).await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(again.body.contains("app.json"), "{}", again.body);
    let second = submit(&action, &manifest).await;
    assert_eq!(second.status, 409, "{}", second.body);
    assert_eq!(
        fake.exchanged_codes().len(),
        1,
        "the second code is not exchanged"
    );
    assert_eq!(
        http("GET", &format!("{}/healthz", running.public_url), None)
            .await
            .status,
        200
    );
    running.stop().await;
    fake.assert_no_violations();
}

/// The state in the form's action.
fn state_of(action: &str) -> &str {
    action.split("state=").nth(1).expect("a state")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_state_is_refused_and_the_code_kept() {
    let fake = FakeGitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&fake, dir.path(), None).await;
    let (action, mut manifest) = form(&running).await;
    // A redirect that carries another state (another run's, or forged).
    let other = action.replace(state_of(&action), "0123abcd");
    let refused = submit(&other, &manifest).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("state"), "{}", refused.body);
    let missing = http(
        "GET",
        &format!("{}/setup/complete?code=abc", running.public_url),
        None,
    )
    .await;
    assert_eq!(missing.status, 400, "{}", missing.body);
    assert!(fake.exchanged_codes().is_empty());
    assert_nothing_written(dir.path());
    // The organisation's form works the same way with the right state.
    manifest["name"] = json!("ws-fix-second");
    let org_action = action.replace(
        "/settings/apps/new",
        "/organizations/acme/settings/apps/new",
    );
    let done = submit(&org_action, &manifest).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(fake.created_apps()[1].org.as_deref(), Some("acme"));
    running.stop().await;
    fake.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_code_is_a_clear_error_and_writes_nothing() {
    let fake = FakeGitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let running = start(&fake, dir.path(), Some("acme")).await;
    let (action, _) = form(&running).await;
    assert!(
        action.starts_with(&format!(
            "{}/organizations/acme/settings/apps/new?state=",
            fake.url()
        )),
        "{action}"
    );
    let state = state_of(&action);
    for (code, status, says) in [
        ("nosuchcode", 400, "does not know this code"),
        ("bad%2Fcode", 400, "not a code GitHub hands out"),
    ] {
        let answer = http(
            "GET",
            &format!(
                "{}/setup/complete?code={code}&state={state}",
                running.public_url
            ),
            None,
        )
        .await;
        assert_eq!(answer.status, status, "{}", answer.body);
        assert!(answer.body.contains(says), "{}", answer.body);
    }
    assert_nothing_written(dir.path());
    assert!(running.registered.borrow().is_none());
    running.stop().await;
    // The fake's 404 for the unknown code is GitHub's answer, not a violation.
    fake.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_credentials_refuse_at_start_and_on_every_page() {
    let fake = FakeGitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    // Written after the start (another setup, or by hand): the pages refuse.
    let running = start(&fake, dir.path(), None).await;
    let (action, manifest) = form(&running).await;
    std::fs::write(dir.path().join(credentials::KEY_FILE), "a key").unwrap();
    let page = http("GET", &running.setup_url, None).await;
    assert_eq!(page.status, 409, "{}", page.body);
    assert!(page.body.contains("private-key.pem"), "{}", page.body);
    let callback = submit(&action, &manifest).await;
    assert_eq!(callback.status, 409, "{}", callback.body);
    assert!(fake.exchanged_codes().is_empty(), "no code exchanged");
    assert_eq!(
        std::fs::read_to_string(dir.path().join(credentials::KEY_FILE)).unwrap(),
        "a key"
    );
    running.stop().await;
    // Present at the start: no server.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let err = ws_fix::setup::start_on(listener, &settings(&fake, dir.path(), None, addr))
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("private-key.pem"), "{err}");
    // And the command says so and exits 2.
    let out = Command::new(env!("CARGO_BIN_EXE_ws-fix"))
        .args([
            "setup",
            "--public-url",
            "https://ws.example.org",
            "--listen",
            "127.0.0.1:0",
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("private-key.pem already exists") && stderr.contains("ws-fix serve"),
        "{stderr}"
    );
    fake.assert_no_violations();
}

/// A `ws-fix` child process, killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `ws-fix ARGS` with `env`, and returns it with the first stdout line that has
/// `marker`.
fn spawn_listening(args: &[&str], env: &[(&str, &str)], marker: &str) -> (Process, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ws-fix"));
    cmd.args(args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for var in [
        "WS_FIX_APP_ID",
        "WS_FIX_PRIVATE_KEY",
        "WS_FIX_PRIVATE_KEY_FILE",
        "WS_FIX_WEBHOOK_SECRET",
        "WS_FIX_DATABASE_URL",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    let mut child = Process(cmd.spawn().unwrap());
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let marker = marker.to_owned();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            eprintln!("[ws-fix] {line}");
            if line.contains(&marker) {
                let _ = tx.send(line);
            }
        }
    });
    let found = rx
        .recv_timeout(PATIENCE)
        .expect("the process says where it listens");
    (child, found)
}

/// The word after `marker` in `line` (an address, a URL).
fn word_after(line: &str, marker: &str) -> String {
    let rest = line
        .split(marker)
        .nth(1)
        .unwrap_or_else(|| panic!("{marker:?} in {line:?}"));
    rest.chars()
        .take_while(|c| !c.is_whitespace() && *c != ')' && *c != '\u{1b}')
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_then_serve_runs_on_the_written_credentials() {
    let fake = FakeGitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();
    // `ws-fix setup` as a process: it serves until SIGTERM.
    let (mut setup, said) = spawn_listening(
        &["setup", "--listen", "127.0.0.1:0", "--data-dir", data_arg],
        &[
            // The public URL must be known before the port: a fixed loopback one through which
            // nothing needs to pass, since the test follows GitHub's redirect itself.
            ("WS_FIX_PUBLIC_URL", "http://ws-fix.invalid"),
            ("WS_FIX_GITHUB_URL", &fake.url()),
            ("WS_FIX_GITHUB_API_URL", &fake.url()),
        ],
        "listening on ",
    );
    let addr = word_after(&said, "listening on ");
    // The page needs the token the process printed; without it, 403.
    let printed = word_after(&said, "open ");
    let path = printed
        .strip_prefix("http://ws-fix.invalid")
        .unwrap_or_else(|| panic!("{printed}"));
    assert!(path.starts_with("/setup?token="), "{printed}");
    let refused = http("GET", &format!("http://{addr}/setup"), None).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let page = http("GET", &format!("http://{addr}{path}"), None).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let action = attribute(&page.body, "<form", "action");
    let manifest: Value =
        serde_json::from_str(&attribute(&page.body, "name=\"manifest\"", "value")).unwrap();
    assert_eq!(
        manifest["redirect_url"],
        "http://ws-fix.invalid/setup/complete"
    );
    let created = http(
        "POST",
        &action,
        Some(&format!("manifest={}", form_encode(&manifest.to_string()))),
    )
    .await;
    let back =
        created.headers["location"].replace("http://ws-fix.invalid", &format!("http://{addr}"));
    let done = http("GET", &back, None).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let app = assert_written(&fake, &data);
    // SIGTERM ends setup cleanly.
    assert!(
        Command::new("kill")
            .args(["-TERM", &setup.0.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    assert!(setup.0.wait().unwrap().success());

    // `ws-fix serve` with nothing but the data directory and the API: it authenticates as the
    // App (GET /app with a JWT from the written key and ID) before it listens.
    let (_serve, said) = spawn_listening(
        &["serve", "--listen", "127.0.0.1:0", "--data-dir", data_arg],
        &[
            ("WS_FIX_GITHUB_API_URL", &fake.url()),
            ("WS_FIX_REDELIVER_HOURS", "0"),
        ],
        "serving on ",
    );
    let addr: SocketAddr = word_after(&said, "serving on ").parse().unwrap();
    assert!(
        fake.count("GET", "/app") >= 1,
        "serve asked GitHub who it is"
    );
    // Deliveries signed with the written webhook secret are accepted, others are not.
    let secret = app.webhook_secret.unwrap();
    let ping = json!({"zen": "Keep it logically awesome.", "hook_id": 1});
    fake.set_hook(addr, "not the secret");
    assert_eq!(fake.deliver_event("ping", &ping).await.1, 401);
    fake.set_hook(addr, secret.expose());
    let (_, status) = fake.deliver_event("ping", &ping).await;
    assert!((200..300).contains(&status), "{status}");
    fake.assert_no_violations();
}

// ---------------------------------------------------------------------------------------------
// A real browser: headless Chromium driven through the DevTools protocol.
// ---------------------------------------------------------------------------------------------

/// `chromium` on the `PATH`; `None` (with a line saying the test is skipped) when absent,
/// unless `WS_FIX_REQUIRE_CHROMIUM=1` (CI), when its absence fails the test.
fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("chromium"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("WS_FIX_REQUIRE_CHROMIUM").as_deref() != Ok("1"),
            "WS_FIX_REQUIRE_CHROMIUM=1 but there is no `chromium` on the PATH"
        );
        eprintln!("skipped: no `chromium` on the PATH (install Debian's chromium to run it)");
    }
    found
}

/// A headless Chromium, killed when dropped.
struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
    /// `ws://127.0.0.1:PORT/devtools/browser/ID`.
    endpoint: String,
}

impl Browser {
    fn launch(binary: &Path) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-background-networking",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("chromium starts");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let endpoint = rx
            .recv_timeout(PATIENCE)
            .expect("chromium says where DevTools listens");
        Browser {
            child,
            _profile: profile,
            endpoint,
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

use tokio_tungstenite::tungstenite::{self, Message, WebSocket};

/// One DevTools connection with one page attached (flat sessions), blocking, every wait
/// bounded by the deadline.
struct DevTools {
    socket: WebSocket<TcpStream>,
    session: Option<String>,
    next_id: u64,
    deadline: Instant,
}

impl DevTools {
    fn connect(endpoint: &str) -> DevTools {
        let authority = endpoint
            .strip_prefix("ws://")
            .and_then(|r| r.split('/').next())
            .unwrap();
        let stream = TcpStream::connect(authority).unwrap();
        let (socket, _) = tungstenite::client(endpoint, stream).expect("the DevTools handshake");
        let mut tools = DevTools {
            socket,
            session: None,
            next_id: 0,
            deadline: Instant::now() + PATIENCE,
        };
        let target = tools.call("Target.createTarget", json!({"url": "about:blank"}));
        let session = tools.call(
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        tools.session = Some(session["sessionId"].as_str().unwrap().to_owned());
        tools.call("Page.enable", json!({}));
        tools
    }

    /// The next message, or a panic at the deadline.
    fn receive(&mut self) -> Value {
        loop {
            let left = self
                .deadline
                .checked_duration_since(Instant::now())
                .expect("the browser did not finish in time");
            self.socket
                .get_mut()
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .unwrap();
            match self.socket.read().expect("a DevTools message") {
                Message::Text(text) => return serde_json::from_str(&text).unwrap(),
                _ => continue,
            }
        }
    }

    /// Sends a command (to the page once attached) and returns its result; events that arrive
    /// meanwhile are dropped.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(s) = &self.session {
            message["sessionId"] = json!(s);
        }
        self.socket
            .send(Message::text(message.to_string()))
            .unwrap();
        loop {
            let m = self.receive();
            if m["id"] == id {
                assert!(m["error"].is_null(), "{method}: {m}");
                return m["result"].clone();
            }
        }
    }

    /// Waits for the page's `load` event.
    fn loaded(&mut self) {
        while self.receive()["method"] != "Page.loadEventFired" {}
    }

    /// Evaluates `expression` in the page; returns its value.
    fn eval(&mut self, expression: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        assert!(r["exceptionDetails"].is_null(), "{expression}: {r}");
        r["result"]["value"].clone()
    }
}

/// What the browser saw: the form before it was sent, and the page it ended on.
struct Visit {
    form: Value,
    end: Value,
}

fn visit(endpoint: &str, setup_url: &str) -> Visit {
    let mut tools = DevTools::connect(endpoint);
    tools.call("Page.navigate", json!({"url": setup_url}));
    tools.loaded();
    let form = tools.eval(
        "(() => { const f = document.forms[0]; return { action: f.action, method: f.method, \
         manifest: f.elements.manifest.value, button: document.getElementById('create').textContent }; })()",
    );
    // The user presses the button: the form goes to GitHub, which redirects back.
    tools.eval("document.getElementById('create').click()");
    tools.loaded();
    let end = tools.eval(
        "({ url: location.href, text: document.body.innerText, \
         install: document.getElementById('install') && document.getElementById('install').href })",
    );
    Visit { form, end }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_registers_the_app() {
    let Some(binary) = chromium() else { return };
    let fake = FakeGitHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut running = start(&fake, dir.path(), None).await;
    let browser = Browser::launch(&binary);
    let endpoint = browser.endpoint.clone();
    let setup_url = running.setup_url.clone();
    let browsing = tokio::task::spawn_blocking(move || visit(&endpoint, &setup_url));
    // The real signal: the server registered the App and wrote its credentials.
    tokio::time::timeout(PATIENCE, running.registered.wait_for(Option::is_some))
        .await
        .expect("registered in time")
        .unwrap();
    let Visit { form, end } = browsing.await.unwrap();
    drop(browser);

    let action = form["action"].as_str().unwrap();
    assert!(
        action.starts_with(&format!("{}/settings/apps/new?state=", fake.url())),
        "{action}"
    );
    assert_eq!(state_of(action).len(), 64);
    assert_eq!(form["method"], "post");
    assert!(form["button"].as_str().unwrap().contains("Create"));
    let sent: Value = serde_json::from_str(form["manifest"].as_str().unwrap()).unwrap();
    let created = fake.created_apps();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].manifest, sent, "GitHub got the form's manifest");
    assert_eq!(created[0].state.as_deref(), Some(state_of(action)));
    let public = &running.public_url;
    assert_eq!(sent["url"], *public);
    assert_eq!(sent["hook_attributes"]["url"], format!("{public}/webhook"));
    assert_eq!(sent["redirect_url"], format!("{public}/setup/complete"));
    let ours: Value = serde_saphyr::from_str(ws_fix::setup::manifest::MANIFEST_YAML).unwrap();
    assert_eq!(sent["default_permissions"], ours["default_permissions"]);
    assert_eq!(sent["default_events"], ours["default_events"]);

    assert!(
        end["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{public}/setup/complete?code=")),
        "{end}"
    );
    let app = assert_written(&fake, dir.path());
    assert_eq!(
        end["install"],
        format!("{}/installations/new", app.html_url)
    );
    let text = end["text"].as_str().unwrap();
    assert!(
        text.contains("The App is registered") && text.contains("app.json"),
        "{text}"
    );
    let again = http("GET", &running.setup_url, None).await;
    assert_eq!(again.status, 409, "{}", again.body);
    running.stop().await;
    fake.assert_no_violations();
}
