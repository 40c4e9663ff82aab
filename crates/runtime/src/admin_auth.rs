//! Who may use a device's admin API: the lab's owner. `vnet up` writes a
//! random token to `<run-dir>/admin.token` (mode 0600, in a 0700 run
//! directory) and names the file in every device's config; every request
//! but `GET /health` must then carry `Authorization: Bearer TOKEN`. A web
//! page in the owner's browser cannot add that header to a cross-origin
//! request without a CORS preflight, which the API never grants, so no
//! page can cut links or run applications either.

use crate::api::ApiError;
use axum::Json;
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::path::Path;
use std::sync::Arc;

/// Shortest token accepted from a file (bytes of text).
const MIN_TOKEN_LEN: usize = 16;

/// Reads the token file named in a device config.
pub fn read_token(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("admin_token_file {}: {e}", path.display()))?;
    let token = text.trim().to_string();
    if token.len() < MIN_TOKEN_LEN || !token.bytes().all(|b| b.is_ascii_graphic()) {
        anyhow::bail!(
            "admin_token_file {}: expected one line of at least {MIN_TOKEN_LEN} printable characters",
            path.display()
        );
    }
    Ok(token)
}

/// Equal without an early exit, so the time taken says nothing about how
/// much of a guess was right.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `request` may pass.
pub fn allowed(token: &str, method: &Method, path: &str, authorization: Option<&[u8]>) -> bool {
    if method == Method::GET && path == "/health" {
        return true; // container health checks and `vnet up`'s readiness poll
    }
    let expected = format!("Bearer {token}");
    authorization.is_some_and(|given| same(given, expected.as_bytes()))
}

/// The middleware: 401 with a JSON error for requests without the token.
pub async fn require_token(token: Arc<String>, request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes());
    if allowed(&token, request.method(), request.uri().path(), given) {
        return next.run(request).await;
    }
    let error = ApiError {
        error: "missing or wrong admin token: only the lab's owner may use this API \
                (the token is in <run-dir>/admin.token; the vnet CLI sends it)"
            .into(),
    };
    (StatusCode::UNAUTHORIZED, Json(error)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_requests_with_the_token_pass() {
        let t = "0123456789abcdef0123456789abcdef";
        let bearer = format!("Bearer {t}");
        assert!(allowed(t, &Method::GET, "/health", None));
        assert!(!allowed(t, &Method::GET, "/status", None));
        assert!(!allowed(t, &Method::POST, "/health", None));
        assert!(allowed(t, &Method::GET, "/status", Some(bearer.as_bytes())));
        assert!(allowed(
            t,
            &Method::POST,
            "/links/eth1/down",
            Some(bearer.as_bytes())
        ));
        assert!(!allowed(
            t,
            &Method::POST,
            "/links/eth1/down",
            Some(b"Bearer 0123456789abcdef0123456789abcdeX")
        ));
        assert!(!allowed(t, &Method::POST, "/exec", Some(t.as_bytes())));
    }

    #[test]
    fn token_files_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good");
        std::fs::write(&good, "0123456789abcdef0123\n").unwrap();
        assert_eq!(read_token(&good).unwrap(), "0123456789abcdef0123");
        let short = dir.path().join("short");
        std::fs::write(&short, "abc").unwrap();
        assert!(read_token(&short).is_err());
        assert!(read_token(&dir.path().join("missing")).is_err());
    }
}
