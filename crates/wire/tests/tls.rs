//! The TLS dissector (`vnet_wire::tls`) and its `describe` lines.
//!
//! Known answers come from real handshakes captured on loopback: OpenSSL
//! 3.0 `s_server -accept 127.0.0.1:443` and `s_client -servername
//! www.example.com -alpn http/1.1` (TLS 1.3, then `-tls1_2`; a
//! HelloRetryRequest with `-groups X25519:P-256` against a P-256-only
//! server; a protocol_version alert with `-tls1_3` against a TLS 1.2-only
//! server), captured with `tshark -i lo -f 'tcp port 443'`. Each constant
//! is a TCP payload (`tshark -T fields -e tcp.payload`); the expected
//! values are tshark 4's decode of the same bytes (`tshark -V -Y tls`,
//! fields `tls.record.*`, `tls.handshake.*`): tshark is the oracle.

use etherparse::PacketBuilder;
use proptest::prelude::*;
use vnet_wire::describe::describe;
use vnet_wire::tls::{
    self, CipherSuite, ClientHello, ContentType, HandshakeType, NamedGroup, ProtocolVersion,
    RecordHeader, ServerHello, TlsError,
};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("test hex"))
        .collect()
}

// ------------------------------------------------------------ captures

/// Frame 4, client → server: the TLS 1.3 ClientHello, one 331-byte record.
const CLIENT_HELLO_13: &str = "\
    160301014b010001470303bf4e0e88f3fec4aedd45567a68a2a4642ddfd0d0e35d783a6b5b0dbd9e5b5d5d2066f0e29b\
    4c2c0f17210bd3b4748707047a0e8f2b1aea5907c0dc93cbf75cad8f003e130213031301c02cc030009fcca9cca8ccaa\
    c02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff010000c0\
    00000014001200000f7777772e6578616d706c652e636f6d000b000403000102000a00160014001d0017001e00190018\
    01000101010201030104002300000010000b000908687474702f312e310016000000170000000d002a00280403050306\
    03080708080809080a080b080408050806040105010601030303010302040205020602002b0009080304030303020301\
    002d00020101003300260024001d002021c24dfbff1134761ed2035df036566c72f5ee698ae64901d3836adaf13da473";

/// Frame 6, server → client: ServerHello, Change Cipher Spec and four
/// Application Data records (the encrypted EncryptedExtensions … Finished).
const SERVER_HELLO_13: &str = "\
    160303007a020000760303907c7163425f78e0f5eeffe6c7e49b641133b75e6873945db32f3ab79ec68fab2066f0e29b\
    4c2c0f17210bd3b4748707047a0e8f2b1aea5907c0dc93cbf75cad8f130200002e002b0002030400330024001d0020cf\
    7b9d55319588d9b18388d7fca3dc85f0e9b5ba1f83881435e28f192e093c2c140303000101170303002619ac89d65785\
    37c608f8b8fa35dcabfa5a4067d22a95d5b7159499328233afc3c44435d7c67317030301aa1c6ec4eb7cc3aad949f07f\
    dc06b8475ce7ffe5094c3e058bc848e23db55262085a48bc3d5c486e07936711e772c8fcb338b40d6adfedb122e930af\
    c33e465458551075746c37afcf3077d904c54f2f44df7db62ac95861d24885a5feaa9741ce9c1b256a92c1795ec25313\
    d4e87b7102c0ebb32f2f1b3fd5b729242ca619fa6c3ea31df5bb23d8091f84ede0963a08c04638ef7182c01857b1f2d4\
    40e85ca22aa04c5d70d5e51646fa39bc429d22a3703cbcc787730e4f1d70d89d8839428ed5f695dca179a9e879a4d38e\
    32222be8e8a1042958dd6d1bfe42b2d543f72e5e6dfeb51c4e98797136deed9c6ef43948c5ef7bfd9f680f247afab8c1\
    647161634e8cfa2c1edf268eb88285580949f00501bd51d64ffa56735d3c19f9e446ab880600a135c6acccae5a4f803c\
    327b1c90e0c5bacc5c85001d9ee379e71bcc72fc41d344593fa12ace76fa0fedba16d2260e0b08fb0d6f7debab24d118\
    c67a3cd0ad7ac497ddd89befa4ade99bf4842dca86e772e489c1eaa82daabe3c548c2f38e894b2139def6c9701fadfc6\
    c75315406a722687f22c2a1ddfd3e26e3cec7c8c349933d17f361147b8b8ea170303006054780e7c321ecb4a9cc0b38d\
    69d9870dbef0559f23a28cf7531bb1d2608ea3cab9bf35e116ddbb83a5d1414e680860e3f4cbd26871d52f94ad7f6839\
    8789e7b74468ea81c92492079632b7d502d4173fa00fa2b429fa6ec835e651feaed05fd11703030045aadfc7b046d5da\
    1a41476a49a745cf1fbdb6c6f1fd9c38c0ccf127e1216f9d9173d35861b7ecdfc82de1f1371bb40550f5502a898ff8cd\
    ec9d94e4e3bedadd4ab2a3e49b5c";

/// Frame 19, client → server: the ClientHello of `s_client -tls1_2` (no
/// supported_versions, no key_share, empty session id).
const CLIENT_HELLO_12: &str = "\
    16030100de010000da0303f1ffbd85f72012355248b74f8fa122258bb3131d917bff04af24d382e2d34e07000038c02c\
    c030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c\
    0035002f00ff0100007900000014001200000f7777772e6578616d706c652e636f6d000b000403000102000a000c000a\
    001d0017001e00190018002300000010000b000908687474702f312e310016000000170000000d002a00280403050306\
    03080708080809080a080b080408050806040105010601030303010302040205020602";

