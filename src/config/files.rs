//! The files a setting names and the parser reads: the PAT file and the CA certificate file.
//! This is the configuration's only I/O.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::settings::{CA_CERT, PAT_FILE};

/// The PEM file's certificates, in DER.
pub fn read_ca_certs(path: &Path) -> Result<Vec<Vec<u8>>> {
    let pem = std::fs::read(path).with_context(|| {
        format!("cannot read the CA certificate file {} given by {CA_CERT}", path.display())
    })?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(cert)) => certs.push(cert.der().to_vec()),
            Ok(_) => {}
            Err(_) => bail!("{CA_CERT}: {} is not a valid PEM file", path.display()),
        }
    }
    if certs.is_empty() {
        bail!(
            "{CA_CERT}: {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        );
    }
    Ok(certs)
}

/// The PAT file's text, without the trailing newline that editors and `echo` add.
pub fn read_pat_file(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!("cannot read the PAT file {} given by {PAT_FILE}", path.display())
    })?;
    Ok(text.trim_end().to_string())
}
