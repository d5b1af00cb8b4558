//! Benchmarks only: see `benches/shared.rs`, run with `cargo bench -p keygate-bench`.
