import Foundation
import HTTPTypes
import Hummingbird
import SlipwayAPI
import SlipwayExperiments
import SlipwayRegistry
import SlipwayRuntime
import SlipwayTraffic

/// What the console's traffic page reads and changes besides the registry: the rollout evaluator (live guardrail
/// verdicts and the experiment readout) and the lifecycle that warms a candidate and reloads this server's routes.
public struct ConsoleTraffic: Sendable {
    /// Judges live rollouts and reads request records and feedback for readouts.
    public let evaluator: RolloutEvaluator
    /// Warms a candidate before its rollout starts and switches this server at once after a change.
    public let lifecycle: (any DeploymentLifecycle)?

    /// Creates the sources.
    public init(evaluator: RolloutEvaluator, lifecycle: (any DeploymentLifecycle)?) {
        self.evaluator = evaluator
        self.lifecycle = lifecycle
    }
}

extension Console {
    /// The traffic page of a model environment: the arms, shadows and sticky feature, the live rollout with its
    /// guardrail verdicts and controls, a start-rollout form, the rollout history and the experiment readout.
    func trafficPage(
        _ request: Request,
        _ context: SlipwayRequestContext,
        _ visitor: Visitor
    ) async throws -> Response {
        let model = try await self.model(context, visitor)
        let name = try context.parameters.require("environment")
        let view = try await self.registry.traffic(
            owner: model.owner,
            name: model.name,
            environment: name,
            by: visitor.principal
        )
        let rollouts = try await self.registry.rollouts(
            owner: model.owner,
            name: model.name,
            environment: name,
            by: visitor.principal
        )
        let access = try await self.registry.access(to: model, for: visitor.principal)
        let canChange = access.canDeploy(to: name)
        let base = Self.path(model, environment: name)
        var arms: [[String: Any]] = []
        if let active = view.activeVersion {
            arms.append(Self.arm(version: active, weight: view.policy.activeWeight, isActive: true, base: base))
        }
        arms += view.policy.splits.map { Self.arm(version: $0.version, weight: $0.weight, isActive: false, base: base) }
        var data: [String: Any] = [
            "fullName": model.fullName, "environment": name, "environmentPath": base, "path": "\(base)/traffic",
            "arms": arms, "hasArms": !arms.isEmpty,
            "shadows": view.policy.shadows.map { shadow -> [String: Any] in
                ["version": shadow.version, "percent": shadow.percent]
            },
            "canChange": canChange,
            "history": rollouts.map(Self.historyRow), "hasHistory": !rollouts.isEmpty,
        ]
        if let sticky = view.policy.stickyFeature, !sticky.isEmpty { data["sticky"] = sticky }
        if let by = view.updatedBy, let at = view.updatedAt {
            data["updated"] = "\(Self.date(at)) by \(by.name)"
        }
        if let rollout = rollouts.first, rollout.state.isLive {
            data["rollout"] = try await self.liveRollout(rollout, base: base, canChange: canChange)
            if canChange {
                data["split"] = [
                    "note": "The rollout of version \(rollout.candidateVersion) sets the split while it runs or is "
                        + "paused: abort it, or let it finish, to set a split by hand."
                ]
            }
        } else if canChange {
            let deployments = try await self.registry.listDeployments(
                owner: model.owner,
                name: model.name,
                environment: name,
                page: PageRequest(page: 1, size: 100),
                by: visitor.principal
            )
            let candidates = deployments.items.filter { $0.status == .verified && $0.version != view.activeVersion }
            data["split"] = Self.splitForm(view, candidates: candidates, base: base)
            data["start"] = [
                "action": "\(base)/traffic/rollouts",
                "candidates": candidates.map { deployment -> [String: Any] in
                    [
                        "version": deployment.version, "summary": deployment.summary,
                        "hasSummary": !deployment.summary.isEmpty,
                    ]
                },
                "hasCandidates": !candidates.isEmpty, "hasActive": view.activeVersion != nil,
            ]
        }
        data["experiment"] = await self.experimentSection(model, environment: name, visitor)
        return self.respond(
            "traffic",
            data,
            title: "Traffic · \(model.fullName) · \(name)",
            visitor: visitor,
            model: model,
            tab: "Overview"
        )
    }

