//! Tests of the C ABI, called the way C calls it.
