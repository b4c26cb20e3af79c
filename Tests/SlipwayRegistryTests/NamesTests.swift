import Testing

@testable import SlipwayRegistry

@Suite struct NamesTests {
    @Test(arguments: ["a", "iris", "acme-corp", "model_v2", "v1.2", String(repeating: "a", count: 64)])
    func acceptsValidNames(_ name: String) {
        #expect(Names.isValid(name))
    }

    @Test(arguments: [
        "", "Iris", "-iris", "iris-", "ir--is", "ir._is", "has space", "slash/name", "dots..", "ümlaut",
        String(repeating: "a", count: 65), "../etc",
    ])
    func rejectsInvalidNames(_ name: String) {
        #expect(!Names.isValid(name))
        #expect(throws: RegistryError.self) { try Names.validate(name, field: "name") }
    }

    @Test func reservesTheTeachablesOwnerName() {
        #expect(Names.isValid("teachables"), "a valid name for models and environments")
        do {
            try Names.validateOwner("teachables", field: "username")
            Issue.record("expected an error")
        } catch {
            #expect(error.field == "username")
            #expect(error.code == .invalidInput)
            #expect(error.message.contains("reserved"))
        }
        #expect(throws: Never.self) { try Names.validateOwner("teachable", field: "username") }
    }

    @Test func errorNamesTheField() {
        do {
            try Names.validate("Bad Name", field: "owner")
            Issue.record("expected an error")
        } catch {
            #expect(error.field == "owner")
            #expect(error.code == .invalidInput)
            #expect(error.message.contains("owner"))
        }
    }
}

@Suite struct SecretTests {
    @Test func generatedSecretsParseAndMatchTheirHash() throws {
        for kind in [Secret.Kind.userToken, .deployKey, .servingKey] {
            let secret = Secret.generate(kind)
            let parsed = try #require(Secret.parse(secret.value))
            #expect(parsed.kind == kind)
            #expect(parsed.id == secret.id)
            #expect(Secret.matches(random: parsed.random, storedHash: secret.hash))
            #expect(!secret.hash.contains(parsed.random))
        }
    }

    @Test func differentSecretsDoNotMatch() throws {
        let first = Secret.generate(.userToken)
        let second = try #require(Secret.parse(Secret.generate(.userToken).value))
        #expect(!Secret.matches(random: second.random, storedHash: first.hash))
        #expect(!Secret.matches(random: second.random, storedHash: "short"))
    }

    @Test(arguments: [
        "", "slw_u_abc", "slw_x_AAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
        "slw_u_AAAAAAAAAAA!_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
        "Bearer slw_u_AAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
        "slw_u_AAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB_extra",
    ])
    func rejectsMalformedSecrets(_ value: String) {
        #expect(Secret.parse(value) == nil)
    }

    @Test func secretsAreUnique() {
        let values = Set((0..<200).map { _ in Secret.generate(.servingKey).value })
        #expect(values.count == 200)
    }
}
