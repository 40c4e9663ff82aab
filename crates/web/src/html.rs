//! A small, tolerant HTML tag scanner: finds what a browser must fetch
//! after the page itself — `<img src>`, `<link rel=stylesheet href>`,
//! `<script src>` — and `<base href>`.
//!
//! It is not an HTML parser: it walks tags, skipping comments, `<!…>`
//! declarations, end tags and the raw text of `<script>` and `<style>`
//! elements (where a `<img` is just text), reads attributes with double,
//! single or no quotes, and decodes the character references that appear
//! in URLs (`&amp;`, numeric ones). Malformed markup never fails: the scan
//! just moves on. Input beyond [`MAX_SCAN`] bytes and links beyond
//! [`MAX_LINKS`] are ignored.

/// Bytes of a page scanned at most.
pub const MAX_SCAN: usize = 4 << 20;
/// Links collected at most.
pub const MAX_LINKS: usize = 256;

/// What a link refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkKind {
    /// `<img src>`.
    Image,
    /// `<link rel="stylesheet" href>`.
    Stylesheet,
    /// `<script src>`.
    Script,
}

impl LinkKind {
    /// `image`, `stylesheet` or `script`.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Image => "image",
            LinkKind::Stylesheet => "stylesheet",
            LinkKind::Script => "script",
        }
    }
}

/// One reference found in a page, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The kind of element.
    pub kind: LinkKind,
    /// The attribute value (a URL reference, not yet resolved).
    pub reference: String,
}

/// What a page references.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    /// Subresources, in document order (duplicates kept).
    pub links: Vec<Link>,
    /// The first `<base href>`, if any (HTML: relative URLs resolve
    /// against it).
    pub base: Option<String>,
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| p + from)
}

/// Scans `html` for subresources.
pub fn scan(html: &[u8]) -> Scan {
    let html = &html[..html.len().min(MAX_SCAN)];
    let mut out = Scan::default();
    let mut i = 0;
    while out.links.len() < MAX_LINKS {
        let Some(lt) = html
            .get(i..)
            .and_then(|s| s.iter().position(|&b| b == b'<'))
        else {
            break;
        };
        i += lt;
        let rest = &html[i..];
        if rest.starts_with(b"<!--") {
            i = find(html, i + 4, b"-->").map_or(html.len(), |e| e + 3);
            continue;
        }
        if rest.starts_with(b"<!") || rest.starts_with(b"<?") || rest.starts_with(b"</") {
            i = find(html, i + 2, b">").map_or(html.len(), |e| e + 1);
            continue;
        }
        let name_len = rest[1..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if name_len == 0 {
            i += 1;
            continue;
        }
        let name = String::from_utf8_lossy(&rest[1..1 + name_len]).to_ascii_lowercase();
        let (attrs, end) = attributes(html, i + 1 + name_len);
        i = end;
        let get = |n: &str| attrs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let mut push = |kind, value: Option<String>| {
            if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
                out.links.push(Link {
                    kind,
                    reference: v.trim().to_owned(),
                });
            }
        };
        match name.as_str() {
            "img" => push(LinkKind::Image, get("src")),
            "script" => {
                push(LinkKind::Script, get("src"));
                i = find(html, i, b"</script").unwrap_or(html.len());
            }
            "link" => {
                let stylesheet = get("rel").is_some_and(|rel| {
                    rel.split_ascii_whitespace()
                        .any(|t| t.eq_ignore_ascii_case("stylesheet"))
                });
                if stylesheet {
                    push(LinkKind::Stylesheet, get("href"));
                }
            }
            "style" => i = find(html, i, b"</style").unwrap_or(html.len()),
            "base" if out.base.is_none() => out.base = get("href"),
            _ => {}
        }
    }
    out
}

