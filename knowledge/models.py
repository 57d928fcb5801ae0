"""Articles, chunks and FAQ entries arrive with the knowledge-base issue."""
