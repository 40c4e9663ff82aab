//! `vnet-pki`: the lab's own certificate authority.
//!
//! `vnet up` makes one [`LabCa`] per lab run, issues every web device a
//! server certificate for the names the lab's zones give it
//! ([`LabCa::issue`]), hands the CA certificate to every host as its only
//! trust anchor, and then drops the CA's private key: nobody, not even the
//! lab's owner, can mint another certificate the lab's hosts would trust
//! (a new run makes a new CA). `vnet ca export` prints the CA certificate
//! so Linux tools (`curl --cacert`) can trust it too.
//!
//! Keys are ECDSA P-256 with SHA-256 signatures (what Let's Encrypt issues
//! by default; every TLS 1.2/1.3 client supports it). Certificates follow
//! the CA/Browser Forum baseline where it matters to clients: the names go
//! in subjectAltName (RFC 6125 §6.4.4: clients ignore the CN when SANs
//! exist), leaves carry `extKeyUsage serverAuth` and are valid for at most
//! 397 days, the CA has `basicConstraints CA:TRUE` and `keyCertSign`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use time::OffsetDateTime;

/// How long the lab CA is valid: ten years.
pub const CA_VALIDITY: Duration = Duration::from_secs(10 * 365 * 86_400);
/// How long a server certificate is valid: 397 days, the longest browsers
/// accept (CA/Browser Forum Baseline Requirements §6.3.2).
pub const LEAF_VALIDITY: Duration = Duration::from_secs(397 * 86_400);
/// Certificates are valid from an hour ago, so clocks a little behind
/// still accept them.
pub const BACKDATE: Duration = Duration::from_secs(3600);

/// Why a certificate could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// rcgen refused (a bad name, a signing failure).
    #[error("making the certificate for {subject}: {source}")]
    Generate {
        /// Whose certificate.
        subject: String,
        /// What rcgen said.
        source: rcgen::Error,
    },
    /// A name is not a valid DNS name for a certificate.
    #[error("`{0}` is not a DNS name a certificate can hold")]
    BadName(String),
    /// No name and no address to put in the certificate.
    #[error("a server certificate needs at least one name or address")]
    NoNames,
    /// A validity date outside what X.509 can encode.
    #[error("validity date out of range")]
    BadDate,
}

/// A certificate and its private key, both PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    /// The certificate (`-----BEGIN CERTIFICATE-----`).
    pub cert_pem: String,
    /// The PKCS#8 private key (`-----BEGIN PRIVATE KEY-----`).
    pub key_pem: String,
}

/// The validity window of a certificate, as seconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// Not valid before.
    pub not_before: i64,
    /// Not valid after.
    pub not_after: i64,
}

impl Validity {
    /// From [`BACKDATE`] ago to `lifetime` from now.
    pub fn from_now(lifetime: Duration) -> Validity {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        Validity {
            not_before: now - BACKDATE.as_secs() as i64,
            not_after: now + lifetime.as_secs() as i64,
        }
    }

    fn apply(self, params: &mut CertificateParams) -> Result<(), PkiError> {
        let date = |t| OffsetDateTime::from_unix_timestamp(t).map_err(|_| PkiError::BadDate);
        params.not_before = date(self.not_before)?;
        params.not_after = date(self.not_after)?;
        Ok(())
    }
}

/// The lab's certificate authority: its certificate, and its key for as
/// long as this value lives.
pub struct LabCa {
    cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for LabCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabCa").finish_non_exhaustive()
    }
}

fn generate_err(subject: &str) -> impl FnOnce(rcgen::Error) -> PkiError + '_ {
    move |source| PkiError::Generate {
        subject: subject.to_owned(),
        source,
    }
}

impl LabCa {
    /// A new CA named "vnet lab CA (`lab`)", valid for [`CA_VALIDITY`].
    pub fn generate(lab: &str) -> Result<LabCa, PkiError> {
        let subject = format!("vnet lab CA ({lab})");
        let err = generate_err(&subject);
        let key = KeyPair::generate().map_err(generate_err(&subject))?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, subject.clone());
        dn.push(DnType::OrganizationName, "vnet");
        params.distinguished_name = dn;
        // RFC 5280 §4.2.1.9: a CA certificate; §4.2.1.3 keyCertSign.
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        Validity::from_now(CA_VALIDITY).apply(&mut params)?;
        let cert = params.self_signed(&key).map_err(generate_err(&subject))?;
        Ok(LabCa {
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA certificate, PEM: what clients trust.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// A server certificate for `names` (DNS names; the first is also the
    /// subject's CN) and `addresses` (IP SANs), valid for
    /// [`LEAF_VALIDITY`] from now.
    pub fn issue(&self, names: &[String], addresses: &[Ipv4Addr]) -> Result<Issued, PkiError> {
        self.issue_valid(names, addresses, Validity::from_now(LEAF_VALIDITY))
    }

    /// [`LabCa::issue`] with an explicit validity window (tests make
    /// expired certificates with it).
    pub fn issue_valid(
        &self,
        names: &[String],
        addresses: &[Ipv4Addr],
        validity: Validity,
    ) -> Result<Issued, PkiError> {
        let subject = names
            .first()
            .cloned()
            .or_else(|| addresses.first().map(Ipv4Addr::to_string))
            .ok_or(PkiError::NoNames)?;
        let mut params =
            CertificateParams::new(Vec::<String>::new()).map_err(generate_err(&subject))?;
        for name in names {
            let lower = name.trim_end_matches('.').to_ascii_lowercase();
            // RFC 1123 §2.1 host names, as clients check them.
            let valid = matches!(
                rustls_pki_types::ServerName::try_from(lower.as_str()),
                Ok(rustls_pki_types::ServerName::DnsName(_))
            );
            if !valid {
                return Err(PkiError::BadName(name.clone()));
            }
            let dns = lower
                .try_into()
                .map_err(|_| PkiError::BadName(name.clone()))?;
            params.subject_alt_names.push(SanType::DnsName(dns));
        }
        for addr in addresses {
            params
                .subject_alt_names
                .push(SanType::IpAddress((*addr).into()));
        }
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, subject.trim_end_matches('.'));
        params.distinguished_name = dn;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        validity.apply(&mut params)?;
        let key = KeyPair::generate().map_err(generate_err(&subject))?;
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(generate_err(&subject))?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

#[cfg(test)]
mod tests;
