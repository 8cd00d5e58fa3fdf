//! Integration tests: ebd.
