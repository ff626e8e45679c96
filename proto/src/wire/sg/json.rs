//! JSON fragmentation (docs/protocol.md#json-fragmentation).
//!
//! When the protected payload of a JSON message (an `SGString`: 2 + text + 1
//! bytes) would exceed 1024 bytes, the JSON text is base64-encoded and the
//! base64 string is split into pieces of at most 905 characters, each sent
//! as its own JSON message:
//!
//! ```text
//! {"datagram_size":"24","datagram_id":"1","fragment_offset":"0","fragment_length":"12","fragment_data":"eyJ0ZXN0Ijoi"}
//! ```
//!
//! Sizes and offsets count base64 characters. The receiver collects the
//! pieces of one `datagram_id` until they cover `datagram_size`, orders them
//! by offset, concatenates and base64-decodes.

use std::collections::{BTreeMap, VecDeque};

use base64::Engine;

use crate::wire::WireError;

const P: &str = "json_fragment";

/// A JSON message whose protected payload exceeds this is fragmented.
pub const FRAGMENT_THRESHOLD: usize = 1024;
/// Longest `fragment_data` (base64 characters).
pub const MAX_FRAGMENT_DATA: usize = 905;

/// One fragment of a fragmented JSON message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JsonFragment {
    /// Total base64 length of the datagram.
    pub datagram_size: usize,
    /// Datagram id (groups the fragments).
    pub datagram_id: u64,
    /// Offset of this piece in the base64 string.
    pub fragment_offset: usize,
    /// Length of this piece.
    pub fragment_length: usize,
    /// The base64 piece.
    pub fragment_data: String,
}

fn num_field(v: &serde_json::Value, field: &'static str) -> Result<u64, WireError> {
    let f = v
        .get(field)
        .ok_or_else(|| WireError::invalid(P, field, "missing"))?;
    match f {
        serde_json::Value::String(s) => s
            .parse::<u64>()
            .map_err(|_| WireError::invalid(P, field, "not a decimal number")),
        serde_json::Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| WireError::invalid(P, field, "not a non-negative integer")),
        _ => Err(WireError::invalid(
            P,
            field,
            "not a number or numeric string",
        )),
    }
}

fn usize_field(v: &serde_json::Value, field: &'static str) -> Result<usize, WireError> {
    usize::try_from(num_field(v, field)?).map_err(|_| WireError::invalid(P, field, "too large"))
}

impl JsonFragment {
    /// The fragment as the JSON text it is sent as (numbers as strings, in
    /// the key order of docs/protocol.md#json-fragmentation).
    pub fn to_json(&self) -> String {
        format!(
            "{{\"datagram_size\":\"{}\",\"datagram_id\":\"{}\",\"fragment_offset\":\"{}\",\"fragment_length\":\"{}\",\"fragment_data\":{}}}",
            self.datagram_size,
            self.datagram_id,
            self.fragment_offset,
            self.fragment_length,
            serde_json::Value::String(self.fragment_data.clone())
        )
    }

    /// Reads a fragment from a parsed JSON object and validates it
    /// (length matches the data, the piece lies inside the datagram, the
    /// data is base64 alphabet). Numbers may be strings or numbers.
    pub fn from_value(v: &serde_json::Value) -> Result<JsonFragment, WireError> {
        let datagram_size = usize_field(v, "datagram_size")?;
        let datagram_id = num_field(v, "datagram_id")?;
        let fragment_offset = usize_field(v, "fragment_offset")?;
        let fragment_length = usize_field(v, "fragment_length")?;
        let fragment_data = v
            .get("fragment_data")
            .and_then(|d| d.as_str())
            .ok_or_else(|| WireError::invalid(P, "fragment_data", "missing or not a string"))?
            .to_string();
        let f = JsonFragment {
            datagram_size,
            datagram_id,
            fragment_offset,
            fragment_length,
            fragment_data,
        };
        f.validate()?;
        Ok(f)
    }

