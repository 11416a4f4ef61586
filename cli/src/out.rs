//! Printing: one JSON document or JSON Lines with `--json`, tables and plain lines otherwise;
//! colour only on a terminal and never when NO_COLOR is set (https://no-color.org).

use crate::exit::CliResult;
use comfy_table::{presets, ContentArrangement, Table};
use serde_json::Value as Json;
use std::io::{IsTerminal, Write};

/// Prints one JSON document (pretty on a terminal, compact when piped).
pub fn json_doc(v: &Json) -> CliResult {
    let mut out = std::io::stdout().lock();
    if std::io::stdout().is_terminal() {
        serde_json::to_writer_pretty(&mut out, v).map_err(std::io::Error::from)?;
    } else {
        serde_json::to_writer(&mut out, v).map_err(std::io::Error::from)?;
    }
    writeln!(out)?;
    Ok(())
}

/// Prints one line of a JSON Lines stream and flushes it (followers read it at once).
pub fn json_line(v: &Json) -> CliResult {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, v).map_err(std::io::Error::from)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

pub fn line(text: &str) -> CliResult {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    Ok(())
}

/// A table without borders, like `ps` or `docker ps`: easy to read and to cut.
pub fn table(header: &[&str], rows: Vec<Vec<String>>) -> CliResult {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.iter().map(|h| h.to_uppercase()));
    for r in rows {
        t.add_row(r);
    }
    for c in t.column_iter_mut() {
        c.set_padding((0, 2));
    }
    let text = t.to_string();
    let trimmed: Vec<&str> = text.lines().map(str::trim_end).collect();
    line(&trimmed.join("\n"))
}

/// Two columns: name and value.
pub fn pairs(rows: &[(&str, String)]) -> CliResult {
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = std::io::stdout().lock();
    for (k, v) in rows {
        writeln!(out, "{k:width$}  {v}")?;
    }
    Ok(())
}

pub fn color_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

#[derive(Clone, Copy)]
pub enum Tone {
    Good,
    Warn,
    Bad,
}

/// A status word, coloured on a terminal.
pub fn status(word: &str, tone: Tone) -> String {
    if !color_enabled() {
        return word.to_owned();
    }
    let color = match tone {
        Tone::Good => anstyle::AnsiColor::Green,
        Tone::Warn => anstyle::AnsiColor::Yellow,
        Tone::Bad => anstyle::AnsiColor::Red,
    };
    let style = anstyle::Style::new().fg_color(Some(color.into())).bold();
    format!("{style}{word}{style:#}")
}

/// Microseconds since the epoch as RFC 3339 (UTC), as people read times.
pub fn time(micros: i64) -> String {
    if micros <= 0 {
        return "-".to_owned();
    }
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_micros(micros as u64);
    humantime::format_rfc3339_micros(t).to_string()
}

pub fn bytes(n: u64) -> String {
    indicatif::HumanBytes(n).to_string()
}
