fn main() -> std::process::ExitCode {
    teamsync::cli::main()
}