    /// Checks the fields agree: the length matches the data, the piece is
    /// not empty and lies inside the datagram, the data is base64 alphabet.
    pub fn validate(&self) -> Result<(), WireError> {
        let (datagram_size, fragment_offset, fragment_length, fragment_data) = (
            self.datagram_size,
            self.fragment_offset,
            self.fragment_length,
            &self.fragment_data,
        );
        if fragment_data.len() != fragment_length {
            return Err(WireError::invalid(
                P,
                "fragment_length",
                "does not match the length of fragment_data",
            ));
        }
        if fragment_length == 0 {
            return Err(WireError::invalid(P, "fragment_length", "empty fragment"));
        }
        if fragment_offset
            .checked_add(fragment_length)
            .is_none_or(|end| end > datagram_size)
        {
            return Err(WireError::invalid(
                P,
                "fragment_offset",
                "fragment extends past datagram_size",
            ));
        }
        if !fragment_data
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
        {
            return Err(WireError::invalid(P, "fragment_data", "not base64"));
        }
        Ok(())
    }

    /// Parses JSON text: `Ok(None)` when it is valid JSON but not a fragment.
    pub fn parse(text: &str) -> Result<Option<JsonFragment>, WireError> {
        let v: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| WireError::invalid("json", "text", format!("not JSON: {e}")))?;
        if is_fragment_value(&v) {
            Ok(Some(JsonFragment::from_value(&v)?))
        } else {
            Ok(None)
        }
    }
}

/// True when a parsed JSON message is a fragment (has `fragment_data`).
pub fn is_fragment_value(v: &serde_json::Value) -> bool {
    v.get("fragment_data").is_some()
}

/// True when a JSON text needs fragmenting: its `SGString` payload
/// (2 + len + 1 bytes) would exceed [`FRAGMENT_THRESHOLD`].
pub fn needs_fragmenting(text: &str) -> bool {
    text.len() + 3 > FRAGMENT_THRESHOLD
}

/// Splits a JSON text into fragments under `datagram_id`.
pub fn fragment(text: &str, datagram_id: u64) -> Vec<JsonFragment> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    let size = b64.len();
    // base64 is ASCII, so any byte index is a char boundary.
    b64.as_bytes()
        .chunks(MAX_FRAGMENT_DATA)
        .enumerate()
        .map(|(i, c)| JsonFragment {
            datagram_size: size,
            datagram_id,
            fragment_offset: i * MAX_FRAGMENT_DATA,
            fragment_length: c.len(),
            fragment_data: String::from_utf8_lossy(c).into_owned(),
        })
        .collect()
}

/// The JSON texts to send for `text`: the text itself when it fits, else
/// its fragments (each a JSON text) under `datagram_id`.
pub fn split_for_sending(text: &str, datagram_id: u64) -> Vec<String> {
    if needs_fragmenting(text) {
        fragment(text, datagram_id)
            .iter()
            .map(JsonFragment::to_json)
            .collect()
    } else {
        vec![text.to_string()]
    }
}

#[derive(Debug)]
struct Datagram {
    id: u64,
    size: usize,
    have: usize,
    parts: BTreeMap<usize, String>,
}

/// Reassembles fragmented JSON with bounded memory: at most `max_pending`
/// datagrams in progress and `max_bytes` base64 characters buffered (the
/// oldest datagrams are dropped first); a datagram larger than `max_bytes`
/// is refused.
#[derive(Debug)]
pub struct JsonReassembler {
    pending: VecDeque<Datagram>,
    max_pending: usize,
    max_bytes: usize,
    buffered: usize,
}

impl Default for JsonReassembler {
    fn default() -> Self {
        JsonReassembler::new(16, 1 << 20)
    }
}

impl JsonReassembler {
    /// A reassembler with the given limits.
    pub fn new(max_pending: usize, max_bytes: usize) -> JsonReassembler {
        JsonReassembler {
            pending: VecDeque::new(),
            max_pending: max_pending.max(1),
            max_bytes,
            buffered: 0,
        }
    }

    /// Datagrams in progress.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Base64 characters buffered.
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// Takes any received JSON text: returns it unchanged when it is not a
    /// fragment, the reassembled JSON text when this fragment completes a
    /// datagram, `None` while incomplete.
    pub fn accept(&mut self, text: &str) -> Result<Option<String>, WireError> {
        match JsonFragment::parse(text)? {
            None => Ok(Some(text.to_string())),
            Some(f) => self.push(f),
        }
    }

