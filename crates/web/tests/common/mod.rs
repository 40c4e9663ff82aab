//! Shared test support: a document root with known files, a server over
//! in-memory duplex pipes, and a connector that opens such pipes.

#![allow(dead_code)]

use std::io;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use vnet_web::browser::Connector;
use vnet_web::server::{Server, ServerConfig};
use vnet_wire::http::{
    BodyFraming, ChunkedDecoder, Method, Parse, ResponseHead, parse_response_head, response_framing,
};

/// A tiny valid PNG (1×1, red).
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x08, 0xd7, 0x63, 0xf8, 0xcf, 0xc0, 0x00,
    0x00, 0x03, 0x01, 0x01, 0x00, 0x18, 0xdd, 0x8d, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

pub const INDEX: &str = r#"<!DOCTYPE html>
<html><head><title>test</title>
<link rel="stylesheet" href="style.css">
<script src="/js/app.js"></script>
</head><body>
<img src="img/a.png" alt="a"><img src='img/b.jpg'>
<img src="img/a.png#again">
</body></html>
"#;

pub const SECRET: &str = "TOP SECRET: outside the document root";

/// A document root in a temporary directory, with a secret file next to
/// it (outside) and a symlink pointing at the secret from inside.
pub struct Site {
    pub dir: tempfile::TempDir,
    pub root: PathBuf,
}

pub fn site() -> Site {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("www");
    let w = |rel: &str, data: &[u8]| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, data).expect("write");
    };
    w("index.html", INDEX.as_bytes());
    w("style.css", b"body { color: #333; }\n");
    w("js/app.js", b"console.log('hi');\n");
    w("img/a.png", PNG);
    w("img/b.jpg", b"\xff\xd8\xff\xe0 not really a jpeg \xff\xd9");
    w("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>");
    w("data.json", b"{}");
    w("notes.txt", b"notes\n");
    w("blob.bin", &[0u8, 1, 2, 3]);
    w("dir/index.html", b"<p>dir index</p>");
    w("dir/page.txt", b"in dir");
    w("space name.txt", b"spaced");
    std::fs::create_dir_all(root.join("empty")).expect("mkdir");
    std::fs::write(dir.path().join("secret.txt"), SECRET).expect("secret");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), root.join("leak.txt"))
            .expect("symlink");
        std::os::unix::fs::symlink(dir.path(), root.join("up")).expect("symlink");
        std::os::unix::fs::symlink(root.join("notes.txt"), root.join("alias.txt"))
            .expect("symlink");
    }
    Site { dir, root }
}

pub fn config(root: &Path) -> ServerConfig {
    ServerConfig::new(root).expect("root")
}

/// Runs `server` on one end of a pipe and returns the other end.
pub fn connect(server: &Server) -> DuplexStream {
    let (client, end) = tokio::io::duplex(256 * 1024);
    let server = server.clone();
    tokio::spawn(async move {
        server
            .serve_connection(end, Some("10.0.1.100:40000".parse().expect("peer")))
            .await
    });
    client
}

/// Sends `request` on a fresh connection, half-closes, reads everything.
pub async fn exchange(server: &Server, request: &[u8]) -> Vec<u8> {
    let mut c = connect(server);
    c.write_all(request).await.expect("write");
    c.shutdown().await.expect("shutdown");
    let mut out = Vec::new();
    c.read_to_end(&mut out).await.expect("read");
    out
}

