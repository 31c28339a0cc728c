//! `secretchat-peer`: the reference peer's command line.
//!
//! Each subcommand lives in its own module of the `secretchat_peer` library; this file
//! only parses arguments, runs the command and turns its outcome into an exit status.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use secretchat_peer::codec_cli::{self, DecodeArgs, EncodeArgs};
use secretchat_peer::commands::{self, BotArgs, DemoArgs, LoadArgs};
use secretchat_peer::{scenario, vectors};

#[derive(Parser)]
#[command(
    name = "secretchat-peer",
    version,
    about = "The reference peer for Telegram secret chats: demo, bot, load, vectors, decoder and encoder",
    long_about = None
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check known-answer vector files against this implementation.
    ///
    /// Prints one line per vector (pass, or FAIL with what differed) and a closing
    /// "N passed, M failed" line. Exits non-zero if any vector fails, has an unknown
    /// kind, or a file cannot be read.
    Vectors {
        /// Vector files in the format of vectors/vectors.json.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Open an encrypted message (key_fingerprint ‖ msg_key ‖ ciphertext) and print what is
    /// inside as JSON: version and x, msg_key, aes_key, aes_iv and the TL object — or which
    /// check failed.
    Decode(DecodeArgs),
    /// Seal a TL object given as JSON into an encrypted message (the reverse of decode).
    Encode(EncodeArgs),
    /// Run scenario files (or directories of them) against an embedded server or
    /// `--server URL`: a progress line per step, the verdict on every attack (`reaction`
    /// steps: what the client did against what the spec requires), a summary ending
    /// "N passed, M failed", exit status non-zero if any scenario fails. Format:
    /// docs/scenarios.md; the attack pack: scenarios/attacks, docs/attacks.md.
    Run(scenario::cli::RunArgs),
    /// Play one actor of a scenario as its own process, meeting the others only through
    /// the server — e.g. the attacker, while your client plays the victim and this process
    /// judges its reactions from the outside; exit status = that actor's result.
    Actor(scenario::cli::ActorArgs),
    /// The whole protocol in one command: an in-process server, Alice and Bob on fresh
    /// devices, Bob's second device locked out, the handshake with every check, messages
    /// both ways, a file, a re-key and a resend, all explained, then a summary. Exits
    /// non-zero if any check fails.
    Demo(DemoArgs),
    /// An always-on counterpart for testing a client: signs in, accepts every chat,
    /// echoes texts and files, answers resends and re-keys; one line per event; stops on
    /// Ctrl-C.
    Bot(BotArgs),
    /// Many chats with full handshakes and messages each way through one server; reports
    /// handshakes/s, messages/s, delivery latency p50/p99 and the server's memory.
    Load(LoadArgs),
}

fn main() -> ExitCode {
    restore_default_sigpipe();
    let cli = Cli::parse();
    match cli.command {
        Command::Vectors { files } => run_vectors(&files),
        Command::Decode(args) => report(codec_cli::decode(&args)),
        Command::Encode(args) => report(codec_cli::encode(&args)),
        Command::Run(args) => scenario::cli::run_command(args),
        Command::Actor(args) => scenario::cli::actor_command(args),
        Command::Demo(args) => commands::demo(&args),
        Command::Bot(args) => commands::bot(&args),
        Command::Load(args) => commands::load(&args),
    }
}

/// Prints a command's JSON answer on stdout, or its error on stderr.
fn report(outcome: Result<serde_json::Value, codec_cli::CliError>) -> ExitCode {
    match outcome {
        Ok(json) => {
            println!("{}", pretty(&json));
            ExitCode::SUCCESS
        }
        Err(codec_cli::CliError::Rejected(json)) => {
            // The input was understood but a protocol check failed: the verdict is the
            // output, still as JSON, and the exit status says it was a rejection.
            println!("{}", pretty(&json));
            ExitCode::from(1)
        }
        Err(error) => {
            eprintln!("secretchat-peer: {error}");
            ExitCode::from(2)
        }
    }
}

/// JSON pretty-printed; a bare string (e.g. `encode --wire-only`) as plain text.
fn pretty(json: &serde_json::Value) -> String {
    match json {
        serde_json::Value::String(text) => text.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_else(|_| other.to_string()),
    }
}

fn run_vectors(files: &[PathBuf]) -> ExitCode {
    let (mut passed, mut failed) = (0usize, 0usize);
    for path in files {
        match vectors::check_file(path) {
            Ok(outcomes) => {
                for outcome in outcomes {
                    println!("{outcome}");
                    if outcome.result.is_ok() {
                        passed += 1;
                    } else {
                        failed += 1;
                    }
                }
            }
            Err(error) => {
                println!("FAIL  {error}");
                failed += 1;
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Rust ignores SIGPIPE, so printing into a closed pipe (`secretchat-peer run --explain |
/// head`) would panic. A command-line tool should end quietly instead, as `cat` does.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in `main`, before any thread exists; setting a signal's
    // disposition to its default has no other effect on this process.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
