//! Use-case tests of grove-app over a fresh SQLite store.
