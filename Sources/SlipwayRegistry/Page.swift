/// Which slice of a list to return: 1-based page number and page size.
public struct PageRequest: Hashable, Sendable {
    /// The largest page size accepted.
    public static let maximumSize = 200

    /// 1-based page number.
    public var page: Int
    /// Items per page, 1…``maximumSize``.
    public var size: Int

    /// Creates a page request, checking its bounds.
    public init(page: Int = 1, size: Int = 50) throws(RegistryError) {
        guard page >= 1 else { throw .invalid("page", "page must be 1 or more, got \(page)") }
        guard (1...Self.maximumSize).contains(size) else {
            throw .invalid("per_page", "per_page must be between 1 and \(Self.maximumSize), got \(size)")
        }
        self.page = page
        self.size = size
    }

    /// Rows to skip.
    public var offset: Int { (self.page - 1) * self.size }
}

/// One page of a list plus the total count, so clients can build `Link` headers.
public struct Page<Item: Sendable>: Sendable {
    /// The items on this page.
    public var items: [Item]
    /// How many items match in total.
    public var total: Int
    /// The request that produced this page.
    public var request: PageRequest

    /// Creates a page.
    public init(items: [Item], total: Int, request: PageRequest) {
        self.items = items
        self.total = total
        self.request = request
    }

    /// The number of the last page (at least 1).
    public var lastPage: Int { max(1, (self.total + self.request.size - 1) / self.request.size) }
}