    static func arm(version: Int, weight: Int, isActive: Bool, base: String) -> [String: Any] {
        ["version": version, "weight": weight, "isActive": isActive, "path": "\(base)/deployments/\(version)"]
    }

    static func historyRow(_ rollout: Rollout) -> [String: Any] {
        [
            "started": Self.date(rollout.createdAt), "by": rollout.startedBy.name,
            "candidate": rollout.candidateVersion, "baseline": rollout.baselineVersion,
            "step": "\(rollout.stepIndex + 1) of \(rollout.steps.count)",
            "weight": rollout.state == .rolledBack || rollout.state == .aborted ? 0 : rollout.weight,
            "state": rollout.state.rawValue.replacingOccurrences(of: "_", with: " "),
            "stateClass": Self.badge(rollout.state), "reason": rollout.reason ?? "",
            "ended": rollout.state.isLive ? "" : Self.date(rollout.updatedAt),
        ]
    }

    /// The badge colour of a rollout state.
    static func badge(_ state: Rollout.State) -> String {
        switch state {
        case .running, .completed: "ok"
        case .paused, .aborted: "pending"
        case .rolledBack: "failed"
        }
    }

    /// The live rollout with its guardrails judged now, and the controls a maintainer may use.
    func liveRollout(_ rollout: Rollout, base: String, canChange: Bool) async throws -> [String: Any] {
        var row = Self.historyRow(rollout)
        row["steps"] = rollout.steps.map { "\($0)%" }.joined(separator: " → ")
        row["interval"] = Self.duration(rollout.interval)
        row["guardrails"] = rollout.guardrails.isEmpty ? "none" : rollout.guardrails
        row["isRunning"] = rollout.state == .running
        let stepEnds = rollout.stepStartedAt.addingTimeInterval(rollout.interval)
        row["next"] =
            rollout.state == .paused
            ? "paused: resume to restart this step's interval"
            : rollout.stepIndex + 1 < rollout.steps.count
                ? "\(rollout.steps[rollout.stepIndex + 1])% at \(Self.date(stepEnds)) if every guardrail holds"
                : "completes at \(Self.date(stepEnds)) if every guardrail holds"
        if let traffic = self.traffic {
            do {
                let evaluation = try await traffic.evaluator.evaluate(rollout, at: self.registry.now())
                row["verdicts"] = evaluation.guardrails.map(Self.verdictRow)
                row["hasVerdicts"] = !evaluation.guardrails.isEmpty
                row["hasMeasured"] = true
                row["measured"] = [
                    Self.measurementRow("candidate", rollout.candidateVersion, evaluation.candidate),
                    Self.measurementRow("baseline", rollout.baselineVersion, evaluation.baseline),
                ]
                if let waiting = evaluation.waiting { row["waiting"] = waiting }
            } catch {
                row["evaluationError"] = "The guardrails cannot be judged now: \(error)"
            }
        }
        if canChange {
            row["hasControls"] = true
            let commands: [Registry.RolloutCommand] = rollout.state == .running ? [.pause, .abort] : [.resume, .abort]
            row["controls"] = commands.map { command -> [String: Any] in
                let label = command.rawValue.prefix(1).uppercased() + command.rawValue.dropFirst()
                return ["label": label + " the rollout", "path": "\(base)/traffic/\(command.rawValue)"]
            }
        }
        return row
    }

    static func verdictRow(_ evaluation: GuardrailEvaluation) -> [String: Any] {
        switch evaluation.verdict {
        case .holds(let observed, let limit):
            [
                "guardrail": evaluation.guardrail, "verdict": "holds", "class": "ok",
                "observed": Self.number(observed), "limit": Self.number(limit), "reason": "",
            ]
        case .breached(let observed, let limit, let reason):
            [
                "guardrail": evaluation.guardrail, "verdict": "breached", "class": "failed",
                "observed": Self.number(observed), "limit": Self.number(limit), "reason": reason,
            ]
        case .undetermined(let reason):
            [
                "guardrail": evaluation.guardrail, "verdict": "undetermined", "class": "pending", "observed": "",
                "limit": "", "reason": reason,
            ]
        }
    }

