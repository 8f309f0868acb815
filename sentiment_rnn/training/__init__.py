"""Training: prepared ids -> Keras fit -> a run folder (weights, history, logs), and resume.
"""
