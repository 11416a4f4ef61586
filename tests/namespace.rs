//! Every identifier the header puts into a C program's global namespace starts with `lms_`,
//! `LMS_` or `LMSTORE_`, so including lmstore.h can never clash with the program's own names
//! (as `MAX_TS` once did).

/// The header without its comments.
fn code() -> String {
    let header = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/include/lmstore.h"));
    let mut out = String::new();
    let mut rest = header;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("*/").expect("unterminated comment") + start + 2;
        rest = &rest[end..];
    }
    out.push_str(rest);
    out.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
}

/// Names the header declares: macros, tags and typedefs, enumerators, functions.
fn declared() -> Vec<String> {
    let code = code();
    let mut names = Vec::new();
    let mut depth = 0i32; // inside struct or enum braces, or parentheses
    let mut in_enum = false;
    for line in code.lines() {
        let t = line.trim();
        if let Some(def) = t.strip_prefix("#define ") {
            names.push(words(def).next().unwrap().to_owned());
            continue;
        }
        // The extern "C" block of C++ builds opens and closes around everything.
        if t.starts_with('#') || t.starts_with("extern \"C\"") || (t == "}" && depth == 0) {
            continue;
        }
        let ws: Vec<&str> = words(t).collect();
        if depth == 0 {
            for (i, w) in ws.iter().enumerate() {
                if matches!(*w, "struct" | "enum" | "union") {
                    if let Some(tag) = ws.get(i + 1) {
                        names.push((*tag).to_owned());
                    }
                    in_enum |= *w == "enum";
                }
            }
            if let Some(ptr) = t.strip_prefix("typedef").and_then(|r| r.split_once("(*")) {
                // A function pointer type: typedef void (*name)(...);
                names.push(words(ptr.1).next().unwrap_or_default().to_owned());
            } else if t.starts_with("typedef") || t.starts_with('}') {
                if let Some(last) = ws.last() {
                    names.push((*last).to_owned());
                }
            }
            // A function: the identifier right before the first '('.
            if let Some(paren) = t.find('(') {
                if let Some(f) = words(&t[..paren]).last() {
                    names.push(f.to_owned());
                }
            }
        } else if in_enum && depth == 1 {
            if let Some(first) = ws.first() {
                names.push((*first).to_owned());
            }
        }
        for c in t.chars() {
            match c {
                '{' | '(' => depth += 1,
                '}' | ')' => depth -= 1,
                _ => {}
            }
        }
        if depth == 0 {
            in_enum = false;
        }
    }
    assert_eq!(depth, 0, "unbalanced braces: the parser lost track");
    names.retain(|n| !n.chars().next().unwrap().is_ascii_digit());
    names
}

#[test]
fn every_header_identifier_is_prefixed() {
    // C's own words that appear in declarations.
    const C: &[&str] = &[
        "struct", "enum", "union", "typedef", "const", "void", "char", "int", "unsigned",
        "uint8_t", "uint32_t", "uint64_t", "int64_t", "int32_t", "size_t", "bool",
    ];
    let names = declared();
    assert!(
        names.iter().any(|n| n == "lms_open"),
        "the parser found no functions: {names:?}"
    );
    assert!(names.iter().any(|n| n == "LMS_NOT_A_STORE"));
    assert!(names.iter().any(|n| n == "lms_page"));
    let leaks: Vec<_> = names
        .iter()
        .filter(|n| !C.contains(&n.as_str()))
        .filter(|n| {
            !["lms_", "LMS_", "LMSTORE_"]
                .iter()
                .any(|p| n.starts_with(p))
        })
        .collect();
    assert!(
        leaks.is_empty(),
        "unprefixed identifiers in lmstore.h: {leaks:?}"
    );
}
