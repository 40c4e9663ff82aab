//! Topology files: parse, validate with file/line/field errors, render per-device configs
