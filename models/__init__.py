"""Networks only: torch modules that map tensors to scores. No file, sensor or dataset knowledge lives here."""
