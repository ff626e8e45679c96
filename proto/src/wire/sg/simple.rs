//! SmartGlass simple packets (reference `packet/simple.py`): discovery
//! request/response, power-on request, connect request/response.
//!
//! Layout: [`SimpleHeader`] (6 bytes; 8 for connect packets, which add the
//! protected payload length), the unprotected payload, then for connect
//! packets the protected payload encrypted with AES-128-CBC under the IV
//! carried in the unprotected payload (PKCS#7-padded to 16 bytes, no padding
//! block when aligned), then an HMAC-SHA256 over everything before it.

use serde::ser::SerializeStruct;
use serde::Serialize;

use crate::crypto::{padding_len, CertificateInfo, Crypto, TAG_LEN};
use crate::wire::sg::common::{
    guid_text, parse_guid_text, put_prefixed_bytes, put_sg_string, read_guid, read_prefixed_bytes,
    read_sg_string, ClientType, ConnectionResult, Guid, PacketType, PairedIdentityState,
    PrimaryDeviceFlags, PublicKeyType, SimpleHeader,
};
use crate::wire::{hexbytes, uuid_text, Put, Reader, WireError};

/// Power-on request: wakes a console by Live ID (sent several times).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PowerOnRequest {
    /// The console's Live ID.
    pub liveid: String,
}

/// Discovery request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiscoveryRequest {
    /// Flags (0).
    pub flags: u32,
    /// Our client type.
    pub client_type: ClientType,
    /// Lowest protocol version we speak (0).
    pub minimum_version: u16,
    /// Highest protocol version we speak (2).
    pub maximum_version: u16,
}

/// Discovery response: who the console is, and its certificate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiscoveryResponse {
    /// Which users may connect.
    pub flags: PrimaryDeviceFlags,
    /// Device type (`type` in the reference).
    #[serde(rename = "type")]
    pub device_type: ClientType,
    /// Console name.
    pub name: String,
    /// Console UUID (sent as its uppercase text in an SGString).
    #[serde(with = "uuid_text")]
    pub uuid: Guid,
    /// Last error.
    pub last_error: u32,
    /// What the certificate says (Live ID, public key).
    pub cert: CertificateInfo,
    /// The certificate, raw DER as sent.
    #[serde(with = "hexbytes")]
    pub certificate: Vec<u8>,
}

/// The clear part of a connect request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectRequestUnprotected {
    /// Client UUID.
    #[serde(with = "uuid_text")]
    pub sg_uuid: Guid,
    /// Curve of `public_key`.
    pub public_key_type: PublicKeyType,
    /// Our public key: uncompressed point without `0x04` (64/96/132 bytes).
    #[serde(with = "hexbytes")]
    pub public_key: Vec<u8>,
    /// IV of the protected part.
    #[serde(with = "hexbytes")]
    pub iv: [u8; 16],
}

/// The encrypted part of a connect request. Long auth tokens are split over
/// several requests of one group (`connect_request_num` counts within
/// `[group_start, group_end)`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectRequestProtected {
    /// Xbox Live user hash ("" for anonymous).
    pub userhash: String,
    /// XSTS token (or a piece of it; "" for anonymous).
    pub jwt: String,
    /// Number of this request.
    pub connect_request_num: u32,
    /// First request number of the group.
    pub connect_request_group_start: u32,
    /// One past the last request number of the group.
    pub connect_request_group_end: u32,
}

/// Connect request.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectRequest {
    /// Clear part.
    pub unprotected: ConnectRequestUnprotected,
    /// Encrypted part.
    pub protected: ConnectRequestProtected,
}

/// The clear part of a connect response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectResponseUnprotected {
    /// IV of the protected part.
    #[serde(with = "hexbytes")]
    pub iv: [u8; 16],
}

/// The encrypted part of a connect response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectResponseProtected {
    /// Result.
    pub connect_result: ConnectionResult,
    /// Pairing state.
    pub pairing_state: PairedIdentityState,
    /// Our participant id for the session.
    pub participant_id: u32,
}

/// Connect response.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectResponse {
    /// Clear part.
    pub unprotected: ConnectResponseUnprotected,
    /// Encrypted part.
    pub protected: ConnectResponseProtected,
}

