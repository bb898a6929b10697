//! The one integration-test binary (ripgrep style): every end-to-end test is a module under
//! `tests/suite/`, named after the area it guards.

mod suite;
