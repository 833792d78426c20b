"""Sample recordings shipped with kinact (package data only; see kinact.core.assets)."""
