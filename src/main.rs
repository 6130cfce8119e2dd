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
