//! `POST /echo`: the request body read (Content-Length or chunked, at most
//! [`ServerConfig::max_body`](super::ServerConfig::max_body)) and sent back.

use super::{BodyError, Conn};
use crate::response::{Body, Response, error_page};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;
use vnet_wire::http::{BodyFraming, ChunkedDecoder, HttpError, RequestHead, ResponseHead, Version};

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<'_, S> {
    /// Answers `POST /echo` with the request's body.
    pub(super) async fn echo(
        &mut self,
        head: &RequestHead,
        framing: BodyFraming,
        deadline: Instant,
    ) -> Response {
        let limit = self.config().max_body;
        let wants_continue =
            head.version == Version::Http11 && head.headers.has_token("expect", "100-continue");
        let body = match framing {
            BodyFraming::ContentLength(n) if n > limit => {
                Err(BodyError::Http(HttpError::BodyTooLarge { limit }))
            }
            BodyFraming::None => Ok(Vec::new()),
            _ => {
                if wants_continue && self.buf.is_empty() {
                    let interim = ResponseHead::new(100).to_bytes();
                    if self.write(&interim).await.is_err() {
                        return Response {
                            close: true,
                            ..Response::new(400)
                        };
                    }
                    self.server.counters.count_status(100);
                }
                self.read_body(framing, limit, deadline).await
            }
        };
        match body {
            Ok(body) => {
                let mut r = Response::new(200);
                let ctype = head
                    .headers
                    .get_str("content-type")
                    .unwrap_or("application/octet-stream");
                r.header("Content-Type", ctype);
                r.body = Body::Bytes(body);
                r
            }
            Err(e) => {
                let mut r = match e {
                    BodyError::Http(e) => error_page(e.status(), &e.to_string()),
                    BodyError::Timeout => {
                        error_page(408, "The request body did not arrive in time.")
                    }
                    BodyError::Closed => Response::new(400),
                };
                r.close = true;
                r
            }
        }
    }

    async fn read_body(
        &mut self,
        framing: BodyFraming,
        limit: u64,
        deadline: Instant,
    ) -> Result<Vec<u8>, BodyError> {
        match framing {
            BodyFraming::ContentLength(n) => {
                let n = n as usize;
                while self.buf.len() < n {
                    self.fill(deadline).await?;
                }
                Ok(self.buf.drain(..n).collect())
            }
            BodyFraming::Chunked => {
                let mut dec = ChunkedDecoder::new(limit);
                let mut out = Vec::new();
                loop {
                    let p = dec.decode(&self.buf, &mut out).map_err(BodyError::Http)?;
                    self.buf.drain(..p.consumed);
                    if p.done {
                        return Ok(out);
                    }
                    self.fill(deadline).await?;
                }
            }
            BodyFraming::None | BodyFraming::Close => Ok(Vec::new()),
        }
    }
}
