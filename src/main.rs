//! The scratchnet command-line tool; it lives in [`scratchnet::cli`].

fn main() -> std::process::ExitCode {
    scratchnet::cli::main()
}
