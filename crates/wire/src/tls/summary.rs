//! The one-line text of a TCP payload that starts with TLS records.

use core::fmt::{self, Write as _};

use super::{
    CipherSuite, ClientHello, ContentType, HandshakeMessage, HandshakeType, NamedGroup,
    ProtocolVersion, RECORD_HEADER_LEN, Record, ServerHello, TlsError, looks_like_tls, malformed,
    parse_handshakes, parse_records,
};

/// Items shown before `+N more`.
const MAX_ITEMS: usize = 4;
/// List entries shown before `+N`.
const MAX_LIST: usize = 8;

/// Appends ` label=[a, b, c]` unless `items` is empty: at most
/// [`MAX_LIST`] entries, each written by `each`, then `+N`.
fn push_list<T>(out: &mut String, label: &str, items: &[T], each: impl Fn(&mut String, &T)) {
    if items.is_empty() {
        return;
    }
    w(out, format_args!(" {label}=["));
    for (i, item) in items.iter().take(MAX_LIST).enumerate() {
        out.push_str(if i == 0 { "" } else { ", " });
        each(out, item);
    }
    if items.len() > MAX_LIST {
        w(out, format_args!(", +{}", items.len() - MAX_LIST));
    }
    out.push(']');
}

/// Appends peer-chosen text with control characters escaped, so the line
/// stays one line.
fn push_text(out: &mut String, s: &str) {
    for c in s.chars() {
        if c.is_control() {
            w(out, format_args!("{}", c.escape_unicode()));
        } else {
            out.push(c);
        }
    }
}

impl ClientHello {
    /// `Client Hello SNI=… versions=[…] suites=N groups=[…] key_share=[…]
    /// alpn=[…]`, the fields present.
    fn write(&self, out: &mut String) {
        out.push_str("Client Hello");
        if !self.complete {
            out.push_str(" (partial)");
        }
        if let Some(sni) = &self.server_name {
            out.push_str(" SNI=");
            push_text(out, sni);
        }
        let version = |o: &mut String, &v: &u16| w(o, format_args!("{}", ProtocolVersion(v)));
        let group = |o: &mut String, &g: &u16| w(o, format_args!("{}", NamedGroup(g)));
        push_list(out, "versions", &self.supported_versions, version);
        w(out, format_args!(" suites={}", self.cipher_suites.len()));
        push_list(out, "groups", &self.supported_groups, group);
        push_list(out, "key_share", &self.key_share_groups, group);
        push_list(out, "alpn", &self.alpn, |o, p| push_text(o, p));
    }
}

impl ServerHello {
    /// `Server Hello TLS 1.3 TLS_AES_256_GCM_SHA384 x25519` (or `Hello
    /// Retry Request …`).
    fn write(&self, out: &mut String) {
        out.push_str(match self.hello_retry_request {
            true => "Hello Retry Request",
            false => "Server Hello",
        });
        if !self.complete {
            out.push_str(" (partial)");
        }
        w(
            out,
            format_args!(
                " {} {}",
                ProtocolVersion(self.selected_version),
                CipherSuite(self.cipher_suite)
            ),
        );
        if let Some(g) = self.key_share_group {
            w(out, format_args!(" {}", NamedGroup(g)));
        }
        if let Some(p) = &self.alpn {
            out.push_str(" alpn=");
            push_text(out, p);
        }
    }
}

/// The comma-separated items of a summary, capped at [`MAX_ITEMS`].
struct Items {
    out: String,
    shown: usize,
    hidden: usize,
}

impl Items {
    /// Adds one item written by `f`.
    fn push(&mut self, f: impl FnOnce(&mut String)) {
        if self.shown == MAX_ITEMS {
            self.hidden += 1;
            return;
        }
        if self.shown > 0 {
            self.out.push_str(", ");
        }
        self.shown += 1;
        f(&mut self.out);
    }
}