/// Reads attributes from `at` to the end of the tag; returns them (names
/// lowercased, values decoded) and the index after `>`.
fn attributes(html: &[u8], mut at: usize) -> (Vec<(String, String)>, usize) {
    let mut attrs = Vec::new();
    let len = html.len();
    loop {
        while at < len && (html[at].is_ascii_whitespace() || html[at] == b'/') {
            at += 1;
        }
        if at >= len {
            return (attrs, len);
        }
        if html[at] == b'>' {
            return (attrs, at + 1);
        }
        let start = at;
        while at < len && !html[at].is_ascii_whitespace() && !b"=>/".contains(&html[at]) {
            at += 1;
        }
        // A stray `=` or `/` with no name before it: skip one byte.
        if at == start {
            at += 1;
            continue;
        }
        let name = String::from_utf8_lossy(&html[start..at]).to_ascii_lowercase();
        while at < len && html[at].is_ascii_whitespace() {
            at += 1;
        }
        let mut value = String::new();
        if at < len && html[at] == b'=' {
            at += 1;
            while at < len && html[at].is_ascii_whitespace() {
                at += 1;
            }
            let raw = match html.get(at) {
                Some(&q @ (b'"' | b'\'')) => {
                    let end = html[at + 1..]
                        .iter()
                        .position(|&b| b == q)
                        .map_or(len, |p| at + 1 + p);
                    let v = &html[at + 1..end];
                    at = (end + 1).min(len);
                    v
                }
                _ => {
                    let s = at;
                    while at < len && !html[at].is_ascii_whitespace() && html[at] != b'>' {
                        at += 1;
                    }
                    &html[s..at]
                }
            };
            value = decode_entities(&String::from_utf8_lossy(raw));
        }
        if attrs.len() < 64 {
            attrs.push((name, value));
        }
    }
}

/// Decodes `&amp; &lt; &gt; &quot; &apos;` and numeric character
/// references; anything else is kept as written.
fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let end = rest.find(';').filter(|&e| e <= 10);
        let decoded = end.and_then(|e| {
            let ent = &rest[1..e];
            let c = match ent {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let num = ent.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => num.parse().ok(),
                    };
                    code.and_then(char::from_u32)
                }
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(html: &str) -> Vec<(LinkKind, String)> {
        scan(html.as_bytes())
            .links
            .into_iter()
            .map(|l| (l.kind, l.reference))
            .collect()
    }

    #[test]
    fn finds_images_stylesheets_and_scripts() {
        let html = r#"<!DOCTYPE html><html><head>
<LINK REL="Stylesheet" HREF="/style.css"><link rel=icon href=/favicon.ico>
<link rel='alternate stylesheet' href='alt.css'>
<script src="app.js?v=1&amp;x=2"></script>
<script>var s = "<img src=not-me.png>";</script>
<style>body { background: url(<img src=nor-me.png>) }</style>
</head><body>
<!-- <img src="commented.png"> -->
<img src=a.png alt="a > b"><IMG alt='x' SRC = 'img/b.jpg' /><img src="">
<img data-src="lazy.png"><p>1 < 2</p><img src="&#x2F;c.svg">
</body></html>"#;
        assert_eq!(
            refs(html),
            vec![
                (LinkKind::Stylesheet, "/style.css".into()),
                (LinkKind::Stylesheet, "alt.css".into()),
                (LinkKind::Script, "app.js?v=1&x=2".into()),
                (LinkKind::Image, "a.png".into()),
                (LinkKind::Image, "img/b.jpg".into()),
                (LinkKind::Image, "/c.svg".into()),
            ]
        );
    }

    #[test]
    fn base_and_broken_markup() {
        let s = scan(b"<base href='/sub/'><base href=/other/><img src=x.png");
        assert_eq!(s.base.as_deref(), Some("/sub/"));
        assert_eq!(s.links.len(), 1);
        assert_eq!(
            refs("<img src=\"unterminated"),
            vec![(LinkKind::Image, "unterminated".into())]
        );
        assert!(refs("<<<>>><!--").is_empty());
        assert!(refs("<img =x src>").is_empty());
        assert_eq!(
            decode_entities("a&b&amp;c&#65;&#xZZ;&unknown;"),
            "a&b&cA&#xZZ;&unknown;"
        );
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            let s = scan(&bytes);
            prop_assert!(s.links.len() <= MAX_LINKS);
        }

        #[test]
        fn tag_soup_never_panics(parts in prop::collection::vec(prop::sample::select(vec![
            "<img", " src=", "\"", "'", ">", "<!--", "-->", "<script>", "</script>", "<link rel=stylesheet href=",
            "a.png", "&amp;", "&#x", ";", "=", " ", "<", "/", "<style>", "<base href=",
        ]), 0..40)) {
            let html: String = parts.concat();
            let _ = scan(html.as_bytes());
        }
    }
}
