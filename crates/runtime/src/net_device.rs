//! Devices whose protocol logic is a [`NetStack`] (host, router, DNS, web)
//! and the one [`Device`] implementation they share.
//!
//! # Design
//!
//! Such a device implements [`NetDevice`]: it hands out its stack
//! ([`NetDevice::stack`], [`NetDevice::stack_mut`]) and overrides only the
//! hooks for what it adds. A blanket `impl<D: NetDevice> Device for D` does
//! the rest, the same way for every device:
//!
//! | [`Device`] method | what it does |
//! |---|---|
//! | `on_frame` | [`NetStack::receive`], then [`NetDevice::after_frame`] |
//! | `poll` | [`NetStack::poll`], then [`NetDevice::after_poll`] |
//! | `poll_at` | the earlier of [`NetStack::poll_at`] and [`NetDevice::extra_poll_at`] |
//! | `tables` | [`STACK_TABLES`], then [`NetDevice::extra_tables`] |
//! | `table` | [`NetDevice::extra_table`], else [`stack_table`] |
//! | `counters` | the stack's [`vnet_stack::StackCounters`] as a JSON object, plus [`NetDevice::extra_counters`] |
//! | `live_address`, `ready`, `on_shutdown`, `link_changed` | the [`NetDevice`] methods of the same name |
//!
//! A trait with a blanket implementation (rather than a wrapper type) keeps
//! the device type itself the one the runtime drives, so
//! [`crate::DeviceHandle`] and the exec and start functions see the device's
//! own fields; the async sockets in [`crate::net`] and [`crate::net_tcp`]
//! are generic over the same trait. A device that is not a [`NetStack`]
//! (the switch) implements [`Device`] directly.

use crate::api::Table;
use crate::device::Device;
use crate::stack_tables::{STACK_TABLES, stack_table};
use vnet_stack::time::Instant;
use vnet_stack::{NetStack, Transmit};

/// A device whose protocol logic is a [`NetStack`]; it gets [`Device`]
/// from the blanket implementation described in the [module
/// documentation](self). Every hook has a default that adds nothing.
pub trait NetDevice: Send + 'static {
    /// The device's stack.
    fn stack(&self) -> &NetStack;
    /// The device's stack, to change.
    fn stack_mut(&mut self) -> &mut NetStack;

    /// Runs after the stack received a frame (a router drains its routing
    /// protocols' sockets here).
    fn after_frame(&mut self, now: Instant, tx: &mut dyn Transmit) {
        let _ = (now, tx);
    }
    /// Runs after the stack's timers (a router's routing protocol timers).
    fn after_poll(&mut self, now: Instant, tx: &mut dyn Transmit) {
        let _ = (now, tx);
    }
    /// When [`NetDevice::after_poll`] next needs to run, besides the stack.
    fn extra_poll_at(&self) -> Option<Instant> {
        None
    }
    /// Tables the device offers besides [`STACK_TABLES`], in the order
    /// `vnet show` lists them.
    fn extra_tables(&self) -> Vec<&'static str> {
        Vec::new()
    }
    /// One of the device's own tables. Asked before the stack's, so it may
    /// also replace one of [`STACK_TABLES`] (a router's `routes` with
    /// metrics and ages); `None` falls back to the stack.
    fn extra_table(&self, now: Instant, name: &str) -> Option<Table> {
        let _ = (now, name);
        None
    }
    /// Adds the device's own counters to the stack's (a JSON object).
    fn extra_counters(&self, counters: &mut serde_json::Map<String, serde_json::Value>) {
        let _ = counters;
    }
    /// As [`Device::live_address`].
    fn live_address(&self, port: usize) -> Option<String> {
        let _ = port;
        None
    }
    /// As [`Device::ready`].
    fn ready(&self) -> bool {
        true
    }
    /// As [`Device::on_shutdown`].
    fn on_shutdown(&mut self, now: Instant, tx: &mut dyn Transmit) {
        let _ = (now, tx);
    }
    /// As [`Device::link_changed`].
    fn link_changed(&mut self, now: Instant, port: usize, up: bool) {
        let _ = (now, port, up);
    }
}

impl<D: NetDevice> Device for D {
    fn on_frame(&mut self, now: Instant, port: usize, frame: &mut [u8], tx: &mut dyn Transmit) {
        self.stack_mut().receive(now, port, frame, tx);
        self.after_frame(now, tx);
    }

    fn poll(&mut self, now: Instant, tx: &mut dyn Transmit) {
        self.stack_mut().poll(now, tx);
        self.after_poll(now, tx);
    }

    fn poll_at(&self) -> Option<Instant> {
        [self.stack().poll_at(), self.extra_poll_at()]
            .into_iter()
            .flatten()
            .min()
    }

