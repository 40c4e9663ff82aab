//! httparse (hyper's parser) as an oracle for the HTTP/1.1 head codec:
//! every head we emit parses identically with httparse, every head
//! httparse accepts from a wide grammar parses identically with ours, and
//! on mutated bytes the two never disagree about a head both accept.

use proptest::prelude::*;
use vnet_wire::http::{Parse, RequestHead, ResponseHead, Version, parse_request_head};

#[path = "support/http_strategies.rs"]
mod strategies;

/// A request as httparse sees it.
#[derive(Debug, PartialEq)]
struct View {
    method: String,
    target: String,
    minor: u8,
    headers: Vec<(String, Vec<u8>)>,
    len: usize,
}

fn theirs(bytes: &[u8]) -> Option<View> {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => Some(View {
            method: req.method?.to_owned(),
            target: req.path?.to_owned(),
            minor: req.version?,
            headers: req
                .headers
                .iter()
                .map(|h| (h.name.to_owned(), h.value.to_vec()))
                .collect(),
            len,
        }),
        _ => None,
    }
}

fn ours(bytes: &[u8]) -> Option<View> {
    match parse_request_head(bytes) {
        Ok(Parse::Complete { head, len }) => Some(view(&head, len)),
        _ => None,
    }
}

fn view(head: &RequestHead, len: usize) -> View {
    View {
        method: head.method.to_string(),
        target: head.target.clone(),
        minor: u8::from(head.version == Version::Http11),
        headers: head
            .headers
            .iter()
            .map(|h| (h.name.clone(), h.value.clone()))
            .collect(),
        len,
    }
}

#[derive(Debug, PartialEq)]
struct RespView {
    minor: u8,
    code: u16,
    reason: String,
    headers: Vec<(String, Vec<u8>)>,
    len: usize,
}

fn theirs_response(bytes: &[u8]) -> Option<RespView> {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => Some(RespView {
            minor: resp.version?,
            code: resp.code?,
            reason: resp.reason.unwrap_or("").to_owned(),
            headers: resp
                .headers
                .iter()
                .map(|h| (h.name.to_owned(), h.value.to_vec()))
                .collect(),
            len,
        }),
        _ => None,
    }
}

fn resp_view(head: &ResponseHead, len: usize) -> RespView {
    RespView {
        minor: u8::from(head.version == Version::Http11),
        code: head.status,
        reason: head.reason.clone(),
        headers: head
            .headers
            .iter()
            .map(|h| (h.name.clone(), h.value.clone()))
            .collect(),
        len,
    }
}

/// Requests from a wider grammar than we emit: leading empty lines, bare
/// LF line ends, odd spacing around values, obs-text, empty values.
fn wild_request() -> impl Strategy<Value = Vec<u8>> {
    (
        0usize..3,
        strategies::token(),
        "[!-~]{1,40}",
        prop_oneof![Just("HTTP/1.1"), Just("HTTP/1.0")],
        prop::collection::vec(
            (
                strategies::token(),
                "[ \t]{0,2}",
                prop::collection::vec(
                    prop_oneof![0x21u8..0x7f, 0x80u8..=0xff, Just(b' '), Just(b'\t')],
                    0..20,
                ),
            ),
            0..10,
        ),
        any::<bool>(),
    )
        .prop_map(|(blank, method, target, version, fields, bare_lf)| {
            let eol: &[u8] = if bare_lf { b"\n" } else { b"\r\n" };
            let mut b = Vec::new();
            for _ in 0..blank {
                b.extend_from_slice(b"\r\n");
            }
            b.extend_from_slice(format!("{method} {target} {version}").as_bytes());
            b.extend_from_slice(eol);
            for (name, ows, value) in fields {
                b.extend_from_slice(name.as_bytes());
                b.push(b':');
                b.extend_from_slice(ows.as_bytes());
                b.extend_from_slice(&value);
                b.extend_from_slice(eol);
            }
            b.extend_from_slice(eol);
            b
        })
}

/// httparse trims trailing whitespace of values in some versions only;
/// compare values without it.
fn normalise(mut v: View) -> View {
    for (_, value) in &mut v.headers {
        while matches!(value.last(), Some(b' ' | b'\t')) {
            value.pop();
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn emitted_requests_parse_identically(head in strategies::request()) {
        let bytes = head.to_bytes();
        let expected = view(&head, bytes.len());
        prop_assert_eq!(theirs(&bytes), Some(expected));
    }

    #[test]
    fn emitted_responses_parse_identically(head in strategies::response()) {
        let bytes = head.to_bytes();
        let mut expected = resp_view(&head, bytes.len());
        let got = theirs_response(&bytes).map(|mut r| {
            r.reason = r.reason.trim_end().to_owned();
            r
        });
        expected.reason = expected.reason.trim_end().to_owned();
        prop_assert_eq!(got, Some(expected));
    }

    #[test]
    fn requests_httparse_accepts_parse_with_ours(bytes in wild_request()) {
        if let Some(t) = theirs(&bytes) {
            let o = ours(&bytes);
            prop_assert!(o.is_some(), "httparse accepted, we refused: {:?} ({:?})",
                String::from_utf8_lossy(&bytes), parse_request_head(&bytes));
            prop_assert_eq!(o.map(normalise), Some(normalise(t)));
        }
    }

    #[test]
    fn never_disagree_on_mutated_requests(
        head in strategies::request(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut bytes = head.to_bytes();
        for (i, v) in edits {
            let at = i.index(bytes.len());
            bytes[at] = v;
        }
        if let (Some(t), Some(o)) = (theirs(&bytes), ours(&bytes)) {
            prop_assert_eq!(normalise(o), normalise(t));
        }
    }
}

/// The browser's request shape, checked here once by hand too.
#[test]
fn a_browser_request_matches() {
    let bytes = b"GET /img/a.png HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: vnet-browse/0.1\r\nAccept: image/*,*/*;q=0.8\r\nConnection: keep-alive\r\n\r\n";
    assert_eq!(ours(bytes), theirs(bytes));
    assert!(ours(bytes).is_some());
}
