//! The prompt author's and migrator's commands: `render`, `lint`, `import`, `export`,
//! `migrate`, and `salvage`. Each is a thin shell over the library's own function (the same one
//! the C ABI and both bindings call); this file only parses arguments, draws progress and prints
//! the library's report as a table or as JSON.

use crate::exit::{CliError, CliResult};
use crate::open::{open, open_path, Mode};
use crate::{json, out, progress, Ctx};
use clap::{Args, Subcommand};
use lmstore::import::ImportOptions;
use lmstore::render::Target;
use serde_json::{json, Value as Json};
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct RenderArgs {
    /// Template id.
    pub id: String,
    /// Render exactly this version (default: the latest).
    #[arg(long, conflicts_with = "alias")]
    pub version: Option<String>,
    /// Render the version this alias points at.
    #[arg(long)]
    pub alias: Option<String>,
    /// A variable as NAME=VALUE (a string; the template's input types coerce it). Repeatable.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// A JSON object of variables (typed values); --var entries override its keys.
    #[arg(long = "vars", value_name = "FILE.json")]
    pub vars_file: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct LintArgs {
    /// Template id.
    pub id: String,
    /// This version (default: the latest).
    #[arg(long)]
    pub version: Option<String>,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The folder of .yaml/.yml prompt files (searched recursively).
    pub dir: PathBuf,
    /// Report what would happen, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// All or nothing: one transaction, nothing written if any file is skipped or conflicts.
    #[arg(long)]
    pub atomic: bool,
    /// Replace an existing id+version whose body differs (otherwise: a conflict).
    #[arg(long)]
    pub replace: bool,
    /// Only compare the folder with the store (mismatched, missing, extra); write nothing.
    #[arg(long, conflicts_with_all = ["dry_run", "atomic", "replace"])]
    pub verify: bool,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// A new or empty folder.
    pub dir: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum MigrateCmd {
    /// A promptlightning LMDBRegistry directory.
    Promptlightning(MigrateArgs),
    /// A tkr-agent-chat LMDB message store directory.
    TkrAgentChat(MigrateArgs),
}

#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// The source directory (holding data.mdb); it is only read, never written.
    pub src: PathBuf,
    /// Where records lmstore does not model go, as JSON Lines
    /// (default: migrate-<kind>.jsonl beside the store).
    #[arg(long)]
    pub side_file: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct SalvageArgs {
    /// The damaged store (a directory holding data.mdb); it is only read, never by LMDB.
    pub src: PathBuf,
    /// A new or empty directory for the recovered store.
    pub dest: PathBuf,
}

/// Builds the MessagePack map of variables from --vars FILE.json and --var k=v.
fn variables(args: &RenderArgs) -> CliResult<Vec<u8>> {
    let mut map = serde_json::Map::new();
    if let Some(file) = &args.vars_file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| CliError::failure(format!("--vars {}: {e}", file.display())))?;
        match serde_json::from_str::<Json>(&text) {
            Ok(Json::Object(m)) => map = m,
            Ok(_) => {
                return Err(CliError::usage(format!(
                    "--vars {}: the file must hold one JSON object of variables",
                    file.display()
                )))
            }
            Err(e) => {
                return Err(CliError::usage(format!(
                    "--vars {}: not JSON: {e}",
                    file.display()
                )))
            }
        }
    }
    for kv in &args.vars {
        let Some((k, v)) = kv.split_once('=') else {
            return Err(CliError::usage(format!(
                "--var {kv:?}: expected NAME=VALUE"
            )));
        };
        map.insert(k.to_owned(), Json::String(v.to_owned()));
    }
    Ok(json::encode(&json::from_json(&Json::Object(map))))
}