    static func measurementRow(_ arm: String, _ version: Int, _ measured: ArmMeasurements) -> [String: Any] {
        [
            "arm": arm, "version": version, "requests": measured.requests, "errors": measured.errors,
            "errorRate": measured.requests > 0
                ? Self.percent(Double(measured.errors) / Double(measured.requests)) : "",
            "p99": measured.p99Ms.map { Self.number($0) } ?? "",
            "keyMetric": measured.keyMetric.map { Self.number($0) } ?? "",
        ]
    }

    /// The experiment readout as tables, or why there is none.
    func experimentSection(_ model: Model, environment: String, _ visitor: Visitor) async -> [String: Any] {
        guard let traffic = self.traffic else {
            return ["note": "Experiment readouts are not available on this server."]
        }
        let dto: ExperimentDTO
        do {
            dto = try await ExperimentReadouts(registry: self.registry, evaluator: traffic.evaluator).readout(
                owner: model.owner,
                name: model.name,
                environment: environment,
                from: nil,
                to: nil,
                confidence: 0.95,
                by: visitor.principal
            )
        } catch let error as RegistryError {
            return ["note": error.message]
        } catch {
            return ["note": "The readout cannot be computed: \(error)"]
        }
        var section: [String: Any] = [
            "window": "\(Self.date(dto.from)) to \(Self.date(dto.to))", "baseline": dto.baselineVersion,
        ]
        if let note = dto.note { section["note"] = note }
        if let metric = dto.keyMetric {
            section["keyMetric"] = "\(metric.name) (\(metric.direction))"
            if let tested = metric.tested { section["tested"] = tested }
            if let note = metric.note { section["metricNote"] = note }
        } else if dto.note == nil {
            section["metricNote"] = "This model has no key metric: only the error rate is compared."
        }
        if let readout = dto.readout {
            section["keyArms"] = readout.arms.map { Self.readoutRow($0, percent: false) }
            section["hasKeyArms"] = !readout.arms.isEmpty
            section["keyNotes"] = Self.notes(readout)
            section["hasKeyNotes"] = !Self.notes(readout).isEmpty
        }
        if let errors = dto.errorRate {
            section["errorArms"] = errors.arms.map { Self.readoutRow($0, percent: true) }
            section["hasErrorArms"] = !errors.arms.isEmpty
            section["errorNotes"] = Self.notes(errors)
            section["hasErrorNotes"] = !Self.notes(errors).isEmpty
        }
        return section
    }

    /// Why numbers are missing, one line per arm that says so.
    static func notes(_ readout: ExperimentReadout) -> [String] {
        readout.arms.compactMap { arm in
            arm.insufficientData.map { $0.prefix(1).uppercased() + $0.dropFirst() + ($0.hasSuffix(".") ? "" : ".") }
        }
    }

    static func readoutRow(_ arm: ArmReadout, percent: Bool) -> [String: Any] {
        let value: (Double?) -> String = { number in
            guard let number else { return "" }
            return percent ? Self.percent(number) : Self.number(number)
        }
        var row: [String: Any] = [
            "version": arm.version, "isBaseline": arm.isBaseline, "requests": arm.requests,
            "n": arm.n.map(String.init) ?? "", "estimate": value(arm.estimate),
            "ci": arm.ciLow != nil && arm.ciHigh != nil ? "\(value(arm.ciLow)) to \(value(arm.ciHigh))" : "",
        ]
        if let comparison = arm.comparison {
            let difference = value(comparison.difference)
            row["difference"] = comparison.difference > 0 ? "+" + difference : difference
            row["differenceCI"] = "\(value(comparison.ciLow)) to \(value(comparison.ciHigh))"
            row["pValue"] = Self.number(comparison.pValue, digits: 3)
            row["significant"] = comparison.significant ? "yes" : "no"
            row["isSignificant"] = comparison.significant
            row["mde"] = value(comparison.mde)
        }
        return row
    }

