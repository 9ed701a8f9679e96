"""共享: department systems query subjects' records and lists with scoped keys and a stated
purpose; statistics of sharing (queries by department and category, the sharing rate)."""
