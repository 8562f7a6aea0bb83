import ArgumentParser

@main
struct ABMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abm",
        abstract: "Agent-based token-vesting simulations.",
        subcommands: [SimulateCommand.self]
    )
}
