import Foundation
import SlipwayInference

/// The human-readable forms of traffic policies, rollouts and experiment readouts (see `docs/traffic.md`).
enum TrafficFormat {
    // MARK: Traffic

    /// A traffic view: a block, the arms, the shadows and a line about the live rollout.
    static func traffic(_ view: JSONValue) -> String {
        var pairs: [(String, String)] = [
            ("environment", view.text("environment")),
            ("active version", view.text("active_version")),
            ("sticky feature", view.text("sticky_feature")),
        ]
        if let at = view.string("updated_at") {
            pairs.append(("updated", "\(TextLayout.time(at)) by \(HumanFormat.actor(view["updated_by"]))"))
        }
        var text = TextLayout.block(pairs)
        let arms = (view["arms"] ?? .null).items
        if arms.isEmpty {
            text += "\n\nNo version is active: nothing is served."
        } else {
            text +=
                "\n\n"
                + TextLayout.table(
                    ["VERSION", "WEIGHT", "ROLE"],
                    arms.map { arm in
                        [
                            arm.text("version"), "\(arm.text("weight"))%",
                            arm["active"] == .bool(true) ? "active" : "split",
                        ]
                    }
                )
        }
        let shadows = (view["shadows"] ?? .null).items
        if !shadows.isEmpty {
            text +=
                "\n\n"
                + TextLayout.table(
                    ["SHADOW", "COPIED"],
                    shadows.map { [$0.text("version"), "\($0.text("percent"))%"] }
                )
        }
        if let rollout = view["rollout"], rollout != .null {
            text +=
                "\n\nA rollout controls this split: version \(rollout.text("candidate_version")) at "
                + "\(rollout.text("weight"))% (step \(rollout.text("step")) of \(rollout["steps"]?.items.count ?? 0)), "
                + "\(rollout.text("state")). See `slipway rollout status`."
        }
        return text
    }

    // MARK: Rollouts

    /// A rollout as a block, with its measurements and guardrail verdicts when it was judged.
    static func rollout(_ rollout: JSONValue) -> String {
        let steps = (rollout["steps"] ?? .null).items.map(\.displayText)
        var pairs: [(String, String)] = [
            (
                "rollout",
                "version \(rollout.text("candidate_version")) from version \(rollout.text("baseline_version")) "
                    + "in \(rollout.text("environment"))"
            ),
            ("state", rollout.text("state")),
            ("step", "\(rollout.text("step")) of \(steps.count): \(rollout.text("weight"))% to the candidate"),
            ("steps", steps.joined(separator: ",") + "%, every " + Self.duration(rollout["interval_seconds"])),
            ("guardrails", rollout.string("guardrails").flatMap { $0.isEmpty ? nil : $0 } ?? "none"),
            ("step started", TextLayout.time(rollout.string("step_started_at"))),
        ]
        let evaluation = rollout["evaluation"] ?? .null
        if let ends = evaluation.string("step_ends_at") {
            pairs.append(("step ends", TextLayout.time(ends)))
        }
        if let reason = rollout.string("reason") { pairs.append(("reason", reason)) }
        if let waiting = evaluation.string("waiting") { pairs.append(("waiting for", waiting)) }
        pairs.append(
            (
                "started",
                "\(TextLayout.time(rollout.string("created_at"))) by \(HumanFormat.actor(rollout["started_by"]))"
            )
        )
        pairs.append(("id", rollout.text("id")))
        var text = TextLayout.block(pairs)
        guard evaluation != .null else { return text }
        text +=
            "\n\n"
            + TextLayout.table(
                ["ARM", "VERSION", "REQUESTS", "ERRORS", "ERROR RATE", "P50 MS", "P95 MS", "P99 MS", "KEY METRIC"],
                [("candidate", "candidate_version"), ("baseline", "baseline_version")].map { arm, version in
                    let measured = evaluation[arm] ?? .null
                    return [
                        arm, rollout.text(version), measured.text("requests"), measured.text("errors"),
                        Self.percent(measured["error_rate"]), Self.number(measured["p50_ms"]),
                        Self.number(measured["p95_ms"]), Self.number(measured["p99_ms"]),
                        Self.number(measured["key_metric"]),
                    ]
                }
            )
        let verdicts = (evaluation["guardrails"] ?? .null).items
        if !verdicts.isEmpty {
            text +=
                "\n\n"
                + TextLayout.table(
                    ["GUARDRAIL", "VERDICT", "OBSERVED", "LIMIT", "REASON"],
                    verdicts.map { verdict in
                        [
                            verdict.text("guardrail"), verdict.text("verdict"), Self.number(verdict["observed"]),
                            Self.number(verdict["limit"]), verdict.text("reason"),
                        ]
                    }
                )
        }
        return text
    }

    /// A list of rollouts as a table, newest first.
    static func rollouts(_ list: JSONValue) -> String {
        guard !list.items.isEmpty else { return "No rollouts." }
        return TextLayout.table(
            ["STARTED", "VERSION", "FROM", "STEP", "WEIGHT", "STATE", "REASON"],
            list.items.map { rollout in
                [
                    TextLayout.time(rollout.string("created_at")), rollout.text("candidate_version"),
                    rollout.text("baseline_version"),
                    "\(rollout.text("step"))/\((rollout["steps"] ?? .null).items.count)",
                    "\(rollout.text("weight"))%", rollout.text("state"), rollout.text("reason"),
                ]
            }
        )
    }