/// Frame 21, server → client (TLS 1.2): ServerHello, Certificate,
/// ServerKeyExchange, ServerHelloDone, four records.
const SERVER_HELLO_12: &str = "\
    16030300500200004c030348eff0ed0b0d39275d0eea916a43785034b550e23012a445444f574e4752440100c02c0000\
    24ff01000100000b000403000102002300000010000b000908687474702f312e310017000016030301960b0001920001\
    8f00018c308201883082012fa003020102021448e3cba5dec79203a555de7cff17397ef5f887d0300a06082a8648ce3d\
    040302301a3118301606035504030c0f7777772e6578616d706c652e636f6d301e170d3236313230333136303230345a\
    170d3236313230343136303230345a301a3118301606035504030c0f7777772e6578616d706c652e636f6d3059301306\
    072a8648ce3d020106082a8648ce3d030107034200048ed31a1979aa32f0e3910b45f85be9e574f9faa245acd08996c6\
    b5d13e1dc71d47e70cb8472844d179035807ded027f6b423426f533cd05c2dea43fff80e4743a3533051301d0603551d\
    0e0416041471886a4d74017cbe6d570251ae4ae4c65425dea1301f0603551d2304183016801471886a4d74017cbe6d57\
    0251ae4ae4c65425dea1300f0603551d130101ff040530030101ff300a06082a8648ce3d04030203470030440220117c\
    55b0552842b3693f7a11aeb65d47a029c4c77a70d59841806eeb17cee35a02202d469d1fb804b5c2ae3f863f7797b084\
    c8d42250a99b62acc1903cc1a8fa098616030300730c00006f03001d20348f8cbf9cd4c2f7f4c49acd062966183413b2\
    bf32f35f21d156cd23d9131c4f04030047304502206293cf5e5558263081190ef72cf133e59ca33c490f58e512f6859a\
    e9056fccc6022100cab80151a1113ed856b2091c6651e45696e11d17c91ba53253ff069be1b0a81516030300040e0000\
    00";

/// Frame 23, client → server (TLS 1.2): ClientKeyExchange, Change Cipher
/// Spec, and the encrypted Finished.
const CLIENT_FINISHED_12: &str = "\
    1603030025100000212076e938f2a5c1ab246ed6ac376c0636f28832d3c95f6b38c2f0b5f8fbba208543140303000101\
    1603030028f8c08babb668d2375857d21cfbf6c88a27f1b1ca6ea9105dedc9e88cad05bfba6e0e6ecc1044b8f2";

/// Frame 25, client → server (TLS 1.2): the encrypted close_notify (26
/// bytes).
const ENCRYPTED_ALERT_12: &str = "\
    150303001af8c08babb668d238deafa60c55f4ffac519a51b0020d5fe5de61";

/// Frame 35, server → client: a HelloRetryRequest selecting secp256r1, then
/// Change Cipher Spec.
const HELLO_RETRY_REQUEST: &str = "\
    1603030058020000540303cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c20fcb37e6e\
    d4ae76aa20fc420d74f84772237daf5884465d6287a3c448a50c819f130200000c002b00020304003300020017140303\
    000101";

/// Frame 37, client → server: Change Cipher Spec, then the second
/// ClientHello (key share secp256r1), in plaintext (RFC 8446 §D.4).
const CCS_CLIENT_HELLO_AFTER_HRR: &str = "\
    140303000101160303014d010001490303ff8f9cad7313780d3bb215dae4e24c7e4e941d455fc451caadf0c4da8c6950\
    5b20fcb37e6ed4ae76aa20fc420d74f84772237daf5884465d6287a3c448a50c819f003e130213031301c02cc030009f\
    cca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f\
    00ff010000c200000014001200000f7777772e6578616d706c652e636f6d000b000403000102000a00060004001d0017\
    002300000016000000170000000d002a0028040305030603080708080809080a080b0804080508060401050106010303\
    03010302040205020602002b0009080304030303020301002d0002010100330047004500170041044110d38a8cceac74\
    00586b0d2aaf1af33965e27c6c97b7bec19433a72d868b7c29cbce6c044145fcbd41802b9f635e47b65be318a83c5144\
    048e18ae9f20b32c";

/// Frame 53, server → client: a plaintext fatal protocol_version (70)
/// alert.
const ALERT_PROTOCOL_VERSION: &str = "\
    15030300020246";

/// The Ethernet (loopback: zero MACs), IPv4 and TCP headers of frame 4,
/// 127.0.0.1:57206 → 127.0.0.1:443, as captured (the TCP checksum is the
/// partial one of checksum offload).
const CLIENT_HELLO_13_HEADERS: &str = "\
    000000000000000000000000080045000184779340004006c3de7f0000017f0000\
    01df7601bb938298197223a14c80180040ff7800000101080af08ee9ea05fe7313";

/// The ClientHello cipher suites of frame 4 (and 37), as tshark lists them.
const SUITES_13: [u16; 31] = [
    0x1302, 0x1303, 0x1301, 0xc02c, 0xc030, 0x009f, 0xcca9, 0xcca8, 0xccaa, 0xc02b, 0xc02f, 0x009e,
    0xc024, 0xc028, 0x006b, 0xc023, 0xc027, 0x0067, 0xc00a, 0xc014, 0x0039, 0xc009, 0xc013, 0x0033,
    0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f, 0x00ff,
];

/// The supported groups of frame 4, as tshark lists them.
const GROUPS_13: [u16; 10] = [
    0x001d, 0x0017, 0x001e, 0x0019, 0x0018, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104,
];

// ------------------------------------------------------------ records

/// A record as tshark lists it: content type, version, length.
type Rec = (u8, u16, u16);

/// Each record of `payload`, all complete.
fn records(payload: &[u8]) -> Vec<Rec> {
    let mut total = 0;
    let v = tls::parse_records(payload)
        .map(|r| {
            let r = r.expect("record");
            assert!(r.complete);
            assert_eq!(r.fragment.len(), usize::from(r.header.length));
            total += tls::RECORD_HEADER_LEN + r.fragment.len();
            let h = r.header;
            (u8::from(h.content_type), h.version, h.length)
        })
        .collect();
    assert_eq!(total, payload.len());
    v
}

/// The handshake messages (type, length) of the record at `index`.
fn messages(payload: &[u8], index: usize) -> Vec<(u8, u32)> {
    let rec = tls::parse_records(payload).nth(index).unwrap().unwrap();
    assert_eq!(rec.header.content_type, ContentType::Handshake);
    tls::parse_handshakes(rec.fragment)
        .map(|m| {
            let m = m.expect("handshake message");
            assert!(m.complete);
            (u8::from(m.msg_type), m.length)
        })
        .collect()
}

