"""The .kinrec recording format (MCAP underneath) and importers from dataset files."""
