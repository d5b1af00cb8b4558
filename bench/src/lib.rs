//! Benchmarks: criterion benches in `benches/` (`cargo bench -p
//! keygate-bench`), and the verification API's load generator ([`load`]),
//! run by the `bench-verify` binary (`make bench-verify`).

pub mod load;
