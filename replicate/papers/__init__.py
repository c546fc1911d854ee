"""Paper specs (<paper>.yaml: settings, rows, the paper's numbers) and the logic behind each paper's notebooks."""
