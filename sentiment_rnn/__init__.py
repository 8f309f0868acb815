"""sentiment-rnn: text -> tokens -> ids -> SimpleRNN -> P(positive), in Keras and in NumPy."""

__version__ = "0.1.0"
