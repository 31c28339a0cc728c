//! The `secretchat-server` binary: parses the flags, starts the client API, the admin
//! surface and the MTProto door on their own listeners, and stops them gracefully on Ctrl-C
//! or SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use secretchat_server::config::ServerConfig;
use secretchat_server::state::Server;
use secretchat_server::{admin_app, app, serve, sweep_expired};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let config = ServerConfig::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        // Colours only on a terminal: container logs and files get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: ServerConfig) -> Result<(), Box<dyn std::error::Error>> {
    let generated_token = config.admin_token.is_none();
    let state = Arc::new(Server::new(&config)?);
    let api = TcpListener::bind(SocketAddr::new(config.bind, config.port)).await?;
    let admin = TcpListener::bind(SocketAddr::new(config.admin_bind, config.admin_port)).await?;
    tracing::info!(addr = %api.local_addr()?, "client API listening");
    tracing::info!(addr = %admin.local_addr()?, "admin surface listening");
    if generated_token {
        tracing::info!(admin_token = %state.admin_token(), "generated admin token (set --admin-token to choose one)");
    }
    // The dashboard's link carries its read-only view key, never the admin token.
    let dashboard = secretchat_server::admin::ui::link(admin.local_addr()?, state.admin_token());
    tracing::info!("dashboard: {dashboard}");

    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let sweeper = tokio::spawn(sweep_expired(Arc::clone(&state)));
    let api_task = tokio::spawn(serve(
        api,
        app(Arc::clone(&state)),
        stopped(stop_rx.clone()),
    ));
    let mtproto_task = if config.mtproto.no_mtproto {
        tracing::info!("mtproto: door off (--no-mtproto)");
        None
    } else {
        let listener =
            TcpListener::bind(SocketAddr::new(config.bind, config.mtproto.mtproto_port)).await?;
        let key_state = Arc::clone(&state);
        let public =
            tokio::task::spawn_blocking(move || key_state.mtproto.public_document()).await?;
        tracing::info!(
            fingerprint = %public.fingerprint_hex,
            "mtproto: RSA public key (also at GET /mtproto/public-key):\n{}",
            public.pem.trim_end()
        );
        Some(tokio::spawn(secretchat_server::mtproto::serve(
            listener,
            Arc::clone(&state),
            stopped(stop_rx.clone()),
        )))
    };
    let admin_task = tokio::spawn(serve(admin, admin_app(state), stopped(stop_rx)));

    shutdown_signal().await;
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    sweeper.abort();
    api_task.await??;
    admin_task.await??;
    if let Some(task) = mtproto_task {
        task.await??;
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
