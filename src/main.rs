//! The `ws-fix` command line: parses arguments and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use ws_fix::load;
use ws_fix::workspace::Workspace;

/// `--version`: the package version and the commit it was built from (build.rs).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("WS_FIX_COMMIT"),
    ")"
);

#[derive(Parser)]
#[command(
    name = "ws-fix",
    version = VERSION,
    about = "Finds and fixes Envoy Gateway settings that break WebSocket apps"
)]
struct Cli {
    /// Use the rule and app catalogue in this folder instead of the built-in one.
    #[arg(long, global = true, value_name = "DIR")]
    rules: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List every file of a repository with what was parsed or why it was skipped.
    Inventory {
        /// The repository checkout (default: the current directory).
        #[arg(default_value = ".")]
        path: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Also list parsed files and every skipped file, not only problems.
        #[arg(long)]
        all: bool,
        /// Largest file to read, in bytes.
        #[arg(long, default_value_t = load::DEFAULT_MAX_FILE_SIZE)]
        max_file_size: u64,
    },
    /// Show what Envoy Gateway will do with a repository: Gateways, listeners, routes,
    /// backends, with the effective values and the lines that decide them.
    Explain {
        /// The repository checkout (default: the current directory).
        #[arg(default_value = ".")]
        path: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Show only what this rule reads, and its findings (repeatable).
        #[arg(long, value_name = "ID")]
        rule: Vec<String>,
        /// Largest file to read, in bytes.
        #[arg(long, default_value_t = load::DEFAULT_MAX_FILE_SIZE)]
        max_file_size: u64,
    },
    /// Find the Envoy Gateway settings that break WebSocket apps. Exits 1 when a finding
    /// reaches `--fail-on`, 2 on an error.
    Scan {
        /// The repository checkout (default: the current directory).
        #[arg(default_value = ".")]
        path: PathBuf,
        #[arg(long, value_enum, default_value_t = ScanFormat::Human)]
        format: ScanFormat,
        /// The lowest severity that fails the scan (default: the repo config's `fail-on`,
        /// else warning).
        #[arg(long, value_name = "SEVERITY")]
        fail_on: Option<String>,
        /// Run only this rule (repeatable).
        #[arg(long, value_name = "ID")]
        rule: Vec<String>,
        /// Largest file to read, in bytes.
        #[arg(long, default_value_t = load::DEFAULT_MAX_FILE_SIZE)]
        max_file_size: u64,
    },
    /// Run the GitHub App: the webhook server, its durable queue and the worker.
    Serve {
        #[command(flatten)]
        settings: ws_fix::server::Settings,
        /// Log lines for people (`human`) or one JSON object per line (`json`).
        #[arg(long, env = "WS_FIX_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
        log_format: LogFormat,
    },
    /// Register the GitHub App from its manifest: serves a page at `/setup` that creates the
    /// App on GitHub and writes its credentials into the data directory for `serve`
    /// (docs/setup.md).
    Setup {
        #[command(flatten)]
        settings: ws_fix::setup::SetupSettings,
    },
    /// Run the verification checklist against live hosts: the protocol chosen for a browser's
    /// ALPN offer and for HTTP/1.1 alone, HTTP/2 extended CONNECT (RFC 8441) and the WebSocket
    /// handshake. Exits 0 when every host's WebSocket works, 1 when a problem was found, 2 when
    /// a host could not be checked.
    Verify(VerifyArgs),
    /// The queue of `serve`: pending, running and failed jobs with their attempts, next run and
    /// last error; `jobs retry ID` runs a failed job again.
    Jobs(ws_fix::queue::admin::JobsArgs),
    /// Ask a running server whether it is healthy (the container image's HEALTHCHECK): exits 0
    /// when the address answers 2xx, 1 otherwise.
    Healthcheck {
        /// What to ask.
        #[arg(long, default_value = "http://127.0.0.1:8080/healthz")]
        url: String,
        /// Seconds to wait for the answer.
        #[arg(long, default_value_t = 3)]
        timeout: u64,
    },
    /// Propose the fixes, one pull request per fix kind: prints each title, diff and body
    /// (nothing on disk changes); `--write` applies them to the working tree, `--branch`
    /// commits each on its own local branch `ws-fix/<kind>` with the pull request text.
    Fix {
        /// The repository checkout (default: the current directory).
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Only this fix kind (repeatable).
        #[arg(long, value_name = "KIND")]
        only: Vec<String>,
        /// Apply the changes to the working tree.
        #[arg(long, conflicts_with = "branch")]
        write: bool,
        /// Commit each fix kind on a local branch (HEAD, the working tree and the index stay
        /// as they are).
        #[arg(long)]
        branch: bool,
        /// Largest file to read, in bytes.
        #[arg(long, default_value_t = load::DEFAULT_MAX_FILE_SIZE)]
        max_file_size: u64,
    },
}

