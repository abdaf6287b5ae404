fn main() -> std::process::ExitCode {
    flowmap::cli::main()
}
