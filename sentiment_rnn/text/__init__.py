"""text -> tokens -> ids: the one tokenizer and vocabulary, and what text may show on a terminal.

The first step of the flow, shared by training, the Keras model and the NumPy pass. Pure Python and
NumPy: nothing here imports TensorFlow, scikit-learn or matplotlib.
"""
