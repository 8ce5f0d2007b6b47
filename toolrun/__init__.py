"""The bottom package under every other Instep package: running outside tools and reporting on
them. `process` runs a command as a process group with live lines, timeout and cancel;
`redaction` masks secrets in what it prints; `junit` reads JUnit XML reports; `cli_output`
prints tables, JSON and clear errors for every `instep` command. Imports nothing of ours."""
