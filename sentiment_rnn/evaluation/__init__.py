"""Probabilities -> judgement: metrics on held-out texts, baselines beside, reports and plots.
"""