pub fn render(ctx: &Ctx, args: RenderArgs) -> CliResult {
    let vars = variables(&args)?;
    let store = open(ctx, Mode::Read)?;
    let target = match (&args.version, &args.alias) {
        (Some(v), _) => Target::Version(v.as_bytes()),
        (None, Some(a)) => Target::Alias(a.as_bytes()),
        (None, None) => Target::Latest,
    };
    let text = store.render(args.id.as_bytes(), target, &vars)?;
    if ctx.json {
        return out::json_doc(&json!({ "text": text }));
    }
    // Exactly the text: no newline added, so the output pipes into whatever sends it on.
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

pub fn lint(ctx: &Ctx, args: LintArgs) -> CliResult {
    let store = open(ctx, Mode::Read)?;
    let record = store.get_template(
        args.id.as_bytes(),
        args.version.as_deref().map(str::as_bytes),
    )?;
    let spec = lmstore::templates::normalize_spec(&record)?;
    let names = lmstore::render::undeclared_variables(&spec);
    if ctx.json {
        out::json_doc(&json!({ "id": args.id, "undeclared": names }))?;
    } else if names.is_empty() {
        out::line("every variable the template uses is declared")?;
    } else {
        for n in &names {
            out::line(&format!("undeclared variable: {n}"))?;
        }
    }
    if names.is_empty() {
        Ok(())
    } else {
        Err(CliError::reported(crate::exit::FAILURE))
    }
}

fn report_json(bytes: &[u8]) -> CliResult<Json> {
    Ok(json::to_json(&json::decode(bytes)?))
}

pub fn import(ctx: &Ctx, args: ImportArgs) -> CliResult {
    let store = open(
        ctx,
        if args.verify {
            Mode::Read
        } else {
            Mode::Create
        },
    )?;
    if args.verify {
        let report = store.verify_import(&args.dir)?;
        // The report is small and nested (lists of ids per finding), so JSON is its one form.
        let doc = report_json(&report.encode())?;
        out::json_doc(&doc)?;
        let clean = ["mismatched", "missing", "extra"]
            .iter()
            .all(|k| json::field(&doc, k).as_array().is_none_or(|a| a.is_empty()));
        return if clean {
            Ok(())
        } else {
            Err(CliError::reported(crate::exit::FAILURE))
        };
    }
    let bar = progress::items(0, "importing");
    let mut tick = |done: u64, total: u64| {
        if total > 0 && bar.length() != Some(total) {
            bar.set_length(total);
        }
        bar.set_position(done);
    };
    let opts = ImportOptions {
        dry_run: args.dry_run,
        atomic: args.atomic,
        replace: args.replace,
    };
    let report = store.import_folder(&args.dir, opts, &mut tick);
    bar.finish_and_clear();
    let report = report?;
    if ctx.json {
        out::json_doc(&report_json(&report.encode())?)?;
    } else {
        let rows = report
            .files
            .iter()
            .map(|f| {
                let place = if f.line > 0 {
                    format!("{}:{}", f.line, f.column)
                } else {
                    String::new()
                };
                vec![
                    f.path.clone(),
                    f.outcome.name().to_owned(),
                    f.id.clone().unwrap_or_default(),
                    f.version.clone().unwrap_or_default(),
                    place,
                    f.reason.clone(),
                ]
            })
            .collect();
        out::table(&["FILE", "OUTCOME", "ID", "VERSION", "AT", "REASON"], rows)?;
    }
    use lmstore::import::Outcome;
    if report.count(Outcome::Conflict) + report.count(Outcome::Skipped) > 0 {
        return Err(CliError::reported(crate::exit::FAILURE));
    }
    Ok(())
}

pub fn export(ctx: &Ctx, args: ExportArgs) -> CliResult {
    let store = open(ctx, Mode::Read)?;
    let report = store.export_folder(&args.dir)?;
    out::json_doc(&report_json(&report.encode())?)
}

pub fn migrate(ctx: &Ctx, cmd: MigrateCmd) -> CliResult {
    let (kind, args) = match cmd {
        MigrateCmd::Promptlightning(a) => ("promptlightning", a),
        MigrateCmd::TkrAgentChat(a) => ("tkr-agent-chat", a),
    };
    let store_dir = crate::open::store_path(ctx)?.to_path_buf();
    let store = open_path(&store_dir, Mode::Create)?;
    let side = args.side_file.unwrap_or_else(|| {
        store_dir
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .join(format!("migrate-{kind}.jsonl"))
    });
    let bar = progress::items(0, "migrating");
    let mut tick = |done: u64, total: u64| {
        if total > 0 && bar.length() != Some(total) {
            bar.set_length(total);
        }
        bar.set_position(done);
    };
    let report = if kind == "promptlightning" {
        store.migrate_promptlightning(&args.src, &side, &mut tick)
    } else {
        store.migrate_tkr_agent_chat(&args.src, &side, &mut tick)
    };
    bar.finish_and_clear();
    out::json_doc(&report_json(&report?.encode())?)
}

pub fn salvage(args: SalvageArgs, _json: bool) -> CliResult {
    let report = lmstore::recovery::salvage(&args.src, &args.dest)?;
    out::json_doc(&report_json(&report.to_msgpack())?)
}