    /// Adds one fragment; returns the decoded JSON text when complete.
    /// Overlapping pieces or a size that disagrees with earlier pieces are
    /// errors (the datagram is dropped); an exact duplicate is ignored.
    pub fn push(&mut self, f: JsonFragment) -> Result<Option<String>, WireError> {
        // Fragments built by hand have not been through `from_value`.
        f.validate()?;
        if f.datagram_size > self.max_bytes {
            return Err(WireError::invalid(
                P,
                "datagram_size",
                "larger than the reassembly buffer",
            ));
        }
        let idx = match self.pending.iter().position(|d| d.id == f.datagram_id) {
            Some(i) => i,
            None => {
                while self.pending.len() >= self.max_pending {
                    self.drop_at(0);
                }
                self.pending.push_back(Datagram {
                    id: f.datagram_id,
                    size: f.datagram_size,
                    have: 0,
                    parts: BTreeMap::new(),
                });
                self.pending.len() - 1
            }
        };
        let d = &self.pending[idx];
        if d.size != f.datagram_size {
            self.drop_at(idx);
            return Err(WireError::invalid(
                P,
                "datagram_size",
                "differs from earlier fragments of the datagram",
            ));
        }
        if let Some(old) = d.parts.get(&f.fragment_offset) {
            if *old == f.fragment_data {
                return Ok(None);
            }
            self.drop_at(idx);
            return Err(WireError::invalid(
                P,
                "fragment_data",
                "conflicts with an earlier fragment",
            ));
        }
        let start = f.fragment_offset;
        let end = start + f.fragment_length;
        let overlaps_prev = d
            .parts
            .range(..start)
            .next_back()
            .is_some_and(|(o, s)| o + s.len() > start);
        let overlaps_next = d.parts.range(start..).next().is_some_and(|(o, _)| *o < end);
        if overlaps_prev || overlaps_next {
            self.drop_at(idx);
            return Err(WireError::invalid(
                P,
                "fragment_offset",
                "overlaps an earlier fragment",
            ));
        }
        let d = &mut self.pending[idx];
        d.have += f.fragment_length;
        self.buffered += f.fragment_length;
        d.parts.insert(start, f.fragment_data);
        if d.have == d.size {
            let d = self.remove_at(idx);
            let mut b64 = String::with_capacity(d.size);
            for (_, p) in d.parts {
                b64.push_str(&p);
            }
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b64.as_bytes())
                .map_err(|e| WireError::invalid(P, "fragment_data", format!("bad base64: {e}")))?;
            let text = String::from_utf8(raw)
                .map_err(|_| WireError::invalid(P, "fragment_data", "decoded data is not UTF-8"))?;
            serde_json::from_str::<serde_json::Value>(&text).map_err(|e| {
                WireError::invalid(P, "fragment_data", format!("decoded data is not JSON: {e}"))
            })?;
            return Ok(Some(text));
        }
        while self.buffered > self.max_bytes && self.pending.len() > 1 {
            let victim = if idx == 0 { 1 } else { 0 };
            self.drop_at(victim);
        }
        Ok(None)
    }

    fn remove_at(&mut self, i: usize) -> Datagram {
        let d = self.pending.remove(i).expect("index is valid");
        self.buffered -= d.have;
        d
    }

    fn drop_at(&mut self, i: usize) {
        if i < self.pending.len() {
            self.remove_at(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_example() {
        let mut r = JsonReassembler::default();
        let a = r#"{"datagram_size":"24","datagram_id":"1","fragment_offset":"0","fragment_length":"12","fragment_data":"eyJ0ZXN0Ijoi"}"#;
        let b = r#"{"datagram_size":"24","datagram_id":"1","fragment_offset":"12","fragment_length":"12","fragment_data":"dmFsdWUifQ=="}"#;
        assert_eq!(r.accept(b).unwrap(), None);
        assert_eq!(r.accept(a).unwrap().as_deref(), Some(r#"{"test":"value"}"#));
        assert_eq!(r.pending(), 0);
        assert_eq!(r.buffered(), 0);
        let f = fragment(r#"{"test":"value"}"#, 1);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].fragment_data, "eyJ0ZXN0IjoidmFsdWUifQ==");
    }

    #[test]
    fn split_round_trip_and_threshold() {
        let small = "{\"a\":1}";
        assert_eq!(split_for_sending(small, 3), vec![small.to_string()]);
        let exact = format!("{{\"k\":\"{}\"}}", "x".repeat(1021 - 8));
        assert_eq!(exact.len(), 1021);
        assert!(!needs_fragmenting(&exact));
        let over = format!("{{\"k\":\"{}\"}}", "x".repeat(1022 - 8));
        assert!(needs_fragmenting(&over));
        let big = format!("{{\"k\":\"{}\"}}", "é".repeat(2000));
        let parts = split_for_sending(&big, 77);
        assert!(parts.len() > 1);
        let mut r = JsonReassembler::default();
        let mut out = None;
        for p in parts.iter().rev() {
            let frag = JsonFragment::parse(p).unwrap().unwrap();
            assert!(frag.fragment_length <= MAX_FRAGMENT_DATA);
            if let Some(t) = r.accept(p).unwrap() {
                out = Some(t);
            }
        }
        assert_eq!(out.as_deref(), Some(big.as_str()));
    }

    #[test]
    fn rejects_bad_fragments() {
        let mut r = JsonReassembler::default();
        let bad_len = r#"{"datagram_size":"24","datagram_id":"1","fragment_offset":"0","fragment_length":"11","fragment_data":"eyJ0ZXN0Ijoi"}"#;
        assert!(r.accept(bad_len).is_err());
        let past = r#"{"datagram_size":"10","datagram_id":"1","fragment_offset":"0","fragment_length":"12","fragment_data":"eyJ0ZXN0Ijoi"}"#;
        assert!(r.accept(past).is_err());
        let a = r#"{"datagram_size":"24","datagram_id":"2","fragment_offset":"0","fragment_length":"12","fragment_data":"eyJ0ZXN0Ijoi"}"#;
        let overlap = r#"{"datagram_size":"24","datagram_id":"2","fragment_offset":"4","fragment_length":"12","fragment_data":"eyJ0ZXN0Ijoi"}"#;
        assert_eq!(r.accept(a).unwrap(), None);
        assert_eq!(r.accept(a).unwrap(), None, "duplicate ignored");
        assert!(r.accept(overlap).is_err());
        assert_eq!(r.pending(), 0);
    }

    #[test]
    fn memory_is_bounded() {
        let mut r = JsonReassembler::new(4, 100);
        for id in 0..50u64 {
            let f = JsonFragment {
                datagram_size: 90,
                datagram_id: id,
                fragment_offset: 0,
                fragment_length: 40,
                fragment_data: "A".repeat(40),
            };
            assert_eq!(r.push(f).unwrap(), None);
            assert!(r.pending() <= 4);
            assert!(r.buffered() <= 100);
        }
        let huge = JsonFragment {
            datagram_size: 1000,
            datagram_id: 99,
            fragment_offset: 0,
            fragment_length: 4,
            fragment_data: "AAAA".into(),
        };
        assert!(r.push(huge).is_err());
    }

    /// Regression (fuzz target `sg_json`): `push` trusted the fields of a
    /// hand-built fragment, so a length that disagreed with the data broke
    /// the buffer accounting (and an offset near `usize::MAX` overflowed).
    #[test]
    fn push_validates_hand_built_fragments() {
        let mut r = JsonReassembler::new(4, 100);
        let lying = JsonFragment {
            datagram_size: 90,
            datagram_id: 1,
            fragment_offset: 0,
            fragment_length: 80,
            fragment_data: "AAAA".into(),
        };
        assert_eq!(r.push(lying).unwrap_err().field(), "fragment_length");
        let overflowing = JsonFragment {
            datagram_size: 90,
            datagram_id: 2,
            fragment_offset: usize::MAX - 1,
            fragment_length: 4,
            fragment_data: "AAAA".into(),
        };
        assert_eq!(r.push(overflowing).unwrap_err().field(), "fragment_offset");
        assert_eq!(r.pending(), 0);
        assert_eq!(r.buffered(), 0);
    }
}
