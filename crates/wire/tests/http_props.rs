//! HTTP property tests: no input makes a parser or decoder panic; heads,
//! chunked bodies and URLs survive emit → parse; a head split anywhere is
//! "incomplete" until its last byte.

use proptest::prelude::*;
use vnet_wire::http::{
    ChunkedDecoder, Parse, Url, encode_chunk, encode_last_chunk, parse_request_head,
    parse_response_head, percent_decode, percent_encode_path, remove_dot_segments,
};

#[path = "support/http_strategies.rs"]
mod strategies;

/// Bytes that look like a request: a valid one with some bytes replaced.
fn request_like() -> impl Strategy<Value = Vec<u8>> {
    (
        strategies::request(),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    )
        .prop_map(|(head, edits)| {
            let mut b = head.to_bytes();
            for (i, v) in edits {
                let at = i.index(b.len());
                b[at] = v;
            }
            b
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse_request_head(&bytes);
        let _ = parse_response_head(&bytes);
        let _ = ChunkedDecoder::new(1 << 16).decode(&bytes, &mut Vec::new());
        let text = String::from_utf8_lossy(&bytes);
        let _ = Url::parse(&text);
        if let Ok(base) = Url::parse("http://a/b/c/d;p?q") {
            let _ = base.join(&text);
        }
        let _ = percent_decode(&text);
        let _ = remove_dot_segments(&text);
    }

    #[test]
    fn mutated_requests_never_panic(bytes in request_like()) {
        if let Ok(Parse::Complete { len, .. }) = parse_request_head(&bytes) {
            prop_assert!(len <= bytes.len());
        }
    }

    #[test]
    fn requests_round_trip(head in strategies::request()) {
        let bytes = head.to_bytes();
        let parsed = parse_request_head(&bytes);
        prop_assert_eq!(parsed, Ok(Parse::Complete { head: head.clone(), len: bytes.len() }));
        // Every proper prefix is incomplete: never an error, never a head.
        for cut in 0..bytes.len() {
            prop_assert_eq!(parse_request_head(&bytes[..cut]), Ok(Parse::Incomplete));
        }
    }

    #[test]
    fn responses_round_trip(head in strategies::response(), body in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut bytes = head.to_bytes();
        let head_len = bytes.len();
        bytes.extend_from_slice(&body);
        prop_assert_eq!(parse_response_head(&bytes), Ok(Parse::Complete { head, len: head_len }));
    }

    #[test]
    fn chunked_round_trips_whatever_the_split(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..6),
        split in 1usize..50,
    ) {
        let mut enc = Vec::new();
        for c in &chunks {
            encode_chunk(c, &mut enc);
        }
        encode_last_chunk(&mut enc);
        enc.extend_from_slice(b"NEXT");
        let mut dec = ChunkedDecoder::new(1 << 20);
        let mut out = Vec::new();
        let mut used = 0;
        while !dec.is_done() && used < enc.len() {
            let end = (used + split).min(enc.len());
            used += dec.decode(&enc[used..end], &mut out).expect("valid").consumed;
        }
        prop_assert!(dec.is_done());
        prop_assert_eq!(&enc[used..], b"NEXT");
        prop_assert_eq!(out, chunks.concat());
    }

    #[test]
    fn dot_segments_are_gone(path in "(/|[a-z]{1,3}|\\.|\\.\\.){0,12}") {
        let once = remove_dot_segments(&path);
        prop_assert!(!once.split('/').any(|s| s == ".." || s == "."), "{once}");
        prop_assert_eq!(remove_dot_segments(&once), once.clone());
    }

    #[test]
    fn percent_encoding_round_trips(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let enc = percent_encode_path(&bytes);
        prop_assert!(enc.is_ascii());
        prop_assert_eq!(percent_decode(&enc).expect("valid"), bytes);
    }

    #[test]
    fn urls_round_trip_through_display(
        host in "[a-z][a-z0-9-]{0,10}(\\.[a-z]{2,5}){0,2}",
        port in prop::option::of(any::<u16>()),
        path in "(/[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,7}){0,4}/?",
        query in prop::option::of("[A-Za-z0-9=&]{0,10}"),
        user in prop::option::of(("[a-z]{1,6}", prop::option::of("[a-z0-9]{1,6}"))),
    ) {
        let mut s = "http://".to_string();
        if let Some((u, p)) = &user {
            s.push_str(u);
            if let Some(p) = p {
                s.push(':');
                s.push_str(p);
            }
            s.push('@');
        }
        s.push_str(&host);
        if let Some(p) = port {
            s.push_str(&format!(":{p}"));
        }
        s.push_str(&path);
        if let Some(q) = &query {
            s.push('?');
            s.push_str(q);
        }
        let url = Url::parse_http(&s).expect("valid URL");
        prop_assert_eq!(url.to_string(), s.clone());
        prop_assert_eq!(Url::parse(&url.to_string()), Ok(url.clone()));
        prop_assert!(url.request_target().starts_with('/'));
        prop_assert_eq!(url.port_or_default(), Some(port.unwrap_or(80)));
    }
}
