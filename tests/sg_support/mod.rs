//! Helpers shared by the SmartGlass integration tests.
#![allow(dead_code)]

use serde_json::Value;

/// Compares two JSON values, reporting every differing path.
pub fn diff(path: &str, ours: &Value, theirs: &Value, out: &mut Vec<String>) {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            for k in a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))) {
                let p = format!("{path}.{k}");
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => diff(&p, x, y, out),
                    (Some(_), None) => out.push(format!("{p}: only in ours")),
                    (None, Some(_)) => out.push(format!("{p}: only in expected")),
                    (None, None) => unreachable!(),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff(&format!("{path}[{i}]"), x, y, out);
            }
        }
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => {
            // 0 vs 0.0 (float fields) are the same value.
            if a.is_f64() != b.is_f64() && a.as_f64() != Some(0.0) {
                out.push(format!("{path}: {a} vs {b}"));
            }
        }
        _ => {
            if ours != theirs {
                out.push(format!("{path}: ours {ours} expected {theirs}"));
            }
        }
    }
}
