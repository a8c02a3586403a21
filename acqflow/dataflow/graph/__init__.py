"""The graph model on top of the streams: nodes and their life cycle, node groups, the
node-type registry, processing nodes and relays, and graph files (GraphSpec)."""