    /// The form that sets the split: one row per verified version (the active one first) with its weight and
    /// shadow percent filled in from the current policy, and the sticky feature.
    static func splitForm(_ view: TrafficView, candidates: [Deployment], base: String) -> [String: Any] {
        guard let active = view.activeVersion else {
            return ["note": "Activate a version first: a split starts from the active one."]
        }
        let weights = Dictionary(
            view.policy.splits.map { ($0.version, $0.weight) },
            uniquingKeysWith: { first, _ in first }
        )
        let shadows = Dictionary(
            view.policy.shadows.map { ($0.version, $0.percent) },
            uniquingKeysWith: { first, _ in first }
        )
        let versions = [active] + candidates.map(\.version).sorted()
        let summaries = Dictionary(candidates.map { ($0.version, $0.summary) }, uniquingKeysWith: { first, _ in first })
        let rows = versions.map { version -> [String: Any] in
            let isActive = version == active
            var row: [String: Any] = [
                "version": version, "isActive": isActive, "summary": summaries[version] ?? "",
                "hasSummary": !(summaries[version] ?? "").isEmpty,
                "weight": isActive ? String(view.policy.activeWeight) : weights[version].map(String.init) ?? "",
                "shadow": shadows[version].map(String.init) ?? "",
            ]
            row["canShadow"] = !isActive
            return row
        }
        return [
            "action": "\(base)/traffic/split", "clearPath": "\(base)/traffic/clear", "rows": rows,
            "stickyValue": view.policy.stickyFeature ?? "",
            "hasPolicy": !view.policy.splits.isEmpty || !view.policy.shadows.isEmpty
                || !(view.policy.stickyFeature ?? "").isEmpty,
        ]
    }

    // MARK: Actions

    /// A split as the form writes it: `weight-N` and `shadow-N` per version N (empty: not an arm, not a shadow) and
    /// `sticky_feature`. The registry checks the rest, as for `PUT …/traffic`.
    struct SplitForm {
        var input: TrafficPolicyInput
        /// The form fields, in order, to carry through the confirmation step.
        var fields: [(String, String)]

        init(_ form: [String: [String]]) throws {
            var arms: [TrafficPolicyInput.Arm] = []
            var shadows: [TrafficPolicyInput.Shadow] = []
            var fields: [(String, String)] = []
            for key in form.keys.sorted(by: Self.fieldOrder) {
                let kind: String
                if key.hasPrefix("weight-") {
                    kind = "weight"
                } else if key.hasPrefix("shadow-") {
                    kind = "shadow"
                } else {
                    continue
                }
                let suffix = key.dropFirst(kind.count + 1)
                guard let version = Int(suffix), version >= 1, String(version) == suffix else {
                    throw APIError.invalid(key, "'\(key.prefix(40))' is not a field of this form")
                }
                let text = Console.field(form, key)
                if text.isEmpty { continue }
                let what =
                    kind == "weight" ? "the weight of version \(version)" : "the shadow percent of version \(version)"
                guard let number = Int(text) else {
                    throw APIError.invalid(key, "\(what) must be a whole number, got '\(text.prefix(40))'")
                }
                fields.append((key, String(number)))
                if kind == "weight" {
                    arms.append(.init(version: version, weight: number))
                } else {
                    shadows.append(.init(version: version, percent: number))
                }
            }
            let sticky = Console.field(form, "sticky_feature")
            if !sticky.isEmpty { fields.append(("sticky_feature", sticky)) }
            self.input = TrafficPolicyInput(arms: arms, shadows: shadows, stickyFeature: sticky.isEmpty ? nil : sticky)
            self.fields = fields
        }

        /// Weights before shadows, then by version number.
        static func fieldOrder(_ left: String, _ right: String) -> Bool {
            let rank = { (key: String) -> (Int, Int) in
                let parts = key.split(separator: "-", maxSplits: 1)
                return (key.hasPrefix("weight-") ? 0 : 1, parts.count == 2 ? Int(parts[1]) ?? Int.max : Int.max)
            }
            let (a, b) = (rank(left), rank(right))
            return a != b ? a < b : left < right
        }

