//! `nanohttp/tests/test_lazyattribute.py` tests `LazyAttribute`, a Python descriptor that
//! computes an attribute once per object. Not applicable: it is a Python helper, not HTTP
//! behaviour; Rust has `std::sync::OnceLock` for it, and the context already parses its query,
//! cookies and form once, on first use.
