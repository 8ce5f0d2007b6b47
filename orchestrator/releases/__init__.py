"""Releases: a version cut from a run with a `gate`, one candidate per platform (artifacts with
sha256, an Instep-allocated build number), approvals by role, the gate (a pure evaluation over a
registry of checks) that releases the platform's `submit` job exactly once, and an append-only
audit trail. `models`, `service`, `settlement` and `flows` are the shell; `states`, `facts`,
`checks`, `gate` and `versions` are pure."""
