//! The lab CA's certificates checked by rustls's WebPKI verifier (what
//! vnet's hosts use) and by `openssl verify` (an independent X.509 stack).

use super::*;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, Error, RootCertStore};
use std::sync::Arc;

fn verifier(ca: &LabCa) -> Arc<WebPkiServerVerifier> {
    let mut roots = RootCertStore::empty();
    let der = CertificateDer::from_pem_slice(ca.cert_pem().as_bytes()).expect("CA PEM");
    roots.add(der).expect("CA accepted as a root");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .expect("verifier")
}

fn verify(ca: &LabCa, issued: &Issued, name: &str) -> Result<(), Error> {
    let leaf = CertificateDer::from_pem_slice(issued.cert_pem.as_bytes()).expect("leaf PEM");
    let name = ServerName::try_from(name.to_owned()).expect("server name");
    verifier(ca)
        .verify_server_cert(&leaf, &[], &name, &[], UnixTime::now())
        .map(|_| ())
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_leaf_is_valid_for_its_names_and_addresses_only() {
    let ca = LabCa::generate("test").expect("CA");
    let leaf = ca
        .issue(
            &names(&["www.example.com.", "Example.COM"]),
            &[Ipv4Addr::new(10, 0, 3, 10)],
        )
        .expect("leaf");
    assert!(leaf.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    verify(&ca, &leaf, "www.example.com").expect("www.example.com");
    verify(&ca, &leaf, "example.com").expect("example.com (case folded)");
    verify(&ca, &leaf, "10.0.3.10").expect("the IP SAN");
    let wrong = verify(&ca, &leaf, "www.example.org").expect_err("another name");
    assert!(
        matches!(
            wrong,
            Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. })
                | Error::InvalidCertificate(CertificateError::NotValidForName)
        ),
        "{wrong:?}"
    );
}

#[test]
fn an_expired_leaf_and_a_foreign_ca_are_refused() {
    let ca = LabCa::generate("test").expect("CA");
    let expired = ca
        .issue_valid(
            &names(&["www.example.com"]),
            &[],
            Validity {
                not_before: 1_000_000_000,
                not_after: 1_100_000_000,
            },
        )
        .expect("expired leaf");
    let e = verify(&ca, &expired, "www.example.com").expect_err("expired");
    assert!(
        matches!(
            e,
            Error::InvalidCertificate(
                CertificateError::Expired | CertificateError::ExpiredContext { .. }
            )
        ),
        "{e:?}"
    );
    let other = LabCa::generate("other").expect("CA");
    let foreign = other
        .issue(&names(&["www.example.com"]), &[])
        .expect("leaf");
    let e = verify(&ca, &foreign, "www.example.com").expect_err("unknown issuer");
    assert!(
        matches!(
            e,
            Error::InvalidCertificate(CertificateError::UnknownIssuer)
        ),
        "{e:?}"
    );
}

#[test]
fn bad_requests_are_errors_not_panics() {
    let ca = LabCa::generate("test").expect("CA");
    assert!(matches!(ca.issue(&[], &[]), Err(PkiError::NoNames)));
    let e = ca
        .issue(&names(&["bad name with spaces"]), &[])
        .expect_err("bad name");
    assert!(
        e.to_string().contains("bad name with spaces"),
        "the error names the value: {e}"
    );
}

/// `openssl verify` (OpenSSL's X.509 path validation) accepts the chain
/// for its purpose and host, and `openssl x509` shows the SANs.
#[test]
fn openssl_accepts_the_chain() {
    if std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "openssl is missing (CI installs it)"
        );
        eprintln!("skipped: openssl is not installed");
        return;
    }
    let ca = LabCa::generate("test").expect("CA");
    let leaf = ca
        .issue(&names(&["www.example.com"]), &[Ipv4Addr::new(10, 0, 3, 10)])
        .expect("leaf");
    let dir = std::env::temp_dir().join(format!("vnet-pki-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let ca_path = dir.join("ca.pem");
    let leaf_path = dir.join("leaf.pem");
    std::fs::write(&ca_path, ca.cert_pem()).expect("write CA");
    std::fs::write(&leaf_path, &leaf.cert_pem).expect("write leaf");
    let out = std::process::Command::new("openssl")
        .args(["verify", "-purpose", "sslserver", "-verify_hostname"])
        .arg("www.example.com")
        .arg("-CAfile")
        .arg(&ca_path)
        .arg(&leaf_path)
        .output()
        .expect("openssl verify");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && text.contains(": OK"), "{text}");
    let shown = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(&leaf_path)
        .output()
        .expect("openssl x509");
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.contains("DNS:www.example.com") && shown.contains("IP Address:10.0.3.10"),
        "{shown}"
    );
    assert!(shown.contains("TLS Web Server Authentication"), "{shown}");
    let _ = std::fs::remove_dir_all(&dir);
}
