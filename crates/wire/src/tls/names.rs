//! Code points and their names as Wireshark prints them: content types,
//! handshake types, versions, cipher suites and groups.

use core::fmt;

/// Declares a one-byte code point enum with `Unknown(u8)`, the two `From`
/// conversions and Wireshark's name for each value.
macro_rules! code_points {
    ($(#[$meta:meta])* $ty:ident { $($(#[$doc:meta])* $var:ident = $val:literal, $name:literal;)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $ty {
            $($(#[$doc])* $var,)*
            /// Any other value, kept verbatim.
            Unknown(u8),
        }

        impl From<u8> for $ty {
            fn from(v: u8) -> Self {
                match v {
                    $($val => $ty::$var,)*
                    other => $ty::Unknown(other),
                }
            }
        }

        impl From<$ty> for u8 {
            fn from(t: $ty) -> u8 {
                match t {
                    $($ty::$var => $val,)*
                    $ty::Unknown(v) => v,
                }
            }
        }

        impl $ty {
            /// The name Wireshark prints, `None` for `Unknown`.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $($ty::$var => Some($name),)*
                    $ty::Unknown(_) => None,
                }
            }
        }
    };
}

code_points! {
    /// `ContentType` of a record (RFC 8446 §5.1; heartbeat: RFC 6520 §2).
    ContentType {
        /// 20: change_cipher_spec (RFC 5246 §7.1; a compatibility no-op in
        /// TLS 1.3, RFC 8446 §5).
        ChangeCipherSpec = 20, "Change Cipher Spec";
        /// 21: alert (RFC 8446 §6).
        Alert = 21, "Alert";
        /// 22: handshake (RFC 8446 §4).
        Handshake = 22, "Handshake";
        /// 23: application_data; in TLS 1.3 also every encrypted record.
        ApplicationData = 23, "Application Data";
        /// 24: heartbeat (RFC 6520).
        Heartbeat = 24, "Heartbeat";
    }
}

impl fmt::Display for ContentType {
    /// `Handshake`, or `Unknown Record 99`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "Unknown Record {}", u8::from(*self)),
        }
    }
}

code_points! {
    /// `HandshakeType` (RFC 8446 §4; the TLS 1.2-only ones from RFC 5246
    /// §7.4 and RFC 6066 §8).
    HandshakeType {
        /// 0: hello_request (TLS 1.2, RFC 5246 §7.4.1.1).
        HelloRequest = 0, "Hello Request";
        /// 1: client_hello (RFC 8446 §4.1.2).
        ClientHello = 1, "Client Hello";
        /// 2: server_hello, also HelloRetryRequest (RFC 8446 §4.1.3).
        ServerHello = 2, "Server Hello";
        /// 4: new_session_ticket (RFC 8446 §4.6.1).
        NewSessionTicket = 4, "New Session Ticket";
        /// 5: end_of_early_data (RFC 8446 §4.5).
        EndOfEarlyData = 5, "End of Early Data";
        /// 8: encrypted_extensions (RFC 8446 §4.3.1).
        EncryptedExtensions = 8, "Encrypted Extensions";
        /// 11: certificate (RFC 8446 §4.4.2).
        Certificate = 11, "Certificate";
        /// 12: server_key_exchange (TLS 1.2, RFC 5246 §7.4.3).
        ServerKeyExchange = 12, "Server Key Exchange";
        /// 13: certificate_request (RFC 8446 §4.3.2).
        CertificateRequest = 13, "Certificate Request";
        /// 14: server_hello_done (TLS 1.2, RFC 5246 §7.4.5).
        ServerHelloDone = 14, "Server Hello Done";
        /// 15: certificate_verify (RFC 8446 §4.4.3).
        CertificateVerify = 15, "Certificate Verify";
        /// 16: client_key_exchange (TLS 1.2, RFC 5246 §7.4.7).
        ClientKeyExchange = 16, "Client Key Exchange";
        /// 20: finished (RFC 8446 §4.4.4).
        Finished = 20, "Finished";
        /// 22: certificate_status (TLS 1.2 OCSP stapling, RFC 6066 §8).
        CertificateStatus = 22, "Certificate Status";
        /// 24: key_update (RFC 8446 §4.6.3).
        KeyUpdate = 24, "Key Update";
        /// 254: message_hash (RFC 8446 §4.4.1; never on the wire).
        MessageHash = 254, "Message Hash";
    }
}

