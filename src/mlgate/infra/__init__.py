"""Process plumbing every command shares: errors, console, signals, atomic writes, thread pins."""
