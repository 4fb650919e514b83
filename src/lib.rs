//! End-to-end support
