//! The `run` and `actor` commands.
//!
//! `secretchat-peer run FILE_OR_DIR...` reads every scenario first (a bad file is reported
//! with its line and counted as failed), then plays each against a fresh embedded server
//! (or `--server URL`), printing a progress line per step, and ends with the summary; the
//! exit status is 0 only when every scenario passed.
//!
//! `secretchat-peer actor --server URL --scenario FILE --as NAME` plays one actor of a
//! scenario in this process, after waiting (bounded) for the server to answer; its exit
//! status is that actor's verdict. Every process of one run must be given the same
//! `--seed` (files made of seeded random bytes must be the same everywhere).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use secretchat_common::chat::Profile;
use secretchat_server::config::ServerConfig;

use super::device_actor::{Admin, DeviceWorld};
use super::format::{parse_duration, HumanDuration, Scenario};
use super::matrix::Matrix;
use super::report::{write_summary, ScenarioOutcome};
use super::runner::{derive_seed, run, RunOptions};
use super::{collect_files, junit, load};
use crate::client::ApiClient;
use crate::embedded::EmbeddedServer;
use crate::web::{follow_server_log, WebArgs, WebView};

/// Arguments of `secretchat-peer run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario files, or directories of them (their `*.toml` files, sorted by name).
    #[arg(required = true, value_name = "FILE_OR_DIR")]
    pub paths: Vec<PathBuf>,
    /// Run against this server (e.g. http://127.0.0.1:8080) instead of a fresh embedded
    /// one per scenario. It should be fresh: users and devices from earlier runs remain.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// The server's admin surface (for `advance_clock`, `queued`, `signed_out`).
    #[arg(long, value_name = "URL", requires = "server")]
    pub admin_url: Option<String>,
    /// The admin surface's token.
    #[arg(long, env = "SECRETCHAT_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Write a JUnit XML report here.
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// Seed of every random choice (keys, padding, random_ids, file contents); printed on
    /// failure so the run can be replayed. Absent: a random one.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Explain every protocol step of every actor.
    #[arg(long)]
    pub explain: bool,
    /// Whose reading of the protocol the actors follow (those that do not name their own):
    /// tdlib (default), android, spec — or `all`: every scenario under every profile,
    /// then the matrix of reactions (docs/profiles.md).
    #[arg(long, default_value = "tdlib", value_parser = parse_profile_choice)]
    pub profile: ProfileChoice,
    #[command(flatten)]
    pub web: WebArgs,
}

/// `--profile` of `run`: one profile, or all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileChoice {
    One(Profile),
    All,
}

fn parse_profile_choice(name: &str) -> Result<ProfileChoice, String> {
    if name == "all" {
        return Ok(ProfileChoice::All);
    }
    crate::commands::parse_profile(name)
        .map(ProfileChoice::One)
        .map_err(|error| format!("{error}, or all"))
}

/// Arguments of `secretchat-peer actor`.
#[derive(Debug, Args)]
pub struct ActorArgs {
    /// The server's client API, e.g. http://server:8080.
    #[arg(long, env = "SECRETCHAT_SERVER", value_name = "URL")]
    pub server: String,
    /// The scenario file.
    #[arg(long, env = "SECRETCHAT_SCENARIO", value_name = "FILE")]
    pub scenario: PathBuf,
    /// The actor of the scenario this process plays.
    #[arg(long = "as", env = "SECRETCHAT_ACTOR", value_name = "NAME")]
    pub actor: String,
    /// The server's admin surface (needed only by `advance_clock`, `queued`, `signed_out`).
    #[arg(long, env = "SECRETCHAT_ADMIN_URL", value_name = "URL")]
    pub admin_url: Option<String>,
    /// The admin surface's token.
    #[arg(long, env = "SECRETCHAT_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// How long to wait for the server to answer before giving up (e.g. 30s).
    #[arg(long, env = "SECRETCHAT_WAIT_FOR_SERVER", default_value = "30s", value_parser = parse_duration)]
    pub wait_for_server: Duration,
    /// The run's seed; every actor process of one run must get the same.
    #[arg(long, env = "SECRETCHAT_SEED", default_value_t = 1)]
    pub seed: u64,
    /// Explain every protocol step.
    #[arg(long, env = "SECRETCHAT_EXPLAIN")]
    pub explain: bool,
    /// Whose reading of the protocol this actor follows, unless the scenario names one:
    /// tdlib (default), android, spec.
    #[arg(long, env = "SECRETCHAT_PROFILE", default_value = "tdlib", value_parser = crate::commands::parse_profile)]
    pub profile: Profile,
    /// Write a JUnit XML report here.
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    #[command(flatten)]
    pub web: WebArgs,
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start the async runtime: {error}"))
}

