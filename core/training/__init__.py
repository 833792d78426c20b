"""Offline training: declarative configs → arrays → augmentation → train → evaluate → export."""
