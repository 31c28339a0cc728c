//! The profile matrix: every scenario under every profile (`run --profile all`), one row
//! per scenario and one column per profile, each cell the reaction the peer showed and
//! whether it is what that profile's client does.
//!
//! ```text
//!   ✓ abort      the scenario passed under the profile: its steps for that profile
//!                (`profiles = [...]`, or all) hold, so the peer reacted as the client does
//!   ✗ ignore     a step failed: the profile did not react as its client does
//!   ~ abort      the scenario passed, but its `unmodelled` table says the client reacts
//!                otherwise and the profile does not reproduce it (the note is listed)
//! ```
//!
//! Only ✗ cells fail the run.

use std::fmt::Write as _;

use secretchat_common::chat::{Profile, Reaction};

use super::format::Scenario;
use super::report::ScenarioOutcome;

/// One cell: a scenario under a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cell {
    mark: char,
    reaction: String,
}

/// One row: a scenario, its cells, and the notes of its unmodelled cells.
#[derive(Debug, Clone, Default)]
struct Row {
    name: String,
    cells: Vec<(Profile, Cell)>,
    notes: Vec<String>,
}

/// The matrix being filled as the runs finish.
#[derive(Debug, Default)]
pub struct Matrix {
    rows: Vec<Row>,
}

/// The name a scenario file gives a reaction (`abort`), or what the peer did when it is
/// no reaction the spec knows.
fn reaction_name(outcome: &ScenarioOutcome) -> String {
    let Some(verdict) = outcome.verdicts.first() else {
        return "-".to_owned();
    };
    match verdict.observation.reaction {
        Some(reaction) => Reaction::ALL
            .iter()
            .find(|(_, known)| *known == reaction)
            .map_or("?", |(name, _)| name)
            .to_owned(),
        None => "processed".to_owned(),
    }
}

impl Matrix {
    /// Records `scenario`'s outcome under `profile`.
    pub fn add(&mut self, scenario: &Scenario, profile: Profile, outcome: &ScenarioOutcome) {
        let index = match self.rows.iter().position(|row| row.name == scenario.name) {
            Some(index) => index,
            None => {
                self.rows.push(Row {
                    name: scenario.name.clone(),
                    ..Row::default()
                });
                self.rows.len() - 1
            }
        };
        let unmodelled = scenario
            .unmodelled
            .iter()
            .find(|(p, _)| *p == profile)
            .map(|(_, note)| note);
        let mark = match (outcome.passed(), unmodelled) {
            (false, _) => '✗',
            (true, Some(_)) => '~',
            (true, None) => '✓',
        };
        let row = &mut self.rows[index];
        if let (true, Some(note)) = (outcome.passed(), unmodelled) {
            row.notes.push(format!("{profile}: {note}"));
        }
        row.cells.push((
            profile,
            Cell {
                mark,
                reaction: reaction_name(outcome),
            },
        ));
    }

    /// How many cells are wrong.
    pub fn wrong(&self) -> usize {
        self.marked('✗')
    }

    fn marked(&self, mark: char) -> usize {
        self.rows
            .iter()
            .flat_map(|row| &row.cells)
            .filter(|(_, cell)| cell.mark == mark)
            .count()
    }

    /// The table, the notes of unmodelled cells, and a count.
    pub fn render(&self, profiles: &[Profile]) -> String {
        const CELL: usize = 16;
        let width = self
            .rows
            .iter()
            .map(|row| row.name.chars().count())
            .max()
            .unwrap_or(6)
            .max(6);
        let mut text = String::from("profile matrix (✓ the client's reaction, ✗ not, ~ the client differs and the profile does not model it)\n");
        let _ = write!(text, "  {:<width$}", "attack");
        for profile in profiles {
            let _ = write!(text, "  {:<CELL$}", profile.name());
        }
        text.push('\n');
        for row in &self.rows {
            let _ = write!(text, "  {:<width$}", row.name);
            for profile in profiles {
                let cell = row.cells.iter().find(|(p, _)| p == profile).map_or_else(
                    || "-".to_owned(),
                    |(_, c)| format!("{} {}", c.mark, c.reaction),
                );
                let _ = write!(text, "  {cell:<CELL$}");
            }
            text.push('\n');
        }
        let notes: Vec<(&str, &String)> = self
            .rows
            .iter()
            .flat_map(|row| row.notes.iter().map(move |note| (row.name.as_str(), note)))
            .collect();
        if !notes.is_empty() {
            text.push_str("not modelled (what the client really does):\n");
            for (name, note) in notes {
                let _ = writeln!(text, "  {name}: {note}");
            }
        }
        let _ = writeln!(
            text,
            "{} cells: {} as the client, {} wrong, {} not modelled\n",
            self.rows.iter().map(|row| row.cells.len()).sum::<usize>(),
            self.marked('✓'),
            self.wrong(),
            self.marked('~')
        );
        text
    }
}
