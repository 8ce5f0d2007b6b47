"""Everything fastlane: locating it, Fastfile templates, running a lane as a subprocess and
reading its report, artifacts and test results."""
