"""Policy as code: the rules, the CrossGuard pack that serves them, and its gRPC client."""
