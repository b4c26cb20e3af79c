/// A compiled graph-valued attribute (the body of `Scan` or `Loop`), run by its parent kernel.
package struct Subgraph: Sendable {
    /// The compiled body.
    package var graph: CompiledGraph
    /// Names of values from enclosing graphs that the body reads; the parent node receives them as extra
    /// inputs after its declared ones, in this order.
    package var outerNames: [String]
    /// The inferred type of each output of the body.
    package var outputTypes: [ValueType]

    /// Runs the body on its formal inputs and the outer-scope values (in ``outerNames`` order).
    package func run(inputs: [Value?], outer: [Value], context: ExecutionContext) throws -> [Value] {
        try self.graph.run(inputs: inputs, outer: outer, context: context)
    }
}
