//! # The `demo`, `bot` and `load` subcommands: flags, runtime, exit status
//!
//! `main.rs` only dispatches; each function here parses nothing more, starts a tokio
//! runtime, runs the library call ([`crate::demo::run`], [`crate::bot::run`],
//! [`crate::load::run`]) and turns its outcome into output and an exit status
//! (0 success, 1 a failed check, 2 an error).

use std::process::ExitCode;

use clap::Args;
use secretchat_common::chat::{Layer, Profile};

use crate::device::DeviceOptions;

/// `secretchat-peer demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Seed of every random choice (devices and server); random when absent, and printed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print only the summary.
    #[arg(long)]
    pub quiet: bool,
    /// Whose reading of the protocol the devices follow: tdlib (default), android, spec
    /// (docs/profiles.md).
    #[arg(long, default_value = "tdlib", value_parser = parse_profile)]
    pub profile: Profile,
    #[command(flatten)]
    pub web: crate::web::WebArgs,
}

/// `secretchat-peer bot`.
#[derive(Debug, Args)]
pub struct BotArgs {
    /// The server's base URL, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "SECRETCHAT_SERVER")]
    pub server: String,
    /// The username to sign in as ([A-Za-z0-9_]{1,32}).
    #[arg(long)]
    pub user: String,
    /// The bot's maximum layer (8..=144).
    #[arg(long, default_value_t = 144)]
    pub layer: i32,
    /// Print every protocol step.
    #[arg(long)]
    pub explain: bool,
    /// Seed of the bot's random choices.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Whose reading of the protocol the bot follows: tdlib (default), android, spec
    /// (docs/profiles.md). `android` keeps a chat whose peer sends MTProto 1.0 at layer
    /// ≥ 73 (telethon-secret-chat does).
    #[arg(long, default_value = "tdlib", value_parser = parse_profile)]
    pub profile: Profile,
}

/// A `--profile` value: one of the profile names.
pub fn parse_profile(name: &str) -> Result<Profile, String> {
    Profile::from_name(name).ok_or_else(|| {
        format!(
            "unknown profile {name:?}: expected one of {}",
            Profile::names()
        )
    })
}

/// `secretchat-peer load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// How many chats (each a full handshake between two fresh devices).
    #[arg(long, default_value_t = 100)]
    pub chats: usize,
    /// Messages each way in every chat.
    #[arg(long, default_value_t = 10)]
    pub messages: usize,
    /// An external server's base URL; without it a server runs in this process.
    #[arg(long)]
    pub server: Option<String>,
    /// The external server's admin URL, to read its memory from /admin/state.
    #[arg(long, requires = "admin_token")]
    pub admin_url: Option<String>,
    /// The external server's admin token.
    #[arg(long, requires = "admin_url")]
    pub admin_token: Option<String>,
    /// Chats in flight at once (sized for 2 cores).
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Never draw the progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| {
            eprintln!("secretchat-peer: cannot start the async runtime: {err}");
            ExitCode::from(2)
        })
}

/// Runs the demo; exit 1 if a check failed, 2 if it could not run.
pub fn demo(args: &DemoArgs) -> ExitCode {
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let seed = args.seed.unwrap_or_else(rand::random);
    runtime.block_on(async {
        let web = match crate::web::start(&args.web).await {
            Ok(web) => web,
            Err(message) => {
                eprintln!("secretchat-peer demo: {message}");
                return ExitCode::from(2);
            }
        };
        let options = crate::demo::DemoOptions {
            seed,
            quiet: args.quiet,
            profile: args.profile,
            trace: web.as_ref().map(|web| web.trace.clone()),
        };
        let (code, summary) = match crate::demo::run(options).await {
            Ok(report) => {
                if !args.quiet {
                    println!();
                }
                let mut summary = report.summary();
                summary.push(format!("  seed {seed} (run again with --seed {seed})"));
                for line in &summary {
                    println!("{line}");
                }
                let code = if report.passed() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                };
                (code, summary)
            }
            Err(error) => {
                let line = format!("secretchat-peer demo: {error} (seed {seed})");
                eprintln!("{line}");
                (ExitCode::from(2), vec![line])
            }
        };
        if let Some(web) = web {
            web.finish_and_hold(summary).await;
        }
        code
    })
}

/// Runs the bot until Ctrl-C.
pub fn bot(args: &BotArgs) -> ExitCode {
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let layer = Layer(args.layer);
    if !(8..=144).contains(&args.layer) {
        eprintln!(
            "secretchat-peer bot: --layer must be in 8..=144, got {}",
            args.layer
        );
        return ExitCode::from(2);
    }
    let options = DeviceOptions {
        layer: Some(layer),
        profile: Some(args.profile),
        explain: args.explain,
        seed: args.seed,
        label: Some(format!("{}/bot", args.user)),
        ..DeviceOptions::default()
    };
    let shutdown = async {
        if tokio::signal::ctrl_c().await.is_err() {
            // No signal handler: run until killed.
            std::future::pending::<()>().await;
        }
    };
    let outcome = runtime.block_on(crate::bot::run(
        &args.server,
        &args.user,
        options,
        shutdown,
        |line| println!("{line}"),
    ));
    match outcome {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("secretchat-peer bot: {error}");
            ExitCode::from(2)
        }
    }
}

/// Runs the load and prints the figures.
pub fn load(args: &LoadArgs) -> ExitCode {
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let options = crate::load::LoadOptions {
        chats: args.chats,
        messages: args.messages,
        server: args.server.clone(),
        admin: args.admin_url.clone().zip(args.admin_token.clone()),
        concurrency: args.concurrency,
        seed: args.seed,
        progress: !args.no_progress,
    };
    match runtime.block_on(crate::load::run(options)) {
        Ok(report) => {
            for line in report.lines() {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("secretchat-peer load: {error}");
            ExitCode::from(2)
        }
    }
}
