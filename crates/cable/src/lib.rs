//! Virtual cables: Ethernet frames in versioned UDP envelopes, link state, counters, pcapng capture
