"""Web parity: the registry of what the web deployed to each environment (recorded by the web's
pipeline, the API or GitHub `deployment_status` webhooks), the pure parity policy a mobile
release's gate checks against it, the drift board, and halting shipped releases when the web
rolls back. `ranges` and `policy` are pure; `models`, `service`, `flows` and `routes` the shell.
Nothing is re-exported here, so importing a pure module costs no database code."""
