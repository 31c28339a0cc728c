//! # `--explain`: every protocol step as a line a learner can follow
//!
//! A device with explaining on prints what it does and what its chats decided, as it
//! happens, each line prefixed with who is speaking:
//!
//! ```text
//! alice/phone  dh      getDhConfig: p = c71caeb9…5b (256 bytes), g = 3, version 1
//! alice/phone  check   p is a 2048-bit safe prime, g = 3 generates a subgroup of order q: ok
//! alice/phone  send    g_a = 5f0e11a2…9c31 (256 bytes) with messages.requestEncryption
//! bob/phone    check   1 < g_a < p − 1 and 2^1984 < g_a < p − 2^1984: ok
//! bob/phone    seal    random_id …, layer 144, V2 as Participant, key 63a1…, msg_key …
//! ```
//!
//! Two sources feed it: the device's own steps (HTTP calls, DH values, checks, qts, files),
//! written by [`Explainer::line`], and each chat's trace
//! ([`secretchat_common::chat::SecretChat::poll_step`]: seq numbers raw and on the wire,
//! msg_key, each check on opening, re-keying), forwarded by [`Explainer::step`]. Long
//! values are shortened to their first and last bytes ([`shorten`]). The key
//! visualization is printed as hex and as the 12×12 picture — in real colours when
//! stdout is a terminal, as block characters otherwise.
//!
//! With `--web` the same lines also go to the run's [`Trace`], as notes on the device's
//! lane of the sequence diagram — whether or not they are printed.

use std::io::IsTerminal;
use std::sync::Arc;

use secretchat_common::chat::Step;
use secretchat_common::crypto::visualization::KeyVisualization;

use crate::web::{Lane, Trace};

/// Where explain lines go (the default prints them on stdout).
pub type ExplainSink = Arc<dyn Fn(&str) + Send + Sync>;

/// How the 12×12 picture is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Picture {
    /// 24-bit ANSI colours (a terminal).
    Ansi,
    /// Block characters (a pipe or a file).
    Blocks,
}

impl Picture {
    /// ANSI when stdout is a terminal.
    pub fn for_stdout() -> Self {
        if std::io::stdout().is_terminal() {
            Picture::Ansi
        } else {
            Picture::Blocks
        }
    }
}

/// The explain printer of one device.
#[derive(Clone)]
pub struct Explainer {
    enabled: bool,
    label: String,
    picture: Picture,
    sink: Option<ExplainSink>,
    /// The web view's trace and this device's lane (`--web`).
    trace: Option<(Trace, Lane)>,
}

impl std::fmt::Debug for Explainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Explainer")
            .field("enabled", &self.enabled)
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

impl Explainer {
    /// A printer that prints nothing.
    pub fn off() -> Self {
        Self {
            enabled: false,
            label: String::new(),
            picture: Picture::Blocks,
            sink: None,
            trace: None,
        }
    }

    /// A printer prefixing every line with `label`, writing to `sink` (stdout if `None`).
    pub fn new(label: impl Into<String>, sink: Option<ExplainSink>) -> Self {
        Self {
            enabled: true,
            label: label.into(),
            picture: Picture::for_stdout(),
            sink,
            trace: None,
        }
    }

    /// The same printer also recording every line in `trace`, on `lane`.
    pub fn traced(mut self, trace: Trace, lane: Lane) -> Self {
        self.trace = Some((trace, lane));
        self
    }

    pub fn with_picture(mut self, picture: Picture) -> Self {
        self.picture = picture;
        self
    }

    /// Whether lines are printed or recorded.
    pub fn is_enabled(&self) -> bool {
        self.enabled || self.trace.is_some()
    }

    /// One line of kind `kind` (a short word: `dh`, `check`, `send`, `recv`, `qts`, …).
    /// `text` is only built when explaining or recording.
    pub fn line(&self, kind: &str, text: impl FnOnce() -> String) {
        if !self.is_enabled() {
            return;
        }
        let text = text();
        if let Some((trace, lane)) = &self.trace {
            trace.note(*lane, kind, &text);
        }
        if self.enabled {
            self.emit(&format!("{:<14} {kind:<9} {text}", self.label));
        }
    }

    /// A chat's trace line.
    pub fn step(&self, chat_id: i32, step: &Step) {
        self.line(step.kind, || format!("[chat {chat_id}] {}", step.detail));
    }

    /// The visualization as hex and as the picture (printed only: the web view draws
    /// the picture itself).
    pub fn visualization(&self, chat_id: i32, visualization: &KeyVisualization) {
        if !self.enabled {
            return;
        }
        let printed = Explainer {
            trace: None,
            ..self.clone()
        };
        printed.print_visualization(chat_id, visualization);
    }

    fn print_visualization(&self, chat_id: i32, visualization: &KeyVisualization) {
        self.line("key", || {
            format!("[chat {chat_id}] key visualization (compare it with your peer's):")
        });
        for hex in visualization.hex_lines() {
            self.line("key", || format!("    {hex}"));
        }
        let picture = match self.picture {
            Picture::Ansi => visualization.render_ansi(),
            Picture::Blocks => visualization.render_blocks(),
        };
        for row in picture {
            self.line("key", || format!("    {row}"));
        }
    }

    fn emit(&self, line: &str) {
        match &self.sink {
            Some(sink) => sink(line),
            None => println!("{line}"),
        }
    }
}

/// `bytes` as hex, shortened to the first and last 4 bytes when longer than 16, with the
/// length: `c71caeb9…b95b (256 bytes)`.
pub fn shorten(bytes: &[u8]) -> String {
    if bytes.len() <= 16 {
        return format!("{} ({} bytes)", hex::encode(bytes), bytes.len());
    }
    format!(
        "{}…{} ({} bytes)",
        hex::encode(&bytes[..4]),
        hex::encode(&bytes[bytes.len() - 4..]),
        bytes.len()
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn long_values_are_shortened_to_their_first_and_last_four_bytes() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(shorten(&bytes), "00010203…fcfdfeff (256 bytes)");
        assert_eq!(shorten(&[0xab, 0xcd]), "abcd (2 bytes)");
    }

    #[test]
    fn the_visualization_is_printed_as_four_hex_lines_and_twelve_picture_rows() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink_lines = Arc::clone(&lines);
        let sink: ExplainSink = Arc::new(move |line: &str| {
            sink_lines.lock().unwrap().push(line.to_owned());
        });
        let explainer = Explainer::new("alice", Some(sink)).with_picture(Picture::Blocks);
        explainer.visualization(1, &KeyVisualization::from_bytes([7; 36]));
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 1 + 4 + 12);
        assert!(
            lines[1].ends_with("07 07 07 07 07 07 07 07"),
            "{}",
            lines[1]
        );
    }

    #[test]
    fn a_disabled_explainer_builds_no_text() {
        Explainer::off().line("x", || panic!("must not be called"));
    }
}
