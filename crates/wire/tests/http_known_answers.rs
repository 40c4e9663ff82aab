//! HTTP and URL known answers: request bytes as real clients send them, a
//! real chunked response, and the reference resolution examples of
//! RFC 3986 §5.4.

use vnet_wire::http::{
    BodyFraming, ChunkedDecoder, Host, HttpError, Method, Parse, RequestHead, ResponseHead, Scheme,
    Url, UrlError, Version, keep_alive, parse_request_head, parse_response_head, request_framing,
    response_framing,
};

fn request(bytes: &[u8]) -> (RequestHead, usize) {
    match parse_request_head(bytes) {
        Ok(Parse::Complete { head, len }) => (head, len),
        other => panic!("{other:?}"),
    }
}

fn response(bytes: &[u8]) -> (ResponseHead, usize) {
    match parse_response_head(bytes) {
        Ok(Parse::Complete { head, len }) => (head, len),
        other => panic!("{other:?}"),
    }
}

/// `curl http://www.example.com/` (curl 8.5).
#[test]
fn curl_get() {
    let bytes =
        b"GET / HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n";
    let (head, len) = request(bytes);
    assert_eq!(len, bytes.len());
    assert_eq!(head.method, Method::Get);
    assert_eq!(head.target, "/");
    assert_eq!(head.version, Version::Http11);
    let names: Vec<&str> = head.headers.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["Host", "User-Agent", "Accept"]);
    assert_eq!(request_framing(&head), Ok(BodyFraming::None));
    assert!(keep_alive(head.version, &head.headers));
    // Emitting it again gives the very same bytes.
    assert_eq!(head.to_bytes(), bytes);
}

/// Firefox 128 loading a page.
#[test]
fn firefox_get() {
    let bytes = b"GET /dir/file.html?q=1 HTTP/1.1\r\n\
Host: www.cyber.co.kr\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate\r\n\
Connection: keep-alive\r\n\
Upgrade-Insecure-Requests: 1\r\n\
Priority: u=0, i\r\n\r\n";
    let (head, _) = request(bytes);
    assert_eq!(head.path_and_query(), ("/dir/file.html", Some("q=1")));
    assert_eq!(head.headers.len(), 8);
    assert_eq!(
        head.headers.get_str("accept-language"),
        Some("en-US,en;q=0.5")
    );
    assert!(head.headers.has_token("Accept-Encoding", "deflate"));
    assert!(keep_alive(head.version, &head.headers));
}

/// Chrome's client hints hold quotes and semicolons.
#[test]
fn chrome_get() {
    let bytes = b"GET /style.css HTTP/1.1\r\n\
Host: 10.0.3.10\r\n\
Connection: keep-alive\r\n\
sec-ch-ua: \"Chromium\";v=\"128\", \"Not;A=Brand\";v=\"24\"\r\n\
sec-ch-ua-mobile: ?0\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36\r\n\
Accept: text/css,*/*;q=0.1\r\n\
Referer: http://10.0.3.10/\r\n\r\n";
    let (head, _) = request(bytes);
    assert_eq!(
        head.headers.get_str("SEC-CH-UA"),
        Some("\"Chromium\";v=\"128\", \"Not;A=Brand\";v=\"24\"")
    );
}

/// `curl -H 'Transfer-Encoding: chunked' -d hello http://x/echo`, then the
/// body decoded.
#[test]
fn curl_chunked_post() {
    let bytes = b"POST /echo HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    let (head, len) = request(bytes);
    assert_eq!(head.method, Method::Post);
    assert_eq!(request_framing(&head), Ok(BodyFraming::Chunked));
    let mut dec = ChunkedDecoder::new(1024);
    let mut body = Vec::new();
    let p = dec.decode(&bytes[len..], &mut body).expect("valid");
    assert!(p.done);
    assert_eq!(p.consumed, bytes.len() - len);
    assert_eq!(body, b"hello");
}

