//! The forwarding fast path (next hop resolved, no fragmentation) must not
//! allocate. A counting global allocator checks it; this file holds a single
//! test so no other thread allocates meanwhile.

mod common;

use common::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};
use vnet_stack::time::Instant;
use vnet_stack::{NetStack, StackConfig, Transmit};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Counts frames without storing them.
#[derive(Default)]
struct Sink {
    frames: usize,
    bytes: usize,
}

impl Transmit for Sink {
    fn transmit(&mut self, _port: usize, frame: &[u8]) {
        self.frames += 1;
        self.bytes += frame.len();
    }
}

#[test]
fn forwarding_fast_path_does_not_allocate() {
    let mut r = NetStack::new(
        StackConfig::router(),
        vec![
            iface(2, 0, "10.0.1.1/24", 1500),
            iface(2, 1, "10.0.2.1/24", 1500),
        ],
    );
    r.add_static_neighbor(1, B_IP, mac(3, 0));
    r.add_static_neighbor(0, A_IP, mac(1, 0));
    let mut frames: Vec<Vec<u8>> = (0..100u16)
        .map(|i| {
            ipv4_frame(
                mac(2, 0),
                mac(1, 0),
                A_IP,
                B_IP,
                17,
                i,
                false,
                0,
                64,
                &[0u8; 1000],
            )
        })
        .collect();
    let mut back = ipv4_frame(
        mac(2, 1),
        mac(3, 0),
        B_IP,
        A_IP,
        17,
        1,
        false,
        0,
        64,
        &[0u8; 64],
    );
    let mut sink = Sink::default();
    let now = Instant::from_secs(1);
    // Warm up (tracing callsite registration and the like).
    r.receive(now, 0, &mut frames[0].clone(), &mut sink);
    let before = ALLOCS.load(Ordering::SeqCst);
    for f in frames.iter_mut() {
        r.receive(now, 0, f, &mut sink);
    }
    r.receive(now, 1, &mut back, &mut sink);
    let after = ALLOCS.load(Ordering::SeqCst);
    assert_eq!(sink.frames, 102);
    assert_eq!(after - before, 0, "the fast path allocated");
    assert_eq!(r.counters().ip_forwarded, 102);
    // The frames were rewritten in place.
    assert_eq!(&frames[5][0..6], &mac(3, 0).0);
    assert_eq!(frames[5][22], 63);
    validate_frame(&frames[5], false);

    // Fragmenting reuses one scratch buffer: no allocation either, once warm.
    let mut r = NetStack::new(
        StackConfig::router(),
        vec![
            iface(2, 0, "10.0.1.1/24", 1500),
            iface(2, 1, "10.0.2.1/24", 576),
        ],
    );
    r.add_static_neighbor(1, B_IP, mac(3, 0));
    let mut sink = Sink::default();
    let mut frames: Vec<Vec<u8>> = (0..50u16)
        .map(|i| {
            ipv4_frame(
                mac(2, 0),
                mac(1, 0),
                A_IP,
                Ipv4Addr::new(10, 0, 2, 2),
                17,
                i,
                false,
                0,
                64,
                &[0u8; 1400],
            )
        })
        .collect();
    r.receive(now, 0, &mut frames[0].clone(), &mut sink);
    let mut per_frame = Vec::with_capacity(frames.len());
    let before = ALLOCS.load(Ordering::SeqCst);
    for f in frames.iter_mut() {
        let b = ALLOCS.load(Ordering::SeqCst);
        r.receive(now, 0, f, &mut sink);
        per_frame.push(ALLOCS.load(Ordering::SeqCst) - b);
    }
    let after = ALLOCS.load(Ordering::SeqCst);
    assert_eq!(
        after - before,
        0,
        "the fragmenting path allocated: {per_frame:?}"
    );
    assert_eq!(r.counters().fragments_created, 51 * 3);
}