/// `secretchat-peer run`.
pub fn run_command(args: RunArgs) -> ExitCode {
    let mut stdout = std::io::stdout();
    match run_scenarios(&args, &mut stdout) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("secretchat-peer run: {message}");
            ExitCode::from(2)
        }
    }
}

/// Runs the scenarios `args` names; `Ok(true)` when all passed.
pub fn run_scenarios(args: &RunArgs, out: &mut dyn Write) -> Result<bool, String> {
    if args.admin_url.is_some() != args.admin_token.is_some() && args.server.is_some() {
        return Err("--admin-url and --admin-token go together".to_owned());
    }
    let files = collect_files(&args.paths)?;
    let seed = args.seed.unwrap_or_else(rand::random);
    let mut outcomes: Vec<ScenarioOutcome> = Vec::new();
    // Every file is read and checked before anything runs.
    let mut scenarios: Vec<Scenario> = Vec::new();
    for file in files {
        match load(&file) {
            Ok(scenario) => scenarios.push(scenario),
            Err(error) => {
                let _ = writeln!(out, "FAIL  {error}");
                outcomes.push(ScenarioOutcome::unreadable(file, error.to_string(), seed));
            }
        }
    }
    let runtime = runtime()?;
    let web = runtime.block_on(crate::web::start(&args.web))?;
    let profiles: Vec<Profile> = match args.profile {
        ProfileChoice::One(profile) => vec![profile],
        ProfileChoice::All => Profile::ALL.to_vec(),
    };
    let mut matrix = Matrix::default();
    for profile in &profiles {
        let options = RunOptions {
            seed,
            explain: args.explain,
            only: None,
            show_events: false,
            trace: web.as_ref().map(|web| web.trace.clone()),
            profile: *profile,
        };
        if profiles.len() > 1 {
            let _ = writeln!(out, "== profile {profile} ({}) ==\n", profile.client());
        }
        for scenario in &scenarios {
            let outcome = runtime.block_on(async {
                match &args.server {
                    Some(url) => {
                        let admin = match (&args.admin_url, &args.admin_token) {
                            (Some(admin_url), Some(token)) => Some(Admin::new(admin_url, token)),
                            _ => None,
                        };
                        let world = DeviceWorld {
                            url: url.clone(),
                            admin,
                            trace: options.trace.clone(),
                        };
                        run(scenario, &world, &options, out).await
                    }
                    None => run_embedded(scenario, &options, out).await,
                }
            });
            let verdict = if outcome.passed() { "PASS" } else { "FAIL" };
            let _ = writeln!(
                out,
                "{verdict} {} ({:.2}s)\n",
                outcome.name,
                outcome.duration.as_secs_f64()
            );
            matrix.add(scenario, *profile, &outcome);
            outcomes.push(outcome);
        }
    }
    if profiles.len() > 1 {
        let _ = write!(out, "{}", matrix.render(&profiles));
    }
    let (_, failed) = write_summary(&outcomes, seed, out);
    if let Some(path) = &args.junit {
        std::fs::write(path, junit::render(&outcomes)).map_err(|error| {
            format!("cannot write the JUnit report {}: {error}", path.display())
        })?;
    }
    hold(&runtime, web, &outcomes, failed, out);
    Ok(failed == 0)
}

/// Plays `scenario` against a fresh embedded server (seeded from the run's seed and the
/// scenario's name); with a trace, the server's faults and hostile substitutions are drawn
/// too.
pub async fn run_embedded(
    scenario: &Scenario,
    options: &RunOptions,
    out: &mut dyn Write,
) -> ScenarioOutcome {
    let mut config = ServerConfig::embedded();
    config.seed = Some(derive_seed(
        options.seed,
        &format!("server:{}", scenario.name),
    ));
    let server = match EmbeddedServer::start(config).await {
        Ok(server) => server,
        Err(error) => {
            return ScenarioOutcome::unreadable(
                scenario.path.clone(),
                format!("cannot start the embedded server: {error}"),
                options.seed,
            )
        }
    };
    let world = DeviceWorld {
        url: server.url.clone(),
        admin: Some(Admin::new(&server.admin_url, &server.admin_token)),
        trace: options.trace.clone(),
    };
    let follower = options
        .trace
        .clone()
        .map(|trace| follow_server_log(trace, server.state().events.clone()));
    let outcome = run(scenario, &world, options, out).await;
    if let Some(follower) = follower {
        follower.abort();
    }
    // Dropping stops both listeners and every server task at once; the devices are gone,
    // nothing is in flight.
    drop(server);
    outcome
}

