//! `vnet-web`: an HTTP/1.1 web server over vnet's own TCP.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::process::ExitCode;
use vnet_runtime::api::Table;
use vnet_runtime::net::NetDevice;
use vnet_runtime::stack_tables::{STACK_TABLES, build_stack, stack_table};
use vnet_runtime::{Device, DeviceKind, DeviceSpec};
use vnet_stack::time::Instant;
use vnet_stack::{NetStack, Transmit};

/// The kind this crate runs.
pub const KIND: DeviceKind = DeviceKind::Web;

/// A web server device (placeholder until the server logic lands).
pub struct WebServer {
    stack: NetStack,
}

impl NetDevice for WebServer {
    fn stack(&mut self) -> &mut NetStack {
        &mut self.stack
    }
}

impl Device for WebServer {
    fn on_frame(&mut self, now: Instant, port: usize, frame: &mut [u8], tx: &mut dyn Transmit) {
        self.stack.receive(now, port, frame, tx);
    }
    fn poll(&mut self, now: Instant, tx: &mut dyn Transmit) {
        self.stack.poll(now, tx);
    }
    fn poll_at(&self) -> Option<Instant> {
        self.stack.poll_at()
    }
    fn tables(&self) -> Vec<&'static str> {
        STACK_TABLES.to_vec()
    }
    fn table(&self, now: Instant, name: &str) -> Option<Table> {
        stack_table(&self.stack, now, name)
    }
    fn counters(&self) -> serde_json::Value {
        serde_json::to_value(self.stack.counters()).unwrap_or_default()
    }
}

/// How the runtime builds a web server.
pub fn spec() -> DeviceSpec<WebServer> {
    DeviceSpec {
        kind: KIND,
        build: |config| {
            Ok(WebServer {
                stack: build_stack(config, false)?,
            })
        },
        exec: None,
        start: None,
    }
}

/// The `vnet-web` binary.
pub fn main() -> ExitCode {
    vnet_runtime::device_main(spec())
}
