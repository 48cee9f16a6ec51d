//! Placeholder, built in its own issue.
#![deny(missing_docs)]
