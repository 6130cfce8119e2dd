//! The `ws-fix` command line: parses arguments and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use ws_fix::load;
use ws_fix::workspace::Workspace;

#[derive(Parser)]
#[command(
    name = "ws-fix",
    version,
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
            max_file_size,
        } => {
            let workspace = Workspace::open(&path, rules)?;
            let loaded = workspace.load(max_file_size)?;
            let (applied, models) =
                ws_fix::model::build(&loaded, &workspace.catalogue, &workspace.config);
            match format {
                Format::Human => print!(
                    "{}",
                    ws_fix::report::explain::human(&models, &applied, &loaded)
                ),
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&ws_fix::report::explain::json(
                        &models, &applied, &loaded
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
    }
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
    use ws_fix::catalogue::{RuleId, Severity};

    let only: Vec<RuleId> = only
        .iter()
        .map(|s| s.parse::<RuleId>())
        .collect::<Result<_, _>>()?;
    let fail_on: Option<Severity> = fail_on.map(str::parse).transpose()?;
    let mut workspace = Workspace::open(path, rules_dir)?;
    if !only.is_empty() {
        for id in RuleId::ALL {
            if !only.contains(id) {
                workspace.config.rules.entry(*id).or_default().enabled = Some(false);
            }
        }
    }
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
