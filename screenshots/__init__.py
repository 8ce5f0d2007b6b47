"""The screenshot diff engine (pixelmatch 7.2.0 exact, vectorised), baselines, comparisons and
the QA review workflow."""
