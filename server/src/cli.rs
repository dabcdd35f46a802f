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
// Parsed once per run: the size of `Serve` beside the others costs nothing.
#[allow(clippy::large_enum_variant)]
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
        /// Serve HTTPS with this certificate chain (PEM, leaf first); needs `--tls-key`.
        #[arg(long, env = "FENGQIAO_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The certificate's private key (PEM); needs `--tls-cert`.
        #[arg(long, env = "FENGQIAO_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Seconds between looks at the certificate files (a changed pair is
        /// used for new connections; open ones keep theirs).
        #[arg(long, env = "FENGQIAO_TLS_RELOAD_SECS", default_value_t = 30)]
        tls_reload_secs: u64,
        /// A token that lets a caller other than the loopback read `/metrics`
        /// (`Authorization: Bearer <token>`); when set, it is required from everyone.
        #[arg(long, env = "FENGQIAO_METRICS_TOKEN", hide_env_values = true)]
        metrics_token: Option<String>,
        /// Take a backup every this many hours while serving (0: none).
        #[arg(long, env = "FENGQIAO_BACKUP_EVERY", value_name = "HOURS", default_value_t = 0)]
        backup_every: u32,
        /// Scheduled backups kept (older ones are deleted).
        #[arg(long, env = "FENGQIAO_BACKUP_KEEP", default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..))]
        backup_keep: u32,
        /// Folder of scheduled backups (default `<data>/backups`; better on another disk).
        #[arg(long, env = "FENGQIAO_BACKUP_DIR")]
        backup_dir: Option<PathBuf>,
        /// Where records live: `sled` (default: the embedded store in the data
        /// dir) or `postgres://user@host:port/db` (ADR 0037; migrated at start).
        #[arg(long, env = "FENGQIAO_STORE", hide_env_values = true)]
        store: Option<String>,
        /// Keep photo bytes in an S3-compatible bucket instead of `<data>/photos`:
        /// `s3://BUCKET[/PREFIX]?endpoint=https://…&region=…` (more settings:
        /// `allow_http=true`, `virtual_hosted_style_request=false`, ...).
        /// Credentials only from the environment: AWS_ACCESS_KEY_ID,
        /// AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN); never in the URL.
        /// The data dir remembers the bucket (`photo-store.url`): once set,
        /// the server starts only with it.
        #[arg(long, env = "FENGQIAO_PHOTOS", value_name = "URL")]
        photos: Option<crate::tus::PhotoLocation>,
    },
    /// Apply the PostgreSQL schema's migrations and exit (`serve` applies them too).
    Migrate {
        /// The database: `postgres://user@host:port/db`.
        #[arg(long, env = "FENGQIAO_STORE", hide_env_values = true)]
        store: String,
    },
    /// Take a consistent backup of a data dir into a new file: through the
    /// server if one runs on it (it keeps serving), else directly.
    Backup {
        /// Data dir of the server.
        #[arg(long, env = "FENGQIAO_DATA")]
        data: PathBuf,
        /// The new backup file (`.fqbk`; must not exist).
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup into an empty (or new) data dir.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
        /// The data dir to create (must be empty or absent).
        #[arg(long)]
        data: PathBuf,
    },
    /// Check a backup without restoring it (every checksum); print its manifest.
    Verify {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
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
    /// Import org units, users and households from .xlsx or CSV files (see
    /// `template`). The server must not be running on the same data dir.
    Import {
        /// Data dir of the server.
        #[arg(long, env = "FENGQIAO_DATA")]
        data: PathBuf,
        /// Policy file (default: `<data>/policy.toml` if present).
        #[arg(long, env = "FENGQIAO_POLICY")]
        policy: Option<PathBuf>,
        /// Check and report only; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write the valid rows even if some rows are invalid (those are reported).
        #[arg(long)]
        skip_invalid: bool,
        /// Let rows change the roles of existing users (else such rows are
        /// problems and those users are left unchanged).
        #[arg(long)]
        update_roles: bool,
        /// Confirm granting the county-admin role by spreadsheet (else such rows
        /// are problems).
        #[arg(long)]
        confirm_admin_grants: bool,
        /// The .xlsx or .csv files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Write the import templates (a workbook and three CSV files) into a directory.
    Template {
        /// Where to write them.
        #[arg(long)]
        out: PathBuf,
    },
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
        Command::Serve {
            data,
            listen,
            demo,
            policy,
            log_json,
            tls_cert,
            tls_key,
            tls_reload_secs,
            metrics_token,
            backup_every,
            backup_keep,
            backup_dir,
            store,
            photos,
        } => {
            init_tracing(log_json);
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            rt.block_on(async move {
                let photos = photos.unwrap_or_else(|| crate::tus::PhotoLocation::default_for(&data));
                let config = ServerConfig { data_dir: data.clone(), policy_file: policy, demo };
                let mut state = app::open_with(&config, store.as_deref(), &photos)?;
                state.blobs.check().await.map_err(|e| anyhow::anyhow!("photos at {photos}: {e}"))?;
                tracing::info!(photos = %photos, "photo bytes");
                state.metrics = std::sync::Arc::new(crate::metrics::Metrics::new(metrics_token));
                let server = match (tls_cert, tls_key) {
                    (Some(cert), Some(key)) => {
                        let files = crate::tls::TlsFiles {
                            cert,
                            key,
                            reload_every: std::time::Duration::from_secs(tls_reload_secs.max(1)),
                        };
                        app::spawn_tls(state, listen, files).await?
                    }
                    _ => app::spawn(state, listen).await?,
                };
                let _scheduled = (backup_every > 0).then(|| {
                    let schedule = crate::backup::schedule::Schedule {
                        every: std::time::Duration::from_secs(u64::from(backup_every) * 3600),
                        keep: backup_keep as usize,
                        dir: backup_dir.unwrap_or_else(|| data.join("backups")),
                    };
                    tracing::info!(every_hours = backup_every, keep = backup_keep, dir = %schedule.dir.display(), "scheduled backups");
                    crate::backup::schedule::spawn(server.state.store.clone(), server.state.backups.clone(), schedule)
                });
                tracing::info!(addr = %server.addr, data = %data.display(), "fengqiao-server listening");
                println!("fengqiao-server listening on {}", server.url());
                let stop = shutdown_signal();
                tokio::pin!(stop);
                stop.await;
                tracing::info!("shutting down");
                server.stop().await
            })
        }
        Command::Migrate { store } => {
            init_tracing(false);
            if !crate::store::postgres::is_postgres_url(&store) {
                anyhow::bail!("migrate --store takes a postgres://… address (the embedded store upgrades itself)");
            }
            let pg = crate::store::PgStore::open(&store).map_err(|e| anyhow::anyhow!("cannot migrate: {e}"))?;
            println!("PostgreSQL schema at version {}", pg.migrate()?);
            Ok(())
        }
        Command::Backup { data, to } => {
            init_tracing(false);
            let manifest = backup(&data, &to)?;
            println!("{}: {}", to.display(), manifest.summary());
            Ok(())
        }
        Command::Restore { from, data } => {
            init_tracing(false);
            let manifest = crate::backup::restore(&from, &data)?;
            println!("restored into {}: {}", data.display(), manifest.summary());
            println!("the restored server's feed has a new identity: phones start their pull over and send again what it lacks");
            Ok(())
        }
        Command::Verify { from } => {
            let manifest = crate::backup::verify(&from)?;
            println!("{}: sound; {}", from.display(), manifest.summary());
            println!("{}", serde_json::to_string_pretty(&manifest)?);
            Ok(())
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
        Command::Import { data, policy, dry_run, skip_invalid, update_roles, confirm_admin_grants, files } => {
            let opts = crate::admin::import::ImportOptions {
                dry_run,
                skip_invalid,
                update_roles,
                confirm_admin_grants,
                actor: None,
            };
            import(&data, policy.as_deref(), &files, opts)
        }
        Command::Template { out } => {
            for p in crate::admin::template::write_all(&out)? {
                println!("{}", p.display());
            }
            Ok(())
        }
        Command::Openapi => {
            use utoipa::OpenApi;
            println!("{}", crate::http::meta::ApiDoc::openapi().to_pretty_json()?);
            Ok(())
        }
    }
}

/// A backup through the running server if there is one, else of the store
/// opened here (no server may run on the dir then: the store's lock says so).
fn backup(data: &std::path::Path, to: &std::path::Path) -> anyhow::Result<crate::backup::Manifest> {
    if let Some(m) = crate::backup::control::request_backup(data, to)? {
        return Ok(m);
    }
    if to.exists() {
        anyhow::bail!("{} exists already: choose a new file name", to.display());
    }
    // An older store is copied as it is (the restore migrates it).
    let store = crate::store::SledStore::open_upgrading(&data.join("store"), &|_, _| Ok(false)).map_err(|e| {
        anyhow::anyhow!(
            "{e} (a server holds the store but did not answer through {}?)",
            crate::backup::control::CONTROL_FILE
        )
    })?;
    crate::backup::write_backup(&store, data, to)
}

fn import(
    data: &std::path::Path,
    policy: Option<&std::path::Path>,
    files: &[PathBuf],
    opts: crate::admin::import::ImportOptions,
) -> anyhow::Result<()> {
    use crate::admin::import::{self, InputFile};
    use crate::store::{AuditAction, AuditEntry, AuditStore, UpkeepStore};
    use indicatif::{ProgressBar, ProgressStyle};

    let policy = app::load_policy(data, policy)?;
    let mut inputs = Vec::with_capacity(files.len());
    for f in files {
        let bytes = std::fs::read(f).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", f.display()))?;
        inputs.push(InputFile { name: f.display().to_string(), bytes });
    }
    let store = crate::backup::open_data_store(data)
        .map_err(|e| anyhow::anyhow!("{e:#} (is the server running on this data dir? stop it first)"))?;
    let bar = ProgressBar::new_spinner().with_message("reading and checking");
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let mut started = false;
    let report = import::run(&store, &policy, &inputs, opts, &mut |done, total| {
        if !started {
            started = true;
            bar.set_length(total);
            bar.set_style(
                ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} rows ({per_sec}, {eta} left)")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_message("writing");
        }
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    for c in &report.user_changes {
        println!("{}", user_change_line(c));
    }
    for p in &report.problems {
        println!("{p}");
    }
    if !report.dry_run {
        let outcome = if report.written { "ok" } else { "invalid" };
        let detail = format!("cli; {}; {} problems", report.summary(), report.problems.len());
        let mut entries = vec![AuditEntry::new(AuditAction::Import, None, None, outcome).detail(detail)];
        entries.extend(import::roles::audit_entries(&report, None, None));
        store.append_audit(&entries)?;
    }
    store.flush()?;
    println!("{}", report.summary());
    match (report.dry_run, report.written, report.problems.len()) {
        (true, _, 0) => {
            println!("dry run: valid, nothing written");
            Ok(())
        }
        (true, _, n) => anyhow::bail!("dry run: {n} problems, nothing written"),
        (false, true, 0) => Ok(()),
        (false, true, n) => {
            println!("{n} problems: those rows were skipped");
            Ok(())
        }
        (false, false, n) => anyhow::bail!("{n} problems: nothing written (fix them, or pass --skip-invalid)"),
    }
}

/// One user's change as a line: `user zhao.liu (row 2): 组长/网格员 at T01/V01/G04 -> …`.
fn user_change_line(c: &crate::admin::import::roles::UserChange) -> String {
    let grants = |gs: &[crate::admin::import::roles::GrantView]| {
        gs.iter()
            .map(|g| format!("{} at {}", g.role.label_zh(), if g.unit.is_empty() { "(county)" } else { &g.unit }))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    if let (Some(a), Some(b)) = (&c.display_name_from, &c.display_name_to) {
        parts.push(format!("display name {a} -> {b}"));
    }
    if !c.roles_added.is_empty() {
        parts.push(format!("roles added: {}", grants(&c.roles_added)));
    }
    if !c.roles_removed.is_empty() {
        parts.push(format!("roles removed: {}", grants(&c.roles_removed)));
    }
    let who = if c.new_user { "new user" } else { "user" };
    let verdict = if c.allowed { "" } else { " [refused]" };
    format!("{} [{}] row {}: {who} {}: {}{verdict}", c.file, c.sheet, c.row, c.username, parts.join("; "))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(args: &[&str]) -> Result<Command, clap::Error> {
        let mut all = vec!["fengqiao-server", "serve", "--data", "d"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).map(|c| c.command)
    }

    #[test]
    fn tls_needs_both_files_and_the_reload_period_has_a_default() {
        assert!(serve(&["--tls-cert", "c.pem"]).is_err(), "a certificate without its key");
        assert!(serve(&["--tls-key", "k.pem"]).is_err(), "a key without its certificate");
        match serve(&["--tls-cert", "c.pem", "--tls-key", "k.pem", "--metrics-token", "t", "--log-json"]).unwrap() {
            Command::Serve { tls_cert, tls_key, tls_reload_secs, metrics_token, log_json, .. } => {
                assert_eq!(tls_cert, Some(PathBuf::from("c.pem")));
                assert_eq!(tls_key, Some(PathBuf::from("k.pem")));
                assert_eq!(tls_reload_secs, 30);
                assert_eq!(metrics_token.as_deref(), Some("t"));
                assert!(log_json);
            }
            other => panic!("{other:?}"),
        }
    }
}
