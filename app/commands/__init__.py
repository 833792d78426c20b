"""One module per `kinact` subcommand: `add_arguments(parser)` declares its flags, `run(args)` does the work.

Modules keep heavy imports (torch, Qt, the readers) inside `run`, so building the parser stays cheap.
"""
