//! The black-box API suite: one binary, every test against the real server on
//! a random port, on SQLite and on PostgreSQL (see `helpers`).

mod helpers;

mod bind;
mod catalog;
mod charges;
mod crash;
mod edge;
mod error_docs;
mod idempotency;
mod input;
mod keys;
mod language;
mod lifecycle;
mod limits;
mod lists;
mod modes;
mod network;
mod notifications;
mod ops_keys;
mod payments;
mod remedies;
mod reviews;
mod risk;
mod safety;
mod secrets;
mod sessions;
mod support;
mod tokens;
mod versions;
mod web;