/// The body of the first handshake message of the record at `index`.
fn first_body(payload: &[u8], index: usize) -> Vec<u8> {
    let rec = tls::parse_records(payload).nth(index).unwrap().unwrap();
    let m = tls::parse_handshakes(rec.fragment).next().unwrap().unwrap();
    m.body.to_vec()
}

#[test]
fn records_and_messages_agree_with_tshark() {
    // tls.record.content_type (or opaque_type), tls.record.version,
    // tls.record.length.
    let v12 = 0x0303;
    let cases: [(&str, &[Rec]); 9] = [
        (CLIENT_HELLO_13, &[(22, 0x0301, 331)]),
        (
            SERVER_HELLO_13,
            &[
                (22, v12, 122),
                (20, v12, 1),
                (23, v12, 38),
                (23, v12, 426),
                (23, v12, 96),
                (23, v12, 69),
            ],
        ),
        (CLIENT_HELLO_12, &[(22, 0x0301, 222)]),
        (
            SERVER_HELLO_12,
            &[(22, v12, 80), (22, v12, 406), (22, v12, 115), (22, v12, 4)],
        ),
        (
            CLIENT_FINISHED_12,
            &[(22, v12, 37), (20, v12, 1), (22, v12, 40)],
        ),
        (ENCRYPTED_ALERT_12, &[(21, v12, 26)]),
        (HELLO_RETRY_REQUEST, &[(22, v12, 88), (20, v12, 1)]),
        (CCS_CLIENT_HELLO_AFTER_HRR, &[(20, v12, 1), (22, v12, 333)]),
        (ALERT_PROTOCOL_VERSION, &[(21, v12, 2)]),
    ];
    for (payload, want) in cases {
        let b = hex(payload);
        assert!(tls::looks_like_tls(&b));
        assert_eq!(records(&b), want);
    }
    // tls.handshake.type, tls.handshake.length.
    assert_eq!(messages(&hex(CLIENT_HELLO_13), 0), [(1, 327)]);
    assert_eq!(messages(&hex(SERVER_HELLO_13), 0), [(2, 118)]);
    assert_eq!(messages(&hex(CLIENT_HELLO_12), 0), [(1, 218)]);
    let sh12 = hex(SERVER_HELLO_12);
    let all: Vec<_> = (0..4).flat_map(|i| messages(&sh12, i)).collect();
    assert_eq!(all, [(2, 76), (11, 402), (12, 111), (14, 0)]);
    assert_eq!(messages(&hex(CLIENT_FINISHED_12), 0), [(16, 33)]);
    assert_eq!(messages(&hex(HELLO_RETRY_REQUEST), 0), [(2, 84)]);
    assert_eq!(messages(&hex(CCS_CLIENT_HELLO_AFTER_HRR), 1), [(1, 329)]);
    assert_eq!(HandshakeType::from(12).name(), Some("Server Key Exchange"));
}

#[test]
fn client_hellos_agree_with_tshark() {
    let h = ClientHello::parse(&first_body(&hex(CLIENT_HELLO_13), 0)).unwrap();
    assert_eq!(
        h,
        ClientHello {
            legacy_version: 0x0303,
            session_id_len: 32,
            cipher_suites: SUITES_13.to_vec(),
            server_name: Some("www.example.com".into()),
            supported_versions: vec![0x0304, 0x0303, 0x0302, 0x0301],
            supported_groups: GROUPS_13.to_vec(),
            key_share_groups: vec![29],
            alpn: vec!["http/1.1".into()],
            complete: true,
        }
    );

    let h = ClientHello::parse(&first_body(&hex(CLIENT_HELLO_12), 0)).unwrap();
    assert_eq!(
        h,
        ClientHello {
            legacy_version: 0x0303,
            session_id_len: 0,
            cipher_suites: SUITES_13[3..].to_vec(),
            server_name: Some("www.example.com".into()),
            supported_versions: vec![],
            supported_groups: GROUPS_13[..5].to_vec(),
            key_share_groups: vec![],
            alpn: vec!["http/1.1".into()],
            complete: true,
        }
    );

    // The second ClientHello, after the HelloRetryRequest.
    let h = ClientHello::parse(&first_body(&hex(CCS_CLIENT_HELLO_AFTER_HRR), 1)).unwrap();
    assert_eq!(h.session_id_len, 32);
    assert_eq!(h.cipher_suites, SUITES_13);
    assert_eq!(h.server_name.as_deref(), Some("www.example.com"));
    assert_eq!(h.supported_versions, [0x0304, 0x0303, 0x0302, 0x0301]);
    assert_eq!(h.supported_groups, [0x001d, 0x0017]);
    assert_eq!(h.key_share_groups, [23]);
    assert!(h.alpn.is_empty());
}

#[test]
fn server_hellos_agree_with_tshark() {
    let h = ServerHello::parse(&first_body(&hex(SERVER_HELLO_13), 0)).unwrap();
    assert_eq!(
        h,
        ServerHello {
            legacy_version: 0x0303,
            session_id_len: 32,
            cipher_suite: 0x1302,
            selected_version: 0x0304,
            key_share_group: Some(29),
            alpn: None,
            hello_retry_request: false,
            complete: true,
        }
    );
    let h = ServerHello::parse(&first_body(&hex(SERVER_HELLO_12), 0)).unwrap();
    assert_eq!(
        h,
        ServerHello {
            legacy_version: 0x0303,
            session_id_len: 0,
            cipher_suite: 0xc02c,
            selected_version: 0x0303,
            key_share_group: None,
            alpn: Some("http/1.1".into()),
            hello_retry_request: false,
            complete: true,
        }
    );
    // "Random: cf21ad74… (HelloRetryRequest magic)", "Selected Group:
    // secp256r1 (23)".
    let h = ServerHello::parse(&first_body(&hex(HELLO_RETRY_REQUEST), 0)).unwrap();
    assert_eq!(
        h,
        ServerHello {
            legacy_version: 0x0303,
            session_id_len: 32,
            cipher_suite: 0x1302,
            selected_version: 0x0304,
            key_share_group: Some(23),
            alpn: None,
            hello_retry_request: true,
            complete: true,
        }
    );
}

