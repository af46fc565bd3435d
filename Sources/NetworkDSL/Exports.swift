// Declarations lower into the IR; re-export it so `import NetworkDSL` is enough to read the graph.
@_exported import NetworkIR
