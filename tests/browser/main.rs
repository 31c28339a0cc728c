//! # The browser suite: the pages this project serves, in a real headless Chromium
//!
//! Chromium and chromedriver come from the system's packages (`scripts/setup-browser`,
//! run on first use when either is missing); [`webdriver`] drives them over chromedriver's
//! JSON API. Every story loads a page served by an in-process server or peer on an
//! ephemeral loopback port, checks what a person would see, asserts that the browser's
//! console logged no error, and saves screenshots under `target/browser-screenshots/`.
//!
//! * [`dashboard`] — the server's `/ui`: a queued message appears and goes.
//! * [`web_view`] — the peer's `--web` page: the demo arrow for arrow, a message opened
//!   down to its bytes, the step mode, the key pictures (equal, and different under a man
//!   in the middle).

mod dashboard;
mod web_view;
mod webdriver;

use std::path::PathBuf;

/// Where a story's screenshot goes (under `target/`, never committed).
pub fn screenshot_path(name: &str) -> PathBuf {
    secretchat_e2e::output_dir("browser-screenshots").join(format!("{name}.png"))
}