#[test]
fn names_agree_with_tshark() {
    // "Cipher Suite: NAME (0x…)" lines of frames 4 and 21, for the suites
    // the table knows.
    let tshark = [
        (0x1301, "TLS_AES_128_GCM_SHA256"),
        (0x1302, "TLS_AES_256_GCM_SHA384"),
        (0x1303, "TLS_CHACHA20_POLY1305_SHA256"),
        (0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
        (0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
        (0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
        (0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
        (0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
        (0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
        (0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
        (0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"),
        (0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
        (0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"),
        (0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256"),
        (0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384"),
        (0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA"),
        (0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"),
        (0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"),
    ];
    for (v, name) in tshark {
        assert_eq!(CipherSuite(v).to_string(), name);
    }
    // Suites the table does not know print in hex.
    assert_eq!(CipherSuite(0xccaa).to_string(), "0xccaa");
    // "Supported Group: NAME (0x…)".
    let groups = [
        "x25519",
        "secp256r1",
        "x448",
        "secp521r1",
        "secp384r1",
        "ffdhe2048",
        "ffdhe3072",
        "ffdhe4096",
        "ffdhe6144",
        "ffdhe8192",
    ];
    for (v, name) in GROUPS_13.into_iter().zip(groups) {
        assert_eq!(NamedGroup(v).to_string(), name);
    }
    assert_eq!(NamedGroup(0x11ec).to_string(), "X25519MLKEM768");
    // "Supported Version: TLS 1.3 (0x0304)" …
    for (v, name) in [
        (0x0304, "TLS 1.3"),
        (0x0303, "TLS 1.2"),
        (0x0302, "TLS 1.1"),
        (0x0301, "TLS 1.0"),
    ] {
        assert_eq!(ProtocolVersion(v).to_string(), name);
    }
    // GREASE (RFC 8701) in every table; other values in hex.
    for v in (0..16u16).map(|i| i << 12 | i << 4 | 0x0a0a) {
        assert!(tls::is_grease(v), "{v:#06x}");
        assert_eq!(ProtocolVersion(v).to_string(), "GREASE");
        assert_eq!(CipherSuite(v).to_string(), "GREASE");
        assert_eq!(NamedGroup(v).to_string(), "GREASE");
    }
    assert!(!tls::is_grease(0x0a1a) && !tls::is_grease(0x1a0a));
    assert_eq!(NamedGroup(0x1234).to_string(), "0x1234");
    assert_eq!(ContentType::from(23).to_string(), "Application Data");
    assert_eq!(ContentType::from(99).to_string(), "Unknown Record 99");
    assert_eq!(HandshakeType::from(2).to_string(), "Server Hello");
    assert_eq!(HandshakeType::from(99).to_string(), "Handshake type 99");
}

// ------------------------------------------------------------ describe

const CLIENT: [u8; 4] = [10, 0, 1, 100];
const SERVER: [u8; 4] = [10, 0, 3, 10];

/// An Ethernet/IPv4/TCP frame (valid checksums) carrying `payload`.
fn frame(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    PacketBuilder::ethernet2([2, 0, 0, 0, 1, 100], [2, 0, 0, 0, 1, 1])
        .ipv4(src, dst, 64)
        .tcp(sport, dport, 1000, 64240)
        .psh()
        .ack(1)
        .write(&mut b, payload)
        .unwrap();
    b
}

/// A client → server:443 frame.
fn to_server(payload: &[u8]) -> Vec<u8> {
    frame(CLIENT, 49152, SERVER, 443, payload)
}

/// A server:443 → client frame.
fn to_client(payload: &[u8]) -> Vec<u8> {
    frame(SERVER, 443, CLIENT, 49152, payload)
}

const UP: &str = " (10.0.1.100:49152 → 10.0.3.10:443)";
const DOWN: &str = " (10.0.3.10:443 → 10.0.1.100:49152)";

#[track_caller]
fn check_tls(frame: &[u8], text: &str) {
    let s = describe(frame);
    assert_eq!(s.text, text);
    assert_eq!((s.proto, s.layer), ("tls", "L7"), "{}", s.text);
}

/// tshark's Info column of the same segments, for comparison:
///
/// * 4: `Client Hello`
/// * 6: `Server Hello, Change Cipher Spec, Application Data, Application Data, Application Data, Application Data`
/// * 21: `Server Hello, Certificate, Server Key Exchange, Server Hello Done`
/// * 23: `Client Key Exchange, Change Cipher Spec, Encrypted Handshake Message`
/// * 25: `Encrypted Alert`
/// * 35: `Hello Retry Request, Change Cipher Spec`
/// * 37: `Change Cipher Spec, Client Hello`
/// * 53: `Alert (Level: Fatal, Description: Protocol Version)`
#[test]
fn describe_lines_of_the_captured_segments() {
    let ch13 = "TLS 1.0 Client Hello SNI=www.example.com \
        versions=[TLS 1.3, TLS 1.2, TLS 1.1, TLS 1.0] suites=31 \
        groups=[x25519, secp256r1, x448, secp521r1, secp384r1, ffdhe2048, ffdhe3072, ffdhe4096, +2] \
        key_share=[x25519] alpn=[http/1.1]";
    check_tls(&to_server(&hex(CLIENT_HELLO_13)), &format!("{ch13}{UP}"));
    check_tls(
        &to_client(&hex(SERVER_HELLO_13)),
        &format!(
            "TLS 1.2 Server Hello TLS 1.3 TLS_AES_256_GCM_SHA384 x25519, Change Cipher Spec, \
             Application Data (len=38), Application Data (len=426), +2 more{DOWN}"
        ),
    );
    check_tls(
        &to_server(&hex(CLIENT_HELLO_12)),
        &format!(
            "TLS 1.0 Client Hello SNI=www.example.com suites=28 \
             groups=[x25519, secp256r1, x448, secp521r1, secp384r1] alpn=[http/1.1]{UP}"
        ),
    );
    check_tls(
        &to_client(&hex(SERVER_HELLO_12)),
        &format!(
            "TLS 1.2 Server Hello TLS 1.2 TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 alpn=http/1.1, \
             Certificate, Server Key Exchange, Server Hello Done{DOWN}"
        ),
    );
    check_tls(
        &to_server(&hex(CLIENT_FINISHED_12)),
        &format!(
            "TLS 1.2 Client Key Exchange, Change Cipher Spec, Encrypted Handshake Message{UP}"
        ),
    );
    check_tls(
        &to_server(&hex(ENCRYPTED_ALERT_12)),
        &format!("TLS 1.2 Alert (encrypted){UP}"),
    );
    check_tls(
        &to_client(&hex(HELLO_RETRY_REQUEST)),
        &format!(
            "TLS 1.2 Hello Retry Request TLS 1.3 TLS_AES_256_GCM_SHA384 secp256r1, \
             Change Cipher Spec{DOWN}"
        ),
    );
    check_tls(
        &to_server(&hex(CCS_CLIENT_HELLO_AFTER_HRR)),
        &format!(
            "TLS 1.2 Change Cipher Spec, Client Hello SNI=www.example.com \
             versions=[TLS 1.3, TLS 1.2, TLS 1.1, TLS 1.0] suites=31 \
             groups=[x25519, secp256r1] key_share=[secp256r1]{UP}"
        ),
    );
    check_tls(
        &to_client(&hex(ALERT_PROTOCOL_VERSION)),
        &format!("TLS 1.2 Alert fatal 70{DOWN}"),
    );

    // The very frame captured (loopback: zero MACs, 127.0.0.1:57206 → 443),
    // with its offloaded, partial TCP checksum flagged as tshark does …
    let mut real = hex(CLIENT_HELLO_13_HEADERS);
    real.extend_from_slice(&hex(CLIENT_HELLO_13));
    assert_eq!(real.len(), 402); // tshark: frame.len
    let up = "(127.0.0.1:57206 → 127.0.0.1:443)";
    check_tls(&real, &format!("{ch13} {up} [bad tcp checksum]"));
    // … and once the checksum is filled in (tshark: "should be 0x86e6").
    real[14 + 20 + 16..14 + 20 + 18].copy_from_slice(&[0x86, 0xe6]);
    check_tls(&real, &format!("{ch13} {up}"));
}

#[test]
fn partial_and_continued_segments() {
    // The ClientHello cut after its first 200 bytes: the server_name
    // extension is in, supported_groups is cut.
    let ch = hex(CLIENT_HELLO_13);
    check_tls(
        &to_server(&ch[..200]),
        &format!("TLS 1.0 Client Hello (partial) SNI=www.example.com suites=31{UP}"),
    );
    // Cut inside the cipher suites: no fields to show.
    check_tls(
        &to_server(&ch[..100]),
        &format!("TLS 1.0 Client Hello (partial){UP}"),
    );
    check_tls(
        &to_server(&ch[..7]),
        &format!("TLS 1.0 Handshake (partial){UP}"),
    );
    // Every cut is described, as TLS, never malformed.
    for n in 5..ch.len() {
        let s = describe(&to_server(&ch[..n]));
        assert_eq!(s.proto, "tls", "{n}: {}", s.text);
        assert!(s.text.contains("(partial)"), "{n}: {}", s.text);
    }
    // A record cut short by the end of the segment.
    let sh = hex(SERVER_HELLO_13);
    check_tls(
        &to_client(&sh[..5 + 122 + 6 + 5 + 38 + 5 + 100]),
        &format!(
            "TLS 1.2 Server Hello TLS 1.3 TLS_AES_256_GCM_SHA384 x25519, Change Cipher Spec, \
             Application Data (len=38), Application Data (len=426, partial){DOWN}"
        ),
    );
    // … and a header cut short.
    check_tls(
        &to_client(&sh[..5 + 122 + 6 + 3]),
        &format!(
            "TLS 1.2 Server Hello TLS 1.3 TLS_AES_256_GCM_SHA384 x25519, Change Cipher Spec, \
             Record header (partial, 3 bytes){DOWN}"
        ),
    );
    // The next segment, continuing the record, is not recognised: plain TCP.
    let rest = &sh[5 + 122 + 6 + 5 + 38 + 5 + 100..];
    let s = describe(&to_client(rest));
    assert_eq!((s.proto, s.layer), ("tcp", "L4"), "{}", s.text);
    assert!(
        s.text.ends_with(&format!(" len={}", rest.len())),
        "{}",
        s.text
    );
    // Nor is TLS on another port.
    let s = describe(&frame(CLIENT, 49152, SERVER, 4433, &ch));
    assert_eq!(s.proto, "tcp");
    // Port 8443 is.
    let s = describe(&frame(
        SERVER,
        8443,
        CLIENT,
        49152,
        &hex(ALERT_PROTOCOL_VERSION),
    ));
    assert_eq!(
        s.text,
        "TLS 1.2 Alert fatal 70 (10.0.3.10:8443 → 10.0.1.100:49152)"
    );
}

#[test]
fn unknown_and_odd_records() {
    let rec =
        |t: u8, payload: &[u8]| tls::emit_record(ContentType::from(t), 0x0303, payload).unwrap();
    let mut b = rec(20, &[1]);
    b.extend(rec(99, b"abc"));
    b.extend(rec(24, b"hb!"));
    check_tls(
        &to_server(&b),
        &format!("TLS 1.2 Change Cipher Spec, Unknown Record 99 (len=3), Heartbeat (len=3){UP}"),
    );
    // A first record of unknown type, or a version other than 3.x, or too
    // long: not TLS.
    for b in [
        rec(99, b"abc"),
        tls::emit_record(ContentType::Alert, 0x0205, &[2, 40]).unwrap(),
        vec![22, 3, 3, 0x41, 0x01],
        vec![22, 3, 3],
    ] {
        assert!(!tls::looks_like_tls(&b));
        assert_eq!(describe(&to_server(&b)).proto, "tcp");
    }
    // Zero-length Application Data is allowed (RFC 8446 §5.1), a zero-length
    // Handshake is not.
    check_tls(
        &to_server(&rec(23, &[])),
        &format!("TLS 1.2 Application Data (len=0){UP}"),
    );
    assert!(!tls::looks_like_tls(&rec(22, &[])));
    // A warning alert; an alert of an unknown level.
    check_tls(
        &to_server(&rec(21, &[1, 0])),
        &format!("TLS 1.2 Alert warning 0{UP}"),
    );
    check_tls(
        &to_server(&rec(21, &[7, 0])),
        &format!("TLS 1.2 Alert level 7 0{UP}"),
    );
    // An unknown handshake type: encrypted (Wireshark does the same).
    check_tls(
        &to_server(&rec(22, &[0x9e, 0x11, 0x22, 0x33, 0x44])),
        &format!("TLS 1.2 Encrypted Handshake Message{UP}"),
    );
    // More than four items.
    let many: Vec<u8> = (0..7).flat_map(|_| rec(23, b"x")).collect();
    check_tls(
        &to_server(&many),
        &format!(
            "TLS 1.2 Application Data (len=1), Application Data (len=1), \
             Application Data (len=1), Application Data (len=1), +3 more{UP}"
        ),
    );
    assert_eq!(
        tls::RecordHeader::parse(&[23, 3, 3, 0x41, 0x01]),
        Err(TlsError::RecordTooLong { length: 0x4101 })
    );
}

/// Malformed bytes after a TLS-looking header: the TCP line, flagged.
#[test]
fn malformed_tls_is_flagged() {
    let ch = hex(CLIENT_HELLO_13);
    let mut bad_sid = ch.clone();
    bad_sid[5 + 4 + 2 + 32] = 33; // legacy_session_id length
    let mut bad_ext = ch.clone();
    bad_ext[5 + 4 + 2 + 32 + 33 + 2 + 62 + 2 + 1] += 1; // extensions length
    let mut bad_ccs = tls::emit_record(ContentType::ChangeCipherSpec, 0x0303, &[2]).unwrap();
    let mut bad_next = tls::emit_record(ContentType::ChangeCipherSpec, 0x0303, &[1]).unwrap();
    bad_next.extend_from_slice(&[23, 1, 1, 0, 1, 0]); // version 1.1 is no TLS
    let mut too_long = tls::emit_record(ContentType::ChangeCipherSpec, 0x0303, &[1]).unwrap();
    too_long.extend_from_slice(&[23, 3, 3, 0x41, 0x01]);
    bad_ccs.push(0);
    for data in [bad_sid, bad_ext, bad_ccs[..6].to_vec(), bad_next, too_long] {
        assert!(tls::looks_like_tls(&data));
        assert!(tls::summary(&data).is_err());
        let s = describe(&to_server(&data));
        assert_eq!(
            s.text,
            format!(
                "TCP 10.0.1.100:49152 → 10.0.3.10:443 [PSH, ACK] seq=1000 ack=1 win=64240 len={} [malformed tls]",
                data.len()
            )
        );
        assert_eq!((s.proto, s.layer), ("tcp", "L4"));
    }
    // The errors name the problem.
    assert_eq!(
        ClientHello::parse(&[3, 3]),
        Err(TlsError::Malformed {
            what: "ClientHello",
            reason: "no random"
        })
    );
    assert_eq!(
        ClientHello::parse_partial(&[3, 3], 100),
        Err(TlsError::Truncated {
            what: "ClientHello"
        })
    );
}

// ------------------------------------------------------------ builders

fn vec8(b: &[u8]) -> Vec<u8> {
    let mut v = vec![u8::try_from(b.len()).unwrap()];
    v.extend_from_slice(b);
    v
}

fn vec16(b: &[u8]) -> Vec<u8> {
    let mut v = u16::try_from(b.len()).unwrap().to_be_bytes().to_vec();
    v.extend_from_slice(b);
    v
}

fn u16s(v: &[u16]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_be_bytes()).collect()
}

fn extension(ty: u16, data: &[u8]) -> Vec<u8> {
    let mut v = ty.to_be_bytes().to_vec();
    v.extend(vec16(data));
    v
}

/// A handshake message: type, uint24 length, body.
fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let len = u32::try_from(body.len()).unwrap().to_be_bytes();
    let mut v = vec![msg_type, len[1], len[2], len[3]];
    v.extend_from_slice(body);
    v
}

/// The body of a ClientHello with `h`'s fields (RFC 8446 §4.1.2), key
/// shares of `key_len` bytes, and a GREASE extension first.
fn client_hello_body(h: &ClientHello, key_len: usize) -> Vec<u8> {
    let mut b = h.legacy_version.to_be_bytes().to_vec();
    b.extend([0x5a; 32]);
    b.extend(vec8(&vec![7; usize::from(h.session_id_len)]));
    b.extend(vec16(&u16s(&h.cipher_suites)));
    b.extend(vec8(&[0]));
    let mut exts = extension(0x0a0a, &[]);
    if let Some(sni) = &h.server_name {
        let mut entry = vec![0];
        entry.extend(vec16(sni.as_bytes()));
        exts.extend(extension(0, &vec16(&entry)));
    }
    if !h.supported_groups.is_empty() {
        exts.extend(extension(10, &vec16(&u16s(&h.supported_groups))));
    }
    if !h.alpn.is_empty() {
        let list: Vec<u8> = h.alpn.iter().flat_map(|p| vec8(p.as_bytes())).collect();
        exts.extend(extension(16, &vec16(&list)));
    }
    if !h.supported_versions.is_empty() {
        exts.extend(extension(43, &vec8(&u16s(&h.supported_versions))));
    }
    if !h.key_share_groups.is_empty() {
        let shares: Vec<u8> = h
            .key_share_groups
            .iter()
            .flat_map(|g| {
                let mut e = g.to_be_bytes().to_vec();
                e.extend(vec16(&vec![0x33; key_len]));
                e
            })
            .collect();
        exts.extend(extension(51, &vec16(&shares)));
    }
    b.extend(vec16(&exts));
    b
}

/// The body of a ServerHello (RFC 8446 §4.1.3) with `version_ext` in a
/// supported_versions extension.
fn server_hello_body(h: &ServerHello, version_ext: Option<u16>) -> Vec<u8> {
    let mut b = h.legacy_version.to_be_bytes().to_vec();
    if h.hello_retry_request {
        b.extend(tls::HELLO_RETRY_REQUEST_RANDOM);
    } else {
        b.extend([0x5a; 32]);
    }
    b.extend(vec8(&vec![7; usize::from(h.session_id_len)]));
    b.extend(h.cipher_suite.to_be_bytes());
    b.push(0);
    let mut exts = Vec::new();
    if let Some(v) = version_ext {
        exts.extend(extension(43, &v.to_be_bytes()));
    }
    if let Some(g) = h.key_share_group {
        let mut ks = g.to_be_bytes().to_vec();
        if !h.hello_retry_request {
            ks.extend(vec16(&[0x44; 32]));
        }
        exts.extend(extension(51, &ks));
    }
    if let Some(p) = &h.alpn {
        exts.extend(extension(16, &vec16(&vec8(p.as_bytes()))));
    }
    b.extend(vec16(&exts));
    b
}

#[test]
fn grease_and_post_quantum_client_hello() {
    let h = ClientHello {
        legacy_version: 0x0303,
        session_id_len: 32,
        cipher_suites: vec![0x3a3a, 0x1301, 0x1302, 0x1303, 0xc02b],
        server_name: Some("www.example.com".into()),
        supported_versions: vec![0x5a5a, 0x0304, 0x0303],
        supported_groups: vec![0xdada, 0x11ec, 0x001d, 0x0017, 0x1234],
        key_share_groups: vec![0xdada, 0x11ec, 0x001d],
        alpn: vec!["h2".into(), "http/1.1".into()],
        complete: true,
    };
    // X25519MLKEM768 shares are 1216 bytes: the hello spans two segments.
    let body = client_hello_body(&h, 1216);
    assert_eq!(ClientHello::parse(&body), Ok(h.clone()));
    let record = tls::emit_record(ContentType::Handshake, 0x0301, &handshake(1, &body)).unwrap();
    assert!(record.len() > 3 * 1216);
    let line = "TLS 1.0 Client Hello SNI=www.example.com versions=[GREASE, TLS 1.3, TLS 1.2] \
        suites=5 groups=[GREASE, X25519MLKEM768, x25519, secp256r1, 0x1234] \
        key_share=[GREASE, X25519MLKEM768, x25519] alpn=[h2, http/1.1]";
    check_tls(&to_server(&record), &format!("{line}{UP}"));
    // The first 1400 bytes: everything up to the key shares.
    let first = &record[..1400];
    check_tls(
        &to_server(first),
        &format!(
            "TLS 1.0 Client Hello (partial) SNI=www.example.com versions=[GREASE, TLS 1.3, TLS 1.2] \
             suites=5 groups=[GREASE, X25519MLKEM768, x25519, secp256r1, 0x1234] \
             alpn=[h2, http/1.1]{UP}"
        ),
    );
    // Control characters in peer-chosen text stay on one line.
    let odd = ClientHello {
        server_name: Some("a\nb".into()),
        alpn: vec!["x\ry".into()],
        ..h
    };
    let record = tls::emit_record(
        ContentType::Handshake,
        0x0303,
        &handshake(1, &client_hello_body(&odd, 32)),
    )
    .unwrap();
    let text = tls::summary(&record).unwrap();
    assert!(text.contains("SNI=a\\u{a}b"), "{text}");
    assert!(text.contains("alpn=[x\\u{d}y]"), "{text}");
}

// ------------------------------------------------------------ properties

fn client_hello() -> impl Strategy<Value = ClientHello> {
    (
        any::<u16>(),
        0u8..=32,
        prop::collection::vec(any::<u16>(), 1..40),
        prop::option::of("[a-z0-9.-]{1,40}"),
        prop::collection::vec(any::<u16>(), 0..6),
        prop::collection::vec(any::<u16>(), 0..12),
        prop::collection::vec(any::<u16>(), 0..3),
        prop::collection::vec("[a-z0-9/.]{1,12}", 0..4),
    )
        .prop_map(
            |(legacy_version, session_id_len, cipher_suites, server_name, v, g, k, alpn)| {
                ClientHello {
                    legacy_version,
                    session_id_len,
                    cipher_suites,
                    server_name,
                    supported_versions: v,
                    supported_groups: g,
                    key_share_groups: k,
                    alpn,
                    complete: true,
                }
            },
        )
}

fn server_hello() -> impl Strategy<Value = (ServerHello, Option<u16>)> {
    (
        any::<u16>(),
        0u8..=32,
        any::<u16>(),
        prop::option::of(any::<u16>()),
        prop::option::of(any::<u16>()),
        prop::option::of("[a-z0-9/.]{1,12}"),
        any::<bool>(),
    )
        .prop_map(
            |(legacy_version, sid, suite, version_ext, group, alpn, hrr)| {
                let h = ServerHello {
                    legacy_version,
                    session_id_len: sid,
                    cipher_suite: suite,
                    selected_version: version_ext.unwrap_or(legacy_version),
                    key_share_group: group,
                    alpn,
                    hello_retry_request: hrr,
                    complete: true,
                };
                (h, version_ext)
            },
        )
}

/// Bytes that start like TLS (a valid header or a captured segment) and go
/// on at random.
fn tls_like() -> impl Strategy<Value = Vec<u8>> {
    let seeds: Vec<Vec<u8>> = [
        CLIENT_HELLO_13,
        SERVER_HELLO_13,
        SERVER_HELLO_12,
        CLIENT_FINISHED_12,
        HELLO_RETRY_REQUEST,
        CCS_CLIENT_HELLO_AFTER_HRR,
    ]
    .iter()
    .map(|s| hex(s))
    .collect();
    prop_oneof![
        (
            20u8..=24,
            0u8..=4,
            any::<u16>(),
            prop::collection::vec(any::<u8>(), 0..300)
        )
            .prop_map(|(t, minor, len, rest)| {
                let mut b = vec![t, 3, minor];
                b.extend((len % 400).to_be_bytes());
                b.extend(rest);
                b
            }),
        (
            prop::sample::select(seeds),
            any::<prop::sample::Index>(),
            prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        )
            .prop_map(|(mut b, cut, edits)| {
                for (i, v) in edits {
                    let at = i.index(b.len());
                    b[at] = v;
                }
                b.truncate(cut.index(b.len() + 1));
                b
            }),
    ]
}

/// Everything the dissector offers, on `data`; checks the summary is one
/// line.
fn dissect_everything(data: &[u8]) {
    for rec in tls::parse_records(data) {
        let Ok(rec) = rec else { break };
        for m in tls::parse_handshakes(rec.fragment) {
            let Ok(m) = m else { break };
            let len = usize::try_from(m.length).unwrap();
            let _ = ClientHello::parse_partial(m.body, len);
            let _ = ServerHello::parse_partial(m.body, len);
        }
        let _ = ClientHello::parse(rec.fragment);
        let _ = ServerHello::parse(rec.fragment);
    }
    if let Ok(s) = tls::summary(data) {
        assert!(tls::looks_like_tls(data));
        assert!(!s.is_empty() && !s.contains(['\n', '\r']), "{s:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600), n in 0usize..1000) {
        dissect_everything(&bytes);
        let _ = ClientHello::parse_partial(&bytes, n);
        let _ = ServerHello::parse_partial(&bytes, n);
    }

    #[test]
    fn tls_like_bytes_never_panic(bytes in tls_like()) {
        dissect_everything(&bytes);
    }

    #[test]
    fn describe_never_panics_on_port_443(bytes in tls_like(), up in any::<bool>(), alt in any::<bool>()) {
        let port = if alt { tls::HTTPS_ALT_PORT } else { tls::HTTPS_PORT };
        let f = if up {
            frame(CLIENT, 49152, SERVER, port, &bytes)
        } else {
            frame(SERVER, port, CLIENT, 49152, &bytes)
        };
        let s = describe(&f);
        prop_assert!(!s.text.is_empty() && !s.text.contains(['\n', '\r']), "{s:?}");
        match s.proto {
            "tls" => prop_assert_eq!(s.layer, "L7"),
            "tcp" => prop_assert_eq!(s.layer, "L4"),
            other => prop_assert!(false, "{other}: {s:?}"),
        }
        prop_assert_eq!(s.proto == "tls", tls::summary(&bytes).is_ok());
    }

    #[test]
    fn records_round_trip(
        records in prop::collection::vec(
            (any::<u8>(), any::<u16>(), prop::collection::vec(any::<u8>(), 0..300)),
            1..5,
        ),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = Vec::new();
        for (t, v, fragment) in &records {
            bytes.extend(tls::emit_record(ContentType::from(*t), *v, fragment).unwrap());
        }
        let parsed: Vec<_> = tls::parse_records(&bytes).collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(parsed.len(), records.len());
        for (r, (t, v, fragment)) in parsed.iter().zip(&records) {
            let header = RecordHeader {
                content_type: ContentType::from(*t),
                version: *v,
                length: u16::try_from(fragment.len()).unwrap(),
            };
            prop_assert_eq!(r.header, header);
            prop_assert_eq!(u8::from(r.header.content_type), *t);
            prop_assert_eq!(r.fragment, &fragment[..]);
            prop_assert!(r.complete);
            prop_assert_eq!(RecordHeader::parse(&header.to_bytes()), Ok(header));
        }
        // A prefix: the same records, the last one possibly incomplete.
        let n = cut.index(bytes.len() + 1);
        let mut total = 0;
        for r in tls::parse_records(&bytes[..n]) {
            match r {
                Ok(r) => {
                    total += tls::RECORD_HEADER_LEN + r.fragment.len();
                    prop_assert_eq!(r.complete, total <= n && r.fragment.len() == usize::from(r.header.length));
                }
                Err(e) => {
                    prop_assert_eq!(e, TlsError::Truncated { what: "TLS record header" });
                    prop_assert!(n - total < tls::RECORD_HEADER_LEN);
                    total = n;
                }
            }
        }
        prop_assert_eq!(total, n);
    }

    #[test]
    fn client_hellos_round_trip(h in client_hello(), key_len in 1usize..100, cut in any::<prop::sample::Index>()) {
        let body = client_hello_body(&h, key_len);
        prop_assert_eq!(ClientHello::parse(&body), Ok(h.clone()));
        let record = tls::emit_record(ContentType::Handshake, 0x0301, &handshake(1, &body)).unwrap();
        let text = tls::summary(&record).unwrap();
        prop_assert!(text.starts_with("TLS 1.0 Client Hello"), "{}", text);
        // A prefix reads as a part of the same hello, never as malformed.
        let n = cut.index(body.len());
        match ClientHello::parse_partial(&body[..n], body.len()) {
            Ok(p) => {
                prop_assert!(!p.complete);
                prop_assert_eq!((p.legacy_version, p.session_id_len), (h.legacy_version, h.session_id_len));
                prop_assert_eq!(&p.cipher_suites, &h.cipher_suites);
                prop_assert!(p.server_name.is_none() || p.server_name == h.server_name);
                for (got, want) in [
                    (&p.supported_versions, &h.supported_versions),
                    (&p.supported_groups, &h.supported_groups),
                    (&p.key_share_groups, &h.key_share_groups),
                ] {
                    prop_assert!(got.is_empty() || got == want);
                }
                prop_assert!(p.alpn.is_empty() || p.alpn == h.alpn);
            }
            Err(e) => prop_assert_eq!(e, TlsError::Truncated { what: "ClientHello" }),
        }
    }

    #[test]
    fn server_hellos_round_trip((h, version_ext) in server_hello(), cut in any::<prop::sample::Index>()) {
        let body = server_hello_body(&h, version_ext);
        prop_assert_eq!(ServerHello::parse(&body), Ok(h.clone()));
        let record = tls::emit_record(ContentType::Handshake, 0x0303, &handshake(2, &body)).unwrap();
        let text = tls::summary(&record).unwrap();
        let name = if h.hello_retry_request { "Hello Retry Request" } else { "Server Hello" };
        prop_assert!(text.starts_with(&format!("TLS 1.2 {name} ")), "{}", text);
        let n = cut.index(body.len());
        match ServerHello::parse_partial(&body[..n], body.len()) {
            Ok(p) => {
                prop_assert!(!p.complete);
                prop_assert_eq!(p.cipher_suite, h.cipher_suite);
                prop_assert_eq!(p.hello_retry_request, h.hello_retry_request);
            }
            Err(e) => prop_assert_eq!(e, TlsError::Truncated { what: "ServerHello" }),
        }
    }
}
