//! # Shared support of the end-to-end suites: the pinned Python tools
//!
//! The suites in this folder drive real counterparts — the Python clients people use
//! (Telethon, Pyrogram and their secret-chat plugins) and the OpenAPI tools — against a
//! server started in-process on an ephemeral port. The Python side lives in one virtual
//! environment under `target/`, with exactly the versions `tests/requirements.txt` pins;
//! [`python`] creates it on first use by running `scripts/setup-python`, so the README's
//! one test command works on a fresh machine.

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
