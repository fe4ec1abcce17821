"""Policy scenarios (政策场景): run the Chinese feature files against a rules
directory and report which scenarios fail and why."""