/// With `--web`: the run's summary goes to the page, which stays up until Ctrl-C.
fn hold(
    runtime: &tokio::runtime::Runtime,
    web: Option<WebView>,
    outcomes: &[ScenarioOutcome],
    failed: usize,
    out: &mut dyn Write,
) {
    let Some(web) = web else {
        return;
    };
    let mut summary: Vec<String> = outcomes
        .iter()
        .map(|outcome| {
            let verdict = if outcome.passed() { "PASS" } else { "FAIL" };
            format!("{verdict} {}", outcome.name)
        })
        .collect();
    summary.push(format!(
        "{} passed, {failed} failed",
        outcomes.len() - failed
    ));
    let _ = out.flush();
    runtime.block_on(web.finish_and_hold(summary));
}

/// `secretchat-peer actor`.
pub fn actor_command(args: ActorArgs) -> ExitCode {
    let mut stdout = std::io::stdout();
    match play_actor(&args, &mut stdout) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("secretchat-peer actor: {message}");
            ExitCode::from(2)
        }
    }
}

/// Plays one actor; `Ok(true)` when all its steps passed.
pub fn play_actor(args: &ActorArgs, out: &mut dyn Write) -> Result<bool, String> {
    let scenario = load(&args.scenario).map_err(|error| error.to_string())?;
    if scenario.actor(&args.actor).is_none() {
        let known: Vec<&str> = scenario.actors.iter().map(|a| a.name.as_str()).collect();
        return Err(format!(
            "{} has no actor \"{}\"; its actors are: {}",
            args.scenario.display(),
            args.actor,
            known.join(", ")
        ));
    }
    let admin = match (&args.admin_url, &args.admin_token) {
        (Some(url), Some(token)) => Some(Admin::new(url, token)),
        (None, None) => None,
        _ => return Err("--admin-url and --admin-token go together".to_owned()),
    };
    let runtime = runtime()?;
    let web = runtime.block_on(crate::web::start(&args.web))?;
    let trace = web.as_ref().map(|web| web.trace.clone());
    let outcome = runtime.block_on(async {
        wait_for_server(&args.server, args.wait_for_server, out).await?;
        let world = DeviceWorld {
            url: args.server.clone(),
            admin,
            trace: trace.clone(),
        };
        let options = RunOptions {
            seed: args.seed,
            explain: args.explain,
            only: Some(args.actor.clone()),
            show_events: true,
            trace,
            profile: args.profile,
        };
        Ok::<_, String>(run(&scenario, &world, &options, out).await)
    })?;
    let outcomes = [outcome];
    let (_, failed) = write_summary(&outcomes, args.seed, out);
    if let Some(path) = &args.junit {
        std::fs::write(path, junit::render(&outcomes)).map_err(|error| {
            format!("cannot write the JUnit report {}: {error}", path.display())
        })?;
    }
    hold(&runtime, web, &outcomes, failed, out);
    Ok(failed == 0)
}

/// Retries until the server answers (any answer: a refusal of an unauthenticated call
/// proves it is up) or `limit` has passed.
async fn wait_for_server(url: &str, limit: Duration, out: &mut dyn Write) -> Result<(), String> {
    let client = ApiClient::new(url).map_err(|error| format!("bad --server {url}: {error}"))?;
    let started = Instant::now();
    let mut announced = false;
    loop {
        let answer = client
            .call_json("updates.getState", &serde_json::json!({}))
            .await;
        match answer {
            Ok(_) => return Ok(()),
            Err(error) if error.rpc_message().is_some() => return Ok(()),
            Err(error) => {
                if started.elapsed() >= limit {
                    return Err(format!(
                        "the server at {url} did not answer within {}: {error}",
                        HumanDuration(limit)
                    ));
                }
                if !announced {
                    let _ = writeln!(
                        out,
                        "waiting for the server at {url} (up to {})",
                        HumanDuration(limit)
                    );
                    announced = true;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}