/// The body of a simple packet.
#[derive(Debug, Clone, PartialEq)]
pub enum SimpleBody {
    /// 0xDD02.
    PowerOnRequest(PowerOnRequest),
    /// 0xDD00.
    DiscoveryRequest(DiscoveryRequest),
    /// 0xDD01.
    DiscoveryResponse(DiscoveryResponse),
    /// 0xCC00.
    ConnectRequest(ConnectRequest),
    /// 0xCC01.
    ConnectResponse(ConnectResponse),
}

impl SimpleBody {
    /// The packet type of this body.
    pub fn pkt_type(&self) -> PacketType {
        match self {
            SimpleBody::PowerOnRequest(_) => PacketType::PowerOnRequest,
            SimpleBody::DiscoveryRequest(_) => PacketType::DiscoveryRequest,
            SimpleBody::DiscoveryResponse(_) => PacketType::DiscoveryResponse,
            SimpleBody::ConnectRequest(_) => PacketType::ConnectRequest,
            SimpleBody::ConnectResponse(_) => PacketType::ConnectResponse,
        }
    }

    /// The header version the reference uses for this body (0 for discovery
    /// request and power-on, 2 otherwise).
    pub fn default_version(&self) -> u16 {
        match self {
            SimpleBody::PowerOnRequest(_) | SimpleBody::DiscoveryRequest(_) => 0,
            _ => 2,
        }
    }
}

/// A simple packet: header plus body. On encode the header's lengths and
/// packet type are recomputed from the body; its version is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct SimplePacket {
    /// Header (as decoded, or as it will be sent).
    pub header: SimpleHeader,
    /// Body.
    pub body: SimpleBody,
}

impl Serialize for SimplePacket {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("SimplePacket", 3)?;
        st.serialize_field("header", &self.header)?;
        match &self.body {
            SimpleBody::PowerOnRequest(p) => {
                st.serialize_field("unprotected_payload", p)?;
                st.serialize_field("protected_payload", &None::<()>)?;
            }
            SimpleBody::DiscoveryRequest(p) => {
                st.serialize_field("unprotected_payload", p)?;
                st.serialize_field("protected_payload", &None::<()>)?;
            }
            SimpleBody::DiscoveryResponse(p) => {
                st.serialize_field("unprotected_payload", p)?;
                st.serialize_field("protected_payload", &None::<()>)?;
            }
            SimpleBody::ConnectRequest(p) => {
                st.serialize_field("unprotected_payload", &p.unprotected)?;
                st.serialize_field("protected_payload", &p.protected)?;
            }
            SimpleBody::ConnectResponse(p) => {
                st.serialize_field("unprotected_payload", &p.unprotected)?;
                st.serialize_field("protected_payload", &p.protected)?;
            }
        }
        st.end()
    }
}

fn packet_name(t: PacketType) -> &'static str {
    match t {
        PacketType::PowerOnRequest => "power_on_request",
        PacketType::DiscoveryRequest => "discovery_request",
        PacketType::DiscoveryResponse => "discovery_response",
        PacketType::ConnectRequest => "connect_request",
        PacketType::ConnectResponse => "connect_response",
        _ => "simple_packet",
    }
}

impl PowerOnRequest {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(PowerOnRequest {
            liveid: read_sg_string(r, "liveid")?,
        })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        put_sg_string(out, &self.liveid, "power_on_request", "liveid")
    }
}

impl DiscoveryRequest {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(DiscoveryRequest {
            flags: r.u32_be("flags")?,
            client_type: ClientType::from_raw(r.u16_be("client_type")?),
            minimum_version: r.u16_be("minimum_version")?,
            maximum_version: r.u16_be("maximum_version")?,
        })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32_be(self.flags);
        out.put_u16_be(self.client_type.raw());
        out.put_u16_be(self.minimum_version);
        out.put_u16_be(self.maximum_version);
    }
}

