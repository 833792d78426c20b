"""What a person touches: the `kinact` command line and the Qt window. Nothing below this package knows Qt or argparse."""
