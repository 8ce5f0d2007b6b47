"""Store submissions and rollouts of releases: the ledger that makes every store action happen
exactly once (`ledger`, pure transitions; `models`), the rollout plan (`rollout_plan`, pure),
the store adapters built from a release's policy and the project's sealed credentials
(`connections`), and the shell that submits, reconciles unknown outcomes by reading the store,
polls review state and moves rollouts (`service`, `tick`)."""
