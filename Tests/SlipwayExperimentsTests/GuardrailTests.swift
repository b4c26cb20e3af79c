import Testing

@testable import SlipwayExperiments

@Suite struct GuardrailParsingTests {
    @Test func parsesTheIssueExample() throws {
        let guardrails = try Guardrail.parseList("error_rate<1%,p99_ms<20,key_metric>=baseline-0.01")
        #expect(
            guardrails == [
                Guardrail(metric: .errorRate, comparison: .lessThan, threshold: .value(0.01)),
                Guardrail(metric: .p99Ms, comparison: .lessThan, threshold: .value(20)),
                Guardrail(metric: .keyMetric, comparison: .greaterThanOrEqual, threshold: .baselinePlus(-0.01)),
            ]
        )
        #expect(guardrails.map(\.description) == ["error_rate<1%", "p99_ms<20", "key_metric>=baseline-0.01"])
    }

    @Test func toleratesWhitespaceAndKeepsDuplicates() throws {
        let guardrails = try Guardrail.parseList("  error_rate < 1 % ,\tp99_ms<=20 , p99_ms <= 20,p50_ms > 0.5 ")
        #expect(guardrails.count == 4)
        #expect(guardrails[0] == Guardrail(metric: .errorRate, comparison: .lessThan, threshold: .value(0.01)))
        #expect(guardrails[1] == guardrails[2])
        #expect(guardrails[1] == Guardrail(metric: .p99Ms, comparison: .lessThanOrEqual, threshold: .value(20)))
        #expect(guardrails[3] == Guardrail(metric: .p50Ms, comparison: .greaterThan, threshold: .value(0.5)))
    }

    @Test func parsesEveryMetricOperatorAndBaselineForm() throws {
        let cases: [(String, Guardrail)] = [
            ("error_rate<=0.02", Guardrail(metric: .errorRate, comparison: .lessThanOrEqual, threshold: .value(0.02))),
            ("error_rate<0.3%", Guardrail(metric: .errorRate, comparison: .lessThan, threshold: .value(0.003))),
            (
                "error_rate<=baseline+0.5%",
                Guardrail(metric: .errorRate, comparison: .lessThanOrEqual, threshold: .baselinePlus(0.005))
            ),
            (
                "error_rate <= baseline * 2",
                Guardrail(metric: .errorRate, comparison: .lessThanOrEqual, threshold: .baselineTimes(2))
            ),
            ("p50_ms<baseline", Guardrail(metric: .p50Ms, comparison: .lessThan, threshold: .baselinePlus(0))),
            (
                "p95_ms<=baseline*1.5",
                Guardrail(metric: .p95Ms, comparison: .lessThanOrEqual, threshold: .baselineTimes(1.5))
            ),
            (
                "p95_ms<=baseline*150%",
                Guardrail(metric: .p95Ms, comparison: .lessThanOrEqual, threshold: .baselineTimes(1.5))
            ),
            ("p99_ms<baseline+5", Guardrail(metric: .p99Ms, comparison: .lessThan, threshold: .baselinePlus(5))),
            ("p99_ms<2.5e1", Guardrail(metric: .p99Ms, comparison: .lessThan, threshold: .value(25))),
            ("key_metric>0.9", Guardrail(metric: .keyMetric, comparison: .greaterThan, threshold: .value(0.9))),
            ("key_metric>=90%", Guardrail(metric: .keyMetric, comparison: .greaterThanOrEqual, threshold: .value(0.9))),
            ("key_metric>-0.5", Guardrail(metric: .keyMetric, comparison: .greaterThan, threshold: .value(-0.5))),
            (
                "key_metric>=baseline-1%",
                Guardrail(metric: .keyMetric, comparison: .greaterThanOrEqual, threshold: .baselinePlus(-0.01))
            ),
            (
                "key_metric>baseline*0.98",
                Guardrail(metric: .keyMetric, comparison: .greaterThan, threshold: .baselineTimes(0.98))
            ),
        ]
        for (text, expected) in cases {
            #expect(try Guardrail.parse(text) == expected, "\(text)")
        }
    }

    @Test func descriptionIsCanonicalAndRoundTrips() throws {
        let cases: [(String, String)] = [
            ("error_rate < 0.01", "error_rate<1%"),
            ("error_rate<0.125", "error_rate<12.5%"),
            ("error_rate<0.3%", "error_rate<0.3%"),
            ("error_rate<0.00001", "error_rate<0.001%"),
            ("error_rate<=baseline+0.005", "error_rate<=baseline+0.5%"),
            ("error_rate<baseline*2.0", "error_rate<baseline*2"),
            ("p99_ms < 20.0", "p99_ms<20"),
            ("p99_ms<1e5", "p99_ms<100000"),
            ("p95_ms<=baseline*150%", "p95_ms<=baseline*1.5"),
            ("p50_ms<baseline+0", "p50_ms<baseline"),
            ("p50_ms<baseline-0", "p50_ms<baseline"),
            ("key_metric >= baseline - 0.01", "key_metric>=baseline-0.01"),
            ("key_metric>-0.25", "key_metric>-0.25"),
            ("key_metric>=90%", "key_metric>=0.9"),
        ]
        for (text, canonical) in cases {
            let guardrail = try Guardrail.parse(text)
            #expect(guardrail.description == canonical, "\(text)")
            #expect(try Guardrail.parse(guardrail.description) == guardrail, "\(text)")
        }
        let list = try Guardrail.parseList("error_rate<1%, p99_ms<20, key_metric>=baseline-0.01, p99_ms<20")
        let text = list.map(\.description).joined(separator: ",")
        #expect(try Guardrail.parseList(text) == list)
    }

    @Test func emptyTextMeansNoGuardrails() throws {
        #expect(try Guardrail.parseList("") == [])
        #expect(try Guardrail.parseList("   ") == [])
    }

    @Test func badTextNamesTheGuardrailAndWhatWasExpected() {
        let cases: [(String, String)] = [
            (
                "error_rate<1%,p99_ms<<20",
                "guardrail 2 'p99_ms<<20': expected one of <, <=, >, >= after p99_ms"
            ),
            (
                "latency_ms<5",
                "guardrail 1 'latency_ms<5': unknown metric 'latency_ms': "
                    + "expected one of error_rate, p50_ms, p95_ms, p99_ms, key_metric"
            ),
            ("error_rate", "guardrail 1 'error_rate': expected one of <, <=, >, >= after error_rate"),
            ("error_rate=0.01", "guardrail 1 'error_rate=0.01': expected one of <, <=, >, >= after error_rate"),
            ("error_rate=<0.01", "guardrail 1 'error_rate=<0.01': expected one of <, <=, >, >= after error_rate"),
            (
                "error_rate<",
                "guardrail 1 'error_rate<': expected a number, baseline, baseline+X, baseline-X or baseline*X "
                    + "after error_rate<"
            ),
            (
                "p99_ms<fast",
                "guardrail 1 'p99_ms<fast': expected a number, baseline, baseline+X, baseline-X or baseline*X "
                    + "after p99_ms<"
            ),
            (
                "p99_ms<20%",
                "guardrail 1 'p99_ms<20%': p99_ms is in milliseconds: write '20' without %, or use baseline*X"
            ),
            (
                "p99_ms<baseline+10%",
                "guardrail 1 'p99_ms<baseline+10%': p99_ms is in milliseconds: write '10' without %, "
                    + "or use baseline*X"
            ),
            ("error_rate<1%x", "guardrail 1 'error_rate<1%x': unexpected 'x' after 'error_rate<1%'"),
            ("error_rate<1 2", "guardrail 1 'error_rate<1 2': unexpected '2' after 'error_rate<1'"),
            (
                "p99_ms<baseline/2",
                "guardrail 1 'p99_ms<baseline/2': expected +, - or * after p99_ms<baseline, or the end of the guardrail"
            ),
            ("p99_ms<baseline*", "guardrail 1 'p99_ms<baseline*': expected a number after p99_ms<baseline*"),
            ("p99_ms<baseline*-2", "guardrail 1 'p99_ms<baseline*-2': expected a number after p99_ms<baseline*"),
            ("error_rate<-1%", "guardrail 1 'error_rate<-1%': expected a number ≥ 0 after error_rate<"),
            ("error_rate<1e999", "guardrail 1 'error_rate<1e999': '1e999' is not a finite number"),
            (
                "p99_ms<20,,error_rate<1%",
                "guardrail 2 '': empty guardrail: expected a metric (error_rate, p50_ms, p95_ms, p99_ms, key_metric)"
            ),
            (
                "p99_ms<20,",
                "guardrail 2 '': empty guardrail: expected a metric (error_rate, p50_ms, p95_ms, p99_ms, key_metric)"
            ),
            ("<20", "guardrail 1 '<20': expected a metric (error_rate, p50_ms, p95_ms, p99_ms, key_metric)"),
        ]
        for (text, message) in cases {
            do {
                let parsed = try Guardrail.parseList(text)
                Issue.record("'\(text)' parsed as \(parsed)")
            } catch {
                #expect(error.description == message, "\(text)")
            }
        }
    }

    @Test func parseErrorCarriesItsParts() {
        #expect(
            throws: GuardrailParseError(
                index: 3,
                text: "p95_ms>>1",
                expected: "expected one of <, <=, >, >= after p95_ms"
            )
        ) {
            try Guardrail.parseList("error_rate<1%, p99_ms<20,  p95_ms>>1 ")
        }
    }
}

