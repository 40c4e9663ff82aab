//! Proptest strategies for HTTP/1.1 heads, shared by the property and
//! oracle tests.

#![allow(dead_code)]

use proptest::prelude::*;
use vnet_wire::http::{Method, RequestHead, ResponseHead, Version};

/// A `token` (RFC 9110 §5.6.2).
pub fn token() -> impl Strategy<Value = String> {
    "[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}"
}

/// A method: the registered ones and other tokens.
pub fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::Get),
        Just(Method::Head),
        Just(Method::Post),
        Just(Method::Put),
        Just(Method::Delete),
        Just(Method::Options),
        token().prop_map(|t| Method::from_token(&t)),
    ]
}

/// An origin-form target: `/` segments of pchar, maybe a query.
pub fn target() -> impl Strategy<Value = String> {
    (
        prop::collection::vec("[A-Za-z0-9._~!$&'()*+,;=:@%-]{0,10}", 0..5),
        prop::option::of("[A-Za-z0-9._~!$&'()*+,;=:@/?%-]{0,16}"),
    )
        .prop_map(|(segs, q)| {
            let mut t = format!("/{}", segs.join("/"));
            if let Some(q) = q {
                t.push('?');
                t.push_str(&q);
            }
            t
        })
}

/// A field value: visible ASCII with inner spaces and tabs, no
/// surrounding whitespace.
pub fn value() -> impl Strategy<Value = String> {
    "([!-~]([ \t!-~]{0,30}[!-~])?)?"
}

/// A header section of up to 12 fields.
pub fn fields() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((token(), value()), 0..12)
}

/// A version.
pub fn version() -> impl Strategy<Value = Version> {
    prop_oneof![Just(Version::Http10), Just(Version::Http11)]
}

/// A request head.
pub fn request() -> impl Strategy<Value = RequestHead> {
    (method(), target(), version(), fields()).prop_map(|(m, t, v, f)| {
        let mut head = RequestHead::new(m, t, v);
        for (n, val) in f {
            head.headers.append(&n, val).expect("valid field");
        }
        head
    })
}

/// A response head with a status from 100 to 599.
pub fn response() -> impl Strategy<Value = ResponseHead> {
    (100u16..600, version(), "[ !-~]{0,20}", fields()).prop_map(|(s, v, reason, f)| {
        let mut head = ResponseHead::new(s);
        head.version = v;
        head.reason = reason;
        for (n, val) in f {
            head.headers.append(&n, val).expect("valid field");
        }
        head
    })
}