        /// A registry error about `arms[i]` or `shadows[i]` told in the form's words (the version's weight or shadow
        /// percent), so the person knows which field to fix.
        func explain(_ error: any Error) -> any Error {
            guard let error = error as? RegistryError, let field = error.field,
                let match = field.wholeMatch(of: /(arms|shadows)\[(\d+)\](\.(version|weight|percent))?/),
                let index = Int(match.2)
            else { return error }
            let isArm = match.1 == "arms"
            let versions = isArm ? self.input.arms.map(\.version) : self.input.shadows.map(\.version)
            guard index < versions.count else { return error }
            let version = versions[index]
            var explained = error
            explained.field = isArm ? "weight-\(version)" : "shadow-\(version)"
            explained.message =
                (isArm ? "the weight of version \(version): " : "the shadow percent of version \(version): ")
                + error.message
            return explained
        }

        /// The split in words, for the confirmation page and the message after it.
        static func describe(_ policy: TrafficPolicy, active: Int) -> String {
            var parts = ["version \(active) \(policy.activeWeight)%"]
            parts += policy.splits.map { "version \($0.version) \($0.weight)%" }
            var text = parts.joined(separator: ", ")
            if !policy.shadows.isEmpty {
                text +=
                    "; copies to "
                    + policy.shadows.map { "version \($0.version) (\($0.percent)%)" }.joined(separator: ", ")
            }
            if let sticky = policy.stickyFeature { text += "; callers kept on one arm by the feature '\(sticky)'" }
            return text
        }
    }

    /// Checks a split from the form and shows the confirmation step; with `confirmed=yes` (sent by that step) warms
    /// the versions, stores the split and switches this server, as `PUT …/traffic` does.
    func setSplit(
        _ context: SlipwayRequestContext,
        _ visitor: Visitor,
        _ form: [String: [String]]
    ) async throws -> Response {
        let owner = try context.parameters.require("owner")
        let name = try context.parameters.require("name")
        let environment = try context.parameters.require("environment")
        // Who may not change the split hears so before anything about the form; the registry checks again.
        let model = try await self.model(context, visitor)
        try await self.requireTrafficRights(model, environment: environment, visitor)
        let split = try SplitForm(form)
        if Self.field(form, "confirmed") != "yes" {
            let policy: TrafficPolicy
            do {
                policy = try await self.registry.checkTraffic(
                    owner: owner,
                    name: name,
                    environment: environment,
                    split.input,
                    by: visitor.principal
                )
            } catch {
                throw split.explain(error)
            }
            let view = try await self.registry.traffic(
                owner: owner,
                name: name,
                environment: environment,
                by: visitor.principal
            )
            let base = Self.path(model, environment: environment)
            let data: [String: Any] = [
                "heading": "Set the traffic split of \(environment)?",
                "question": "Predictions in \(environment) go to "
                    + SplitForm.describe(policy, active: view.activeVersion ?? 0)
                    + ". The versions are loaded first; the split applies at once.",
                "action": "\(base)/traffic/split", "back": "\(base)/traffic", "button": "Set the split",
                "hidden": (split.fields + [("confirmed", "yes")]).map { ["name": $0.0, "value": $0.1] },
            ]
            return self.respond(
                "confirm",
                data,
                title: "Set the traffic split of \(environment)?",
                visitor: visitor,
                model: model,
                tab: "Overview"
            )
        }
        let view: TrafficView
        do {
            view = try await self.registry.changeTraffic(
                owner: owner,
                name: name,
                environment: environment,
                split.input,
                lifecycle: self.traffic?.lifecycle,
                by: visitor.principal
            )
        } catch {
            throw split.explain(error)
        }
        try await self.sessions.setFlash(
            id: visitor.sessionID,
            "Set the split of \(environment): " + SplitForm.describe(view.policy, active: view.activeVersion ?? 0) + "."
        )
        return ConsoleHTTP.redirect(to: Self.trafficPath(owner, name, environment))
    }

