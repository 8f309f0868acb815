"""The command line: a thin Click layer over the library, in the order a person uses it.

commands holds train, evaluate, predict, inspect, serve and seal; options the shared options and
parameter types; edge turns every library error into one line `Error: ...`.
"""
