//! Exit codes and how errors are reported. The codes are a contract (documented in
//! docs/cli.md and in `--help`); the words may change.

use lmstore::{Error, ErrorKind};

/// Success.
pub const OK: i32 = 0;
/// The command failed: I/O, damaged data, a conflict, problems found by verify or doctor.
pub const FAILURE: i32 = 1;
/// The command line is wrong (clap uses 2 for its own errors too).
pub const USAGE: i32 = 2;
/// The store, template, version, alias, session or message does not exist.
pub const NOT_FOUND: i32 = 3;
/// Render input is missing or of the wrong type.
pub const INPUT: i32 = 4;
/// The template failed to compile or render.
pub const RENDER: i32 = 5;

pub const HELP: &str = "\
Exit codes: 0 ok, 1 failure (including problems found by verify and doctor), 2 usage,
3 not found (store, template, version, alias, session, message), 4 render input missing or
of the wrong type, 5 the template failed to compile or render.
The store is --store PATH or the LMSTORE environment variable. NO_COLOR turns colour off.";

#[derive(Debug)]
pub struct CliError {
    pub code: i32,
    pub kind: &'static str,
    pub message: String,
}

impl CliError {
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        let kind = match code {
            USAGE => "usage",
            NOT_FOUND => "not_found",
            INPUT => "input",
            RENDER => "render",
            _ => "failure",
        };
        CliError {
            code,
            kind,
            message: message.into(),
        }
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(USAGE, message)
    }
    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(FAILURE, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(NOT_FOUND, message)
    }
    /// The command printed what went wrong itself (verify, doctor); only the code is left.
    pub fn reported(code: i32) -> Self {
        CliError {
            code,
            kind: "reported",
            message: String::new(),
        }
    }

    /// Prints the error on stderr (as a JSON object with `--json`) and returns the exit code.
    pub fn report(&self, json: bool) -> i32 {
        if self.kind == "closed_pipe" || self.kind == "reported" {
            // Either the reader went away (`| head`) after what it wanted, or the command has
            // printed its own report of what failed.
        } else if json {
            let doc = serde_json::json!({
                "error": { "kind": self.kind, "message": self.message, "exit_code": self.code }
            });
            eprintln!("{doc}");
        } else {
            eprintln!("lmstore: error: {}", self.message);
        }
        self.code
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        let code = match e.kind {
            ErrorKind::NotFound => NOT_FOUND,
            ErrorKind::Input => INPUT,
            ErrorKind::Render => RENDER,
            _ => FAILURE,
        };
        CliError::new(code, e.message)
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return CliError {
                code: OK,
                kind: "closed_pipe",
                message: String::new(),
            };
        }
        CliError::failure(e.to_string())
    }
}

pub type CliResult<T = ()> = Result<T, CliError>;
