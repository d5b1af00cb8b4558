//! Benchmarks: criterion benches in `benches/` (`cargo bench -p
//! keygate-bench`), and the verification API's load generator ([`load`])
//! with its CPU accounting ([`cpu`]), run by the `bench-verify` binary
//! (`make bench-verify`).

pub mod cpu;
pub mod load;
