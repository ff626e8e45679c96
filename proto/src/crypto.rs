//! SmartGlass cryptography: ECDH key agreement, key derivation, AES-128-CBC
//! and HMAC-SHA256 (the reference implementation's `crypto.py`).
//!
//! 1. The console's certificate (discovery response) carries its EC public
//!    key on P-256, P-384 or P-521.
//! 2. The client generates an ephemeral key on the same curve and computes
//!    the ECDH shared secret (the x coordinate of the shared point).
//! 3. The secret is salted: `D637F1AAE2F0418C || secret || A8F81A574E228AB7`
//!    and hashed with SHA-512, giving 64 bytes: AES key (0..16), IV key
//!    (16..32), HMAC key (32..64).
//! 4. The client sends its public key in the connect request as the
//!    uncompressed SEC1 point **without** the leading `0x04` byte.
//!
//! Messages (0xD00D) derive their IV by encrypting the first 16 bytes of the
//! plaintext header with the IV key (one AES block, i.e. AES-ECB / CBC with a
//! zero IV); connect request/response carry their IV in the clear.

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyInit, KeyIvInit};
use hmac::Mac;
use rand::{CryptoRng, RngCore};
use sha2::Digest;

type Aes128CbcEnc = cbc::Encryptor<aes::Aes128>;
type Aes128CbcDec = cbc::Decryptor<aes::Aes128>;
type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Salt prepended to the ECDH secret before hashing.
const KDF_PREPEND: [u8; 8] = [0xD6, 0x37, 0xF1, 0xAA, 0xE2, 0xF0, 0x41, 0x8C];
/// Salt appended to the ECDH secret before hashing.
const KDF_APPEND: [u8; 8] = [0xA8, 0xF8, 0x1A, 0x57, 0x4E, 0x22, 0x8A, 0xB7];

/// AES block size.
pub const BLOCK: usize = 16;
/// HMAC-SHA256 tag size.
pub const TAG_LEN: usize = 32;

/// An elliptic curve SmartGlass can use (the wire's `PublicKeyType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Curve {
    /// NIST P-256 (public key type 0).
    P256,
    /// NIST P-384 (public key type 1).
    P384,
    /// NIST P-521 (public key type 2).
    P521,
}

impl Curve {
    /// Every curve.
    pub const ALL: [Curve; 3] = [Curve::P256, Curve::P384, Curve::P521];

    /// The wire value (`PublicKeyType`).
    pub fn public_key_type(self) -> u16 {
        match self {
            Curve::P256 => 0,
            Curve::P384 => 1,
            Curve::P521 => 2,
        }
    }

    /// The curve for a wire `PublicKeyType` value.
    pub fn from_public_key_type(v: u16) -> Option<Curve> {
        match v {
            0 => Some(Curve::P256),
            1 => Some(Curve::P384),
            2 => Some(Curve::P521),
            _ => None,
        }
    }

    /// Length of a public key as sent in the connect request (uncompressed
    /// point without the `0x04` prefix): 64, 96 or 132 bytes.
    pub fn wire_key_len(self) -> usize {
        match self {
            Curve::P256 => 0x40,
            Curve::P384 => 0x60,
            Curve::P521 => 0x84,
        }
    }

    /// The curve whose uncompressed SEC1 point (with `0x04`) has this length.
    pub fn from_sec1_len(len: usize) -> Option<Curve> {
        Curve::ALL.into_iter().find(|c| c.wire_key_len() + 1 == len)
    }
}

/// What went wrong in the SmartGlass crypto: its own error type, which the
/// wire codecs turn into a [`crate::wire::WireError`] (the crypto does not
/// depend on the codecs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// Authentication (HMAC), decryption or key agreement failed.
    #[error("{packet}: {reason}")]
    Failed {
        /// The packet (or operation) concerned.
        packet: &'static str,
        /// What failed.
        reason: &'static str,
    },
    /// A packet too short to hold its authentication tag.
    #[error("{packet}: truncated {field} (need {need} bytes, have {have})")]
    Truncated {
        /// The packet being verified.
        packet: &'static str,
        /// The missing part.
        field: &'static str,
        /// Bytes needed.
        need: usize,
        /// Bytes there were.
        have: usize,
    },
    /// A console certificate that cannot be used.
    #[error("certificate: invalid {field}: {reason}")]
    Certificate {
        /// The offending part.
        field: &'static str,
        /// Why.
        reason: String,
    },
}

