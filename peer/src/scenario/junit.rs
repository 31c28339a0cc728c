//! The JUnit XML report (`secretchat-peer run --junit PATH`): the format CI systems read.
//!
//! One `<testsuite name="scenarios">` with a `<testcase>` per scenario; a failed scenario
//! carries a `<failure>` whose message is the failing step's and whose text has the step,
//! its line and the seed to replay it; a scenario with `reaction` steps lists its verdicts
//! in `<system-out>`.

use super::report::ScenarioOutcome;

/// The report as XML text.
pub fn render(outcomes: &[ScenarioOutcome]) -> String {
    let failures = outcomes.iter().filter(|o| !o.passed()).count();
    let skipped: usize = 0;
    let time: f64 = outcomes.iter().map(|o| o.duration.as_secs_f64()).sum();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites name=\"secretchat-peer run\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"{time:.3}\">\n",
        outcomes.len()
    ));
    xml.push_str(&format!(
        "  <testsuite name=\"scenarios\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time:.3}\">\n",
        outcomes.len()
    ));
    for outcome in outcomes {
        let name = match &outcome.actor {
            Some(actor) => format!("{} (as {actor})", outcome.name),
            None => outcome.name.clone(),
        };
        xml.push_str(&format!(
            "    <testcase classname=\"scenarios\" name=\"{}\" file=\"{}\" time=\"{:.3}\"",
            escape(&name),
            escape(&outcome.path.display().to_string()),
            outcome.duration.as_secs_f64()
        ));
        let mut body = String::new();
        if let Some(failure) = &outcome.failure {
            let place = match (failure.step, failure.line) {
                (Some(step), Some(line)) => {
                    format!("step {step} ({}:{line}): ", outcome.path.display())
                }
                _ => String::new(),
            };
            body.push_str(&format!(
                "      <failure message=\"{}\" type=\"ScenarioFailed\">{}{}\n{}\nreplay with --seed {}</failure>\n",
                escape(&failure.message),
                escape(&place),
                escape(&failure.description),
                escape(&failure.message),
                outcome.seed
            ));
        }
        // The verdicts on the client under test, one line each.
        if !outcome.verdicts.is_empty() {
            let lines: Vec<String> = outcome
                .verdicts
                .iter()
                .map(|verdict| format!("verdict on {}: {verdict}", verdict.case))
                .collect();
            body.push_str(&format!(
                "      <system-out>{}</system-out>\n",
                escape(&lines.join("\n"))
            ));
        }
        if body.is_empty() {
            xml.push_str("/>\n");
        } else {
            xml.push_str(">\n");
            xml.push_str(&body);
            xml.push_str("    </testcase>\n");
        }
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

/// Escapes text for XML attributes and content; drops characters XML 1.0 cannot carry.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::super::report::StepFailure;
    use super::*;

    #[test]
    fn a_failed_scenario_becomes_a_failure_element_with_escaped_text_and_the_seed() {
        let outcomes = vec![
            ScenarioOutcome {
                name: "ok_one".into(),
                path: PathBuf::from("scenarios/ok_one.toml"),
                actor: None,
                steps: 2,
                passed: 2,
                skipped: 0,
                duration: Duration::from_millis(1500),
                failure: None,
                seed: 9,
                verdicts: Vec::new(),
            },
            ScenarioOutcome {
                name: "bad_one".into(),
                path: PathBuf::from("scenarios/bad_one.toml"),
                actor: None,
                steps: 2,
                passed: 1,
                skipped: 0,
                duration: Duration::from_millis(500),
                failure: Some(StepFailure {
                    step: Some(2),
                    line: Some(12),
                    description: "bob expects message \"<hi>\"".into(),
                    message: "bob did not observe message \"<hi>\" & more\u{1}".into(),
                }),
                seed: 9,
                verdicts: Vec::new(),
            },
        ];
        let xml = render(&outcomes);
        assert!(xml.contains("<testsuite name=\"scenarios\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"0\" time=\"2.000\">"), "{xml}");
        assert!(xml.contains("<testcase classname=\"scenarios\" name=\"ok_one\" file=\"scenarios/ok_one.toml\" time=\"1.500\"/>"), "{xml}");
        assert!(xml.contains("<failure message=\"bob did not observe message &quot;&lt;hi&gt;&quot; &amp; more\u{FFFD}\" type=\"ScenarioFailed\">step 2 (scenarios/bad_one.toml:12): "), "{xml}");
        assert!(xml.contains("replay with --seed 9</failure>"), "{xml}");
    }

    #[test]
    fn verdicts_are_listed_in_the_testcase_output() {
        use super::super::format::ReactionCase;
        use super::super::verdict::{Observation, Verdict, View};
        use secretchat_common::chat::Reaction;
        let case = ReactionCase {
            name: "resend-too-many".into(),
            required: Reaction::Abort,
            tolerated: Vec::new(),
            rule: None,
            client: None,
        };
        let seen = Observation {
            reaction: Some(Reaction::Abort),
            did: "aborted the chat: <5000>".into(),
            decided: true,
        };
        let outcome = ScenarioOutcome {
            name: "judged".into(),
            path: PathBuf::from("scenarios/judged.toml"),
            actor: None,
            steps: 1,
            passed: 1,
            skipped: 0,
            duration: Duration::from_millis(10),
            failure: None,
            seed: 1,
            verdicts: vec![Verdict::new(&case, "bob", View::Inside, seen)],
        };
        let xml = render(&[outcome]);
        assert!(
            xml.contains("<system-out>verdict on resend-too-many: RIGHT: bob aborted the chat: &lt;5000&gt;; the spec requires: abort the chat (discardEncryption)</system-out>\n    </testcase>"),
            "{xml}"
        );
    }
}