impl DiscoveryResponse {
    /// Decodes the payload; the certificate must parse (its public key is
    /// what a client needs).
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let flags = PrimaryDeviceFlags(r.u32_be("flags")?);
        let device_type = ClientType::from_raw(r.u16_be("type")?);
        let name = read_sg_string(r, "name")?;
        let uuid_s = read_sg_string(r, "uuid")?;
        let uuid = parse_guid_text(&uuid_s).ok_or_else(|| r.invalid("uuid", "not a UUID"))?;
        let last_error = r.u32_be("last_error")?;
        let certificate = read_prefixed_bytes(r, "cert")?;
        let cert = CertificateInfo::from_der(&certificate)
            .map_err(|e| WireError::invalid("discovery_response", "cert", e.to_string()))?;
        Ok(DiscoveryResponse {
            flags,
            device_type,
            name,
            uuid,
            last_error,
            cert,
            certificate,
        })
    }
    /// Encodes the payload (UUID as uppercase text, as consoles send it).
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        const P: &str = "discovery_response";
        out.put_u32_be(self.flags.raw());
        out.put_u16_be(self.device_type.raw());
        put_sg_string(out, &self.name, P, "name")?;
        put_sg_string(out, &guid_text(&self.uuid).to_uppercase(), P, "uuid")?;
        out.put_u32_be(self.last_error);
        put_prefixed_bytes(out, &self.certificate, P, "cert")
    }
}

/// Public key length for a key type.
fn key_len(t: PublicKeyType) -> Option<usize> {
    crate::crypto::Curve::from_public_key_type(t.raw()).map(|c| c.wire_key_len())
}

impl ConnectRequestUnprotected {
    /// Decodes the clear part.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let sg_uuid = read_guid(r, "sg_uuid")?;
        let public_key_type = PublicKeyType::from_raw(r.u16_be("public_key_type")?);
        let n = key_len(public_key_type)
            .ok_or_else(|| r.invalid("public_key_type", "not P-256, P-384 or P-521"))?;
        let public_key = r.bytes(n, "public_key")?.to_vec();
        let iv = r.array::<16>("iv")?;
        Ok(ConnectRequestUnprotected {
            sg_uuid,
            public_key_type,
            public_key,
            iv,
        })
    }
    /// Encodes the clear part; the key length must fit the key type.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        if key_len(self.public_key_type) != Some(self.public_key.len()) {
            return Err(WireError::invalid(
                "connect_request",
                "public_key",
                "length does not match public_key_type",
            ));
        }
        out.put_bytes(&self.sg_uuid);
        out.put_u16_be(self.public_key_type.raw());
        out.put_bytes(&self.public_key);
        out.put_bytes(&self.iv);
        Ok(())
    }

    /// Reads just the clear part of a connect request datagram, so a console
    /// can learn the client's public key before it has a crypto context.
    pub fn peek(buf: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(buf, "connect_request");
        let h = SimpleHeader::decode(&mut r)?;
        if h.pkt_type != PacketType::ConnectRequest {
            return Err(r.invalid("pkt_type", "not a connect request"));
        }
        let body = r.bytes(h.unprotected_payload_length as usize, "unprotected_payload")?;
        let mut ur = Reader::new(body, "connect_request");
        let u = Self::decode(&mut ur)?;
        ur.finish()?;
        Ok(u)
    }
}

impl ConnectRequestProtected {
    /// Decodes the decrypted part.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(ConnectRequestProtected {
            userhash: read_sg_string(r, "userhash")?,
            jwt: read_sg_string(r, "jwt")?,
            connect_request_num: r.u32_be("connect_request_num")?,
            connect_request_group_start: r.u32_be("connect_request_group_start")?,
            connect_request_group_end: r.u32_be("connect_request_group_end")?,
        })
    }
    /// Encodes the plaintext.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        put_sg_string(out, &self.userhash, "connect_request", "userhash")?;
        put_sg_string(out, &self.jwt, "connect_request", "jwt")?;
        out.put_u32_be(self.connect_request_num);
        out.put_u32_be(self.connect_request_group_start);
        out.put_u32_be(self.connect_request_group_end);
        Ok(())
    }
}