impl fmt::Display for HandshakeType {
    /// `Client Hello`, or `Handshake type 99`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "Handshake type {}", u8::from(*self)),
        }
    }
}

// ---------------------------------------------------------------- names

/// Whether `v` is a GREASE value (RFC 8701 §2: `0x?A?A` with both bytes
/// equal), reserved so that peers tolerate unknown values.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// Declares a `u16` code point newtype whose `Display` is its name,
/// `GREASE`, or the value in hex (`0x1234`).
macro_rules! named_u16 {
    ($(#[$meta:meta])* $ty:ident { $($val:literal => $name:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $ty(pub u16);

        impl $ty {
            /// The registered name (`GREASE` for RFC 8701 values), `None`
            /// if this table does not know it.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($val => Some($name),)*
                    v if is_grease(v) => Some("GREASE"),
                    _ => None,
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "{:#06x}", self.0),
                }
            }
        }
    };
}

named_u16! {
    /// A `ProtocolVersion` (RFC 8446 §4.2.1; RFC 5246 §6.2.1: `{3, 3}` is
    /// TLS 1.2, `{3, 1}` TLS 1.0, `{3, 0}` SSL 3.0).
    ProtocolVersion {
        0x0300 => "SSL 3.0",
        0x0301 => "TLS 1.0",
        0x0302 => "TLS 1.1",
        0x0303 => "TLS 1.2",
        0x0304 => "TLS 1.3",
    }
}

named_u16! {
    /// A `CipherSuite` (RFC 8446 §B.4; TLS 1.2 suites from the IANA "TLS
    /// Cipher Suites" registry, RFC 5288, RFC 5289, RFC 7905): the common
    /// ones by name.
    CipherSuite {
        0x1301 => "TLS_AES_128_GCM_SHA256",
        0x1302 => "TLS_AES_256_GCM_SHA384",
        0x1303 => "TLS_CHACHA20_POLY1305_SHA256",
        0x1304 => "TLS_AES_128_CCM_SHA256",
        0x1305 => "TLS_AES_128_CCM_8_SHA256",
        0xc02b => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        0xc02c => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        0xc02f => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        0xc030 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        0xcca8 => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0xcca9 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        0xc009 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        0xc00a => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        0xc013 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        0xc014 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        0x009c => "TLS_RSA_WITH_AES_128_GCM_SHA256",
        0x009d => "TLS_RSA_WITH_AES_256_GCM_SHA384",
        0x002f => "TLS_RSA_WITH_AES_128_CBC_SHA",
        0x0035 => "TLS_RSA_WITH_AES_256_CBC_SHA",
        0x00ff => "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
        0x5600 => "TLS_FALLBACK_SCSV",
    }
}

named_u16! {
    /// A `NamedGroup` (RFC 8446 §4.2.7; IANA "TLS Supported Groups";
    /// X25519MLKEM768: draft-ietf-tls-ecdhe-mlkem).
    NamedGroup {
        0x0017 => "secp256r1",
        0x0018 => "secp384r1",
        0x0019 => "secp521r1",
        0x001d => "x25519",
        0x001e => "x448",
        0x0100 => "ffdhe2048",
        0x0101 => "ffdhe3072",
        0x0102 => "ffdhe4096",
        0x0103 => "ffdhe6144",
        0x0104 => "ffdhe8192",
        0x11eb => "SecP256r1MLKEM768",
        0x11ec => "X25519MLKEM768",
        0x11ed => "SecP384r1MLKEM1024",
        0x6399 => "X25519Kyber768Draft00",
    }
}
