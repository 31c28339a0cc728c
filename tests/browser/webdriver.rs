//! # A WebDriver client for headless Chromium, over chromedriver's JSON API
//!
//! The suite needs a dozen W3C WebDriver calls (new session, navigate, run a script, find
//! and click an element, screenshots, the browser's console log); they are plain JSON over
//! HTTP, so this speaks them with the workspace's `reqwest` rather than adding a WebDriver
//! crate and its TLS stack for a loopback connection.
//!
//! ```text
//!   Browser::start ── spawn chromedriver --port=P ── POST /session {goog:chromeOptions}
//!   goto / eval / click / screenshot ── POST|GET /session/{id}/…
//!   console_errors ── POST /session/{id}/se/log {"type":"browser"}   (goog:loggingPrefs)
//!   drop ── DELETE /session/{id}, kill chromedriver
//! ```
//!
//! Every wait has a deadline and says what it waited for.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use secretchat_e2e::browser_tools;
use serde_json::{json, Value};

/// How long any wait of the suite may take.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The W3C key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The flags that make Chromium run headless here, offline and without a sandbox (the
/// suite runs as root in CI), in a fresh profile.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
    "--force-device-scale-factor=1",
];

/// One browser session, with its chromedriver.
pub struct Browser {
    http: reqwest::Client,
    session: String,
    driver: Child,
    _profile: tempdir::Profile,
}

/// One element of the page.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Browser {
    /// Starts chromedriver and a headless Chromium session with a fresh profile.
    pub async fn start() -> Browser {
        let tools = browser_tools();
        let port = free_port();
        let driver = Command::new(&tools.chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", tools.chromedriver.display()));
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + DEADLINE;
        while http.get(format!("{base}/status")).send().await.is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer on port {port} within {DEADLINE:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempdir::Profile::new();
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| (*f).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": tools.chromium, "args": args},
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let answer = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .expect("chromedriver answers POST /session");
        let answer: Value = answer.json().await.expect("JSON from chromedriver");
        let session = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("chromedriver could not start Chromium: {answer}"))
            .to_owned();
        Browser {
            http,
            session: format!("{base}/session/{session}"),
            driver,
            _profile: profile,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.session);
        let mut request = self.http.request(method.clone(), &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|err| panic!("{method} {path}: chromedriver is gone: {err}"));
        let status = response.status();
        let answer: Value = response.json().await.expect("JSON from chromedriver");
        assert!(status.is_success(), "{method} {path} failed: {answer}");
        answer["value"].clone()
    }

    /// Opens `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    /// Runs `script` (a function body; `arguments` are `args`) and returns what it returns.
    pub async fn eval(&self, script: &str, args: Value) -> Value {
        let body = json!({"script": script, "args": args});
        self.call(reqwest::Method::POST, "/execute/sync", Some(body))
            .await
    }

    /// Waits until `script` returns something other than `null`/`false`, and returns it.
    pub async fn wait_for(&self, what: &str, script: &str, args: Value) -> Value {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let value = self.eval(script, args.clone()).await;
            if !(value.is_null() || value == json!(false)) {
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "waited {DEADLINE:?} for {what}; the page's console: {:?}",
                self.console().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The first element matching a CSS selector.
    pub async fn find(&self, css: &str) -> Element {
        let body = json!({"using": "css selector", "value": css});
        let found = self
            .call(reqwest::Method::POST, "/element", Some(body))
            .await;
        Element(
            found[ELEMENT]
                .as_str()
                .unwrap_or_else(|| panic!("no element {css}: {found}"))
                .to_owned(),
        )
    }

    /// Finds the element matching `css` and clicks it as a user would (scrolled into view,
    /// a real pointer event); when the page redrew it between the
    /// two (a live page does), finds it again — until [`DEADLINE`].
    pub async fn click_css(&self, css: &str) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let element = self.find(css).await;
            let path = format!("/element/{}/click", element.0);
            let answer = self
                .http
                .post(format!("{}{path}", self.session))
                .json(&json!({}))
                .send()
                .await
                .unwrap_or_else(|err| panic!("POST {path}: chromedriver is gone: {err}"));
            if answer.status().is_success() {
                return;
            }
            let answer: Value = answer.json().await.expect("JSON from chromedriver");
            let stale = answer["value"]["error"] == "stale element reference";
            assert!(
                stale && Instant::now() < deadline,
                "clicking {css} failed: {answer}"
            );
        }
    }

    /// A PNG of the whole window, saved at `path`.
    pub async fn screenshot(&self, path: &Path) -> Vec<u8> {
        let png = self.call(reqwest::Method::GET, "/screenshot", None).await;
        save(png, path)
    }

    /// A PNG of one element, saved at `path`.
    pub async fn element_screenshot(&self, element: &Element, path: &Path) -> Vec<u8> {
        let endpoint = format!("/element/{}/screenshot", element.0);
        let png = self.call(reqwest::Method::GET, &endpoint, None).await;
        save(png, path)
    }

    /// Everything the page logged to the console (and the browser's own errors, such as a
    /// resource that failed to load) since the last call, as `(level, message)`.
    pub async fn console(&self) -> Vec<(String, String)> {
        let entries = self
            .call(
                reqwest::Method::POST,
                "/se/log",
                Some(json!({"type": "browser"})),
            )
            .await;
        entries
            .as_array()
            .into_iter()
            .flatten()
            .map(|entry| {
                (
                    entry["level"].as_str().unwrap_or("").to_owned(),
                    entry["message"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    }

    /// The console entries of level SEVERE (errors) since the last call.
    pub async fn console_errors(&self) -> Vec<String> {
        self.console()
            .await
            .into_iter()
            .filter(|(level, _)| level == "SEVERE")
            .map(|(_, message)| message)
            .collect()
    }
}

impl Drop for Browser {
    /// Ends the session (chromedriver closes Chromium), then chromedriver — also when a
    /// test failed. Plain blocking HTTP: a destructor cannot await.
    fn drop(&mut self) {
        if let Some((host, path)) = self
            .session
            .strip_prefix("http://")
            .and_then(|rest| rest.split_once('/'))
        {
            if let Ok(mut stream) = std::net::TcpStream::connect(host) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let request = format!(
                    "DELETE /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = stream.write_all(request.as_bytes());
                let _ = stream.read_to_end(&mut Vec::new());
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn save(png: Value, path: &Path) -> Vec<u8> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(png.as_str().expect("a base64 screenshot"))
        .expect("valid base64");
    std::fs::write(path, &bytes)
        .unwrap_or_else(|err| panic!("cannot write {}: {err}", path.display()));
    bytes
}

/// A port nobody listens on right now (the OS picks it; chromedriver takes it next).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

/// A fresh Chromium profile directory, removed afterwards.
mod tempdir {
    use std::path::{Path, PathBuf};

    pub struct Profile(PathBuf);

    impl Profile {
        pub fn new() -> Self {
            let dir = secretchat_e2e::output_dir("browser-profiles").join(format!(
                "profile-{}-{}",
                std::process::id(),
                rand_suffix()
            ));
            std::fs::create_dir_all(&dir).expect("create the profile directory");
            Profile(dir)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Profile {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn rand_suffix() -> u64 {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        NEXT.fetch_add(1, Ordering::Relaxed)
    }
}