fn crypto_err(packet: &'static str, reason: &'static str) -> CryptoError {
    CryptoError::Failed { packet, reason }
}

/// A private key on one of the SmartGlass curves.
#[derive(Clone)]
enum Secret {
    P256(p256::SecretKey),
    P384(p384::SecretKey),
    P521(p521::SecretKey),
}

macro_rules! per_curve {
    ($secret:expr, $k:ident, $m:ident => $body:expr) => {
        match $secret {
            Secret::P256($k) => {
                #[allow(unused_imports)]
                use p256 as $m;
                $body
            }
            Secret::P384($k) => {
                #[allow(unused_imports)]
                use p384 as $m;
                $body
            }
            Secret::P521($k) => {
                #[allow(unused_imports)]
                use p521 as $m;
                $body
            }
        }
    };
}

impl Secret {
    fn random(curve: Curve, rng: &mut (impl RngCore + CryptoRng)) -> Secret {
        match curve {
            Curve::P256 => Secret::P256(p256::SecretKey::random(rng)),
            Curve::P384 => Secret::P384(p384::SecretKey::random(rng)),
            Curve::P521 => Secret::P521(p521::SecretKey::random(rng)),
        }
    }

    fn curve(&self) -> Curve {
        match self {
            Secret::P256(_) => Curve::P256,
            Secret::P384(_) => Curve::P384,
            Secret::P521(_) => Curve::P521,
        }
    }

    /// Uncompressed SEC1 point, with the `0x04` prefix.
    fn public_sec1(&self) -> Vec<u8> {
        per_curve!(self, k, c => {
            use elliptic_curve::sec1::ToEncodedPoint;
            k.public_key().to_encoded_point(false).as_bytes().to_vec()
        })
    }

    /// ECDH with a peer's SEC1 point; returns the raw shared secret (x).
    fn agree(&self, peer_sec1: &[u8]) -> Result<Vec<u8>, CryptoError> {
        per_curve!(self, k, c => {
            let peer = c::PublicKey::from_sec1_bytes(peer_sec1)
                .map_err(|_| crypto_err("ecdh", "peer public key is not a valid point on the curve"))?;
            let shared = elliptic_curve::ecdh::diffie_hellman(k.to_nonzero_scalar(), peer.as_affine());
            Ok(shared.raw_secret_bytes().to_vec())
        })
    }
}

/// Checks that `peer` is a point for `curve` and returns it in SEC1 form
/// (accepts the form with or without the `0x04` prefix).
fn peer_sec1(curve: Curve, peer: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let n = curve.wire_key_len();
    if peer.len() == n {
        let mut v = Vec::with_capacity(n + 1);
        v.push(0x04);
        v.extend_from_slice(peer);
        Ok(v)
    } else if peer.len() == n + 1 && peer.first() == Some(&0x04) {
        Ok(peer.to_vec())
    } else {
        Err(crypto_err(
            "ecdh",
            "public key length does not match the curve",
        ))
    }
}

/// Expands an ECDH secret into the 64-byte SmartGlass session secret:
/// `SHA-512(D637F1AAE2F0418C || secret || A8F81A574E228AB7)`.
pub fn derive_session_secret(ecdh_secret: &[u8]) -> [u8; 64] {
    let mut h = sha2::Sha512::new();
    h.update(KDF_PREPEND);
    h.update(ecdh_secret);
    h.update(KDF_APPEND);
    let out = h.finalize();
    let mut s = [0u8; 64];
    s.copy_from_slice(&out);
    s
}

/// A SmartGlass session's keys.
#[derive(Clone)]
pub struct Crypto {
    secret: [u8; 64],
}

impl std::fmt::Debug for Crypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Crypto { .. }")
    }
}

impl Crypto {
    /// A context from the 64-byte session secret (AES key 0..16, IV key
    /// 16..32, HMAC key 32..64), e.g. the published test secret.
    pub fn from_shared_secret(secret: &[u8; 64]) -> Crypto {
        Crypto { secret: *secret }
    }

    /// Client side: generates an ephemeral key on `curve`, agrees with the
    /// console's public key (SEC1, with or without `0x04`) and returns the
    /// context plus our public key as the connect request sends it
    /// (uncompressed point without `0x04`).
    pub fn new_ecdh(curve: Curve, console_pubkey: &[u8]) -> Result<(Crypto, Vec<u8>), CryptoError> {
        Self::new_ecdh_with(curve, console_pubkey, &mut rand::rngs::OsRng)
    }

