import ArgumentParser
import Foundation
import SlipwayInference

/// `slipway deploy OWNER/NAME MODEL_FILE --env ENV --summary TEXT …`: uploads a model as a new deployment.
public struct DeployCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Upload a model file as a new deployment of an environment.",
        discussion: """
            The file is streamed from disk, never read into memory whole; a progress bar is drawn on standard \
            error when it is a terminal. The JSON files (--schema, --samples, --classes, --context, --params, \
            --reference) are \
            checked locally and sent as they are. Authenticates with a deploy key when one is given \
            (--deploy-key or SLIPWAY_DEPLOY_KEY), otherwise with a token.
            """
    )

    @OptionGroup var options: ManagementOptions

    @Argument(help: ArgumentHelp("The model.", valueName: "owner/name"))
    var model: String

    @Argument(help: ArgumentHelp("The model file to upload (ONNX).", valueName: "model-file"))
    var modelFile: String

    @Option(help: ArgumentHelp("The environment to deploy into.", valueName: "env"))
    var env: String

    @Option(help: "A one-line summary of what changed (required).")
    var summary: String

    @Option(help: "A longer description of the deployment.")
    var description: String?

    @Option(help: ArgumentHelp("A JSON file with the input schema.", valueName: "file"))
    var schema: String?

    @Option(help: ArgumentHelp("A JSON file with sample inputs, used to verify the deployment.", valueName: "file"))
    var samples: String?

    @Option(help: ArgumentHelp("A JSON file with the class labels.", valueName: "file"))
    var classes: String?

    @Option(help: ArgumentHelp("A JSON file with free-form context (training run, data, …).", valueName: "file"))
    var context: String?

    @Option(help: ArgumentHelp("A JSON file with the model's parameters.", valueName: "file"))
    var params: String?

    @Option(
        help: ArgumentHelp(
            "A JSON file with the reference (training) distribution: an array of at most 10,000 rows.",
            valueName: "file"
        )
    )
    var reference: String?

    @Option(help: "The model file's format.")
    var format = "onnx"

    @Flag(help: "Activate the deployment as soon as it is verified.")
    var activate = false

    public init() {}

    public func validate() throws {
        _ = try ModelReference(self.model)
        try ArgumentChecks.environment(self.env)
        guard !self.summary.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ValidationError("--summary must not be empty: say in one line what this deployment changes")
        }
        guard !self.format.isEmpty else { throw ValidationError("--format must not be empty") }
    }

    /// The form fields in the order they are sent: summary, format, description, the JSON files, activate.
    func formFields() throws -> [(String, String)] {
        var fields: [(String, String)] = [("summary", self.summary), ("format", self.format)]
        if let description = self.description { fields.append(("description", description)) }
        for (name, path) in [
            ("schema", self.schema), ("samples", self.samples), ("classes", self.classes),
            ("context", self.context), ("params", self.params), ("reference", self.reference),
        ] {
            if let path { fields.append((name, try Self.jsonFile(path, option: "--\(name)"))) }
        }
        if self.activate { fields.append(("activate", "true")) }
        return fields
    }

    /// Reads a JSON file and checks that it parses, naming the file and option otherwise.
    static func jsonFile(_ path: String, option: String) throws -> String {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ManagementFailure("cannot read the \(option) file \(path): it does not exist or is not readable")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ManagementFailure("the \(option) file \(path) is not UTF-8 text")
        }
        do {
            _ = try JSONValue.parse(Array(data))
        } catch {
            throw ManagementFailure("the \(option) file \(path) is not valid JSON: \(error)")
        }
        return text
    }

    public func run() async throws {
        let model = try ModelReference(self.model)
        try await ManagementSession.run(self.options, preferDeployKey: true) { session in
            let upload = try MultipartUpload(
                fields: try self.formFields(),
                fileField: "model",
                filePath: self.modelFile
            )
            let progress =
                session.context.isErrorTerminal
                ? UploadProgress(
                    label: URL(fileURLWithPath: self.modelFile).lastPathComponent,
                    total: upload.fileSize,
                    write: session.context.writeError
                ) : nil
            let response: APIResponse
            do {
                response = try await session.upload(
                    upload,
                    to: model.pathSegments + ["environments", self.env, "deployments"],
                    progress: progress
                )
                progress?.end()
            } catch {
                progress?.end()
                throw error
            }
            session.print(response.body, human: HumanFormat.deployment)
        }
    }
}
