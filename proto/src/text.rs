//! Serde helpers for the text forms of byte strings and GUIDs, shared by
//! the codecs and the crypto.

/// Serde helper: bytes as `{"hex": "...", "len": N}` (the reference decodes' form).
pub(crate) mod hexbytes {
    use serde::ser::SerializeStruct;
    use serde::Serializer;

    /// Serializes a byte slice as `{"hex", "len"}`.
    pub(crate) fn serialize<S: Serializer, T: AsRef<[u8]>>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        let v = v.as_ref();
        let mut st = s.serialize_struct("Bytes", 2)?;
        st.serialize_field("hex", &hex::encode(v))?;
        st.serialize_field("len", &v.len())?;
        st.end()
    }
}

/// Serde helper: a 16-byte GUID/UUID in its canonical text form.
pub(crate) mod uuid_text {
    use serde::Serializer;

    /// Formats 16 bytes (big-endian field order, as SmartGlass sends them) as
    /// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
    pub(crate) fn format(b: &[u8; 16]) -> String {
        let h = hex::encode(b);
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    /// Serializes as text.
    pub(crate) fn serialize<S: Serializer>(v: &[u8; 16], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(v))
    }
}