/// HTTP/1.0 as `ab` (ApacheBench) sends it, with and without keep-alive.
#[test]
fn http10_persistence() {
    let (head, _) =
        request(b"GET / HTTP/1.0\r\nHost: x\r\nUser-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n");
    assert!(!keep_alive(head.version, &head.headers));
    let (head, _) = request(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\nHost: x\r\n\r\n");
    assert!(keep_alive(head.version, &head.headers));
}

/// The chunked response of MDN's Transfer-Encoding page, as a server sends it.
#[test]
fn chunked_response() {
    let bytes = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n7\r\nMozilla\r\n11\r\nDeveloper Network\r\n0\r\n\r\n";
    let (head, len) = response(bytes);
    assert_eq!((head.status, head.reason.as_str()), (200, "OK"));
    assert_eq!(
        response_framing(&head, &Method::Get),
        Ok(BodyFraming::Chunked)
    );
    let mut dec = ChunkedDecoder::new(1024);
    let mut body = Vec::new();
    assert!(dec.decode(&bytes[len..], &mut body).expect("valid").done);
    assert_eq!(body, b"MozillaDeveloper Network");
}

/// An nginx redirect for a directory without its trailing slash.
#[test]
fn nginx_redirect() {
    let bytes = b"HTTP/1.1 301 Moved Permanently\r\nServer: nginx/1.24.0\r\nDate: Sat, 21 Nov 2026 05:00:00 GMT\r\nContent-Type: text/html\r\nContent-Length: 169\r\nLocation: http://www.example.com/dir/\r\nConnection: keep-alive\r\n\r\n";
    let (head, _) = response(bytes);
    assert_eq!(head.status, 301);
    assert_eq!(
        response_framing(&head, &Method::Get),
        Ok(BodyFraming::ContentLength(169))
    );
    assert_eq!(
        response_framing(&head, &Method::Head),
        Ok(BodyFraming::None)
    );
    assert_eq!(
        head.headers.get_str("location"),
        Some("http://www.example.com/dir/")
    );
}

#[test]
fn errors_have_their_status_codes() {
    let long_target = format!("GET /{} HTTP/1.1\r\n\r\n", "x".repeat(8200));
    let cases: [(&[u8], u16); 4] = [
        (long_target.as_bytes(), 414),
        (b"GET / HTTP/3.0\r\n\r\n", 505),
        (b"GET / HTTP/1.1\r\nHost x\r\n\r\n", 400),
        (b"GET /\r\n", 400),
    ];
    for (bytes, status) in cases {
        let err = parse_request_head(bytes).expect_err("refused");
        assert_eq!(err.status(), status, "{err}");
    }
    assert_eq!(
        HttpError::UnsupportedVersion { major: 2, minor: 0 }.to_string(),
        "HTTP/2.0 is not supported"
    );
}

/// The URL forms of the seed notes (01장 1-1).
#[test]
fn seed_urls() {
    let u = Url::parse("http://user:password@www.cyber.co.kr:80/dir/file.html").expect("http");
    assert_eq!(u.scheme, Scheme::Http);
    assert_eq!(
        (u.user.as_deref(), u.password.as_deref()),
        (Some("user"), Some("password"))
    );
    assert_eq!(u.host, Some(Host::Name("www.cyber.co.kr".into())));
    assert_eq!((u.port, u.path.as_str()), (Some(80), "/dir/file.html"));
    assert_eq!(u.host_header(), "www.cyber.co.kr");
    assert_eq!(u.request_target(), "/dir/file.html");

    let ftp = Url::parse("ftp://user:password@ftp.cyber.co.kr:21/dir/file1.html").expect("ftp");
    assert_eq!(
        (ftp.scheme.clone(), ftp.port_or_default()),
        (Scheme::Ftp, Some(21))
    );
    let file = Url::parse("file://localhost/c:/path/file1/zip").expect("file");
    assert_eq!(
        (file.host.clone(), file.path.as_str()),
        (Some(Host::Name("localhost".into())), "/c:/path/file1/zip")
    );
    let mail = Url::parse("mailto:tone@cyber.co.kr").expect("mailto");
    assert_eq!(
        (mail.scheme.clone(), mail.host.clone(), mail.path.as_str()),
        (Scheme::Mailto, None, "tone@cyber.co.kr")
    );
    let news = Url::parse("news:comp.protocols.tcp-ip").expect("news");
    assert_eq!(news.path, "comp.protocols.tcp-ip");

    let https = Url::parse_http("https://www.google.com/").expect("https");
    assert!(https.is_https());
    assert_eq!(https.port_or_default(), Some(443));
    for (url, scheme) in [
        ("ftp://ftp.cyber.co.kr/", "ftp"),
        ("file:///etc/hosts", "file"),
        ("mailto:tone@cyber.co.kr", "mailto"),
        ("news:comp.protocols.tcp-ip", "news"),
    ] {
        match Url::parse_http(url) {
            Err(UrlError::Unsupported { scheme: s, .. }) => assert_eq!(s, scheme),
            other => panic!("{url}: {other:?}"),
        }
    }

    let u = Url::parse("HTTP://WWW.Example.COM:8080/a b/../c?x=1 2#frag").expect("normalised");
    assert_eq!(u.to_string(), "http://www.example.com:8080/c?x=1%202#frag");
    assert_eq!(u.host_header(), "www.example.com:8080");
    assert_eq!(u.request_target(), "/c?x=1%202");
    let ip = Url::parse_http("http://10.0.3.10").expect("ip");
    assert_eq!(
        (ip.host.clone(), ip.request_target()),
        (Some(Host::Ipv4([10, 0, 3, 10].into())), "/".to_string())
    );
    for bad in [
        "http://host:99999/",
        "http://host:8o/",
        "http://ho st/",
        "http://1.2.3.256/",
        "http://x/%zz",
        "http:///x",
        "/x",
        "",
    ] {
        assert!(Url::parse_http(bad).is_err(), "{bad}");
    }
}

/// RFC 3986 §5.4.1 and §5.4.2.
#[test]
fn rfc3986_reference_resolution() {
    let base = Url::parse("http://a/b/c/d;p?q").expect("base");
    let cases = [
        ("g:h", "g:h"),
        ("g", "http://a/b/c/g"),
        ("./g", "http://a/b/c/g"),
        ("g/", "http://a/b/c/g/"),
        ("/g", "http://a/g"),
        ("//g", "http://g"),
        ("?y", "http://a/b/c/d;p?y"),
        ("g?y", "http://a/b/c/g?y"),
        ("#s", "http://a/b/c/d;p?q#s"),
        ("g#s", "http://a/b/c/g#s"),
        ("g?y#s", "http://a/b/c/g?y#s"),
        (";x", "http://a/b/c/;x"),
        ("g;x", "http://a/b/c/g;x"),
        ("g;x?y#s", "http://a/b/c/g;x?y#s"),
        ("", "http://a/b/c/d;p?q"),
        (".", "http://a/b/c/"),
        ("./", "http://a/b/c/"),
        ("..", "http://a/b/"),
        ("../", "http://a/b/"),
        ("../g", "http://a/b/g"),
        ("../..", "http://a/"),
        ("../../", "http://a/"),
        ("../../g", "http://a/g"),
        // §5.4.2 abnormal examples.
        ("../../../g", "http://a/g"),
        ("../../../../g", "http://a/g"),
        ("/./g", "http://a/g"),
        ("/../g", "http://a/g"),
        ("g.", "http://a/b/c/g."),
        (".g", "http://a/b/c/.g"),
        ("g..", "http://a/b/c/g.."),
        ("..g", "http://a/b/c/..g"),
        ("./../g", "http://a/b/g"),
        ("./g/.", "http://a/b/c/g/"),
        ("g/./h", "http://a/b/c/g/h"),
        ("g/../h", "http://a/b/c/h"),
        ("g;x=1/./y", "http://a/b/c/g;x=1/y"),
        ("g;x=1/../y", "http://a/b/c/y"),
        ("g?y/./x", "http://a/b/c/g?y/./x"),
        ("g?y/../x", "http://a/b/c/g?y/../x"),
        ("g#s/./x", "http://a/b/c/g#s/./x"),
        ("g#s/../x", "http://a/b/c/g#s/../x"),
        ("http:g", "http:g"),
    ];
    for (reference, expected) in cases {
        let joined = base
            .join(reference)
            .unwrap_or_else(|e| panic!("{reference}: {e}"));
        assert_eq!(joined.to_string(), expected, "reference {reference:?}");
    }
}