    /// Refuses those who may not change the environment's traffic (the page shows them no forms; the registry
    /// applies the same rule when the change is made).
    func requireTrafficRights(_ model: Model, environment: String, _ visitor: Visitor) async throws {
        guard try await self.registry.access(to: model, for: visitor.principal).canDeploy(to: environment) else {
            throw RegistryError.forbidden(
                "maintainer rights on \(model.fullName) are required to change the traffic of '\(environment)'"
            )
        }
    }

    /// The confirmation step before clearing the split.
    func clearSplitConfirmPage(_ context: SlipwayRequestContext, _ visitor: Visitor) async throws -> Response {
        let model = try await self.model(context, visitor)
        let environment = try context.parameters.require("environment")
        try await self.requireTrafficRights(model, environment: environment, visitor)
        let view = try await self.registry.traffic(
            owner: model.owner,
            name: model.name,
            environment: environment,
            by: visitor.principal
        )
        let base = Self.path(model, environment: environment)
        let target = view.activeVersion.map { "the active version \($0)" } ?? "the active version"
        let data: [String: Any] = [
            "heading": "Clear the traffic split of \(environment)?",
            "question": "All predictions in \(environment) go to \(target); shadows and the sticky feature are "
                + "removed too.",
            "action": "\(base)/traffic/clear", "back": "\(base)/traffic", "button": "Clear the split",
        ]
        return self.respond(
            "confirm",
            data,
            title: "Clear the traffic split of \(environment)?",
            visitor: visitor,
            model: model,
            tab: "Overview"
        )
    }

    /// Clears the split, as `DELETE …/traffic` does.
    func clearSplit(_ context: SlipwayRequestContext, _ visitor: Visitor) async throws -> Response {
        let owner = try context.parameters.require("owner")
        let name = try context.parameters.require("name")
        let environment = try context.parameters.require("environment")
        let view = try await self.registry.changeTraffic(
            owner: owner,
            name: name,
            environment: environment,
            TrafficPolicyInput(),
            lifecycle: self.traffic?.lifecycle,
            by: visitor.principal
        )
        try await self.sessions.setFlash(
            id: visitor.sessionID,
            "Cleared the split of \(environment): all predictions go to version \(view.activeVersion ?? 0)."
        )
        return ConsoleHTTP.redirect(to: Self.trafficPath(owner, name, environment))
    }

    /// Starts a rollout from the form (version, steps, interval, guardrails).
    func startRollout(
        _ context: SlipwayRequestContext,
        _ visitor: Visitor,
        _ form: [String: [String]]
    ) async throws -> Response {
        let owner = try context.parameters.require("owner")
        let name = try context.parameters.require("name")
        let environment = try context.parameters.require("environment")
        let version = try Self.version(form["version"]?.first)
        let stepsText = Self.field(form, "steps")
        guard let steps = RolloutText.steps(stepsText.isEmpty ? "5,25,50,100" : stepsText) else {
            throw APIError.invalid(
                "steps",
                "steps must be percents such as 5,25,50,100, got '\(stepsText.prefix(80))'"
            )
        }
        let intervalText = Self.field(form, "interval")
        guard let interval = RolloutText.seconds(intervalText) else {
            throw APIError.invalid(
                "interval",
                "interval must be seconds or a duration such as 90s, 10m or 1h, got '\(intervalText.prefix(40))'"
            )
        }
        let canonical: String
        do {
            canonical = try Guardrail.parseList(Self.field(form, "guardrails")).map(\.description).joined(
                separator: ","
            )
        } catch {
            throw APIError.invalid("guardrails", error.description)
        }
        // As the API does: only someone who may activate here gets the candidate loaded.
        try await self.registry.warm(
            [version],
            owner: owner,
            name: name,
            environment: environment,
            into: self.traffic?.lifecycle,
            by: visitor.principal
        )
        let rollout = try await self.registry.startRollout(
            owner: owner,
            name: name,
            environment: environment,
            RolloutInput(version: version, steps: steps, interval: interval, guardrails: canonical),
            by: visitor.principal
        )
        await self.traffic?.lifecycle?.trafficChanged()
        try await self.sessions.setFlash(
            id: visitor.sessionID,
            "Started rolling out version \(version): it gets \(rollout.weight)% of \(environment) now."
        )
        return ConsoleHTTP.redirect(to: Self.trafficPath(owner, name, environment))
    }

