//! nanohttp
