//! The real `fengqiao-server` command line, built inside the tests crate so that
//! end-to-end tests can start it as a child process (and kill it) through
//! `env!("CARGO_BIN_EXE_test_server")`.

fn main() -> std::process::ExitCode {
    fengqiao_server::cli::main()
}
