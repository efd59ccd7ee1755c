"""asv around the shipped suite: runs in environments, a model repo at a commit, the HTML."""
