#!/usr/bin/env bash
# Regenerates include/xnano.h from src/ffi/ with cbindgen (cbindgen.toml plus
# the version macros from Cargo.toml); commit the result. The test command
# fails while the committed header is stale (tests/header.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
XNANO_BLESS=1 cargo test --quiet --test header header_is_up_to_date
cargo test --quiet --test header
