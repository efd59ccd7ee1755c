"""The commands that are more than a call: the release check, `mlgate init`, git revisions."""
