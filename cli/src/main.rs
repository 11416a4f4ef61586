//! `lmstore`: the operator's tool for a live store. Every command names its store with
//! `--store PATH` or `LMSTORE`, prints a table for people or one JSON document (JSON Lines for
//! streams) with `--json`, and exits with a code scripts can branch on (see [`exit`]).

mod cmd;
mod exit;
mod json;
mod open;
mod out;
mod progress;

use clap::{Args, CommandFactory, Parser, Subcommand};
use exit::CliError;
use std::path::PathBuf;

/// Operate an lmstore store: inspect, verify, back up, dump and restore, manage templates,
/// read conversations, diagnose.
#[derive(Parser, Debug)]
#[command(name = "lmstore", version)]
#[command(after_help = exit::HELP)]
pub struct Cli {
    /// The store: a directory holding data.mdb and lock.mdb, or a postgres:// URL (stat, verify
    /// and doctor check what applies to it; backup, salvage and tail --follow are LMDB-only).
    #[arg(long, short = 's', env = "LMSTORE", global = true, value_name = "PATH")]
    store: Option<PathBuf>,
    /// Print one JSON document (JSON Lines for streams) instead of a table.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Counts, map size and use, page fill and free pages per table, readers, versions.
    Stat(cmd::stat::StatArgs),
    /// Check every index against its records and every counter against a count.
    Verify,
    /// Copy the store, consistent and hot, into an empty directory.
    Backup(cmd::backup::BackupArgs),
    /// Write the whole store as versioned JSON Lines (stdout or -o FILE).
    Dump(cmd::transfer::DumpArgs),
    /// Load a dump into a new or empty store.
    Restore(cmd::transfer::RestoreArgs),
    /// Prompt templates: list, get, put, versions, aliases, delete.
    #[command(subcommand)]
    Templates(cmd::templates::TemplatesCmd),
    /// Conversation sessions.
    #[command(subcommand)]
    Sessions(cmd::sessions::SessionsCmd),
    /// Conversation messages: tail (and follow) a session, get one by id.
    #[command(subcommand)]
    Messages(cmd::messages::MessagesCmd),
    /// Render a stored template with variables; prints exactly the text (no newline added).
    Render(cmd::prompts::RenderArgs),
    /// Variables a stored template uses but does not declare.
    Lint(cmd::prompts::LintArgs),
    /// Import a folder of YAML prompt files (promptlightning's LocalRegistry format).
    Import(cmd::prompts::ImportArgs),
    /// Export every template version to a folder of YAML files the original tools load.
    Export(cmd::prompts::ExportArgs),
    /// Migrate a promptlightning registry or a tkr-agent-chat store (read-only source).
    #[command(subcommand)]
    Migrate(cmd::prompts::MigrateCmd),
    /// Copy every intact record of a damaged store into a new store.
    Salvage(cmd::prompts::SalvageArgs),
    /// Compression dictionaries trained from the store's own messages: train, list.
    #[command(subcommand)]
    Dictionary(cmd::dictionary::DictionaryCmd),
    /// Rewrite a store of lmstore 0.1 (schema 1) in the current format; writes need it.
    Upgrade,
    /// Find and fix the problems people meet in the field.
    Doctor(cmd::doctor::DoctorArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
}

#[derive(Args, Debug)]
struct CompletionsArgs {
    /// The shell to generate for.
    shell: clap_complete::Shell,
}

/// What every command gets: where the store is and how to print.
pub struct Ctx {
    pub store: Option<PathBuf>,
    pub json: bool,
}

fn run(cli: Cli) -> Result<(), CliError> {
    let ctx = Ctx {
        store: cli.store,
        json: cli.json,
    };
    match cli.command {
        Command::Stat(a) => cmd::stat::run(&ctx, a),
        Command::Verify => cmd::verify::run(&ctx),
        Command::Render(a) => cmd::prompts::render(&ctx, a),
        Command::Lint(a) => cmd::prompts::lint(&ctx, a),
        Command::Import(a) => cmd::prompts::import(&ctx, a),
        Command::Export(a) => cmd::prompts::export(&ctx, a),
        Command::Migrate(a) => cmd::prompts::migrate(&ctx, a),
        Command::Salvage(a) => cmd::prompts::salvage(a, ctx.json),
        Command::Upgrade => cmd::upgrade::run(&ctx),
        Command::Dictionary(c) => cmd::dictionary::run(&ctx, c),
        Command::Backup(a) => cmd::backup::run(&ctx, a),
        Command::Dump(a) => cmd::transfer::dump(&ctx, a),
        Command::Restore(a) => cmd::transfer::restore(&ctx, a),
        Command::Templates(c) => cmd::templates::run(&ctx, c),
        Command::Sessions(c) => cmd::sessions::run(&ctx, c),
        Command::Messages(c) => cmd::messages::run(&ctx, c),
        Command::Doctor(a) => cmd::doctor::run(&ctx, a),
        Command::Completions(a) => {
            clap_complete::generate(
                a.shell,
                &mut Cli::command(),
                "lmstore",
                &mut std::io::stdout(),
            );
            Ok(())
        }
    }
}

fn main() {
    let cli = Cli::parse();
    let json = cli.json;
    if let Err(e) = run(cli) {
        std::process::exit(e.report(json));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