/// The one-line summary of a TCP payload that starts with a TLS record
/// ([`looks_like_tls`]), as [`describe`](crate::describe) shows it: the
/// first record's version, then each record (each handshake message) in
/// order, at most 4 then `+N more`:
///
/// * `TLS 1.0 Client Hello SNI=www.example.com versions=[TLS 1.3, TLS 1.2]
///   suites=31 groups=[x25519, secp256r1] key_share=[x25519] alpn=[http/1.1]`
/// * `TLS 1.2 Server Hello TLS 1.3 TLS_AES_256_GCM_SHA384 x25519, Change
///   Cipher Spec, Application Data (len=38), …`
/// * `TLS 1.2 Alert fatal 70`; `TLS 1.2 Alert (encrypted)` (a plaintext alert
///   is 2 bytes, RFC 8446 §6)
///
/// A Handshake record that does not parse as handshake messages, or after a
/// Change Cipher Spec is not exactly a sequence of them, is `Encrypted
/// Handshake Message` (TLS 1.2's Finished, RFC 5246 §7.4.9). A record or
/// message continued in the next segment is marked `partial`.
///
/// Fails with [`TlsError::Malformed`] if `data` does not look like TLS, a
/// later record header is no TLS header, a hello's lengths contradict each
/// other, or a Change Cipher Spec is not the single byte 1 (RFC 8446 §5).
pub fn summary(data: &[u8]) -> Result<String, TlsError> {
    if !looks_like_tls(data) {
        return Err(malformed("TLS record", "not a TLS record header"));
    }
    let mut items = Items {
        out: String::with_capacity(128),
        shown: 0,
        hidden: 0,
    };
    // The first record's version (looks_like_tls checked it is 3.0 to 3.4).
    let version = crate::be16(data, 1);
    w(
        &mut items.out,
        format_args!("{} ", ProtocolVersion(version)),
    );
    let mut after_ccs = false;
    let mut consumed = 0usize;
    for rec in parse_records(data) {
        let rec = match rec {
            Ok(r) => r,
            Err(TlsError::Truncated { .. }) => {
                let n = data.len().saturating_sub(consumed);
                items.push(|o| w(o, format_args!("Record header (partial, {n} bytes)")));
                break;
            }
            Err(e) => return Err(e),
        };
        consumed += RECORD_HEADER_LEN + rec.fragment.len();
        if rec.header.version >> 8 != 3 {
            return Err(malformed("TLS record", "version is not 3.x"));
        }
        let (len, partial) = (rec.header.length, !rec.complete);
        let mark = if partial { " (partial)" } else { "" };
        match rec.header.content_type {
            ContentType::ChangeCipherSpec => {
                if rec.complete && rec.fragment != [1] {
                    return Err(malformed("change_cipher_spec", "not the single byte 1"));
                }
                after_ccs = true;
                items.push(|o| w(o, format_args!("Change Cipher Spec{mark}")));
            }
            ContentType::Alert => items.push(|o| match (len, rec.fragment) {
                (2, &[level, desc]) => {
                    let level = match level {
                        1 => "warning".to_owned(),
                        2 => "fatal".to_owned(),
                        l => format!("level {l}"),
                    };
                    w(o, format_args!("Alert {level} {desc}"));
                }
                (2, _) => o.push_str("Alert (partial)"),
                _ => o.push_str("Alert (encrypted)"),
            }),
            ContentType::Handshake => handshake_items(&mut items, &rec, after_ccs)?,
            t @ (ContentType::ApplicationData
            | ContentType::Heartbeat
            | ContentType::Unknown(_)) => {
                let p = if partial { ", partial" } else { "" };
                items.push(|o| w(o, format_args!("{t} (len={len}{p})")));
            }
        }
    }
    if items.hidden > 0 {
        w(&mut items.out, format_args!(", +{} more", items.hidden));
    }
    Ok(items.out)
}

/// Appends formatted text to a `String`, which cannot fail.
fn w(out: &mut String, args: fmt::Arguments<'_>) {
    let _ = out.write_fmt(args);
}

/// The items of one Handshake record.
fn handshake_items(items: &mut Items, rec: &Record<'_>, after_ccs: bool) -> Result<(), TlsError> {
    let encrypted = |items: &mut Items| items.push(|o| o.push_str("Encrypted Handshake Message"));
    let first = parse_handshakes(rec.fragment).next();
    let known = |m: &HandshakeMessage<'_>| m.msg_type.name().is_some();
    match first {
        None if rec.complete => return Err(malformed("handshake record", "empty")),
        None | Some(Err(_)) if !rec.complete => {
            items.push(|o| o.push_str("Handshake (partial)"));
            return Ok(());
        }
        Some(Ok(m)) if known(&m) => {}
        _ => {
            encrypted(items);
            return Ok(());
        }
    }
    // After a Change Cipher Spec, TLS 1.2 encrypts (its Finished); TLS 1.3
    // may still send a plaintext ClientHello (RFC 8446 §D.4): only a record
    // that is exactly a run of known, complete messages is plaintext.
    let tiles = || {
        rec.complete
            && parse_handshakes(rec.fragment).all(|m| m.is_ok_and(|m| known(&m) && m.complete))
    };
    if after_ccs && !tiles() {
        encrypted(items);
        return Ok(());
    }
    for m in parse_handshakes(rec.fragment) {
        let Ok(m) = m else { break };
        if !known(&m) {
            break;
        }
        let length = usize::try_from(m.length).unwrap_or(usize::MAX);
        let partial = |o: &mut String| w(o, format_args!("{} (partial)", m.msg_type));
        match m.msg_type {
            HandshakeType::ClientHello => match ClientHello::parse_partial(m.body, length) {
                Ok(h) => items.push(|o| h.write(o)),
                Err(TlsError::Truncated { .. }) => items.push(partial),
                Err(e) => return Err(e),
            },
            HandshakeType::ServerHello => match ServerHello::parse_partial(m.body, length) {
                Ok(h) => items.push(|o| h.write(o)),
                Err(TlsError::Truncated { .. }) => items.push(partial),
                Err(e) => return Err(e),
            },
            t if m.complete => items.push(|o| w(o, format_args!("{t}"))),
            _ => items.push(partial),
        }
    }
    Ok(())
}