#[derive(clap::Args)]
struct VerifyArgs {
    /// Hosts to probe, each `HOST[:PORT][/PATH]` (the path of the app's WebSocket endpoint;
    /// default `/`).
    #[arg(value_name = "HOST[/PATH]", required_unless_present = "from")]
    targets: Vec<String>,
    /// Also probe every WebSocket host and probe path the scanner finds in this repository.
    #[arg(long, value_name = "PATH")]
    from: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Trust only the certificates in this PEM file (a private CA).
    #[arg(long, value_name = "FILE", conflicts_with = "insecure")]
    ca: Option<PathBuf>,
    /// Accept any server certificate.
    #[arg(long, short = 'k')]
    insecure: bool,
    /// Connect to ADDRESS for HOST:PORT (like curl's; `*` as HOST for every host; repeatable).
    #[arg(long, value_name = "HOST:PORT:ADDRESS")]
    resolve: Vec<ws_fix::probe::Resolve>,
    /// Seconds each step may take (resolve, connect, TLS, each handshake).
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = seconds)]
    timeout: std::time::Duration,
}

fn seconds(s: &str) -> Result<std::time::Duration, String> {
    match s.parse::<f64>() {
        Ok(n) if n > 0.0 && n <= 3600.0 => Ok(std::time::Duration::from_secs_f64(n)),
        _ => Err("a number of seconds above 0 and at most 3600".into()),
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum ScanFormat {
    Human,
    Json,
    Sarif,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Human,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", describe(&e));
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let rules = cli.rules.as_deref();
    match cli.command {
        Command::Inventory {
            path,
            format,
            all,
            max_file_size,
        } => {
            let workspace = Workspace::open(&path, rules)?;
            let loaded = workspace.load(max_file_size)?;
            match format {
                Format::Human => print!("{}", ws_fix::report::inventory::human(&loaded, all)),
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&ws_fix::report::inventory::json(&loaded))?
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain {
            path,
            format,
            rule: only,
            max_file_size,
        } => {
            let mut workspace = Workspace::open(&path, rules)?;
            let only = select_rules(&mut workspace, &only)?;
            let loaded = workspace.load(max_file_size)?;
            let (applied, models) =
                ws_fix::model::build(&loaded, &workspace.catalogue, &workspace.config);
            // With --rule: the findings of those rules over the same models.
            let findings = if only.is_empty() {
                Vec::new()
            } else {
                ws_fix::rules::run_with_ignores(
                    &models,
                    &applied.sets,
                    &workspace.catalogue,
                    &workspace.config,
                )
            };
            let focus = (!only.is_empty()).then(|| ws_fix::report::explain::Focus {
                rules: &only,
                findings: &findings,
                catalogue: &workspace.catalogue,
            });
            match format {
                Format::Human => print!(
                    "{}",
                    ws_fix::report::explain::human(&models, &applied, &loaded, focus.as_ref())
                ),
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&ws_fix::report::explain::json(
                        &models,
                        &applied,
                        &loaded,
                        focus.as_ref()
                    ))?
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Scan {
            path,
            format,
            fail_on,
            rule: only,
            max_file_size,
        } => scan(
            &path,
            rules,
            format,
            fail_on.as_deref(),
            &only,
            max_file_size,
        ),
        Command::Fix {
            path,
            only,
            write,
            branch,
            max_file_size,
        } => fix(&path, rules, &only, write, branch, max_file_size),
        Command::Serve {
            settings,
            log_format,
        } => serve(settings, log_format, rules),
        Command::Setup { settings } => setup(settings),
        Command::Verify(args) => verify(args, rules),
        Command::Healthcheck { url, timeout } => {
            let check =
                ws_fix::server::health::healthy(&url, std::time::Duration::from_secs(timeout));
            match tokio::runtime::Runtime::new()?.block_on(check) {
                Ok(()) => Ok(ExitCode::SUCCESS),
                Err(e) => {
                    eprintln!("unhealthy: {e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Jobs(args) => {
            let out = tokio::runtime::Runtime::new()?.block_on(ws_fix::queue::admin::run(&args))?;
            print!("{out}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

/// The log subscriber of `serve`, filtered by `WS_FIX_LOG` (default `info`), writing to
/// `writer` in `format`.
fn log_subscriber<W>(format: LogFormat, writer: W) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WS_FIX_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(writer);
    match format {
        LogFormat::Human => Box::new(builder.finish()),
        LogFormat::Json => Box::new(builder.json().finish()),
    }
}

fn serve(
    settings: ws_fix::server::Settings,
    log_format: LogFormat,
    rules_dir: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    tracing::subscriber::set_global_default(log_subscriber(log_format, std::io::stdout))?;
    ws_fix::github::install_crypto();
    let catalogue = match rules_dir {
        Some(dir) => ws_fix::catalogue::Catalogue::load_dir(dir)?,
        None => ws_fix::catalogue::Catalogue::embedded()?,
    };
    let settings = settings.with_data_dir_credentials()?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let app = ws_fix::app::App::from_settings(&settings, catalogue).await?;
        let mut running = ws_fix::server::start(&settings, app).await?;
        if settings.queue.redeliver_hours > 0 {
            running.sweep_redeliveries(
                ws_fix::app::github_from_settings(&settings)?,
                std::time::Duration::from_secs(u64::from(settings.queue.redeliver_hours) * 3600),
                ws_fix::server::redeliver::SWEEP_EVERY,
            );
        }
        tracing::info!("ws-fix serving on {}", running.addr);
        wait_for_signal().await;
        running.stop().await;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

fn setup(settings: ws_fix::setup::SetupSettings) -> anyhow::Result<ExitCode> {
    tracing::subscriber::set_global_default(log_subscriber(LogFormat::Human, std::io::stderr))?;
    ws_fix::github::install_crypto();
    tokio::runtime::Runtime::new()?.block_on(async {
        let running = ws_fix::setup::start(&settings).await?;
        println!(
            "ws-fix setup (listening on {}): open {} in a browser signed in to GitHub to register the App",
            running.addr, running.setup_url
        );
        wait_for_signal().await;
        running.stop().await;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

fn fix(
    path: &std::path::Path,
    rules_dir: Option<&std::path::Path>,
    only: &[String],
    write: bool,
    branch: bool,
    max_file_size: u64,
) -> anyhow::Result<ExitCode> {
    use ws_fix::catalogue::FixKind;
    let kinds: Vec<FixKind> = only
        .iter()
        .map(|s| s.parse::<FixKind>())
        .collect::<Result<_, _>>()?;
    let workspace = Workspace::open(path, rules_dir)?;
    let repo = ws_fix::git::LocalRepo::discover(path);
    let subjects = repo.as_ref().map(|r| r.subjects(30)).unwrap_or_default();
    let loaded = workspace.load(max_file_size)?;
    let fixes = ws_fix::fix::plan(
        &workspace.snapshot,
        &loaded,
        &workspace.load_options(max_file_size),
        &workspace.catalogue,
        &workspace.config,
        &kinds,
    );
    let prs =
        ws_fix::report::pr::pull_requests(&fixes.plans, &loaded, &workspace.catalogue, &subjects);
    if !write && !branch {
        print!(
            "{}",
            ws_fix::report::fix::human(&fixes, &prs, &loaded, &workspace.catalogue)
        );
        return Ok(ExitCode::SUCCESS);
    }
    for (plan, pr) in fixes.plans.iter().zip(&prs) {
        if write {
            for f in &plan.files {
                let target = path.join(&f.path);
                if let Some(dir) = target.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                std::fs::write(&target, &f.after)?;
            }
            println!("{}: wrote {} file(s)", pr.branch, plan.files.len());
        } else {
            let repo = repo.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
            let message = format!("{}\n\n{}", pr.title, pr.body);
            let outcome = repo.commit_branch(&pr.branch, &plan.files, &message)?;
            println!("{}: {outcome}", pr.branch);
        }
    }
    if fixes.plans.is_empty() {
        println!("nothing to fix");
    }
    for d in &fixes.declined {
        eprintln!(
            "not proposed: {} at {}: {}",
            d.rule.as_str(),
            ws_fix::report::location::describe(&loaded, d.location),
            d.reason
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn scan(
    path: &std::path::Path,
    rules_dir: Option<&std::path::Path>,
    format: ScanFormat,
    fail_on: Option<&str>,
    only: &[String],
    max_file_size: u64,
) -> anyhow::Result<ExitCode> {
    use std::io::IsTerminal;
    use ws_fix::catalogue::Severity;

    let fail_on: Option<Severity> = fail_on.map(str::parse).transpose()?;
    let mut workspace = Workspace::open(path, rules_dir)?;
    select_rules(&mut workspace, only)?;
    let threshold = fail_on.unwrap_or(workspace.config.fail_on);
    let progress = Progress::new();
    progress.say(&format!("reading {}", path.display()));
    let loaded = workspace.load(max_file_size)?;
    progress.say(&format!(
        "modelling {} files ({} skipped)",
        loaded.files.len(),
        loaded.skipped.len()
    ));
    let result = ws_fix::scan::scan(&loaded, &workspace.catalogue, &workspace.config);
    progress.done();
    let findings = &result.findings;
    match format {
        ScanFormat::Human => {
            let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            print!(
                "{}",
                ws_fix::report::scan::human(
                    findings,
                    &loaded,
                    &workspace.catalogue,
                    &result.coverage,
                    colour
                )
            );
        }
        ScanFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&ws_fix::report::scan::json(
                findings,
                &loaded,
                &workspace.catalogue,
                &result.coverage
            ))?
        ),
        ScanFormat::Sarif => println!(
            "{}",
            serde_json::to_string_pretty(&ws_fix::report::sarif::sarif(
                findings,
                &loaded,
                &workspace.catalogue
            ))?
        ),
    }
    if findings.iter().any(|f| f.reaches(threshold)) {
        Ok(ExitCode::from(1))
    } else {
        Ok(ExitCode::SUCCESS)
    }
}

/// `--rule` of `scan` and `explain`: the rule ids given, each once (an unknown id is an error:
/// exit 2). When any is given, every other rule is switched off in the workspace's config.
fn select_rules(
    workspace: &mut Workspace,
    only: &[String],
) -> anyhow::Result<Vec<ws_fix::catalogue::RuleId>> {
    use ws_fix::catalogue::RuleId;
    let mut ids: Vec<RuleId> = Vec::new();
    for s in only {
        let id = s.parse::<RuleId>()?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if !ids.is_empty() {
        for id in RuleId::ALL {
            if !ids.contains(id) {
                workspace.config.rules.entry(*id).or_default().enabled = Some(false);
            }
        }
    }
    Ok(ids)
}

fn verify(args: VerifyArgs, rules_dir: Option<&std::path::Path>) -> anyhow::Result<ExitCode> {
    use ws_fix::probe::{self, Target, Trust};
    let mut targets: Vec<Target> = args
        .targets
        .iter()
        .map(|t| Target::parse(t))
        .collect::<Result<_, _>>()?;
    let mut skipped = Vec::new();
    if let Some(path) = &args.from {
        let workspace = Workspace::open(path, rules_dir)?;
        let loaded = workspace.load(load::DEFAULT_MAX_FILE_SIZE)?;
        let found = probe::target::from_repo(&loaded, &workspace.catalogue, &workspace.config);
        for t in found.targets {
            if !targets.contains(&t) {
                targets.push(t);
            }
        }
        skipped = found.skipped;
    }
    if targets.is_empty() {
        anyhow::bail!(
            "no host to probe: the repository serves no WebSocket route on an HTTPS listener"
        );
    }
    let trust = match (&args.ca, args.insecure) {
        (Some(ca), _) => Trust::ca_file(ca)?,
        (None, true) => Trust::AcceptAnyCertificate,
        (None, false) => Trust::System,
    };
    let options = probe::Options {
        timeout: args.timeout,
        trust,
        resolve: args.resolve,
        ..probe::Options::default()
    };
    let reports = tokio::runtime::Runtime::new()?.block_on(probe::probe(&targets, &options))?;
    match args.format {
        Format::Human => print!("{}", probe::report::human(&reports, &skipped)),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&probe::report::json(&reports, &skipped))?
        ),
    }
    Ok(ExitCode::from(probe::exit_code(&reports)))
}

/// The error and its causes, each cause only once (many messages already include theirs).
fn describe(e: &anyhow::Error) -> String {
    let mut message = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !message.contains(&text) {
            message = format!("{message}: {text}");
        }
    }
    message
}

/// A one-line stage indicator on stderr, only when stderr is a terminal.
struct Progress(bool);

impl Progress {
    fn new() -> Progress {
        use std::io::IsTerminal;
        Progress(std::io::stderr().is_terminal())
    }

    fn say(&self, what: &str) {
        if self.0 {
            eprint!("\r\x1b[Kws-fix: {what}…");
        }
    }

    fn done(&self) {
        if self.0 {
            eprint!("\r\x1b[K");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use clap::Parser;

    use super::{Cli, Command, LogFormat, log_subscriber};

    /// A log destination the test reads back.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().write(bytes)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn logged(format: LogFormat) -> String {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = log_subscriber(format, move || writer.clone());
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(delivery = "d-1", repository = "o/r", "job started");
            tracing::debug!("not shown at the default level");
            tracing::warn!("job failed");
        });
        String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn json_logs_are_one_object_per_line_with_the_fields() {
        let text = logged(LogFormat::Json);
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0]["level"], "INFO");
        assert_eq!(lines[0]["fields"]["message"], "job started");
        assert_eq!(lines[0]["fields"]["delivery"], "d-1");
        assert_eq!(lines[0]["fields"]["repository"], "o/r");
        assert_eq!(lines[1]["level"], "WARN");
        assert_eq!(lines[1]["fields"]["message"], "job failed");
    }

    #[test]
    fn human_logs_are_text() {
        let text = logged(LogFormat::Human);
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(
            text.contains("job started") && text.contains("delivery"),
            "{text}"
        );
        assert!(serde_json::from_str::<serde_json::Value>(text.lines().next().unwrap()).is_err());
    }

    #[test]
    fn serve_takes_the_log_format() {
        let cli = Cli::try_parse_from(["ws-fix", "serve", "--log-format", "json"]).unwrap();
        let Command::Serve { log_format, .. } = cli.command else {
            panic!("not serve");
        };
        assert!(matches!(log_format, LogFormat::Json));
        assert!(Cli::try_parse_from(["ws-fix", "serve", "--log-format", "yaml"]).is_err());
    }
}
