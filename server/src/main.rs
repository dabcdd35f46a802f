//! `fengqiao-server`: see `fengqiao-server --help`.

fn main() -> std::process::ExitCode {
    fengqiao_server::cli::main()
}
