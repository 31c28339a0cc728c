//! # Scenarios: runnable stories about secret chats
//!
//! A scenario file (TOML, in `scenarios/`) tells one short story about one behaviour — a
//! handshake, a decline, a re-key after a week, a device offline for 8 days — and says
//! why it matters in its opening `why` paragraph. `secretchat-peer run FILE_OR_DIR...`
//! plays every step against the mock server (embedded in the process by default) and
//! checks every expectation; `secretchat-peer actor --as NAME` plays one actor of a
//! scenario as its own process, so a story can run as separate processes or containers.
//!
//! The parts, one concept each:
//! - [`format`](mod@format): the scenario as types — actors, steps, labels, files;
//! - [`steps`]: every kind of action and expectation, declared once — its name, its keys,
//!   how it is read, how it is described;
//! - [`parse`]: TOML in, a checked scenario out, or an error with file, line and column;
//! - [`expect`]: what an actor observes, buffered from the start so nothing is missed;
//! - [`runner`]: plays the steps against two small traits, `Actor` and `World`;
//! - [`device_actor`]: those traits on the peer library's `Device` and the mock server;
//! - [`verdict`]: after an attack, what the client under test did against what the spec
//!   requires, read from its own events or from the other party's;
//! - [`report`] and [`junit`]: the summary and the JUnit XML report;
//! - [`cli`]: the `run` and `actor` commands.
//!
//! The file format is documented in `docs/scenarios.md`.

pub mod cli;
pub mod device_actor;
pub mod expect;
pub mod format;
pub mod junit;
pub mod matrix;
pub mod parse;
pub mod report;
pub mod runner;
pub mod steps;
pub mod verdict;

use std::path::PathBuf;

pub use format::Scenario;
pub use parse::{load, ScenarioFileError};

/// The scenario files named by `paths`: files as given, directories as their `*.toml`
/// files (not recursive), sorted by name.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|error| {
                format!("{}: cannot list the directory: {error}", path.display())
            })?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|file| file.is_file() && file.extension().is_some_and(|ext| ext == "toml"))
                .collect();
            if found.is_empty() {
                return Err(format!(
                    "{}: no scenario files (*.toml) in this directory",
                    path.display()
                ));
            }
            found.sort();
            files.extend(found);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err(format!("{}: no such file or directory", path.display()));
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn every_file_in_the_scenario_library_is_a_valid_scenario() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        let files = super::collect_files(&[dir]).expect("the library has scenarios");
        assert!(files.len() >= 14, "{files:?}");
        for file in files {
            if let Err(error) = super::load(&file) {
                panic!("{error}");
            }
        }
    }
}