impl ConnectRequest {
    /// Builds the connect request(s) for a user: one request when it fits
    /// in 1024 payload bytes, else the auth token is split over a group of
    /// requests (the user hash goes in the first), each with a fresh random
    /// IV (from `next_iv`), as the reference does.
    pub fn build_group(
        sg_uuid: Guid,
        public_key_type: PublicKeyType,
        public_key: Vec<u8>,
        userhash: &str,
        jwt: &str,
        request_num: u32,
        mut next_iv: impl FnMut() -> [u8; 16],
    ) -> Vec<ConnectRequest> {
        const MAX: usize = 1024;
        let key = public_key.len();
        // uuid + type + key + iv; two SGStrings (3 bytes each) + 3 u32
        let fixed = 16 + 2 + key + 16 + 3 + 3 + 12;
        let mut mk = |uh: &str, tok: &str, num: u32, start: u32, end: u32| ConnectRequest {
            unprotected: ConnectRequestUnprotected {
                sg_uuid,
                public_key_type,
                public_key: public_key.clone(),
                iv: next_iv(),
            },
            protected: ConnectRequestProtected {
                userhash: uh.to_string(),
                jwt: tok.to_string(),
                connect_request_num: num,
                connect_request_group_start: start,
                connect_request_group_end: end,
            },
        };
        if fixed + userhash.len() + jwt.len() < MAX {
            return vec![mk(
                userhash,
                jwt,
                request_num,
                request_num,
                request_num.wrapping_add(1),
            )];
        }
        let max = MAX - fixed;
        let total = userhash.len() + jwt.len();
        let count = total.div_ceil(max).max(2);
        let end = request_num.wrapping_add(count as u32);
        let mut out = Vec::new();
        let mut rest = jwt;
        let mut i = 0u32;
        while i == 0 || !rest.is_empty() {
            let uh = if i == 0 { userhash } else { "" };
            let mut avail = max.saturating_sub(uh.len()).min(rest.len());
            while !rest.is_char_boundary(avail) {
                avail -= 1;
            }
            let (piece, tail) = rest.split_at(avail);
            out.push(mk(uh, piece, request_num.wrapping_add(i), request_num, end));
            rest = tail;
            i += 1;
        }
        // Fix the group end if char boundaries changed the count.
        let real_end = request_num.wrapping_add(out.len() as u32);
        for r in &mut out {
            r.protected.connect_request_group_end = real_end;
        }
        out
    }
}

impl ConnectResponseProtected {
    /// Decodes the decrypted part.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(ConnectResponseProtected {
            connect_result: ConnectionResult::from_raw(r.u16_be("connect_result")?),
            pairing_state: PairedIdentityState::from_raw(r.u16_be("pairing_state")?),
            participant_id: r.u32_be("participant_id")?,
        })
    }
    /// Encodes the plaintext.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u16_be(self.connect_result.raw());
        out.put_u16_be(self.pairing_state.raw());
        out.put_u32_be(self.participant_id);
    }
}

impl SimplePacket {
    /// A packet with the reference's header version for its body.
    pub fn new(body: SimpleBody) -> SimplePacket {
        let pkt_type = body.pkt_type();
        SimplePacket {
            header: SimpleHeader {
                pkt_type,
                unprotected_payload_length: 0,
                protected_payload_length: SimpleHeader::has_protected(pkt_type).then_some(0),
                version: body.default_version(),
            },
            body,
        }
    }

    /// Decodes a simple packet. Connect packets need `crypto`: their HMAC is
    /// checked (failure: [`WireError::Crypto`] naming the packet), then the
    /// protected part is decrypted.
    pub fn decode(buf: &[u8], crypto: Option<&Crypto>) -> Result<SimplePacket, WireError> {
        let mut r = Reader::new(buf, "simple_packet");
        let header = SimpleHeader::decode(&mut r)?;
        let name = packet_name(header.pkt_type);
        r.packet(name);
        let ulen = header.unprotected_payload_length as usize;
        let mut ur = Reader::new(r.bytes(ulen, "unprotected_payload")?, name);
        let body = match header.pkt_type {
            PacketType::PowerOnRequest => {
                SimpleBody::PowerOnRequest(PowerOnRequest::decode(&mut ur)?)
            }
            PacketType::DiscoveryRequest => {
                SimpleBody::DiscoveryRequest(DiscoveryRequest::decode(&mut ur)?)
            }
            PacketType::DiscoveryResponse => {
                SimpleBody::DiscoveryResponse(DiscoveryResponse::decode(&mut ur)?)
            }
            PacketType::ConnectRequest => {
                let unprotected = ConnectRequestUnprotected::decode(&mut ur)?;
                ur.finish()?;
                let plain = open(buf, &mut r, &header, &unprotected.iv, crypto, name)?;
                let mut pr = Reader::new(&plain, name);
                let protected = ConnectRequestProtected::decode(&mut pr)?;
                pr.finish()?;
                SimpleBody::ConnectRequest(ConnectRequest {
                    unprotected,
                    protected,
                })
            }
            PacketType::ConnectResponse => {
                let unprotected = ConnectResponseUnprotected {
                    iv: ur.array::<16>("iv")?,
                };
                ur.finish()?;
                let plain = open(buf, &mut r, &header, &unprotected.iv, crypto, name)?;
                let mut pr = Reader::new(&plain, name);
                let protected = ConnectResponseProtected::decode(&mut pr)?;
                pr.finish()?;
                SimpleBody::ConnectResponse(ConnectResponse {
                    unprotected,
                    protected,
                })
            }
            other => {
                return Err(r.invalid(
                    "pkt_type",
                    format!("0x{:04x} is not a simple packet type", other.raw()),
                ))
            }
        };
        ur.finish()?;
        r.finish()?;
        Ok(SimplePacket { header, body })
    }

