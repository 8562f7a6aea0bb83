import ArgumentParser

@main
struct ABMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abm",
        abstract: "Agent-based token-vesting simulations.",
        subcommands: [ServeCommand.self, SimulateCommand.self, RulesCommand.self, LogTestCommand.self],
        defaultSubcommand: nil
    )
}
