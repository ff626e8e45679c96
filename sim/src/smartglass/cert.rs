//! The simulated console's certificate: a self-signed DER X.509 certificate
//! whose subject common name is the console's Live ID and whose subject
//! public key is the console's EC key (P-256, P-384 or P-521), as real
//! consoles send in their discovery responses. Built with `x509-cert`'s
//! certificate builder and signed (ECDSA with SHA-256/384/512) by the same
//! key.

use std::str::FromStr;
use std::time::Duration;

use ecdsa::signature::{Keypair, Signer};
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::der::Encode;
use x509_cert::ext::pkix::ExtendedKeyUsage;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{
    AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier, EncodePublicKey,
    SubjectPublicKeyInfoOwned,
};
use x509_cert::time::Validity;

use xnano_proto::crypto::{Curve, KeyPair};

/// Why a certificate could not be built.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// The Live ID cannot be a common name (empty, or characters the
    /// distinguished-name syntax reserves).
    #[error("live id {0:?} cannot be used as a certificate common name")]
    LiveId(String),
    /// The key could not be used.
    #[error("certificate key: {0}")]
    Key(String),
    /// The certificate builder failed.
    #[error("building the certificate: {0}")]
    Build(String),
}

const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const OID_ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
/// id-kp-clientAuth, as in captured console certificates.
const OID_KP_CLIENT_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");

/// A certificate signer over one curve: the signing key and its public key
/// (which also is the certified key: the certificate is self-signed).
macro_rules! curve_signer {
    ($name:ident, $m:ident, $oid:expr) => {
        struct $name {
            sk: $m::ecdsa::SigningKey,
            pk: $m::PublicKey,
        }

        impl $name {
            fn new(scalar: &[u8]) -> Result<$name, CertError> {
                let secret =
                    $m::SecretKey::from_slice(scalar).map_err(|e| CertError::Key(e.to_string()))?;
                let sk = $m::ecdsa::SigningKey::from_slice(scalar)
                    .map_err(|e| CertError::Key(e.to_string()))?;
                Ok($name {
                    sk,
                    pk: secret.public_key(),
                })
            }
        }

        impl Keypair for $name {
            type VerifyingKey = $m::PublicKey;
            fn verifying_key(&self) -> $m::PublicKey {
                self.pk
            }
        }

        impl DynSignatureAlgorithmIdentifier for $name {
            fn signature_algorithm_identifier(
                &self,
            ) -> x509_cert::spki::Result<AlgorithmIdentifierOwned> {
                Ok(AlgorithmIdentifierOwned {
                    oid: $oid,
                    parameters: None,
                })
            }
        }

        impl Signer<$m::ecdsa::DerSignature> for $name {
            fn try_sign(
                &self,
                msg: &[u8],
            ) -> Result<$m::ecdsa::DerSignature, ecdsa::signature::Error> {
                let sig: $m::ecdsa::Signature = self.sk.try_sign(msg)?;
                Ok(sig.to_der())
            }
        }
    };
}

curve_signer!(P256Signer, p256, OID_ECDSA_SHA256);
curve_signer!(P384Signer, p384, OID_ECDSA_SHA384);
curve_signer!(P521Signer, p521, OID_ECDSA_SHA512);

fn common_name(live_id: &str) -> Result<Name, CertError> {
    let ok = !live_id.is_empty()
        && live_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' '))
        && !live_id.starts_with(' ')
        && !live_id.ends_with(' ');
    if !ok {
        return Err(CertError::LiveId(live_id.to_string()));
    }
    Name::from_str(&format!("CN={live_id}")).map_err(|_| CertError::LiveId(live_id.to_string()))
}

fn build<S, Sig>(signer: &S, live_id: &str, serial: u64) -> Result<Vec<u8>, CertError>
where
    S: Keypair + DynSignatureAlgorithmIdentifier + Signer<Sig>,
    S::VerifyingKey: EncodePublicKey,
    Sig: x509_cert::spki::SignatureBitStringEncoding,
{
    let subject = common_name(live_id)?;
    let spki = SubjectPublicKeyInfoOwned::from_key(signer.verifying_key())
        .map_err(|e| CertError::Key(e.to_string()))?;
    // Valid from now for ten years (consoles regenerate theirs; clients do
    // not check validity).
    let validity = Validity::from_now(Duration::from_secs(10 * 365 * 24 * 3600))
        .map_err(|e| CertError::Build(e.to_string()))?;
    let serial = SerialNumber::from(serial.max(1));
    let profile = Profile::Leaf {
        issuer: subject.clone(),
        enable_key_agreement: true,
        enable_key_encipherment: false,
    };
    let mut b = CertificateBuilder::new(profile, serial, validity, subject, spki, signer)
        .map_err(|e| CertError::Build(e.to_string()))?;
    b.add_extension(&ExtendedKeyUsage(vec![OID_KP_CLIENT_AUTH]))
        .map_err(|e| CertError::Build(e.to_string()))?;
    let cert = b
        .build::<Sig>()
        .map_err(|e| CertError::Build(e.to_string()))?;
    cert.to_der().map_err(|e| CertError::Build(e.to_string()))
}

/// A self-signed DER X.509 certificate for `key` with subject `CN=live_id`
/// (Key Usage: digital signature, non-repudiation, key agreement; Extended
/// Key Usage: client authentication), signed with ECDSA over the key's own
/// curve (SHA-256 / SHA-384 / SHA-512).
pub fn generate_certificate(
    key: &KeyPair,
    live_id: &str,
    serial: u64,
) -> Result<Vec<u8>, CertError> {
    let scalar = key.secret_scalar_bytes();
    match key.curve() {
        Curve::P256 => {
            build::<_, p256::ecdsa::DerSignature>(&P256Signer::new(&scalar)?, live_id, serial)
        }
        Curve::P384 => {
            build::<_, p384::ecdsa::DerSignature>(&P384Signer::new(&scalar)?, live_id, serial)
        }
        Curve::P521 => {
            build::<_, p521::ecdsa::DerSignature>(&P521Signer::new(&scalar)?, live_id, serial)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xnano_proto::crypto::CertificateInfo;

    #[test]
    fn certificate_round_trips_on_every_curve() {
        for curve in Curve::ALL {
            let key = KeyPair::generate(curve);
            let der = generate_certificate(&key, "FD0012345678ABCD", 7).unwrap();
            let info = CertificateInfo::from_der(&der).unwrap();
            assert_eq!(info.liveid, "FD0012345678ABCD");
            assert_eq!(info.curve, curve);
            assert_eq!(info.public_key, key.public_key_sec1());
        }
    }

    #[test]
    fn bad_live_id_is_refused() {
        let key = KeyPair::generate(Curve::P256);
        assert!(generate_certificate(&key, "", 1).is_err());
        assert!(generate_certificate(&key, "a,b=c", 1).is_err());
    }
}