    fn tables(&self) -> Vec<&'static str> {
        let mut tables = STACK_TABLES.to_vec();
        tables.extend(self.extra_tables());
        tables
    }

    fn table(&self, now: Instant, name: &str) -> Option<Table> {
        self.extra_table(now, name)
            .or_else(|| stack_table(self.stack(), now, name))
    }

    fn counters(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self.stack().counters()).unwrap_or_default();
        if let Some(map) = value.as_object_mut() {
            self.extra_counters(map);
        }
        value
    }

    fn live_address(&self, port: usize) -> Option<String> {
        NetDevice::live_address(self, port)
    }

    fn ready(&self) -> bool {
        NetDevice::ready(self)
    }

    fn on_shutdown(&mut self, now: Instant, tx: &mut dyn Transmit) {
        NetDevice::on_shutdown(self, now, tx);
    }

    fn link_changed(&mut self, now: Instant, port: usize, up: bool) {
        NetDevice::link_changed(self, now, port, up);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vnet_stack::{InterfaceConfig, StackConfig};
    use vnet_wire::ethernet::EthernetAddress;

    /// A bare stack, and one with every hook overridden.
    struct Bare(NetStack);
    struct Extended {
        stack: NetStack,
        after_frame: usize,
        after_poll: usize,
        link: Option<(usize, bool)>,
    }

    fn stack() -> NetStack {
        let interfaces = vec![InterfaceConfig {
            name: "eth0".into(),
            mac: EthernetAddress([2, 0, 0, 0, 0, 1]),
            address: Some("10.0.0.1/24".parse().unwrap()),
            mtu: 1500,
        }];
        NetStack::new(StackConfig::default(), interfaces)
    }

    impl NetDevice for Bare {
        fn stack(&self) -> &NetStack {
            &self.0
        }
        fn stack_mut(&mut self) -> &mut NetStack {
            &mut self.0
        }
    }

    impl NetDevice for Extended {
        fn stack(&self) -> &NetStack {
            &self.stack
        }
        fn stack_mut(&mut self) -> &mut NetStack {
            &mut self.stack
        }
        fn after_frame(&mut self, _: Instant, _: &mut dyn Transmit) {
            self.after_frame += 1;
        }
        fn after_poll(&mut self, _: Instant, _: &mut dyn Transmit) {
            self.after_poll += 1;
        }
        fn extra_poll_at(&self) -> Option<Instant> {
            Some(Instant::from_micros(7))
        }
        fn extra_tables(&self) -> Vec<&'static str> {
            vec!["extra"]
        }
        fn extra_table(&self, _: Instant, name: &str) -> Option<Table> {
            matches!(name, "extra" | "routes").then(|| Table::new(&["MINE"]))
        }
        fn extra_counters(&self, counters: &mut serde_json::Map<String, serde_json::Value>) {
            counters.insert("mine".into(), 1.into());
        }
        fn live_address(&self, port: usize) -> Option<String> {
            Some(format!("port {port}"))
        }
        fn ready(&self) -> bool {
            false
        }
        fn link_changed(&mut self, _: Instant, port: usize, up: bool) {
            self.link = Some((port, up));
        }
    }

    #[test]
    fn a_bare_stack_device_is_its_stack() {
        let mut dev = Bare(stack());
        let now = Instant::from_micros(0);
        let mut tx: Vec<(usize, Vec<u8>)> = Vec::new();
        assert_eq!(dev.tables(), STACK_TABLES.to_vec());
        assert_eq!(dev.poll_at(), dev.0.poll_at());
        assert!(dev.table(now, "interfaces").is_some());
        assert!(dev.table(now, "nope").is_none());
        assert_eq!(
            dev.counters(),
            serde_json::to_value(dev.0.counters()).unwrap()
        );
        assert_eq!(Device::live_address(&dev, 0), None);
        assert!(Device::ready(&dev));
        Device::on_shutdown(&mut dev, now, &mut tx);
        Device::link_changed(&mut dev, now, 0, false);
    }

    #[test]
    fn hooks_add_to_the_stack() {
        let mut dev = Extended {
            stack: stack(),
            after_frame: 0,
            after_poll: 0,
            link: None,
        };
        let now = Instant::from_micros(0);
        let mut tx: Vec<(usize, Vec<u8>)> = Vec::new();
        let mut frame = [0u8; 14];
        dev.on_frame(now, 0, &mut frame, &mut tx);
        dev.poll(now, &mut tx);
        assert_eq!((dev.after_frame, dev.after_poll), (1, 1));
        assert_eq!(dev.poll_at(), Some(Instant::from_micros(7)));
        let mut tables = STACK_TABLES.to_vec();
        tables.push("extra");
        assert_eq!(dev.tables(), tables);
        assert_eq!(dev.table(now, "extra"), Some(Table::new(&["MINE"])));
        assert_eq!(
            dev.table(now, "routes"),
            Some(Table::new(&["MINE"])),
            "the device's table replaces the stack's"
        );
        assert!(dev.table(now, "arp").is_some(), "the stack's tables remain");
        let counters = dev.counters();
        assert_eq!(counters["mine"], 1);
        assert_eq!(
            counters.as_object().unwrap().len(),
            serde_json::to_value(dev.stack.counters())
                .unwrap()
                .as_object()
                .unwrap()
                .len()
                + 1
        );
        assert_eq!(Device::live_address(&dev, 3).as_deref(), Some("port 3"));
        assert!(!Device::ready(&dev));
        Device::link_changed(&mut dev, now, 1, true);
        assert_eq!(dev.link, Some((1, true)));
    }
}
