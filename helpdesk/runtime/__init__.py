"""Process runtime: the event-loop threads, warm-up before serving, the database connection budget."""
