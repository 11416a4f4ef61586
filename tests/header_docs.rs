//! The header's contracts are complete: every exported function that returns a value documents
//! it with `@return`, every status-returning function that takes a handle lists the statuses any
//! such call can give (LMS_OK, LMS_INVALID_ARGUMENT, LMS_INTERNAL), and every status named in a
//! `@return` exists.

use std::collections::HashSet;

#[test]
fn every_function_documents_its_return() {
    let header = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/lmstore.h"))
        .expect("include/lmstore.h");
    let defines: HashSet<&str> = header
        .lines()
        .filter_map(|l| l.strip_prefix("#define "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let mut checked = 0;
    let mut problems = Vec::new();
    let mut rest = header.as_str();
    while let Some(start) = rest.find("/**") {
        let after = &rest[start..];
        let Some(end) = after.find("*/") else { break };
        let doc = &after[..end];
        let tail = &after[end + 2..];
        // The declaration right after the comment, up to its closing parenthesis.
        let decl_end = tail.find(';').unwrap_or(tail.len());
        let decl = tail[..decl_end].trim();
        rest = tail;
        let Some(paren) = decl.find('(') else {
            continue;
        };
        let head = &decl[..paren];
        let Some(name) = head
            .split_whitespace()
            .last()
            .map(|n| n.trim_start_matches('*'))
        else {
            continue;
        };
        if !name.starts_with("lms_") || decl.starts_with("#define") || decl.starts_with("typedef") {
            continue;
        }
        checked += 1;
        let returns = head[..head.len() - name.len()].trim();
        if returns == "void" {
            continue;
        }
        let Some(at) = doc.find("@return") else {
            problems.push(format!("{name}: no @return"));
            continue;
        };
        let ret = &doc[at..];
        let ret = &ret[..ret.find("@since").unwrap_or(ret.len())];
        for word in ret.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if word.starts_with("LMS_") && !defines.contains(word) {
                problems.push(format!(
                    "{name}: @return names {word}, which the header does not define"
                ));
            }
        }
        if returns == "int" && decl.contains("lms_db *db") {
            for status in ["LMS_OK", "LMS_INVALID_ARGUMENT", "LMS_INTERNAL"] {
                if !ret.contains(status) {
                    problems.push(format!("{name}: @return does not list {status}"));
                }
            }
        }
    }
    assert!(checked > 40, "parsed only {checked} functions");
    assert!(
        problems.is_empty(),
        "header contracts incomplete:\n{}",
        problems.join("\n")
    );
}
