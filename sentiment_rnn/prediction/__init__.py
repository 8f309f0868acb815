"""A saved run at work: text -> tokens -> ids -> model -> probability -> output rows.

predictor loads a run (NumPy by default, Keras on request); rows writes text, CSV or JSONL;
parallel spreads a stream over worker processes; sealing re-records a run changed on purpose.
"""
