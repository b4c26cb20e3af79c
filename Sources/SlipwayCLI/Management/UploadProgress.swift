import Synchronization

/// A one-line progress bar on standard error: bytes sent of the total and the percentage.
///
/// It redraws only when the percentage changes, and ``end()`` finishes the line (once), whether the upload
/// succeeded or failed.
final class UploadProgress: Sendable {
    private struct State {
        var drawnPercent = -1
        var isEnded = false
    }

    let label: String
    let total: Int
    private let write: @Sendable (String) -> Void
    private let state = Mutex(State())

    /// - Parameters:
    ///   - label: what is uploaded (the file name).
    ///   - total: the bytes to send.
    ///   - write: writes to the terminal (standard error).
    init(label: String, total: Int, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.total = total
        self.write = write
    }

    /// Records that `sent` bytes have been handed to the connection, redrawing when the percentage changed.
    func advance(to sent: Int) {
        let percent = self.total == 0 ? 100 : min(100, sent * 100 / self.total)
        let shouldDraw = self.state.withLock { state in
            guard !state.isEnded, percent != state.drawnPercent else { return false }
            state.drawnPercent = percent
            return true
        }
        if shouldDraw { self.write("\r" + Self.line(label: self.label, sent: sent, total: self.total) + "\u{1B}[K") }
    }

    /// Ends the progress line with a newline if anything was drawn.
    func end() {
        let wasDrawn = self.state.withLock { state in
            defer { state.isEnded = true }
            return !state.isEnded && state.drawnPercent >= 0
        }
        if wasDrawn { self.write("\n") }
    }

    /// `model.onnx  [##########··········]  1.2 MiB / 2.4 MiB   50%`.
    static func line(label: String, sent: Int, total: Int, width: Int = 30) -> String {
        let percent = total == 0 ? 100 : min(100, sent * 100 / total)
        let filled = width * percent / 100
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let numbers = "\(TextLayout.bytes(sent)) / \(TextLayout.bytes(total))"
        let percentText = String(percent)
        return "\(label)  [\(bar)]  \(numbers)  \(String(repeating: " ", count: 3 - percentText.count))\(percentText)%"
    }
}