    /// Encodes the packet; connect packets are encrypted and signed with
    /// `crypto` (required for them).
    pub fn encode(&self, crypto: Option<&Crypto>, out: &mut Vec<u8>) -> Result<(), WireError> {
        let pkt_type = self.body.pkt_type();
        let name = packet_name(pkt_type);
        let mut unprot = Vec::new();
        let mut prot = Vec::new();
        let mut iv = None;
        match &self.body {
            SimpleBody::PowerOnRequest(p) => p.encode(&mut unprot)?,
            SimpleBody::DiscoveryRequest(p) => p.encode(&mut unprot),
            SimpleBody::DiscoveryResponse(p) => p.encode(&mut unprot)?,
            SimpleBody::ConnectRequest(p) => {
                p.unprotected.encode(&mut unprot)?;
                p.protected.encode(&mut prot)?;
                iv = Some(p.unprotected.iv);
            }
            SimpleBody::ConnectResponse(p) => {
                unprot.put_bytes(&p.unprotected.iv);
                p.protected.encode(&mut prot);
                iv = Some(p.unprotected.iv);
            }
        }
        let too_long = |f| WireError::invalid(name, f, "longer than 65535 bytes");
        let header = SimpleHeader {
            pkt_type,
            unprotected_payload_length: u16::try_from(unprot.len())
                .map_err(|_| too_long("unprotected_payload"))?,
            protected_payload_length: match iv {
                Some(_) => {
                    Some(u16::try_from(prot.len()).map_err(|_| too_long("protected_payload"))?)
                }
                None => None,
            },
            version: self.header.version,
        };
        let start = out.len();
        header.encode(out);
        out.put_bytes(&unprot);
        if let Some(iv) = iv {
            let c = crypto.ok_or(WireError::Crypto {
                packet: name,
                reason: "a crypto context is needed to encode connect packets",
            })?;
            out.put_bytes(&c.encrypt(&iv, &prot));
            let tag = c.sign(&out[start..]);
            out.put_bytes(&tag);
        }
        Ok(())
    }

    /// Encodes into a new vector.
    pub fn to_bytes(&self, crypto: Option<&Crypto>) -> Result<Vec<u8>, WireError> {
        let mut v = Vec::new();
        self.encode(crypto, &mut v)?;
        Ok(v)
    }
}

/// Verifies the HMAC of a connect packet and decrypts what follows the
/// unprotected payload, returning exactly `protected_payload_length` bytes.
fn open(
    buf: &[u8],
    r: &mut Reader<'_>,
    header: &SimpleHeader,
    iv: &[u8; 16],
    crypto: Option<&Crypto>,
    name: &'static str,
) -> Result<Vec<u8>, WireError> {
    let plen = header.protected_payload_length.unwrap_or(0) as usize;
    let clen = plen + padding_len(plen);
    let ct = r.bytes(clen, "protected_payload")?;
    r.bytes(TAG_LEN, "hmac")?;
    r.finish()?;
    let c = crypto.ok_or(WireError::Crypto {
        packet: name,
        reason: "a crypto context is needed to decrypt connect packets",
    })?;
    c.verify_packet(name, buf)?;
    let mut plain = c.decrypt(name, iv, ct)?;
    plain.truncate(plen);
    Ok(plain)
}