    /// The confirmation step before pausing, resuming or aborting.
    func rolloutConfirmPage(
        _ command: Registry.RolloutCommand,
        _ context: SlipwayRequestContext,
        _ visitor: Visitor
    ) async throws -> Response {
        let model = try await self.model(context, visitor)
        let name = try context.parameters.require("environment")
        let rollouts = try await self.registry.rollouts(
            owner: model.owner,
            name: model.name,
            environment: name,
            by: visitor.principal
        )
        guard let rollout = rollouts.first, rollout.state.isLive else {
            throw RegistryError.notFound("no rollout is running or paused in '\(name)'")
        }
        let base = Self.path(model, environment: name)
        let subject = "the rollout of version \(rollout.candidateVersion) in \(name)"
        var data: [String: Any] = ["action": "\(base)/traffic/\(command.rawValue)", "back": "\(base)/traffic"]
        switch command {
        case .pause:
            data["heading"] = "Pause \(subject)?"
            data["question"] =
                "Version \(rollout.candidateVersion) keeps \(rollout.weight)% of the traffic and its guardrails are not judged until you resume."
            data["button"] = "Pause the rollout"
        case .resume:
            data["heading"] = "Resume \(subject)?"
            data["question"] =
                "The current step (\(rollout.weight)%) starts its \(Self.duration(rollout.interval)) interval again; the rollout then advances while every guardrail holds."
            data["button"] = "Resume the rollout"
        case .abort:
            data["heading"] = "Abort \(subject)?"
            data["question"] =
                "All traffic goes back to version \(rollout.baselineVersion) at once. The rollout cannot be resumed; start a new one to try again."
            data["button"] = "Abort the rollout"
        }
        return self.respond(
            "confirm",
            data,
            title: data["heading"] as? String ?? "Confirm",
            visitor: visitor,
            model: model,
            tab: "Overview"
        )
    }

    /// Pauses, resumes or aborts the live rollout.
    func commandRollout(
        _ command: Registry.RolloutCommand,
        _ context: SlipwayRequestContext,
        _ visitor: Visitor
    ) async throws -> Response {
        let owner = try context.parameters.require("owner")
        let name = try context.parameters.require("name")
        let environment = try context.parameters.require("environment")
        let rollout = try await self.registry.commandRollout(
            owner: owner,
            name: name,
            environment: environment,
            command,
            by: visitor.principal
        )
        await self.traffic?.lifecycle?.trafficChanged()
        let message =
            switch command {
            case .pause: "Paused the rollout of version \(rollout.candidateVersion) at \(rollout.weight)%."
            case .resume: "Resumed the rollout of version \(rollout.candidateVersion)."
            case .abort:
                "Aborted the rollout of version \(rollout.candidateVersion): all traffic goes to version \(rollout.baselineVersion)."
            }
        try await self.sessions.setFlash(id: visitor.sessionID, message)
        return ConsoleHTTP.redirect(to: Self.trafficPath(owner, name, environment))
    }

    // MARK: Helpers

    static func trafficPath(_ owner: String, _ name: String, _ environment: String) -> String {
        "/models/\(ConsoleHTTP.escape(owner))/\(ConsoleHTTP.escape(name))/environments/\(ConsoleHTTP.escape(environment))/traffic"
    }

    /// Seconds as `10 min`, `1 h`, `90 s`.
    static func duration(_ seconds: Double) -> String {
        for (unit, size) in [("d", 86_400.0), ("h", 3_600.0), ("min", 60.0)] where seconds >= size {
            if seconds.truncatingRemainder(dividingBy: size) == 0 { return "\(Int(seconds / size)) \(unit)" }
        }
        return "\(Self.number(seconds)) s"
    }

    static func number(_ value: Double, digits: Int = 4) -> String {
        guard value.isFinite else { return "" }
        if value == value.rounded(), abs(value) < 1e12 { return String(Int64(value)) }
        return String(format: "%.\(digits)g", value)
    }

    static func percent(_ fraction: Double) -> String {
        Self.number(fraction * 100, digits: 3) + "%"
    }
}
