//! Sockets: ICMP echo ("ping") sockets and UDP sockets.
//!
//! Sockets live inside the [`crate::NetStack`] and are named by copyable
//! handles carrying a generation, so a handle to a closed socket never
//! reaches a socket opened later in the same slot. Each socket has a
//! bounded event queue and an optional [`Waker`] woken when an event is
//! queued (like smoltcp's `register_recv_waker`), so an async runtime can
//! await it.

pub mod ping;
pub mod raw;
pub mod udp;

use crate::error::StackError;
use core::task::Waker;
use std::collections::VecDeque;

/// An index into a [`Slab`] plus the generation of its occupant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Handle {
    index: u32,
    generation: u32,
}

impl Handle {
    pub(crate) fn index(&self) -> usize {
        self.index as usize
    }
}

#[derive(Debug)]
enum Slot<T> {
    Free,
    Used { generation: u32, value: T },
}

/// A bounded table of sockets.
#[derive(Debug)]
pub(crate) struct Slab<T> {
    slots: Vec<Slot<T>>,
    next_generation: u32,
    capacity: usize,
    len: usize,
}

impl<T> Slab<T> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            slots: Vec::new(),
            next_generation: 1,
            capacity,
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn insert(&mut self, value: T) -> Result<Handle, StackError> {
        if self.len >= self.capacity {
            return Err(StackError::TooManySockets);
        }
        let generation = self.next_generation;
        self.next_generation = self.next_generation.wrapping_add(1).max(1);
        let index = match self.slots.iter().position(|s| matches!(s, Slot::Free)) {
            Some(i) => i,
            None => {
                self.slots.push(Slot::Free);
                self.slots.len() - 1
            }
        };
        self.slots[index] = Slot::Used { generation, value };
        self.len += 1;
        Ok(Handle {
            index: index as u32,
            generation,
        })
    }

    pub(crate) fn get(&self, h: Handle) -> Option<&T> {
        match self.slots.get(h.index())? {
            Slot::Used { generation, value } if *generation == h.generation => Some(value),
            _ => None,
        }
    }

    pub(crate) fn get_mut(&mut self, h: Handle) -> Option<&mut T> {
        match self.slots.get_mut(h.index())? {
            Slot::Used { generation, value } if *generation == h.generation => Some(value),
            _ => None,
        }
    }

    pub(crate) fn remove(&mut self, h: Handle) -> Option<T> {
        self.get(h)?;
        let slot = core::mem::replace(&mut self.slots[h.index()], Slot::Free);
        self.len -= 1;
        match slot {
            Slot::Used { value, .. } => Some(value),
            Slot::Free => None,
        }
    }

    /// Whether another insert would fail.
    pub(crate) fn is_full(&self) -> bool {
        self.len >= self.capacity
    }

    /// Occupied slots with their handles.
    pub(crate) fn iter_handles(&self) -> impl Iterator<Item = (Handle, &T)> {
        self.slots.iter().enumerate().filter_map(|(i, s)| match s {
            Slot::Used { generation, value } => Some((
                Handle {
                    index: i as u32,
                    generation: *generation,
                },
                value,
            )),
            Slot::Free => None,
        })
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().filter_map(|s| match s {
            Slot::Used { value, .. } => Some(value),
            Slot::Free => None,
        })
    }
}

/// A bounded queue of socket events with a waker.
#[derive(Debug)]
pub(crate) struct EventQueue<E> {
    events: VecDeque<E>,
    capacity: usize,
    waker: Option<Waker>,
}

impl<E> EventQueue<E> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            events: VecDeque::new(),
            capacity,
            waker: None,
        }
    }

    /// Queues `event` and wakes the registered waker; returns false (and
    /// drops the event) if the queue is full.
    pub(crate) fn push(&mut self, event: E) -> bool {
        if self.events.len() >= self.capacity {
            return false;
        }
        self.events.push_back(event);
        if let Some(w) = self.waker.take() {
            w.wake();
        }
        true
    }

    pub(crate) fn pop(&mut self) -> Option<E> {
        self.events.pop_front()
    }

    pub(crate) fn len(&self) -> usize {
        self.events.len()
    }

    /// Registers `waker`, woken (once) by the next queued event. If events
    /// are already waiting it is woken at once, so no wake-up is lost.
    pub(crate) fn register_waker(&mut self, waker: &Waker) {
        if !self.events.is_empty() {
            waker.wake_by_ref();
            return;
        }
        match &mut self.waker {
            Some(w) if w.will_wake(waker) => {}
            slot => *slot = Some(waker.clone()),
        }
    }
}
