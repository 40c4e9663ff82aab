//! Device runtime: config, interfaces wired to cables, event loop, admin API, shutdown