    // MARK: Experiment

    /// An experiment readout: a block, the key metric table and the error rate table.
    static func experiment(_ body: JSONValue) -> String {
        var pairs: [(String, String)] = [
            ("environment", body.text("environment")),
            ("window", "\(TextLayout.time(body.string("from"))) – \(TextLayout.time(body.string("to")))"),
            ("baseline", "version \(body.text("baseline_version"))"),
        ]
        let keyMetric = body["key_metric"] ?? .null
        if keyMetric != .null {
            var line = "\(keyMetric.text("name")) (\(keyMetric.text("direction")))"
            if let tested = keyMetric.string("tested") { line += ", tested as the \(tested)" }
            pairs.append(("key metric", line))
        } else {
            pairs.append(("key metric", "none set (choose one with PUT …/key-metric)"))
        }
        let readout = body["readout"] ?? .null
        let errors = body["error_rate"] ?? .null
        if let confidence = (readout != .null ? readout : errors)["confidence"] {
            pairs.append(("confidence", Self.percent(confidence)))
        }
        var text = TextLayout.block(pairs)
        if let note = body.string("note") { text += "\n\n" + note }
        if let note = keyMetric.string("note") { text += "\n\n" + note }
        if readout != .null {
            text += "\n\nKey metric (\(keyMetric.text("name")))\n" + Self.readoutTable(readout, percent: false)
        }
        if errors != .null {
            text += "\n\nError rate\n" + Self.readoutTable(errors, percent: true)
        }
        return text
    }

    /// One readout's arms as a table; rates shown in percent when `percent` is set.
    static func readoutTable(_ readout: JSONValue, percent: Bool) -> String {
        let value: (JSONValue?) -> String = percent ? { Self.percent($0) } : { Self.number($0) }
        var notes: [String] = []
        let rows = (readout["arms"] ?? .null).items.map { arm -> [String] in
            let comparison = arm["comparison"] ?? .null
            if let reason = arm.string("insufficient_data") { notes.append(reason) }
            let isBaseline = arm["is_baseline"] == .bool(true)
            return [
                arm.text("version") + (isBaseline ? " (baseline)" : ""), arm.text("requests"), arm.text("n"),
                value(arm["estimate"]), Self.interval(arm["ci_low"], arm["ci_high"], value),
                comparison == .null ? "-" : Self.signed(value(comparison["difference"])),
                comparison == .null ? "-" : Self.interval(comparison["ci_low"], comparison["ci_high"], value),
                Self.number(comparison["p_value"], digits: 3),
                comparison == .null ? "-" : comparison.text("significant"), value(comparison["mde"]),
            ]
        }
        var text = TextLayout.table(
            [
                "VERSION", "REQUESTS", "N", "ESTIMATE", "CI", "DIFFERENCE", "DIFFERENCE CI", "P-VALUE", "SIGNIFICANT",
                "MDE",
            ],
            rows
        )
        if !notes.isEmpty { text += "\n" + notes.map { "note: " + $0 }.joined(separator: "\n") }
        return text
    }

    // MARK: Numbers

    /// A number with at most `digits` significant digits; `-` when absent.
    static func number(_ value: JSONValue?, digits: Int = 4) -> String {
        switch value {
        case .int(let number)?: return String(number)
        case .double(let number)?: return Self.format(number, digits: digits)
        case .float(let number)?: return Self.format(Double(number), digits: digits)
        default: return "-"
        }
    }

    /// A fraction as a percent (`0.0123` → `1.23%`); `-` when absent.
    static func percent(_ value: JSONValue?) -> String {
        switch value {
        case .int(let number)?: return Self.format(Double(number) * 100, digits: 3) + "%"
        case .double(let number)?: return Self.format(number * 100, digits: 3) + "%"
        case .float(let number)?: return Self.format(Double(number) * 100, digits: 3) + "%"
        default: return "-"
        }
    }

    static func format(_ number: Double, digits: Int) -> String {
        guard number.isFinite else { return "-" }
        if number == number.rounded(), abs(number) < 1e12 { return String(Int64(number)) }
        return String(format: "%.\(digits)g", number)
    }

    /// `+0.19` for a positive difference (negative numbers keep their sign).
    static func signed(_ text: String) -> String {
        text.hasPrefix("-") || text == "0" || text == "0%" ? text : "+" + text
    }

    /// `[low, high]`, or `-` when either end is absent.
    static func interval(_ low: JSONValue?, _ high: JSONValue?, _ value: (JSONValue?) -> String) -> String {
        guard let low, let high, low != .null, high != .null else { return "-" }
        return "[\(value(low)), \(value(high))]"
    }

    /// Seconds as `10m`, `1h`, `90s`, `1.5s`.
    static func duration(_ value: JSONValue?) -> String {
        let seconds: Double
        switch value {
        case .int(let number)?: seconds = Double(number)
        case .double(let number)?: seconds = number
        default: return "-"
        }
        for (unit, size) in [("d", 86_400.0), ("h", 3_600.0), ("m", 60.0)] where seconds >= size {
            if seconds.truncatingRemainder(dividingBy: size) == 0 { return "\(Int(seconds / size))\(unit)" }
        }
        return Self.format(seconds, digits: 4) + "s"
    }
}