    /// [`Crypto::new_ecdh`] with the caller's random number generator (a
    /// sans-IO session passes its own, seedable one).
    pub fn new_ecdh_with(
        curve: Curve,
        console_pubkey: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(Crypto, Vec<u8>), CryptoError> {
        let peer = peer_sec1(curve, console_pubkey)?;
        let secret = Secret::random(curve, rng);
        let shared = secret.agree(&peer)?;
        let mut ours = secret.public_sec1();
        ours.remove(0);
        Ok((
            Crypto {
                secret: derive_session_secret(&shared),
            },
            ours,
        ))
    }

    /// The 64-byte session secret.
    pub fn shared_secret(&self) -> &[u8; 64] {
        &self.secret
    }

    fn aes_key(&self) -> &[u8] {
        &self.secret[0..16]
    }

    fn iv_key(&self) -> &[u8] {
        &self.secret[16..32]
    }

    fn hmac_key(&self) -> &[u8] {
        &self.secret[32..64]
    }

    /// A random IV (connect request).
    pub fn random_iv() -> [u8; 16] {
        Self::random_iv_with(&mut rand::rngs::OsRng)
    }

    /// A random IV from the caller's generator.
    pub fn random_iv_with(rng: &mut (impl RngCore + CryptoRng)) -> [u8; 16] {
        let mut iv = [0u8; 16];
        rng.fill_bytes(&mut iv);
        iv
    }

    /// The IV of a message: the first 16 header bytes encrypted with the IV key.
    pub fn message_iv(&self, header_first16: &[u8; 16]) -> [u8; 16] {
        let mut enc =
            ecb::Encryptor::<aes::Aes128>::new_from_slice(self.iv_key()).expect("16-byte key");
        let mut block = aes::Block::clone_from_slice(header_first16);
        enc.encrypt_block_mut(&mut block);
        let mut out = [0u8; 16];
        out.copy_from_slice(&block);
        out
    }

    /// AES-128-CBC encryption of `plaintext` after PKCS#7 padding to the block
    /// size (as the reference: no padding block when already aligned).
    pub fn encrypt(&self, iv: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
        let mut buf = plaintext.to_vec();
        let pad = padding_len(buf.len());
        buf.resize(buf.len() + pad, pad as u8);
        let mut enc =
            Aes128CbcEnc::new_from_slices(self.aes_key(), iv).expect("16-byte key and iv");
        for chunk in buf.chunks_exact_mut(BLOCK) {
            enc.encrypt_block_mut(aes::Block::from_mut_slice(chunk));
        }
        buf
    }

    /// AES-128-CBC decryption (no padding removed). `packet` names the packet
    /// in the error when the length is not a whole number of blocks.
    pub fn decrypt(
        &self,
        packet: &'static str,
        iv: &[u8; 16],
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        if !ciphertext.len().is_multiple_of(BLOCK) {
            return Err(crypto_err(
                packet,
                "ciphertext is not a whole number of AES blocks",
            ));
        }
        let mut buf = ciphertext.to_vec();
        let mut dec =
            Aes128CbcDec::new_from_slices(self.aes_key(), iv).expect("16-byte key and iv");
        for chunk in buf.chunks_exact_mut(BLOCK) {
            dec.decrypt_block_mut(aes::Block::from_mut_slice(chunk));
        }
        Ok(buf)
    }

    /// HMAC-SHA256 of `data` with the HMAC key.
    pub fn sign(&self, data: &[u8]) -> [u8; 32] {
        let mut m = <HmacSha256 as Mac>::new_from_slice(self.hmac_key()).expect("any key length");
        m.update(data);
        let mut out = [0u8; 32];
        out.copy_from_slice(&m.finalize().into_bytes());
        out
    }

    /// Constant-time check of an HMAC-SHA256 tag.
    pub fn verify(&self, data: &[u8], tag: &[u8]) -> bool {
        let mut m = <HmacSha256 as Mac>::new_from_slice(self.hmac_key()).expect("any key length");
        m.update(data);
        m.verify_slice(tag).is_ok()
    }

    /// Splits `buf` into signed part and tag and verifies the tag; returns the
    /// signed part. Errors name `packet`.
    pub fn verify_packet<'a>(
        &self,
        packet: &'static str,
        buf: &'a [u8],
    ) -> Result<&'a [u8], CryptoError> {
        let Some(split) = buf.len().checked_sub(TAG_LEN) else {
            return Err(CryptoError::Truncated {
                packet,
                field: "hmac",
                need: TAG_LEN,
                have: buf.len(),
            });
        };
        let (data, tag) = buf.split_at(split);
        if self.verify(data, tag) {
            Ok(data)
        } else {
            Err(crypto_err(
                packet,
                "HMAC-SHA256 does not match (wrong key or altered packet)",
            ))
        }
    }
}

