//! `lmstore templates list|get|put|versions|alias|delete`.

use crate::exit::{CliError, CliResult};
use crate::json::{decode, encode, field, from_json, to_json};
use crate::open::{open, Mode};
use crate::out;
use crate::Ctx;
use clap::Subcommand;
use lmstore::templates::{normalize_spec, PutOutcome};
use serde_json::{json, Value as Json};
use std::io::Read;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum TemplatesCmd {
    /// Template ids in order, with their latest version and version count.
    List {
        /// Only ids starting with this.
        #[arg(long, default_value = "")]
        prefix: String,
        /// How many to show (0: all).
        #[arg(long, short = 'n', default_value_t = 0)]
        limit: u64,
    },
    /// One template: the latest version, or the one named.
    Get {
        id: String,
        #[arg(long, conflicts_with = "alias")]
        version: Option<String>,
        #[arg(long)]
        alias: Option<String>,
        /// Print only the template text, exactly as stored (no newline added).
        #[arg(long)]
        text: bool,
    },
    /// Store a version from a JSON spec file ('-' for stdin): {id, version, template,
    /// description, inputs, metadata}.
    Put {
        file: PathBuf,
        /// Replace a version that exists with different content (versions are immutable
        /// otherwise).
        #[arg(long)]
        replace: bool,
    },
    /// The versions of one template, oldest first, with the aliases pointing at each.
    Versions { id: String },
    /// List a template's aliases, point ALIAS at VERSION, or --delete ALIAS.
    Alias {
        id: String,
        alias: Option<String>,
        version: Option<String>,
        /// Remove ALIAS.
        #[arg(long, requires = "alias", conflicts_with = "version")]
        delete: bool,
    },
    /// Delete one version (--version) or the whole template.
    Delete {
        id: String,
        #[arg(long)]
        version: Option<String>,
    },
}

fn record(
    store: &lmstore::Store,
    id: &str,
    version: Option<&str>,
    alias: Option<&str>,
) -> CliResult<Json> {
    let decoded = match alias {
        Some(a) => store.with_template_by_alias(id.as_bytes(), a.as_bytes(), decode),
        None => store.with_template(id.as_bytes(), version.map(str::as_bytes), decode),
    }?;
    Ok(to_json(&decoded?))
}

fn ids(store: &lmstore::Store, prefix: &str, limit: u64) -> CliResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    loop {
        let want = if limit == 0 {
            1000
        } else {
            (limit - out.len() as u64).min(1000) as u32
        };
        if want == 0 {
            break;
        }
        let after = out.last().cloned().unwrap_or_default();
        let page = store.list_template_ids(prefix.as_bytes(), after.as_bytes(), want)?;
        let batch: Vec<String> = match to_json(&decode(&page)?) {
            Json::Array(items) => items
                .into_iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let n = batch.len();
        out.extend(batch);
        if (n as u32) < want {
            break;
        }
    }
    Ok(out)
}

fn versions(store: &lmstore::Store, id: &str) -> CliResult<Vec<Json>> {
    match to_json(&decode(&store.list_template_versions(id.as_bytes())?)?) {
        Json::Array(items) => Ok(items),
        _ => Ok(Vec::new()),
    }
}

fn aliases(store: &lmstore::Store, id: &str) -> CliResult<serde_json::Map<String, Json>> {
    match to_json(&decode(&store.list_template_aliases(id.as_bytes())?)?) {
        Json::Object(m) => Ok(m),
        _ => Ok(Default::default()),
    }
}

fn read_spec(file: &PathBuf) -> CliResult<Json> {
    let mut text = String::new();
    if file.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut text)?;
    } else {
        text = std::fs::read_to_string(file)
            .map_err(|e| CliError::failure(format!("{}: {e}", file.display())))?;
    }
    serde_json::from_str(&text)
        .map_err(|e| CliError::failure(format!("{} is not valid JSON: {e}", file.display())))
}