@Suite struct GuardrailEvaluationTests {
    func guardrail(_ text: String) throws -> Guardrail { try Guardrail.parse(text) }

    @Test func errorRateBreachReadsWell() throws {
        let verdict = try self.guardrail("error_rate<1%")
            .evaluate(candidate: ArmMeasurements(requests: 40, errors: 5), baseline: nil, minimumRequests: 20)
        #expect(
            verdict
                == .breached(
                    observed: 0.125,
                    limit: 0.01,
                    reason: "error_rate 12.5% (5 of 40 requests) breached error_rate<1%"
                )
        )
    }

    @Test func errorRateHoldsAndComparesAtTheEdge() throws {
        let candidate = ArmMeasurements(requests: 200, errors: 2)
        #expect(
            try self.guardrail("error_rate<2%").evaluate(candidate: candidate, baseline: nil, minimumRequests: 100)
                == .holds(observed: 0.01, limit: 0.02)
        )
        #expect(
            try self.guardrail("error_rate<=1%").evaluate(candidate: candidate, baseline: nil, minimumRequests: 100)
                == .holds(observed: 0.01, limit: 0.01)
        )
        if case .breached(_, _, let reason) = try self.guardrail("error_rate<1%")
            .evaluate(candidate: candidate, baseline: nil, minimumRequests: 100)
        {
            #expect(reason == "error_rate 1% (2 of 200 requests) breached error_rate<1%")
        } else {
            Issue.record("error_rate<1% should be breached at exactly 1%")
        }
    }

    @Test func errorRateAgainstTheBaseline() throws {
        let candidate = ArmMeasurements(requests: 1000, errors: 30)
        let baseline = ArmMeasurements(requests: 9000, errors: 90)
        #expect(
            try self.guardrail("error_rate<=baseline*2")
                .evaluate(candidate: candidate, baseline: baseline, minimumRequests: 100)
                == .breached(
                    observed: 0.03,
                    limit: 0.02,
                    reason: "error_rate 3% (30 of 1000 requests) breached error_rate<=baseline*2 "
                        + "(baseline 1% (90 of 9000 requests), limit 2%)"
                )
        )
        let verdict = try self.guardrail("error_rate<=baseline+2.5%")
            .evaluate(candidate: candidate, baseline: baseline, minimumRequests: 100)
        guard case .holds(let observed, let limit) = verdict else {
            Issue.record("expected holds, got \(verdict)")
            return
        }
        #expect(observed == 0.03)
        #expect(isClose(limit, 0.035, relative: 1e-12))
    }

    @Test func latencyPercentiles() throws {
        let candidate = ArmMeasurements(requests: 500, errors: 0, p50Ms: 4.2, p95Ms: 11, p99Ms: 31.25)
        let baseline = ArmMeasurements(requests: 5000, errors: 1, p50Ms: 4, p95Ms: 10, p99Ms: 18)
        #expect(
            try self.guardrail("p99_ms<20").evaluate(candidate: candidate, baseline: baseline, minimumRequests: 100)
                == .breached(observed: 31.25, limit: 20, reason: "p99_ms 31.25 ms breached p99_ms<20")
        )
        #expect(
            try self.guardrail("p95_ms<=baseline*1.2")
                .evaluate(candidate: candidate, baseline: baseline, minimumRequests: 100)
                == .holds(observed: 11, limit: 12)
        )
        #expect(
            try self.guardrail("p50_ms<baseline+0.1")
                .evaluate(candidate: candidate, baseline: baseline, minimumRequests: 100)
                == .breached(
                    observed: 4.2,
                    limit: 4.1,
                    reason: "p50_ms 4.2 ms breached p50_ms<baseline+0.1 (baseline 4 ms, limit 4.1 ms)"
                )
        )
        #expect(
            try self.guardrail("p50_ms>1").evaluate(candidate: candidate, baseline: nil, minimumRequests: 100)
                == .holds(observed: 4.2, limit: 1)
        )
    }

    @Test func keyMetricAgainstTheBaseline() throws {
        let baseline = ArmMeasurements(requests: 5000, errors: 0, keyMetric: 0.85)
        let verdict = try self.guardrail("key_metric>=baseline-0.01")
            .evaluate(
                candidate: ArmMeasurements(requests: 400, errors: 0, keyMetric: 0.81),
                baseline: baseline,
                minimumRequests: 100
            )
        guard case .breached(let observed, let limit, let reason) = verdict else {
            Issue.record("expected a breach, got \(verdict)")
            return
        }
        #expect(observed == 0.81)
        #expect(isClose(limit, 0.84, relative: 1e-12))
        #expect(reason == "key_metric 0.81 breached key_metric>=baseline-0.01 (baseline 0.85, limit 0.84)")
        #expect(
            try self.guardrail("key_metric>baseline")
                .evaluate(
                    candidate: ArmMeasurements(requests: 400, errors: 0, keyMetric: 0.86),
                    baseline: baseline,
                    minimumRequests: 100
                )
                == .holds(observed: 0.86, limit: 0.85)
        )
        #expect(
            try self.guardrail("key_metric>0.9")
                .evaluate(
                    candidate: ArmMeasurements(requests: 400, errors: 0, keyMetric: 0.86),
                    baseline: nil,
                    minimumRequests: 100
                )
                == .breached(observed: 0.86, limit: 0.9, reason: "key_metric 0.86 breached key_metric>0.9")
        )
    }

    @Test func undeterminedWhenInformationIsMissing() throws {
        let full = ArmMeasurements(requests: 500, errors: 1, p50Ms: 3, p95Ms: 6, p99Ms: 9, keyMetric: 0.8)
        let cases: [(String, ArmMeasurements, ArmMeasurements?, String)] = [
            (
                "error_rate<1%", ArmMeasurements(requests: 12, errors: 0), nil,
                "the candidate has 12 of the 100 requests needed to judge error_rate<1%"
            ),
            (
                "p99_ms<20", ArmMeasurements(requests: 500, errors: 0, p50Ms: 3), nil,
                "p99_ms is unknown for the candidate, needed to judge p99_ms<20"
            ),
            (
                "key_metric>=baseline-0.01", ArmMeasurements(requests: 500, errors: 0), full,
                "key_metric is unknown for the candidate, needed to judge key_metric>=baseline-0.01"
            ),
            (
                "key_metric>=baseline-0.01", full, nil,
                "key_metric>=baseline-0.01 needs the baseline, which has no measurements"
            ),
            (
                "key_metric>=baseline-0.01", full, ArmMeasurements(requests: 5000, errors: 0),
                "key_metric is unknown for the baseline, needed to judge key_metric>=baseline-0.01"
            ),
            (
                "error_rate<=baseline*2", full, ArmMeasurements(requests: 30, errors: 0),
                "the baseline has 30 of the 100 requests needed to judge error_rate<=baseline*2"
            ),
            (
                "error_rate<1%", ArmMeasurements(requests: 500, errors: 600), nil,
                "the candidate reports 600 errors out of 500 requests"
            ),
            (
                "p95_ms<baseline*1.5", full, ArmMeasurements(requests: 5000, errors: 0, p95Ms: .nan),
                "p95_ms is unknown for the baseline, needed to judge p95_ms<baseline*1.5"
            ),
        ]
        for (text, candidate, baseline, reason) in cases {
            let verdict = try self.guardrail(text).evaluate(
                candidate: candidate,
                baseline: baseline,
                minimumRequests: 100
            )
            #expect(verdict == .undetermined(reason: reason), "\(text)")
        }
    }

    @Test func errorRateWithNoRequestsIsUndeterminedEvenWithoutAMinimum() throws {
        #expect(
            try self.guardrail("error_rate<1%")
                .evaluate(candidate: ArmMeasurements(requests: 0, errors: 0), baseline: nil, minimumRequests: 0)
                == .undetermined(reason: "the candidate has 0 of the 1 requests needed to judge error_rate<1%")
        )
    }
}