/// PKCS#7 padding length the reference adds to `len` bytes (0 when aligned).
pub fn padding_len(len: usize) -> usize {
    let r = len % BLOCK;
    if r == 0 {
        0
    } else {
        BLOCK - r
    }
}

/// A long-lived key pair, as the console (or the simulated console) holds:
/// its public key goes into the certificate; clients agree against it.
#[derive(Clone)]
pub struct KeyPair {
    secret: Secret,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyPair {{ curve: {:?} }}", self.secret.curve())
    }
}

impl KeyPair {
    /// A fresh random key pair on `curve`.
    pub fn generate(curve: Curve) -> KeyPair {
        KeyPair {
            secret: Secret::random(curve, &mut rand::rngs::OsRng),
        }
    }

    /// The curve.
    pub fn curve(&self) -> Curve {
        self.secret.curve()
    }

    /// The public key as an uncompressed SEC1 point (with `0x04`), as a
    /// certificate holds it.
    pub fn public_key_sec1(&self) -> Vec<u8> {
        self.secret.public_sec1()
    }

    /// The public key as the connect request sends it (without `0x04`).
    pub fn public_key_wire(&self) -> Vec<u8> {
        let mut v = self.secret.public_sec1();
        v.remove(0);
        v
    }

    /// The private scalar, big-endian, zero-padded to the curve's field size
    /// (32, 48 or 66 bytes). The simulated console signs its certificate
    /// with it; handle with care.
    pub fn secret_scalar_bytes(&self) -> Vec<u8> {
        per_curve!(&self.secret, k, c => k.to_bytes().to_vec())
    }

    /// Console side: the session context from a client's public key (as the
    /// connect request carries it, with or without `0x04`).
    pub fn derive(&self, peer_public: &[u8]) -> Result<Crypto, CryptoError> {
        let peer = peer_sec1(self.curve(), peer_public)?;
        let shared = self.secret.agree(&peer)?;
        Ok(Crypto {
            secret: derive_session_secret(&shared),
        })
    }
}

/// What a console certificate (discovery response) tells us.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CertificateInfo {
    /// The subject common name: the console's Live ID.
    pub liveid: String,
    /// The subject public key, uncompressed SEC1 point (with `0x04`).
    #[serde(with = "crate::text::hexbytes")]
    pub public_key: Vec<u8>,
    /// The curve of the public key.
    #[serde(serialize_with = "ser_curve")]
    pub curve: Curve,
}

fn ser_curve<S: serde::Serializer>(c: &Curve, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match c {
        Curve::P256 => "EC_DH_P256",
        Curve::P384 => "EC_DH_P384",
        Curve::P521 => "EC_DH_P521",
    })
}

impl CertificateInfo {
    /// Parses a DER X.509 certificate: subject CN and EC public key.
    pub fn from_der(der: &[u8]) -> Result<CertificateInfo, CryptoError> {
        let (_, cert) =
            x509_parser::parse_x509_certificate(der).map_err(|e| CryptoError::Certificate {
                field: "cert",
                reason: format!("not a DER X.509 certificate: {e}"),
            })?;
        let liveid = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .ok_or_else(|| CryptoError::Certificate {
                field: "subject",
                reason: "no common name".into(),
            })?
            .to_string();
        let public_key = cert.public_key().subject_public_key.data.to_vec();
        let curve = Curve::from_sec1_len(public_key.len())
            .filter(|_| public_key.first() == Some(&0x04))
            .ok_or_else(|| CryptoError::Certificate {
                field: "public_key",
                reason: "not an uncompressed P-256/384/521 point".into(),
            })?;
        Ok(CertificateInfo {
            liveid,
            public_key,
            curve,
        })
    }
}
