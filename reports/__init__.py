"""Report rendering (HTML + Markdown with matplotlib plots) and the committed CI baseline."""
