"""The command line: a thin Click layer over the library, in the order a person uses it.

commands holds the group and train, evaluate, inspect, serve and seal; predict the predict
command; options the shared options, their groups and parameter types; edge turns every library
error into one line `Error: ...`.
"""
