"""Developer tooling: the `leadline` CLI, the local stack and provisioning (not deployed)."""
