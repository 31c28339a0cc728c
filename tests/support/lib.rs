//! # Shared support of the end-to-end suites: the pinned Python tools
//!
//! The suites in this folder drive real counterparts — the Python clients people use
//! (Telethon, Pyrogram and their secret-chat plugins) and the OpenAPI tools — against a
//! server started in-process on an ephemeral port. The Python side lives in one virtual
//! environment under `target/`, with exactly the versions `tests/requirements.txt` pins;
//! [`python`] creates it on first use by running `scripts/setup-python`, so the README's
//! one test command works on a fresh machine. The browser suite's Chromium and
//! chromedriver come from the system's packages; [`browser_tools`] runs
//! `scripts/setup-browser` when either is missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository's root (this crate lives in `tests/`).
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
}

/// The venv's Python interpreter, after making sure the venv matches
/// `tests/requirements.txt` (the setup script is idempotent and takes a lock, so parallel
/// tests wait for one install).
///
/// # Panics
///
/// When the setup fails (no python3, no access to PyPI): the suites need these tools and say
/// so rather than pass without them.
pub fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let root = repo_root();
        let status = Command::new(root.join("scripts/setup-python"))
            .status()
            .unwrap_or_else(|err| panic!("cannot run scripts/setup-python: {err}"));
        assert!(
            status.success(),
            "scripts/setup-python failed ({status}); the end-to-end suites need python3 and PyPI"
        );
        let venv = std::env::var_os("SECRETCHAT_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target/python-venv"));
        venv.join("bin/python")
    })
}

/// Where the browser suite's programs are.
#[derive(Debug, Clone)]
pub struct BrowserTools {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

/// Headless Chromium and chromedriver, installed by `scripts/setup-browser` when either is
/// missing (the script is idempotent and takes a lock).
///
/// # Panics
///
/// When they are missing and cannot be installed: the browser suite fails with the
/// script's reason rather than pass without a browser.
pub fn browser_tools() -> &'static BrowserTools {
    static TOOLS: OnceLock<BrowserTools> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let found = || Some((on_path("chromium")?, on_path("chromedriver")?));
        let (chromium, chromedriver) = match found() {
            Some(tools) => tools,
            None => {
                let status = Command::new(repo_root().join("scripts/setup-browser"))
                    .status()
                    .unwrap_or_else(|err| panic!("cannot run scripts/setup-browser: {err}"));
                assert!(
                    status.success(),
                    "scripts/setup-browser failed ({status}); the browser suite needs Chromium \
                     and chromedriver (Debian: apt-get install chromium chromium-driver)"
                );
                found().expect("scripts/setup-browser succeeded but chromium or chromedriver is still not on PATH")
            }
        };
        BrowserTools {
            chromium,
            chromedriver,
        }
    })
}

/// The first `name` on `PATH` that is a file.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// A directory under the workspace's `target/` for what a suite produces (screenshots):
/// never committed.
pub fn output_dir(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    let dir = target.join(name);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|err| panic!("cannot create {}: {err}", dir.display()));
    dir
}

/// A fresh, empty folder `<suite>/<name>` under a test target's temporary folder for what one
/// test generates: pass `env!("CARGO_TARGET_TMPDIR")`, which cargo sets for test targets only.
pub fn scratch_dir(target_tmpdir: &str, suite: &str, name: &str) -> PathBuf {
    let dir = Path::new(target_tmpdir).join(suite).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|err| panic!("cannot create {}: {err}", dir.display()));
    dir
}
