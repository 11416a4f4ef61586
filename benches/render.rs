//! Rendering benchmark over the differential corpus (scripts/bench-render.sh prepares it):
//! per case, the C ABI (lms_render_into, cache warm), the same compiled template rendered by
//! minijinja directly (context built once, no coercion or MessagePack), and Python Jinja2 with
//! the reference coercion (timed by tests/render/bench.py). Min over batches per case, so a
//! loaded machine disturbs the figures less; ratios are between peers of the same run.
use lmstore::capi::*;
use lmstore::render::Compiled;
use lmstore::templates::normalize_spec;
use rmpv::Value;
use std::time::{Duration, Instant};

fn best_ns(budget: Duration, mut f: impl FnMut()) -> f64 {
    for _ in 0..20 {
        f();
    }
    let mut best = f64::INFINITY;
    let end = Instant::now() + budget;
    let n = 50;
    while Instant::now() < end {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        best = best.min(t.elapsed().as_nanos() as f64 / n as f64);
    }
    best
}

fn field<'a>(v: &'a Value, k: &str) -> &'a Value {
    v.as_map()
        .and_then(|m| m.iter().find(|(key, _)| key.as_str() == Some(k)))
        .map(|(_, v)| v)
        .unwrap_or(&Value::Nil)
}

fn pack(v: &Value) -> Vec<u8> {
    lmstore::codec::encode(v)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    v[v.len() / 2]
}

struct Db(*mut lms_db);

impl Db {
    fn open(dir: &std::path::Path) -> Db {
        let path = dir.to_str().unwrap();
        let mut opts = std::mem::MaybeUninit::<lms_options>::uninit();
        // SAFETY: lms_options_init fills the whole struct.
        unsafe { lms_options_init(opts.as_mut_ptr()) };
        // SAFETY: initialized just above.
        let mut opts = unsafe { opts.assume_init() };
        opts.flags = LMS_OPEN_NO_SYNC;
        let mut db = std::ptr::null_mut();
        // SAFETY: valid pointers for the call.
        let rc = unsafe { lms_open(path.as_ptr() as *const _, path.len(), &opts, &mut db) };
        assert_eq!(rc, 0);
        Db(db)
    }

    fn render(&self, id: &str, vars: &[u8], buf: &mut [u8]) -> usize {
        let mut n = 0usize;
        // SAFETY: valid pointers and lengths for the call.
        let rc = unsafe {
            lms_render_into(
                self.0,
                id.as_ptr() as *const _,
                id.len(),
                std::ptr::null(),
                0,
                vars.as_ptr(),
                vars.len(),
                buf.as_mut_ptr() as *mut _,
                buf.len(),
                &mut n,
            )
        };
        assert_eq!(rc, 0, "{id}");
        n
    }
}

fn main() {
    let dir = std::env::var("RENDER_BENCH_DIR").unwrap_or_else(|_| "build/render-bench".into());
    let budget = Duration::from_secs_f64(
        std::env::var("RENDER_BENCH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0.05),
    );
    let corpus = std::fs::read(format!("{dir}/corpus.msgpack"))
        .expect("run scripts/bench-render.sh (it prepares the corpus)");
    let corpus = rmpv::decode::read_value(&mut &corpus[..]).unwrap();
    let py: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("{dir}/python.json")).unwrap()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::open(tmp.path());
    let mut buf = vec![0u8; 1 << 20];
    let (mut vs_py, mut vs_py_yaml, mut abi_vs_direct) = (Vec::new(), Vec::new(), Vec::new());
    let mut worst = (f64::INFINITY, String::new());
    println!(
        "{:<48} {:>10} {:>10} {:>10} {:>8} {:>8}",
        "case", "python ns", "ABI ns", "direct ns", "py/ABI", "ABI/dir"
    );
    for case in corpus.as_array().unwrap() {
        let name = field(case, "name").as_str().unwrap().to_owned();
        let template = field(case, "template").as_str().unwrap();
        let vars = match field(case, "vars") {
            Value::Binary(b) => b.clone(),
            _ => panic!("vars"),
        };
        let spec = pack(&Value::Map(vec![
            (Value::from("id"), Value::from(name.as_str())),
            (Value::from("version"), Value::from("1")),
            (Value::from("template"), Value::from(template)),
            (Value::from("inputs"), field(case, "inputs").clone()),
        ]));
        let mut outcome = 0u32;
        // SAFETY: valid pointers for the call.
        let rc = unsafe { lms_put_template(db.0, spec.as_ptr(), spec.len(), 0, &mut outcome) };
        assert_eq!(rc, 0, "{name}");
        let compiled = Compiled::from_spec(&normalize_spec(&spec).unwrap()).unwrap();
        let ctx = compiled.context(&vars).unwrap();
        let n = db.render(&name, &vars, &mut buf);
        assert_eq!(
            std::str::from_utf8(&buf[..n]).unwrap(),
            compiled.render_context(ctx.clone()).unwrap(),
            "{name}"
        );
        let abi = best_ns(budget, || {
            db.render(&name, &vars, &mut buf);
        });
        let direct = best_ns(budget, || {
            std::hint::black_box(compiled.render_context(ctx.clone()).unwrap());
        });
        let python = py[&name].as_f64().unwrap_or(f64::NAN);
        let ratio = python / abi;
        vs_py.push(ratio);
        if template.contains("yaml") {
            vs_py_yaml.push(ratio);
        }
        abi_vs_direct.push(abi / direct);
        if ratio < worst.0 {
            worst = (ratio, name.clone());
        }
        println!(
            "{name:<48} {python:>10.0} {abi:>10.0} {direct:>10.0} {ratio:>8.1} {:>8.2}",
            abi / direct
        );
    }
    println!();
    println!("cases: {}", vs_py.len());
    println!(
        "Python / ABI: median {:.1}x, worst {:.1}x ({})",
        median(vs_py.clone()),
        worst.0,
        worst.1
    );
    println!(
        "Python / ABI on templates using yaml: median {:.1}x over {} cases",
        median(vs_py_yaml.clone()),
        vs_py_yaml.len()
    );
    println!(
        "ABI / minijinja direct: median {:.2}x",
        median(abi_vs_direct)
    );

    // The two seed examples the Go and Node benchmarks render too.
    let cases: serde_json::Value =
        serde_json::from_str(include_str!("../tests/render/bench_cases.json")).unwrap();
    for c in cases.as_array().unwrap() {
        let spec = serde_to_mp(&c["spec"]);
        let vars = pack(&serde_to_mp(&c["vars"]));
        let id = c["spec"]["id"].as_str().unwrap();
        let spec = pack(&spec);
        let mut outcome = 0u32;
        // SAFETY: valid pointers for the call.
        let rc = unsafe { lms_put_template(db.0, spec.as_ptr(), spec.len(), 0, &mut outcome) };
        assert_eq!(rc, 0);
        let abi = best_ns(budget * 4, || {
            db.render(id, &vars, &mut buf);
        });
        println!("binding case {id}: C ABI {abi:.0} ns");
    }
    // SAFETY: opened above, closed once.
    unsafe { lms_close(db.0) };
}

fn serde_to_mp(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::from(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::from(i),
            None => Value::from(n.as_f64().unwrap()),
        },
        serde_json::Value::String(s) => Value::from(s.as_str()),
        serde_json::Value::Array(a) => Value::Array(a.iter().map(serde_to_mp).collect()),
        serde_json::Value::Object(o) => Value::Map(
            o.iter()
                .map(|(k, v)| (Value::from(k.as_str()), serde_to_mp(v)))
                .collect(),
        ),
    }
}
