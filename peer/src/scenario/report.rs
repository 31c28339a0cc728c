//! The verdicts: one [`ScenarioOutcome`] per scenario run, and the summary printed at the
//! end of `secretchat-peer run` — one line per scenario, the seed to replay a failure, and
//! the closing `N passed, M failed` line alone (the same closing line as `vectors`).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use super::verdict::{summary_line, Verdict};

/// Why a scenario failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepFailure {
    /// The 1-based step that failed; `None` before the first step (a file that cannot be
    /// read, an actor that cannot sign in).
    pub step: Option<usize>,
    /// Its line in the file.
    pub line: Option<usize>,
    /// The step in a few words.
    pub description: String,
    /// What went wrong, readable on its own.
    pub message: String,
}

/// The verdict on one scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioOutcome {
    pub name: String,
    pub path: PathBuf,
    /// The actor played, when one process plays one actor.
    pub actor: Option<String>,
    /// Steps this run was to play.
    pub steps: usize,
    pub passed: usize,
    pub skipped: usize,
    pub duration: Duration,
    pub failure: Option<StepFailure>,
    /// The seed the run used.
    pub seed: u64,
    /// The verdicts of its `reaction` steps, in order.
    pub verdicts: Vec<Verdict>,
}

impl ScenarioOutcome {
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }

    /// A scenario that could not even be read or started.
    pub fn unreadable(path: PathBuf, message: String, seed: u64) -> Self {
        let name = path.file_stem().map_or_else(
            || path.display().to_string(),
            |stem| stem.to_string_lossy().into_owned(),
        );
        ScenarioOutcome {
            name,
            path,
            actor: None,
            steps: 0,
            passed: 0,
            skipped: 0,
            duration: Duration::ZERO,
            failure: Some(StepFailure {
                step: None,
                line: None,
                description: "reading the file".to_owned(),
                message,
            }),
            seed,
            verdicts: Vec::new(),
        }
    }
}

/// Writes the summary; returns how many passed and failed.
pub fn write_summary(
    outcomes: &[ScenarioOutcome],
    seed: u64,
    out: &mut dyn Write,
) -> (usize, usize) {
    let passed = outcomes.iter().filter(|o| o.passed()).count();
    let failed = outcomes.len() - passed;
    let _ = writeln!(out, "\nsummary");
    let width = outcomes.iter().map(|o| o.name.len()).max().unwrap_or(0);
    for outcome in outcomes {
        let verdict = if outcome.passed() { "PASS" } else { "FAIL" };
        let _ = write!(
            out,
            "  {verdict}  {:<width$}  {:>3} steps  {:>6.2}s",
            outcome.name,
            outcome.steps,
            outcome.duration.as_secs_f64()
        );
        if outcome.skipped > 0 {
            let _ = write!(out, "  ({} skipped)", outcome.skipped);
        }
        if let Some(failure) = &outcome.failure {
            match (failure.step, failure.line) {
                (Some(step), Some(line)) => {
                    let _ = write!(
                        out,
                        "  step {step} ({}:{line}): {}",
                        outcome.path.display(),
                        failure.message
                    );
                }
                _ => {
                    let _ = write!(out, "  {}", failure.message);
                }
            }
        }
        let _ = writeln!(out);
    }
    let verdicts: Vec<&Verdict> = outcomes.iter().flat_map(|o| &o.verdicts).collect();
    if !verdicts.is_empty() {
        let right = verdicts.iter().filter(|v| v.right).count();
        let _ = writeln!(
            out,
            "\nverdicts: what each client under test did, against what the spec requires ({right} right, {} wrong)",
            verdicts.len() - right
        );
        let width = verdicts.iter().map(|v| v.case.len()).max().unwrap_or(0);
        for verdict in verdicts {
            let _ = writeln!(out, "{}", summary_line(verdict, width));
        }
    }
    if failed > 0 {
        let _ = writeln!(out, "seed {seed} — replay with --seed {seed}");
    }
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    (passed, failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(name: &str, failure: Option<StepFailure>) -> ScenarioOutcome {
        ScenarioOutcome {
            name: name.to_owned(),
            path: PathBuf::from(format!("scenarios/{name}.toml")),
            actor: None,
            steps: 3,
            passed: 3,
            skipped: 0,
            duration: Duration::from_millis(250),
            failure,
            seed: 42,
            verdicts: Vec::new(),
        }
    }

    #[test]
    fn the_summary_ends_with_the_counts_alone_on_a_line_and_the_seed_on_failure() {
        let failure = StepFailure {
            step: Some(2),
            line: Some(17),
            description: "bob expects".into(),
            message: "bob did not observe x".into(),
        };
        let mut out = Vec::new();
        let counts = write_summary(
            &[outcome("a_passes", None), outcome("b_fails", Some(failure))],
            42,
            &mut out,
        );
        assert_eq!(counts, (1, 1));
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.last(), Some(&"1 passed, 1 failed"));
        assert!(text.contains("seed 42 — replay with --seed 42"), "{text}");
        assert!(text.contains("FAIL  b_fails"), "{text}");
        assert!(
            text.contains("step 2 (scenarios/b_fails.toml:17): bob did not observe x"),
            "{text}"
        );
    }

    #[test]
    fn a_passing_summary_does_not_print_the_seed() {
        let mut out = Vec::new();
        write_summary(&[outcome("a_passes", None)], 42, &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("seed"));
        assert!(text.ends_with("1 passed, 0 failed\n"));
    }
}
