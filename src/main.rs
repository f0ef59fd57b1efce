fn main() -> std::process::ExitCode {
    teamsync::main()
}