pub fn run(ctx: &Ctx, c: TemplatesCmd) -> CliResult {
    match c {
        TemplatesCmd::List { prefix, limit } => {
            let store = open(ctx, Mode::Read)?;
            let mut rows = Vec::new();
            for id in ids(&store, &prefix, limit)? {
                let latest = record(&store, &id, None, None)?;
                let n = versions(&store, &id)?.len();
                rows.push(json!({
                    "id": id,
                    "latest": field(&latest, "version"),
                    "versions": n,
                    "created_at": field(&latest, "created_at"),
                    "description": field(&latest, "description"),
                }));
            }
            if ctx.json {
                return out::json_doc(&Json::Array(rows));
            }
            out::table(
                &["id", "latest", "versions", "created", "description"],
                rows.iter()
                    .map(|r| {
                        vec![
                            field(r, "id").as_str().unwrap_or("").to_owned(),
                            field(r, "latest").as_str().unwrap_or("").to_owned(),
                            field(r, "versions").to_string(),
                            out::time(field(r, "created_at").as_i64().unwrap_or(0)),
                            field(r, "description").as_str().unwrap_or("").to_owned(),
                        ]
                    })
                    .collect(),
            )
        }
        TemplatesCmd::Get {
            id,
            version,
            alias,
            text,
        } => {
            let store = open(ctx, Mode::Read)?;
            let r = record(&store, &id, version.as_deref(), alias.as_deref())?;
            if ctx.json {
                return out::json_doc(&r);
            }
            let body = field(&r, "template").as_str().unwrap_or("");
            if text {
                use std::io::Write;
                let mut o = std::io::stdout().lock();
                o.write_all(body.as_bytes())?;
                return Ok(o.flush()?);
            }
            let mut rows = vec![
                ("id", field(&r, "id").as_str().unwrap_or("").to_owned()),
                (
                    "version",
                    field(&r, "version").as_str().unwrap_or("").to_owned(),
                ),
                (
                    "created",
                    out::time(field(&r, "created_at").as_i64().unwrap_or(0)),
                ),
            ];
            if let Some(d) = field(&r, "description").as_str() {
                rows.push(("description", d.to_owned()));
            }
            rows.push(("inputs", field(&r, "inputs").to_string()));
            rows.push(("metadata", field(&r, "metadata").to_string()));
            out::pairs(&rows)?;
            out::line("")?;
            out::line(body)
        }
        TemplatesCmd::Put { file, replace } => {
            let spec_json = read_spec(&file)?;
            if !spec_json.is_object() {
                return Err(CliError::failure(format!(
                    "{}: a template spec is a JSON object",
                    file.display()
                )));
            }
            let spec = normalize_spec(&encode(&from_json(&spec_json)))?;
            let store = open(ctx, Mode::Create)?;
            let outcome = store.put_template(&spec, replace)?;
            let word = match outcome {
                PutOutcome::Created => "created",
                PutOutcome::Unchanged => "unchanged",
                PutOutcome::Replaced => "replaced",
            };
            if ctx.json {
                return out::json_doc(
                    &json!({"id": spec.id, "version": spec.version, "outcome": word}),
                );
            }
            out::line(&format!("{word} {} {}", spec.id, spec.version))
        }
        TemplatesCmd::Versions { id } => {
            let store = open(ctx, Mode::Read)?;
            let vs = versions(&store, &id)?;
            let al = aliases(&store, &id)?;
            let latest = record(&store, &id, None, None)?;
            let latest = field(&latest, "version").as_str().unwrap_or("").to_owned();
            let rows: Vec<Json> = vs
                .iter()
                .map(|v| {
                    let name = field(v, "version").as_str().unwrap_or("").to_owned();
                    let pointing: Vec<&String> = al
                        .iter()
                        .filter(|(_, target)| target.as_str() == Some(name.as_str()))
                        .map(|(a, _)| a)
                        .collect();
                    json!({
                        "version": name,
                        "created_at": field(v, "created_at"),
                        "latest": name == latest,
                        "aliases": pointing,
                    })
                })
                .collect();
            if ctx.json {
                return out::json_doc(&Json::Array(rows));
            }
            out::table(
                &["version", "created", "latest", "aliases"],
                rows.iter()
                    .map(|r| {
                        vec![
                            field(r, "version").as_str().unwrap_or("").to_owned(),
                            out::time(field(r, "created_at").as_i64().unwrap_or(0)),
                            if field(r, "latest") == &Json::Bool(true) {
                                "*".into()
                            } else {
                                String::new()
                            },
                            field(r, "aliases")
                                .as_array()
                                .map(|a| {
                                    a.iter()
                                        .filter_map(|x| x.as_str())
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                })
                                .unwrap_or_default(),
                        ]
                    })
                    .collect(),
            )
        }
        TemplatesCmd::Alias {
            id,
            alias,
            version,
            delete,
        } => match (alias, version, delete) {
            (None, _, _) => {
                let store = open(ctx, Mode::Read)?;
                let al = aliases(&store, &id)?;
                if ctx.json {
                    return out::json_doc(&Json::Object(al));
                }
                out::table(
                    &["alias", "version"],
                    al.iter()
                        .map(|(a, v)| vec![a.clone(), v.as_str().unwrap_or("").to_owned()])
                        .collect(),
                )
            }
            (Some(alias), None, true) => {
                let store = open(ctx, Mode::Write)?;
                store.delete_template_alias(id.as_bytes(), alias.as_bytes())?;
                if ctx.json {
                    return out::json_doc(&json!({"id": id, "alias": alias, "deleted": true}));
                }
                out::line(&format!("deleted alias {alias} of {id}"))
            }
            (Some(alias), Some(version), _) => {
                let store = open(ctx, Mode::Write)?;
                store.set_template_alias(id.as_bytes(), alias.as_bytes(), version.as_bytes())?;
                if ctx.json {
                    return out::json_doc(&json!({"id": id, "alias": alias, "version": version}));
                }
                out::line(&format!("{id}: {alias} -> {version}"))
            }
            (Some(alias), None, false) => {
                let store = open(ctx, Mode::Read)?;
                let al = aliases(&store, &id)?;
                let v = al.get(&alias).ok_or_else(|| {
                    CliError::not_found(format!("template '{id}' has no alias '{alias}'"))
                })?;
                if ctx.json {
                    return out::json_doc(&json!({"id": id, "alias": alias, "version": v}));
                }
                out::line(v.as_str().unwrap_or(""))
            }
        },
        TemplatesCmd::Delete { id, version } => {
            let store = open(ctx, Mode::Write)?;
            store.delete_template(id.as_bytes(), version.as_deref().map(str::as_bytes))?;
            if ctx.json {
                return out::json_doc(&json!({"id": id, "version": version, "deleted": true}));
            }
            match version {
                Some(v) => out::line(&format!("deleted {id} {v}")),
                None => out::line(&format!("deleted {id} (every version)")),
            }
        }
    }
}
