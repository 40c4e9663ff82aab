//! One module per `vnet` subcommand.

pub mod admin_request;
pub mod bench;
pub mod capture;
pub mod check;
pub mod device;
pub mod down;
pub mod exec;
pub mod exec_files;
pub mod generate;
pub mod lifecycle;
pub mod link;
pub mod progress;
pub mod show;
pub mod sim;
pub mod status;
pub mod trace;
pub mod up;