/// Splits a byte stream into responses (to requests with these methods).
pub fn responses(mut bytes: &[u8], methods: &[Method]) -> Vec<(ResponseHead, Vec<u8>)> {
    let mut out = Vec::new();
    let mut methods = methods.iter();
    while !bytes.is_empty() {
        let Ok(Parse::Complete { head, len }) = parse_response_head(bytes) else {
            panic!("not a response: {:?}", String::from_utf8_lossy(bytes));
        };
        bytes = &bytes[len..];
        if head.status == 100 {
            out.push((head, Vec::new()));
            continue;
        }
        let method = methods.next().cloned().unwrap_or(Method::Get);
        let body = match response_framing(&head, &method).expect("framing") {
            BodyFraming::None => Vec::new(),
            BodyFraming::ContentLength(n) => {
                let (b, rest) = bytes.split_at(n as usize);
                bytes = rest;
                b.to_vec()
            }
            BodyFraming::Chunked => {
                let mut d = ChunkedDecoder::new(u64::MAX);
                let mut b = Vec::new();
                let p = d.decode(bytes, &mut b).expect("chunked");
                bytes = &bytes[p.consumed..];
                b
            }
            BodyFraming::Close => std::mem::take(&mut bytes).to_vec(),
        };
        out.push((head, body));
    }
    out
}

/// The one response in `bytes`.
pub fn response(bytes: &[u8], method: Method) -> (ResponseHead, Vec<u8>) {
    let mut r = responses(bytes, &[method]);
    assert_eq!(r.len(), 1, "{:?}", String::from_utf8_lossy(bytes));
    r.remove(0)
}

/// Opens pipes to a server; counts connects; optionally refuses.
pub struct PipeConnector {
    pub server: Server,
    pub connects: AtomicUsize,
    pub addr: Ipv4Addr,
    pub port: u16,
}

impl PipeConnector {
    pub fn new(server: Server, addr: Ipv4Addr) -> PipeConnector {
        PipeConnector {
            server,
            connects: AtomicUsize::new(0),
            addr,
            port: 80,
        }
    }
}

impl Connector for PipeConnector {
    type Stream = DuplexStream;
    async fn connect(&self, addr: Ipv4Addr, port: u16) -> io::Result<DuplexStream> {
        if (addr, port) != (self.addr, self.port) {
            return Err(io::Error::new(io::ErrorKind::ConnectionRefused, "refused"));
        }
        self.connects.fetch_add(1, Ordering::SeqCst);
        Ok(connect(&self.server))
    }
}

/// A scripted server: for each connection, answers each request with the
/// next canned response (then closes if `close_after_each`), and records
/// the raw requests.
pub struct ScriptConnector {
    pub responses: Mutex<Vec<Vec<u8>>>,
    pub requests: std::sync::Arc<Mutex<Vec<Vec<u8>>>>,
    pub connects: AtomicUsize,
    pub close_after_each: bool,
}

impl ScriptConnector {
    pub fn new(responses: Vec<Vec<u8>>, close_after_each: bool) -> ScriptConnector {
        ScriptConnector {
            responses: Mutex::new(responses.into_iter().rev().collect()),
            requests: Default::default(),
            connects: AtomicUsize::new(0),
            close_after_each,
        }
    }
}

impl Connector for ScriptConnector {
    type Stream = DuplexStream;
    async fn connect(&self, _addr: Ipv4Addr, _port: u16) -> io::Result<DuplexStream> {
        self.connects.fetch_add(1, Ordering::SeqCst);
        let (client, mut end) = tokio::io::duplex(64 * 1024);
        let mut canned = Vec::new();
        {
            let mut all = self.responses.lock().expect("lock");
            // Hand this connection everything left; it answers in order.
            while let Some(r) = all.pop() {
                canned.push(r);
                if self.close_after_each {
                    break;
                }
            }
        }
        let requests = std::sync::Arc::clone(&self.requests);
        tokio::spawn(async move {
            let mut buf = Vec::new();
            for r in canned {
                // Read one request head.
                loop {
                    if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let req: Vec<u8> = buf.drain(..p + 4).collect();
                        requests.lock().expect("lock").push(req);
                        break;
                    }
                    let mut chunk = [0u8; 4096];
                    match end.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                if end.write_all(&r).await.is_err() {
                    return;
                }
            }
            let _ = end.shutdown().await;
        });
        Ok(client)
    }
}

pub const SECOND: Duration = Duration::from_secs(1);
