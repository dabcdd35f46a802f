//! The `fengqiao-server` command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::app::{self, ServerConfig};

/// Fengqiao server: auth, sync and workflow authority for one county.
#[derive(Debug, Parser)]
#[command(name = "fengqiao-server", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API on the embedded store.
    Serve {
        /// Data dir (store, photos, policy.toml, demo-credentials.json).
        #[arg(long, env = "FENGQIAO_DATA")]
        data: PathBuf,
        /// Address to listen on.
        #[arg(long, env = "FENGQIAO_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Seed the demo county when the data dir is empty.
        #[arg(long, env = "FENGQIAO_DEMO")]
        demo: bool,
        /// Policy file (default: `<data>/policy.toml` if present, else the seed's defaults).
        #[arg(long, env = "FENGQIAO_POLICY")]
        policy: Option<PathBuf>,
        /// Log as JSON lines (for the county's log collector).
        #[arg(long, env = "FENGQIAO_LOG_JSON")]
        log_json: bool,
    },
    /// Print the default policy file (the seed's values) to standard output.
    PolicyTemplate,
    /// Check a policy file and exit (0 if valid).
    CheckPolicy {
        /// The file.
        file: PathBuf,
    },
    /// Print the OpenAPI document.
    Openapi,
}

fn init_tracing(json: bool) {
    let filter = EnvFilter::try_from_env("FENGQIAO_LOG").unwrap_or_else(|_| EnvFilter::new("info,tower_http=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Runs the command line; the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fengqiao-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { data, listen, demo, policy, log_json } => {
            init_tracing(log_json);
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            rt.block_on(async move {
                let state = app::open(&ServerConfig { data_dir: data.clone(), policy_file: policy, demo })?;
                let server = app::spawn(state, listen).await?;
                tracing::info!(addr = %server.addr, data = %data.display(), "fengqiao-server listening");
                println!("fengqiao-server listening on {}", server.url());
                let stop = shutdown_signal();
                tokio::pin!(stop);
                stop.await;
                tracing::info!("shutting down");
                server.stop().await
            })
        }
        Command::PolicyTemplate => {
            print!("{}", fengqiao_domain::policy::Policy::default().to_toml());
            Ok(())
        }
        Command::CheckPolicy { file } => {
            let dir = file.parent().map(PathBuf::from).unwrap_or_default();
            app::load_policy(&dir, Some(&file))?;
            println!("{}: valid", file.display());
            Ok(())
        }
        Command::Openapi => {
            use utoipa::OpenApi;
            println!("{}", crate::http::meta::ApiDoc::openapi().to_pretty_json()?);
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
