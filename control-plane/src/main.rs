//! The `keygate` binary: everything lives in the library (see `cli`).

fn main() -> std::process::ExitCode {
    control_plane::cli::main()
}
