import Crypto
import Foundation

/// Credential secrets: generation, parsing and constant-time verification.
///
/// A secret reads `slw_<kind>_<id>_<random>`: `kind` is `u` (user API token), `d` (deploy key) or `s` (serving
/// key); `id` (12 base-62 characters) is stored in clear and finds the row; `random` (32 base-62 characters,
/// about 190 bits) is stored only as its SHA-256 and compared in constant time.
public struct Secret: Hashable, Sendable {
    /// Which table the secret belongs to.
    public enum Kind: String, Hashable, Sendable {
        case userToken = "u"
        case deployKey = "d"
        case servingKey = "s"
    }

    /// Which table the secret belongs to.
    public var kind: Kind
    /// The public lookup id.
    public var id: String
    /// The whole secret as given to the client; shown once.
    public var value: String
    /// SHA-256 of the random part, hex-encoded; the only thing stored.
    public var hash: String

    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
    private static let idLength = 12
    private static let randomLength = 32

    /// Generates a new secret from the system's secure random source.
    public static func generate(_ kind: Kind) -> Secret {
        var generator = SystemRandomNumberGenerator()
        func random(_ count: Int) -> String {
            String(decoding: (0..<count).map { _ in self.alphabet.randomElement(using: &generator)! }, as: UTF8.self)
        }
        let id = random(self.idLength)
        let randomPart = random(self.randomLength)
        return Secret(
            kind: kind,
            id: id,
            value: "slw_\(kind.rawValue)_\(id)_\(randomPart)",
            hash: self.digest(randomPart)
        )
    }

    /// Rebuilds a secret with a chosen value (`SLIPWAY_ADMIN_TOKEN`); the value must parse as a user token.
    public static func parse(_ value: String) -> (kind: Kind, id: String, random: String)? {
        let parts = value.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "slw", let kind = Kind(rawValue: String(parts[1])),
            parts[2].utf8.count == self.idLength, parts[3].utf8.count == self.randomLength,
            parts[2].utf8.allSatisfy({ self.alphabet.contains($0) }),
            parts[3].utf8.allSatisfy({ self.alphabet.contains($0) })
        else { return nil }
        return (kind, String(parts[2]), String(parts[3]))
    }

    /// SHA-256 of `text`, hex-encoded.
    public static func digest(_ text: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: Array(text.utf8)) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    /// Whether `random` hashes to `storedHash`, comparing every byte whatever the first difference.
    public static func matches(random: String, storedHash: String) -> Bool {
        let computed = Array(self.digest(random).utf8)
        let stored = Array(storedHash.utf8)
        guard computed.count == stored.count else { return false }
        var difference: UInt8 = 0
        for index in computed.indices { difference |= computed[index] ^ stored[index] }
        return difference == 0
    }
}
