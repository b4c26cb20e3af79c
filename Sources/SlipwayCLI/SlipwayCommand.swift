import ArgumentParser

/// The `slipway` command tree.
public struct SlipwayCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "slipway",
        abstract: "Slipway: deploy, serve and monitor machine-learning models.",
        subcommands: [
            ServeCommand.self, InspectCommand.self, RunCommand.self, BenchCommand.self, OperatorsCommand.self,
            ModelsCommand.self, EnvsCommand.self, KeysCommand.self, DeployCommand.self, ActivateCommand.self,
            RollbackCommand.self, PromoteCommand.self, DeploymentsCommand.self, ActivityCommand.self,
            WhoamiCommand.self, PredictionsCommand.self, MetricsCommand.self, PredictBatchCommand.self,
            BatchJobsCommand.self, TrafficCommand.self, RolloutCommand.self, ExperimentCommand.self,
        ]
    )

    public init() {}
}

extension SlipwayCommand {
    /// Parses the process arguments and runs the chosen command (the executable's entry point).
    public static func run() async {
        await Self.main()
    }
}
